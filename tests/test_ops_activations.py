"""RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH, LOGISTIC and TANH against TFLite Micro
(RELU_N1_TO_1, which TFLM lacks, against LiteRT's reference kernels)."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import LeakyReluOptions
from mcudeploy.validation.oracles import litert_run
from single_op import FLOAT_RTOL, assert_matches_tflm

EVERY_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(4, 64)
EVERY_INT16 = np.arange(-(2**15), 2**15, dtype=np.int16).reshape(256, 256)
# Where LOGISTIC's float branches switch (exp(x) below -9, 1 above ~16.6) and beyond.
FLOAT_INPUTS = np.concatenate(
    [np.linspace(-25, 25, 1001), [-9, -9.0001, 16.619047164916992188, 16.62, 0.0, -0.0, 3.0, -3.0]]
).astype(np.float32)


def _unary(op_type, shape, dtype, input_quant, output_quant, options=None):
    b = GraphBuilder(op_type.lower())
    x = b.tensor(shape, dtype, **input_quant)
    y = b.tensor(shape, dtype, **output_quant)
    b.op(op_type, [x], [y], options)
    return b.build([x], [y])


def _random_int8_quant(rng):
    return {"scale": float(10 ** rng.uniform(-3, 0)), "zero_point": int(rng.integers(-128, 128))}


def _output_quant(op_type, input_quant, rng):
    """What TFLM accepts or assumes: LOGISTIC 1/256 at -128, TANH 1/128 at 0, RELU6 the input's."""
    return {
        "LOGISTIC": {"scale": 1 / 256, "zero_point": -128},
        "TANH": {"scale": 1 / 128, "zero_point": 0},
        "RELU6": input_quant,
        # TFLM refuses an output scale below input scale / 128.
        "HARD_SWISH": {"scale": input_quant["scale"] * float(10 ** rng.uniform(-2, 1)), "zero_point": 3},
    }.get(op_type, _random_int8_quant(rng))


INT8_OPS = ["RELU", "RELU6", "LEAKY_RELU", "HARD_SWISH", "LOGISTIC", "TANH"]


@pytest.mark.parametrize("op_type", INT8_OPS)
@pytest.mark.parametrize("case", range(8))
def test_int8_every_input_value(op_type, case):
    rng = np.random.default_rng([case, INT8_OPS.index(op_type)])
    input_quant = _random_int8_quant(rng)
    options = LeakyReluOptions(alpha=float(rng.uniform(-1.5, 1.5))) if op_type == "LEAKY_RELU" else None
    graph = _unary(op_type, EVERY_INT8.shape, "int8", input_quant, _output_quant(op_type, input_quant, rng), options)
    assert_matches_tflm(graph, inputs=[EVERY_INT8])


@pytest.mark.parametrize(
    ("input_quant", "output_quant"),
    [
        # The output multiplier's exponent is -16: int16 rounding by 2^16 degenerates to ±1.
        ({"scale": 0.0010958349385561718, "zero_point": -39}, {"scale": 0.6233145476960256, "zero_point": -46}),
        # float32 and double derivations of the output multiplier differ here (TFLM uses double).
        ({"scale": 0.0042158933356404305, "zero_point": -36}, {"scale": 0.001511349342763424, "zero_point": -96}),
        ({"scale": 0.021288832649588585, "zero_point": -51}, {"scale": 0.045559290796518326, "zero_point": -54}),
    ],
)
def test_hard_swish_edge_scales(input_quant, output_quant):
    assert_matches_tflm(_unary("HARD_SWISH", EVERY_INT8.shape, "int8", input_quant, output_quant), inputs=[EVERY_INT8])


INT16_POT_SCALES = [2.0**-12, 2.0**-11, 2.0**-10, 2.0**-13]
INT16_OTHER_SCALES = [3.1e-4, 1.234e-3, 7.7e-5]


