"""ConvInteger and MatMulInteger: int8 CONV_2D / FULLY_CONNECTED against onnxruntime, or refused in one line."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import McuDeployError
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite import write_tflite
from mcudeploy.validation.oracles import tflm_run
from onnx_models import Net, compare, relative_error, small_cnn, weights


def _quantize_symmetric(values: np.ndarray, axis: int, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights of zero point 0 and their scales (one per slice along `axis`, or one)."""
    other = tuple(i for i in range(values.ndim) if i != axis)
    peak = np.max(np.abs(values), axis=other, keepdims=True) if per_channel else np.max(np.abs(values))
    scale = (peak / 127).astype(np.float32)
    return np.clip(np.rint(values / scale), -127, 127).astype(np.int8), scale


def _stored(q: np.ndarray, uint8: bool) -> tuple[np.ndarray, np.ndarray]:
    """int8 values as int8 (zero point 0) or as uint8 (zero point 128)."""
    if uint8:
        return (q.astype(np.int16) + 128).astype(np.uint8), np.array(128, np.uint8)
    return q, np.array(0, np.int8)


def integer_cnn(uint8: bool, per_channel: bool, requantized: bool = True) -> onnx.ModelProto:
    """Quantize → ConvInteger → Cast → Mul → Add → Relu → Quantize → Flatten → MatMulInteger → Cast → Mul → Add
    [→ Quantize → Dequantize]: hand-written static integer graph (scales chosen for inputs in [-1, 1))."""
    net = Net((1, 3, 8, 8), 13)
    zero = np.array(128 if uint8 else 0, np.uint8 if uint8 else np.int8)
    x_scale = np.array(2 / 255, np.float32)
    x = net.add("QuantizeLinear", ["input", x_scale, zero])
    w, w_scale = _quantize_symmetric(weights(4, 3, 3, 3), 0, per_channel)
    w, w_zero = _stored(w, uint8)
    y = net.add("Cast", [net.add("ConvInteger", [x, w, zero, w_zero], pads=[1, 1, 1, 1])], to=TensorProto.FLOAT)
    y = net.add("Mul", [y, (x_scale * w_scale).reshape(1, -1, 1, 1) if per_channel else np.asarray(x_scale * w_scale)])
    y = net.add("Relu", [net.add("Add", [y, weights(4, 1, 1, scale=0.1)])])
    y_scale, y_zero = np.array(4 / 255, np.float32), np.array(0 if uint8 else -128, zero.dtype)
    y = net.add("Flatten", [net.add("QuantizeLinear", [y, y_scale, y_zero])])
    b, b_scale = _quantize_symmetric(weights(256, 5, scale=0.1), 1, per_channel)
    b, b_zero = _stored(b, uint8)
    z = net.add("Cast", [net.add("MatMulInteger", [y, b, y_zero, b_zero])], to=TensorProto.FLOAT)
    z = net.add("Add", [weights(5), net.add("Mul", [z, (y_scale * b_scale).reshape(-1)])])
    if not requantized:
        return net.model(z)
    z_scale, z_zero = np.array(10 / 255, np.float32), np.array(128 if uint8 else 0, zero.dtype)
    return net.model(net.add("DequantizeLinear", [net.add("QuantizeLinear", [z, z_scale, z_zero]), z_scale, z_zero]))


# (activations and weights as, per-channel weights, most output steps apart from onnxruntime as measured:
# over 300 samples max 1 step for each, mean 0.005 per channel and 0.011 per tensor; 20 samples here)
INTEGER = [("int8", True, 1), ("int8", False, 1), ("uint8", True, 1), ("uint8", False, 1)]


