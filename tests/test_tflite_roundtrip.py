"""The TFLite writer is the reader's inverse, and what it writes runs in TFLite Micro and LiteRT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tflite

from mcudeploy.importers.tflite import read_tflite, write_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import NO_TENSOR, DType, Graph, GraphBuilder, Operator, Padding, Tensor
from mcudeploy.ir.options import Activation, Conv2DOptions, CustomOptions, ReshapeOptions
from mcudeploy.validation.oracles import litert_run, tflm_run

MODELS = Path(__file__).resolve().parents[1].parent / "shared" / "models"
MODEL_FILES = sorted(MODELS.rglob("*.tflite"))
# TFLite Micro refuses hybrid models (float activations, int8 weights) and cannot run an NPU's custom operator.
NOT_FOR_TFLM = {"kws_ref_model_float32.tflite", "person_detect_vela.tflite"}


def tensor_summary(tensor: Tensor) -> tuple:
    data = None if tensor.data is None else (tensor.data.dtype, tensor.data.tobytes())
    return (tensor.name, tensor.shape, tensor.dtype, tensor.is_variable, tensor.quantization, data)


def operator_summary(op: Operator) -> tuple:
    return (op.op_type, op.inputs, op.outputs, op.intermediates, op.options, op.is_custom, op.version)


def assert_same_graph(expected: Graph, actual: Graph) -> None:
    assert len(actual.tensors) == len(expected.tensors)
    for want, got in zip(expected.tensors, actual.tensors, strict=True):
        assert tensor_summary(got) == tensor_summary(want), f"tensor {want.index} '{want.name}'"
    assert len(actual.operators) == len(expected.operators)
    for want, got in zip(expected.operators, actual.operators, strict=True):
        assert operator_summary(got) == operator_summary(want), want.label
    assert (actual.inputs, actual.outputs) == (expected.inputs, expected.outputs)
    assert actual.description == expected.description


def test_real_models_are_found() -> None:
    assert len(MODEL_FILES) >= 10


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.name)
def test_write_then_read_gives_the_same_graph(path: Path) -> None:
    original = read_tflite(path)
    written = write_tflite(original)
    assert written[4:8] == b"TFL3"
    assert_same_graph(original, read_tflite(written))


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.name)
def test_written_file_layout_is_what_tflite_expects(path: Path) -> None:
    written = write_tflite(read_tflite(path))
    model = tflite.Model.GetRootAs(written, 0)
    assert model.Version() == 3
    assert model.Buffers(0).DataLength() == 0, "buffer 0 is the empty sentinel"
    constant_buffers = [model.Subgraphs(0).Tensors(i).Buffer() for i in range(model.Subgraphs(0).TensorsLength())]
    constant_buffers = [b for b in constant_buffers if b != 0]
    assert sorted(constant_buffers) == list(range(1, model.BuffersLength())), "one buffer per constant"
    codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
    keys = [(c.BuiltinCode(), c.CustomCode(), c.Version()) for c in codes]
    assert len(set(keys)) == len(keys), "operator codes are deduplicated"
    assert all(c.DeprecatedBuiltinCode() == min(c.BuiltinCode(), 127) for c in codes)
    base = np.frombuffer(written, dtype=np.uint8).ctypes.data
    for tensor in read_tflite(written).constants():
        assert (tensor.data.ctypes.data - base) % 16 == 0, f"'{tensor.name}' data is not 16-byte aligned"


@pytest.mark.parametrize("path", [p for p in MODEL_FILES if p.name not in NOT_FOR_TFLM], ids=lambda p: p.name)
def test_written_model_runs_in_tflm_exactly_as_the_original(path: Path) -> None:
    graph = read_tflite(path)
    inputs = random_inputs(graph)
    original = tflm_run(path, inputs, len(graph.tensors), len(graph.outputs))
    rewritten = tflm_run(write_tflite(graph), inputs, len(graph.tensors), len(graph.outputs))
    for index, array in original.tensors.items():
        assert np.array_equal(rewritten.tensors[index], array), f"tensor {index} '{graph.tensors[index].name}'"


def test_written_model_loads_in_litert_even_where_the_original_does_not() -> None:
    # person_detect's 1-D biases claim quantized_dimension 3; the IR reads it as 0 and the writer writes 0.
    graph = read_tflite(MODELS / "tflm" / "person_detect.tflite")
    inputs = random_inputs(graph)
    expected = tflm_run(MODELS / "tflm" / "person_detect.tflite", inputs, len(graph.tensors))
    (output,) = litert_run(write_tflite(graph), inputs).outputs
    assert np.abs(output.astype(int) - expected.outputs[0].astype(int)).max() <= 1


def test_custom_operator_keeps_its_code_and_raw_options() -> None:
    graph = read_tflite(MODELS / "tflm" / "person_detect_vela.tflite")
    (custom,) = [op for op in graph.operators if op.is_custom]
    rewritten = read_tflite(write_tflite(graph))
    (again,) = [op for op in rewritten.operators if op.is_custom]
    assert again.op_type == custom.op_type == "ethos-u"
    assert isinstance(again.options, CustomOptions) and again.options == custom.options


def conv_graph(seed: int = 0) -> tuple[Graph, np.ndarray, np.ndarray]:
    """One int8 CONV_2D 3x3 SAME with per-channel weights and a bias, made with the builder."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(-127, 128, size=(4, 3, 3, 3), dtype=np.int8)
    weight_scales = [0.01, 0.02, 0.03, 0.04]
    input_scale = 0.02
    bias = rng.integers(-500, 500, size=4, dtype=np.int32)
    b = GraphBuilder("conv")
    x = b.tensor((1, 8, 8, 3), DType.INT8, scale=input_scale, zero_point=-3, name="input")
    w = b.tensor((4, 3, 3, 3), DType.INT8, scale=weight_scales, zero_point=0, axis=0, data=weights, name="w")
    bias_scales = [input_scale * s for s in weight_scales]
    bias_t = b.tensor((4,), DType.INT32, scale=bias_scales, zero_point=0, axis=0, data=bias, name="bias")
    y = b.tensor((1, 8, 8, 4), DType.INT8, scale=0.05, zero_point=1, name="output")
    b.op("CONV_2D", [x, w, bias_t], [y], Conv2DOptions(padding=Padding.SAME, activation=Activation.RELU))
    return b.build(inputs=[x], outputs=[y]), weights, bias