@pytest.mark.parametrize("op_type", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("input_scale", INT16_POT_SCALES + INT16_OTHER_SCALES)
def test_int16_sigmoid_like_every_input_value(op_type, input_scale):
    q15 = {"scale": 2.0**-15, "zero_point": 0}
    graph = _unary(op_type, EVERY_INT16.shape, "int16", {"scale": input_scale, "zero_point": 0}, q15)
    assert_matches_tflm(graph, inputs=[EVERY_INT16])


@pytest.mark.parametrize(
    ("op_type", "input_scale", "output_scale", "alpha"),
    [
        ("RELU", 2.0**-10, 0.00043637612405332413, None),  # float32 and double multipliers differ
        ("RELU", 1.2e-3, 7.8e-4, None),
        ("RELU", 3e-4, 1e-3, None),
        ("RELU6", 2.0**-12, 2.0**-12, None),
        ("RELU6", 1e-4, 1e-4, None),
        ("LEAKY_RELU", 0.00027747581337593947, 0.00016202506783740507, -0.3128191895106167),
        ("LEAKY_RELU", 2.0**-11, 3e-4, 0.2),
        ("LEAKY_RELU", 1e-3, 5e-4, 1.7),
    ],
)
def test_int16_relu_family_every_input_value(op_type, input_scale, output_scale, alpha):
    options = LeakyReluOptions(alpha=alpha) if alpha is not None else None
    input_quant, output_quant = {"scale": input_scale, "zero_point": 0}, {"scale": output_scale, "zero_point": 0}
    graph = _unary(op_type, EVERY_INT16.shape, "int16", input_quant, output_quant, options)
    assert_matches_tflm(graph, inputs=[EVERY_INT16])


@pytest.mark.parametrize("op_type", INT8_OPS)
def test_float(op_type):
    options = LeakyReluOptions(alpha=0.3) if op_type == "LEAKY_RELU" else None
    assert_matches_tflm(_unary(op_type, FLOAT_INPUTS.shape, "float32", {}, {}, options), inputs=[FLOAT_INPUTS])


def _assert_matches_litert(graph, inputs):
    model = write_tflite(graph)
    (theirs,) = litert_run(model, inputs).outputs
    (ours,) = run(graph, inputs).outputs
    if ours.dtype == np.float32:
        np.testing.assert_allclose(ours, theirs, rtol=FLOAT_RTOL, atol=0)
    else:
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("case", range(6))
def test_relu_n1_to_1_int8_matches_litert(case):
    rng = np.random.default_rng(case)
    graph = _unary("RELU_N1_TO_1", EVERY_INT8.shape, "int8", _random_int8_quant(rng), _random_int8_quant(rng))
    _assert_matches_litert(graph, [EVERY_INT8])


def test_relu_n1_to_1_float_matches_litert():
    _assert_matches_litert(_unary("RELU_N1_TO_1", FLOAT_INPUTS.shape, "float32", {}, {}), [FLOAT_INPUTS])


@pytest.mark.parametrize(
    ("op_type", "dtype", "output_quant"),
    [
        ("LOGISTIC", "int8", {"scale": 1 / 256, "zero_point": 0}),
        ("LOGISTIC", "int16", {"scale": 2.0**-14, "zero_point": 0}),
        ("TANH", "int16", {"scale": 2.0**-15, "zero_point": 3}),
    ],
)
def test_refuses_output_quantization_tflm_refuses(op_type, dtype, output_quant):
    graph = _unary(op_type, (4,), dtype, {"scale": 2.0**-12, "zero_point": 0}, output_quant)
    with pytest.raises(UnsupportedOperatorError, match=op_type):
        run(graph, [np.zeros(4, dtype)])


def test_refuses_hard_swish_output_scale_tflm_refuses():
    graph = _unary("HARD_SWISH", (4,), "int8", {"scale": 0.5, "zero_point": 0}, {"scale": 0.001, "zero_point": 0})
    with pytest.raises(UnsupportedOperatorError, match="HARD_SWISH output scale"):
        run(graph, [np.zeros(4, np.int8)])


def test_refuses_int16_hard_swish():
    graph = _unary("HARD_SWISH", (4,), "int16", {"scale": 0.01, "zero_point": 0}, {"scale": 0.01, "zero_point": 0})
    with pytest.raises(UnsupportedOperatorError, match="HARD_SWISH of int16"):
        run(graph, [np.zeros(4, np.int16)])


@pytest.mark.parametrize("op_type", ["RELU", "LEAKY_RELU", "LOGISTIC", "TANH"])
def test_int16_tensor_larger_than_the_type_goes_through_a_table(op_type):
    """Beyond 65536 elements the engine tabulates int16 functions: the same results."""
    data = np.concatenate([EVERY_INT16.ravel(), EVERY_INT16.ravel()[::-3]]).reshape(1, -1)
    output_quant = {"scale": 2.0**-15 if op_type in ("LOGISTIC", "TANH") else 4e-4, "zero_point": 0}
    options = LeakyReluOptions(alpha=-0.4) if op_type == "LEAKY_RELU" else None
    graph = _unary(op_type, data.shape, "int16", {"scale": 3.1e-4, "zero_point": 0}, output_quant, options)
    assert_matches_tflm(graph, inputs=[data])
