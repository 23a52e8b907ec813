"""ADD_N and CUMSUM against TFLite Micro (float32, int8)."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import CumsumOptions
from single_op import assert_matches_tflm, constant

QUANTS = [
    ({"scale": 0.05, "zero_point": -7}, {"scale": 0.11, "zero_point": 4}),
    ({"scale": 0.02, "zero_point": 0},) * 2,
]


def _quants(dtype, pair):
    return pair if dtype == "int8" else ({}, {})


@pytest.mark.parametrize("dtype", ["float32", "int8"])
@pytest.mark.parametrize("pair", QUANTS)
@pytest.mark.parametrize("count", [2, 5])
def test_add_n(dtype, pair, count):
    b = GraphBuilder("add_n")
    q_in, q_out = _quants(dtype, pair)
    inputs = [b.tensor((3, 4, 2), dtype, **q_in) for _ in range(count)]
    y = b.tensor((3, 4, 2), dtype, **q_out)
    b.op("ADD_N", inputs, [y])
    assert_matches_tflm(b.build(inputs, [y]))


def test_add_n_of_differently_quantized_inputs_is_refused():
    b = GraphBuilder("add_n")
    inputs = [b.tensor((3,), "int8", scale=s, zero_point=0) for s in (0.1, 0.2)]
    y = b.tensor((3,), "int8", scale=0.1, zero_point=0)
    b.op("ADD_N", inputs, [y])
    with pytest.raises(UnsupportedOperatorError, match="quantized differently"):
        run(b.build(inputs, [y]), [np.zeros(3, np.int8)] * 2)


@pytest.mark.parametrize("dtype", ["float32", "int8"])
@pytest.mark.parametrize("pair", QUANTS)
@pytest.mark.parametrize(("exclusive", "reverse"), [(False, False), (True, False), (False, True), (True, True)])
def test_cumsum(dtype, pair, exclusive, reverse):
    q_in, q_out = _quants(dtype, pair)
    for seed, (shape, axis) in enumerate((((7,), 0), ((3, 5, 4), 1), ((2, 3, 6), -1))):
        b = GraphBuilder("cumsum")
        x, y = b.tensor(shape, dtype, **q_in), b.tensor(shape, dtype, **q_out)
        b.op("CUMSUM", [x, constant(b, [axis])], [y], CumsumOptions(exclusive, reverse))
        assert_matches_tflm(b.build([x], [y]), seed=seed)


def test_int8_sums_wrap_as_tflite_micro():
    """40 values of 134 (127 centred) scaled by 2^19 overflow the int32 sum: it wraps, as TFLM's does."""
    quant, out_quant = {"scale": 0.05, "zero_point": -7}, {"scale": 0.5, "zero_point": 3}
    b = GraphBuilder("cumsum")
    x, y = b.tensor((40, 3), "int8", **quant), b.tensor((40, 3), "int8", **out_quant)
    b.op("CUMSUM", [x, constant(b, [0])], [y], CumsumOptions())
    assert_matches_tflm(b.build([x], [y]), inputs=[np.full((40, 3), 127, np.int8)])
    b = GraphBuilder("add_n")
    inputs = [b.tensor((3,), "int8", **quant) for _ in range(40)]
    y = b.tensor((3,), "int8", **out_quant)
    b.op("ADD_N", inputs, [y])
    assert_matches_tflm(b.build(inputs, [y]), inputs=[np.full(3, 127, np.int8)] * 40)
