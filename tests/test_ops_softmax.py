"""SOFTMAX against TFLite Micro: int8 to int8 and int16, int16 (lookup tables), float32,
and with the quantization of the real models' SOFTMAX layers."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import MODELS
from mcudeploy.engine.interpreter import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import SoftmaxOptions
from single_op import assert_matches_tflm

SHAPES = [(1, 12), (4, 10), (2, 3, 7), (1, 200), (3, 1), (2, 2, 2, 33)]
BETAS = [1.0, 0.5, 2.0, 0.1, 3.7]
INT8_OUTPUT = {"scale": 1 / 256, "zero_point": -128}
INT16_OUTPUT_FROM_INT8 = {"scale": 1 / 65536, "zero_point": -32768}
INT16_OUTPUT = {"scale": 1 / 32768, "zero_point": 0}


def _softmax(shape, input_dtype, input_quant, output_dtype, output_quant, beta=1.0):
    b = GraphBuilder("softmax")
    x = b.tensor(shape, input_dtype, **input_quant)
    y = b.tensor(shape, output_dtype, **output_quant)
    b.op("SOFTMAX", [x], [y], SoftmaxOptions(beta=beta))
    return b.build([x], [y])


def _case(case: int):
    rng = np.random.default_rng(case)
    return rng, SHAPES[case % len(SHAPES)], BETAS[case % len(BETAS)]


@pytest.mark.parametrize("case", range(12))
@pytest.mark.parametrize(("output_dtype", "output_quant"), [("int8", INT8_OUTPUT), ("int16", INT16_OUTPUT_FROM_INT8)])
def test_int8_input(case, output_dtype, output_quant):
    rng, shape, beta = _case(case)
    input_quant = {"scale": float(10 ** rng.uniform(-2.5, 0)), "zero_point": int(rng.integers(-128, 128))}
    assert_matches_tflm(_softmax(shape, "int8", input_quant, output_dtype, output_quant, beta), seed=case)


@pytest.mark.parametrize("case", range(12))
def test_int16(case):
    rng, shape, beta = _case(case)
    input_quant = {"scale": float(10 ** rng.uniform(-4, -1)), "zero_point": 0}
    assert_matches_tflm(_softmax(shape, "int16", input_quant, "int16", INT16_OUTPUT, beta), seed=case)


@pytest.mark.parametrize("case", range(6))
def test_float(case):
    rng, shape, beta = _case(case)
    inputs = [(rng.standard_normal(shape) * 5).astype(np.float32)]
    assert_matches_tflm(_softmax(shape, "float32", {}, "float32", {}, beta), inputs=inputs)


def test_int8_rows_with_a_wide_spread_drop_small_values():
    """Inputs far below the row maximum fall under diff_min and give the output minimum."""
    x = np.array([[127, -128, 126, -100, 0, 127], [-128, -128, -128, -128, -128, -128]], np.int8)
    graph = _softmax(x.shape, "int8", {"scale": 0.5, "zero_point": 0}, "int8", INT8_OUTPUT)
    assert_matches_tflm(graph, inputs=[x])


@pytest.mark.parametrize(
    "model",
    ["mlperf_tiny/kws_ref_model_int8.tflite", "mlperf_tiny/ic_resnet8_int8.tflite", "tflm/person_detect.tflite"],
)
def test_quantization_of_real_models(model):
    """The real models' SOFTMAX layers (int8 to int8, beta 1) as single operators, on random inputs."""
    graph = read_tflite(MODELS / model)
    (op,) = [op for op in graph.operators if op.op_type == "SOFTMAX"]
    source, output = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]

    def quant(tensor):
        return {"scale": tensor.quantization.single_scale, "zero_point": tensor.quantization.single_zero_point}

    single = _softmax(source.shape, "int8", quant(source), "int8", quant(output), op.options.beta)
    for seed in range(20):
        assert_matches_tflm(single, seed=seed)


@pytest.mark.parametrize(
    ("input_dtype", "output_dtype", "output_quant"),
    [
        ("int8", "int8", {"scale": 1 / 256, "zero_point": 0}),
        ("int8", "int8", {"scale": 1 / 255, "zero_point": -128}),
        ("int8", "int16", {"scale": 1 / 32768, "zero_point": 0}),
        ("int16", "int16", {"scale": 1 / 65536, "zero_point": 0}),
        ("int16", "int8", INT8_OUTPUT),
    ],
)
def test_refuses_what_tflm_refuses(input_dtype, output_dtype, output_quant):
    graph = _softmax((1, 4), input_dtype, {"scale": 0.1, "zero_point": 0}, output_dtype, output_quant)
    with pytest.raises(UnsupportedOperatorError, match="SOFTMAX"):
        run(graph, [np.zeros((1, 4), input_dtype)])


def test_refuses_an_int8_row_whose_exponentials_sum_to_512():
    """TFLM aborts there (its output exponent leaves [0, 31])."""
    graph = _softmax((1, 600), "int8", {"scale": 0.01, "zero_point": 0}, "int8", INT8_OUTPUT)
    with pytest.raises(UnsupportedOperatorError, match="512"):
        run(graph, [np.zeros((1, 600), np.int8)])


# ------------------------------------------------------------------ LOG_SOFTMAX

LOG_SOFTMAX_OUTPUT = {"scale": 16 / 256, "zero_point": 127}


def _log_softmax(shape, dtype, input_quant, output_quant):
    b = GraphBuilder("log_softmax")
    x = b.tensor(shape, dtype, **input_quant)
    y = b.tensor(shape, dtype, **output_quant)
    b.op("LOG_SOFTMAX", [x], [y])
    return b.build([x], [y])


@pytest.mark.parametrize("case", range(16))
def test_log_softmax_int8(case):
    """Input scales from 1/300 to 3: differences down to the smallest representable, rows of 1 to 200."""
    rng, shape, _ = _case(case)
    input_quant = {"scale": float(10 ** rng.uniform(-2.5, 0.5)), "zero_point": int(rng.integers(-128, 128))}
    graph = _log_softmax(shape, "int8", input_quant, LOG_SOFTMAX_OUTPUT)
    for seed in range(3):
        assert_matches_tflm(graph, seed=100 * case + seed)


@pytest.mark.parametrize("shape", SHAPES)
def test_log_softmax_float32(shape):
    assert_matches_tflm(_log_softmax(shape, "float32", {}, {}))


def test_log_softmax_int8_needs_tflite_micros_output_quantization():
    graph = _log_softmax((1, 4), "int8", {"scale": 0.1}, {"scale": 1 / 256, "zero_point": -128})
    with pytest.raises(UnsupportedOperatorError, match="16/256"):
        run(graph, [np.zeros((1, 4), np.int8)])