@pytest.mark.parametrize(("stored", "per_channel", "steps"), INTEGER)
def test_integer_ops_run_int8_close_to_onnxruntime(stored, per_channel, steps, tmp_path):
    """onnxruntime rescales the exact int32 sums in float, TFLite in fixed point (and rounds the float bias
    to int32 first): a step apart at most."""
    samples = 20
    graph, expected, ours = compare(integer_cnn(stored == "uint8", per_channel), tmp_path, samples=samples)
    int8_ops = [op.op_type for op in graph.operators if graph.tensors[op.outputs[0]].dtype == "int8"]
    assert {"CONV_2D", "FULLY_CONNECTED"} <= set(int8_ops)
    assert not [op for op in graph.operators if graph.tensors[op.outputs[0]].dtype == "float32"][:-1]
    step = 10 / 255
    differences = np.abs(np.array([w[0] - o[0] for w, o in zip(expected, ours, strict=True)])) / step
    agree = sum(int(np.argmax(w[0]) == np.argmax(o[0])) for w, o in zip(expected, ours, strict=True))
    print(
        f"\ninteger_cnn {stored} per-channel={per_channel}: output steps apart max {differences.max():.0f} "
        f"mean {differences.mean():.3f}, top-1 agreement {agree}/{samples}"
    )
    assert differences.max() <= steps + 1e-3
    assert agree >= samples - 1
    x = np.random.default_rng(1).uniform(-1, 1, graph.graph_inputs[0].shape).astype(np.float32)
    theirs = tflm_run(write_tflite(graph), [x], tensor_count=0).outputs[0]
    assert np.array_equal(theirs.reshape(-1), run(graph, [x]).outputs[0].reshape(-1))  # TFLite Micro's


def test_without_a_quantize_linear_after_it_the_product_runs_in_float(tmp_path):
    """As any QDQ operator without a QuantizeLinear after it: the weights dequantized, the sums in float32."""
    graph, expected, ours = compare(integer_cnn(False, True, requantized=False), tmp_path, samples=4)
    (fully_connected,) = [op for op in graph.operators if op.op_type == "FULLY_CONNECTED"]
    assert graph.tensors[fully_connected.outputs[0]].dtype == "float32"
    for want, got in zip(expected, ours, strict=True):
        assert relative_error(want[0], got[0]) < 1e-5


def _refused(model: onnx.ModelProto, tmp_path, message: str) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    with pytest.raises(McuDeployError, match=message) as error:
        load_model(path)
    assert "\n" not in str(error.value)


def test_onnxruntime_dynamic_quantization_is_refused_naming_the_node(tmp_path):
    from onnxruntime.quantization import quantize_dynamic

    onnx.save(small_cnn(), tmp_path / "float.onnx")
    quantize_dynamic(tmp_path / "float.onnx", tmp_path / "dynamic.onnx", op_types_to_quantize=["Conv", "MatMul"])
    message = r"\(DynamicQuantizeLinear\): activations quantized at each inference"
    _refused(onnx.load(tmp_path / "dynamic.onnx"), tmp_path, message)


def _edited(edit, uint8: bool = False) -> onnx.ModelProto:
    model = integer_cnn(uint8=uint8, per_channel=True)
    edit(model.graph)
    return model


def _set_initializer(graph, input_of: str, position: int, value: np.ndarray) -> None:
    node = next(n for n in graph.node if n.op_type == input_of)
    init = next(i for i in graph.initializer if i.name == node.input[position])
    init.CopyFrom(onnx.numpy_helper.from_array(value, init.name))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda g: _set_initializer(g, "ConvInteger", 3, np.array(3, np.int8)), r"zero point \[3\]: TFLite int8"),
        (lambda g: _set_initializer(g, "ConvInteger", 2, np.array(5, np.int8)), "differs from its QuantizeLinear"),
        (lambda g: g.node[3].input.__setitem__(1, g.node[3].input[0]), "must be rescaled by Cast to float, Mul"),
    ],
    ids=["weight-zero-point", "input-zero-point", "computed-rescale"],
)
def test_what_tflite_int8_cannot_compute_is_refused_in_one_line(edit, message, tmp_path):
    _refused(_edited(edit), tmp_path, r"\(ConvInteger\): .*" + message)


def test_an_omitted_input_zero_point_is_onnx_default_zero_not_the_quantizer_s(tmp_path):
    model = _edited(lambda g: g.node[1].input.__setitem__(2, ""), uint8=True)
    _refused(model, tmp_path, r"\(ConvInteger\): input zero point \[0\] differs from its QuantizeLinear's 128")
