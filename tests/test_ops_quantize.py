"""QUANTIZE and DEQUANTIZE against TFLite Micro (and LiteRT for the conversions TFLM lacks)."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import ElementwiseOptions
from mcudeploy.validation.oracles import litert_run
from single_op import FLOAT_RTOL, assert_matches_tflm

SHAPE = (4, 1000)


def _convert(op_type, input_dtype, input_quant, output_dtype, output_quant):
    b = GraphBuilder(op_type.lower())
    x = b.tensor(SHAPE, input_dtype, **input_quant)
    y = b.tensor(SHAPE, output_dtype, **output_quant)
    b.op(op_type, [x], [y])
    return b.build([x], [y])


def _random_quant(dtype, rng):
    if dtype == "float32":
        return {}
    if dtype in ("int16", "int32"):  # symmetric, as TFLite quantizes these
        return {"scale": float(10 ** rng.uniform(-5, -1)), "zero_point": 0}
    if dtype == "uint8":
        return {"scale": float(10 ** rng.uniform(-3, 0)), "zero_point": int(rng.integers(0, 256))}
    return {"scale": float(10 ** rng.uniform(-3, 0)), "zero_point": int(rng.integers(-128, 128))}


def _float_input(scale, rng):
    """Values spread over (and beyond) the output range, starting with exact halves to test rounding."""
    values = (rng.standard_normal(SHAPE) * scale * 100).astype(np.float32)
    halves = np.array([0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 127.5, -128.5, 1e6, -1e6, 0.0, -0.0], np.float32)
    values.flat[: halves.size] = halves * np.float32(scale)
    return values


@pytest.mark.parametrize("output_dtype", ["int8", "int16"])
@pytest.mark.parametrize("case", range(6))
def test_quantize_float(output_dtype, case):
    rng = np.random.default_rng(case)
    output_quant = _random_quant(output_dtype, rng)
    graph = _convert("QUANTIZE", "float32", {}, output_dtype, output_quant)
    assert_matches_tflm(graph, inputs=[_float_input(output_quant["scale"], rng)])


REQUANTIZATIONS = [
    ("int8", "int8"),
    ("int8", "uint8"),
    ("int8", "int16"),
    ("int8", "int32"),
    ("uint8", "int8"),
    ("int16", "int8"),
    ("int16", "int16"),
    ("int16", "int32"),
    ("int32", "int8"),
    ("int32", "int16"),
]


@pytest.mark.parametrize(("input_dtype", "output_dtype"), REQUANTIZATIONS)
@pytest.mark.parametrize("case", range(4))
def test_requantize(input_dtype, output_dtype, case):
    rng = np.random.default_rng([case, REQUANTIZATIONS.index((input_dtype, output_dtype))])
    input_quant, output_quant = _random_quant(input_dtype, rng), _random_quant(output_dtype, rng)
    if case == 0 and {input_dtype, output_dtype} == {"int8", "uint8"}:  # the same scale, zero points 128 apart
        output_quant = {
            "scale": input_quant["scale"],
            "zero_point": input_quant["zero_point"] + (128 if output_dtype == "uint8" else -128),
        }
    assert_matches_tflm(_convert("QUANTIZE", input_dtype, input_quant, output_dtype, output_quant), seed=case)


@pytest.mark.parametrize("input_dtype", ["int8", "int16", "uint8"])
@pytest.mark.parametrize("case", range(3))
def test_dequantize(input_dtype, case):
    rng = np.random.default_rng(case)
    graph = _convert("DEQUANTIZE", input_dtype, _random_quant(input_dtype, rng), "float32", {})
    assert_matches_tflm(graph, seed=case, float_exact=True)


def test_quantize_float_to_uint8_matches_litert():
    """TFLM has no float to uint8 QUANTIZE; LiteRT computes it with the same formula."""
    rng = np.random.default_rng(0)
    graph = _convert("QUANTIZE", "float32", {}, "uint8", {"scale": 0.02, "zero_point": 100})
    inputs = [_float_input(0.02, rng)]
    (theirs,) = litert_run(write_tflite(graph), inputs).outputs
    np.testing.assert_array_equal(run(graph, inputs).outputs[0], theirs)


def test_dequantize_float16_constant_matches_litert():
    """float16 weights dequantized to float32 (LiteRT; TFLM has no float16)."""
    rng = np.random.default_rng(0)
    b = GraphBuilder("fp16_weights")
    weights = b.tensor((3, 5), "float16", data=rng.standard_normal((3, 5)).astype(np.float16))
    x, dequantized, y = (b.tensor((3, 5), "float32") for _ in range(3))
    b.op("DEQUANTIZE", [weights], [dequantized])
    b.op("ADD", [x, dequantized], [y], ElementwiseOptions())
    graph = b.build([x], [y])
    inputs = [rng.standard_normal((3, 5)).astype(np.float32)]
    (theirs,) = litert_run(write_tflite(graph), inputs).outputs
    np.testing.assert_allclose(run(graph, inputs).outputs[0], theirs, rtol=FLOAT_RTOL, atol=0)


@pytest.mark.parametrize(
    ("op_type", "input_dtype", "input_quant", "output_dtype", "output_quant"),
    [
        ("QUANTIZE", "float32", {}, "int32", {"scale": 0.1, "zero_point": 0}),
        ("QUANTIZE", "uint8", {"scale": 0.1, "zero_point": 0}, "int16", {"scale": 0.1, "zero_point": 0}),
        ("QUANTIZE", "float32", {}, "int8", {"scale": [0.1, 0.2, 0.3, 0.4], "zero_point": 0, "axis": 0}),
        ("DEQUANTIZE", "int32", {"scale": 0.1, "zero_point": 0}, "float32", {}),
        ("DEQUANTIZE", "int8", {"scale": 0.1, "zero_point": 0}, "int16", {"scale": 0.1, "zero_point": 0}),
    ],
)
def test_refuses_what_tflm_refuses(op_type, input_dtype, input_quant, output_dtype, output_quant):
    graph = _convert(op_type, input_dtype, input_quant, output_dtype, output_quant)
    with pytest.raises(UnsupportedOperatorError, match=op_type):
        run(graph, [np.zeros(SHAPE, input_dtype)])
