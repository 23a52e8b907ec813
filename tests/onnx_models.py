"""Small ONNX models built with onnx.helper for the importer's tests, and a comparison with onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from mcudeploy.engine.interpreter import run
from mcudeploy.importers import load_model

RNG = np.random.default_rng(7)


def reseed() -> None:
    """The same weights and inputs for a test whatever ran before it."""
    global RNG
    RNG = np.random.default_rng(7)


def weights(*shape: int, scale: float = 0.3) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


class Net:
    """A graph being written node by node: `x = net.add("Relu", [x])` returns the output's name."""

    def __init__(self, input_shape: tuple[int, ...], opset: int = 13) -> None:
        reseed()
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(input_shape))]
        self._count = 0

    def const(self, array: np.ndarray) -> str:
        name = f"c{len(self.initializers)}"
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def add(self, op_type: str, inputs: list, outputs: int = 1, **attributes) -> str:
        names = [self.const(i) if isinstance(i, np.ndarray) else i for i in inputs]
        self._count += 1
        out = [f"{op_type.lower()}{self._count}_{k}" for k in range(outputs)]
        self.nodes.append(helper.make_node(op_type, names, out, name=f"{op_type}_{self._count}", **attributes))
        return out[0]

    def model(self, *outputs: str) -> onnx.ModelProto:
        """The model with these outputs, their shapes inferred."""
        graph = helper.make_graph(self.nodes, "test", self.inputs, [], self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = 8
        inferred = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
        model.graph.output.extend(inferred[o] for o in outputs)
        return model


def literal_session(path: Path) -> ort.InferenceSession:
    """onnxruntime computing each node as written. Its graph optimizations fuse QDQ groups into
    integer kernels whose results differ from the nodes' definition (by up to 34 output steps
    on small_cnn quantized per channel), so they are off for an oracle."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def to_ir_layout(array: np.ndarray) -> np.ndarray:
    return array.transpose(0, 2, 3, 1) if array.ndim == 4 else array


def compare(model: onnx.ModelProto | Path, tmp_path: Path, samples: int = 1, low: float = -1.0, high: float = 1.0):
    """(graph, onnxruntime outputs, our outputs) on random inputs; 4-D values compared in NHWC."""
    path = model if isinstance(model, Path) else tmp_path / "model.onnx"
    if not isinstance(model, Path):
        onnx.save(model, path)
    graph = load_model(path)
    session = literal_session(path)
    expected, ours = [], []
    for _ in range(samples):
        feeds = {
            i.name: RNG.uniform(low, high, [d if isinstance(d, int) else 1 for d in i.shape]).astype(np.float32)
            for i in session.get_inputs()
        }
        expected.append([to_ir_layout(a) for a in session.run(None, feeds)])
        ours.append(run(graph, [to_ir_layout(feeds[i.name]) for i in session.get_inputs()]).outputs)
    return graph, expected, ours


def relative_error(expected: np.ndarray, ours: np.ndarray) -> float:
    return float(np.max(np.abs(expected - ours)) / max(np.max(np.abs(expected)), 1e-30))


def small_cnn() -> onnx.ModelProto:
    """A PyTorch-style NCHW classifier: conv, depthwise, residual add, pooling, Flatten, Gemm, Softmax."""
    net = Net((1, 3, 12, 12), 13)
    y = net.add("Relu", [net.add("Conv", ["input", weights(8, 3, 3, 3), weights(8)], pads=[1, 1, 1, 1])])
    y = net.add("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])
    y = net.add("Relu", [net.add("Conv", [y, weights(8, 1, 3, 3), weights(8)], pads=[1, 1, 1, 1], group=8)])
    y = net.add("Add", [y, net.add("Conv", [y, weights(8, 8, 1, 1), weights(8)])])
    y = net.add("Flatten", [net.add("GlobalAveragePool", [y])])
    y = net.add("Gemm", [y, weights(5, 8, scale=1.0), weights(5)], transB=1)
    return net.model(net.add("Softmax", [y], axis=1))


def quantized(source: Path, target: Path, qoperator: bool, per_channel: bool, samples: int = 16) -> Path:
    """`source` quantized by onnxruntime (int8 activations and weights) calibrated on uniform [-1, 1) inputs."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    reseed()
    model = onnx.load(source)
    if model.opset_import[0].version < 13:  # per-channel DequantizeLinear (axis) needs opset 13
        model = onnx.version_converter.convert_version(model, 13)
        source = target.with_name("opset13.onnx")
        onnx.save(model, source)
    session = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    feeds = [
        {i.name: RNG.uniform(-1, 1, i.shape).astype(np.float32) for i in session.get_inputs()} for _ in range(samples)
    ]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds = iter(feeds)

        def get_next(self):
            return next(self.feeds, None)

    quantize_static(
        str(source),
        str(target),
        Reader(),
        quant_format=QuantFormat.QOperator if qoperator else QuantFormat.QDQ,
        per_channel=per_channel,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
    )
    return target


def branchy_cnn() -> onnx.ModelProto:
    """Concat of branches, Sigmoid, HardSwish, nearest Resize, Pad, AveragePool, Transpose, Reshape and MatMul."""
    net = Net((1, 3, 8, 8), 14)
    a = net.add("Relu", [net.add("Conv", ["input", weights(4, 3, 3, 3), weights(4)], pads=[1, 1, 1, 1])])
    b = net.add("Sigmoid", [net.add("Conv", ["input", weights(4, 3, 1, 1), weights(4)])])
    y = net.add("Concat", [a, b], axis=1)
    y = net.add("HardSwish", [net.add("Conv", [y, weights(6, 8, 3, 3), weights(6)], strides=[2, 2], pads=[1, 1, 1, 1])])
    y = net.add("Resize", [y, "", np.array([1, 1, 2, 2], np.float32)], mode="nearest")
    y = net.add("Pad", [y, np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)])
    y = net.add("AveragePool", [y], kernel_shape=[2, 2], strides=[2, 2])
    y = net.add("Reshape", [net.add("Transpose", [y], perm=[0, 2, 3, 1]), np.array([1, -1], np.int64)])
    return net.model(net.add("Softmax", [net.add("MatMul", [y, weights(150, 4, scale=0.1)])], axis=1))