def test_builder_made_conv_runs_in_tflm_as_its_float_meaning() -> None:
    graph, weights, bias = conv_graph()
    (x,) = random_inputs(graph)
    (output,) = tflm_run(write_tflite(graph), [x], len(graph.tensors)).outputs
    # The float conv the quantized one approximates: SAME padding with the input zero point, per-channel scales.
    padded = np.pad(x.astype(np.int64) + 3, ((0, 0), (1, 1), (1, 1), (0, 0)))
    accumulator = sum(
        np.einsum("nhwc,oc->nhwo", padded[:, dy : dy + 8, dx : dx + 8, :], weights[:, dy, dx, :].astype(np.int64))
        for dy in range(3)
        for dx in range(3)
    )
    real = (accumulator + bias) * 0.02 * np.array([0.01, 0.02, 0.03, 0.04])
    expected = np.clip(np.rint(np.maximum(real, 0) / 0.05) + 1, -128, 127)
    assert output.dtype == np.int8 and output.shape == (1, 8, 8, 4)
    assert np.abs(output.astype(int) - expected).max() <= 1


def test_builder_made_model_without_bias_and_with_absent_options_roundtrips() -> None:
    b = GraphBuilder("no_bias", description="built in a test")
    x = b.tensor((1, 4, 4, 2), DType.FLOAT32, name="x")
    w = b.tensor((3, 1, 1, 2), DType.FLOAT32, data=np.ones((3, 1, 1, 2)))
    y = b.tensor((1, 4, 4, 3), DType.FLOAT32)
    z = b.tensor((1, 48), DType.FLOAT32)
    b.op("CONV_2D", [x, w, NO_TENSOR], [y], Conv2DOptions())
    b.op("RESHAPE", [y], [z], ReshapeOptions())  # new_shape None: written as no options table
    graph = b.build(inputs=[x], outputs=[z])
    assert_same_graph(graph, read_tflite(write_tflite(graph)))
    x_value = np.arange(32, dtype=np.float32).reshape(1, 4, 4, 2)
    (output,) = tflm_run(write_tflite(graph), [x_value], len(graph.tensors)).outputs
    np.testing.assert_array_equal(output, np.repeat(x_value.sum(axis=3), 3).reshape(1, 48))


def test_builder_constants_are_read_only_copies_in_the_declared_dtype() -> None:
    source = np.array([1, -2, 3])
    b = GraphBuilder("c")
    index = b.tensor((3,), DType.INT8, data=source)
    source[0] = 99
    data = b.tensors[index].data
    assert data.dtype == np.int8 and data.tolist() == [1, -2, 3] and not data.flags.writeable


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": np.zeros((2, 3))}, "shape"),
        ({"data": np.full((3,), 300)}, "fit"),
        ({"data": np.full((3,), 0.5)}, "fit"),
        ({"scale": [0.1, 0.2]}, "axis"),
        ({"scale": [0.1, 0.2], "axis": 0}, "scales"),
    ],
)
def test_builder_rejects_inconsistent_tensors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GraphBuilder("bad").tensor((3,), DType.INT8, **kwargs)


def test_builder_rejects_bad_wiring() -> None:
    b = GraphBuilder("bad")
    x = b.tensor((1,), DType.INT8)
    c = b.tensor((1,), DType.INT8, data=[1])
    y = b.tensor((1,), DType.INT8)
    with pytest.raises(ValueError, match="does not exist"):
        b.op("RELU", [7], [y])
    with pytest.raises(ValueError, match="constant"):
        b.op("RELU", [x], [c])
    b.op("RELU", [x], [y])
    with pytest.raises(ValueError, match="already written"):
        b.op("RELU", [x], [y])
    with pytest.raises(ValueError, match="constant"):
        b.build(inputs=[c], outputs=[y])
