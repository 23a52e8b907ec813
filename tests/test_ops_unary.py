"""ABS, NEG and the float32 math operators against TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import McuDeployError
from mcudeploy.ir import GraphBuilder
from single_op import assert_matches_tflm

FLOAT_OPS = ["ABS", "NEG", "SIN", "COS", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "FLOOR", "CEIL", "ROUND"]


def _unary(op_type, shape, dtype, in_quant=None, out_quant=None):
    b = GraphBuilder(op_type.lower())
    x, y = b.tensor(shape, dtype, **(in_quant or {})), b.tensor(shape, dtype, **(out_quant or {}))
    b.op(op_type, [x], [y])
    return b.build([x], [y])


@pytest.mark.parametrize("op_type", FLOAT_OPS)
def test_float_math(op_type):
    values = np.concatenate(
        [np.linspace(-6, 6, 97, dtype=np.float32), np.float32([0.5, 1.5, 2.5, -0.5, -2.5, 0.0, -0.0, 1e-30, 40.0])]
    )
    graph = _unary(op_type, values.shape, "float32")
    assert_matches_tflm(graph, inputs=[values])


EVERY_INT8 = np.arange(-128, 128, dtype=np.int8)


@pytest.mark.parametrize(
    ("in_quant", "out_quant"),
    [
        ({"scale": 0.05, "zero_point": -3}, {"scale": 0.05, "zero_point": -128}),
        ({"scale": 0.05, "zero_point": 20}, {"scale": 0.03, "zero_point": -100}),
        ({"scale": 0.02, "zero_point": 127}, {"scale": 0.3, "zero_point": 5}),
    ],
)
def test_int8_abs_of_every_value(in_quant, out_quant):
    assert_matches_tflm(_unary("ABS", EVERY_INT8.shape, "int8", in_quant, out_quant), inputs=[EVERY_INT8])


@pytest.mark.parametrize("scales", [(0.001, 0.001), (0.001, 0.0007), (0.0003, 0.002)])
def test_int16_abs(scales):
    values = np.concatenate([np.int16([-32768, -32767, 0, 32767]), np.arange(-32768, 32767, 97, dtype=np.int16)])
    quants = [{"scale": scale, "zero_point": 0} for scale in scales]
    assert_matches_tflm(_unary("ABS", values.shape, "int16", *quants), inputs=[values])


def test_int16_abs_without_quantization():
    values = np.int16([-32768, -32767, -5, 0, 7, 32767])
    assert_matches_tflm(_unary("ABS", values.shape, "int16"), inputs=[values])


CAST_VALUES = {
    "int8": np.arange(-128, 128, dtype=np.int8),
    "int16": np.int16([-32768, -129, -128, -1, 0, 127, 128, 255, 256, 32767]),
    "int32": np.int32([-(2**31), -32769, -32768, -129, -1, 0, 1, 255, 65535, 2**24 + 1, 2**31 - 1]),
    "uint32": np.uint32([0, 1, 127, 128, 255, 65535, 2**31, 2**32 - 1]),
    "float32": np.float32([-128.9, -127.5, -1.5, -0.7, -0.0, 0.0, 0.49, 0.5, 1.5, 99.99, 127.9]),
    "bool": np.array([True, False, True]),
}


@pytest.mark.parametrize("source", list(CAST_VALUES))
@pytest.mark.parametrize("target", ["int8", "int16", "int32", "uint32", "float32"])
def test_cast(source, target):
    values = CAST_VALUES[source]
    b = GraphBuilder("cast")
    x, y = b.tensor(values.shape, source), b.tensor(values.shape, target)
    b.op("CAST", [x], [y])
    assert_matches_tflm(b.build([x], [y]), inputs=[values])


@pytest.mark.parametrize(
    ("in_quant", "out_quant"), [((0.05, -128), (0.02, -100)), ((0.5, 0), (0.01, 3)), ((0.003, -20), (0.3, -128))]
)
def test_int8_rsqrt_of_every_valid_value(in_quant, out_quant):
    values = np.arange(in_quant[1], 128, dtype=np.int8)
    quants = [{"scale": scale, "zero_point": zero} for scale, zero in (in_quant, out_quant)]
    assert_matches_tflm(_unary("RSQRT", values.shape, "int8", *quants), inputs=[values])


def test_int8_rsqrt_of_a_negative_value_fails_as_in_tflite_micro():
    graph = _unary("RSQRT", (3,), "int8", {"scale": 0.05, "zero_point": 0}, {"scale": 0.02, "zero_point": 0})
    with pytest.raises(McuDeployError, match="RSQRT of a negative value"):
        run(graph, [np.int8([4, -1, 9])])


def test_engine_and_emitter_share_the_float_functions():
    from mcudeploy.engine.ops.unary import FLOAT_FUNCTIONS
    from mcudeploy.params.unary import FLOAT_UNARY_OPS

    assert set(FLOAT_FUNCTIONS) == set(FLOAT_UNARY_OPS)


@pytest.mark.parametrize(
    ("dtype", "input_q", "output_q"),
    [
        ("float32", {}, {}),
        ("int8", {"scale": 0.05, "zero_point": 10}, {"scale": 0.03, "zero_point": -20}),
        ("int8", {"scale": 0.2, "zero_point": -128}, {"scale": 0.1, "zero_point": 127}),
    ],
)
def test_elu(dtype, input_q, output_q):
    """Every int8 input; float32 seeded random ones."""
    b = GraphBuilder("elu")
    x = b.tensor((2, 128), dtype, **input_q)
    y = b.tensor((2, 128), dtype, **output_q)
    b.op("ELU", [x], [y])
    every = [np.arange(-128, 128, dtype=np.int8).reshape(2, 128)] if dtype == "int8" else None
    assert_matches_tflm(b.build([x], [y]), inputs=every)
