"""AVERAGE_POOL_2D and MAX_POOL_2D against TFLite Micro (int8, int16, float32)."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.ir import Activation, GraphBuilder, Padding
from mcudeploy.ir.options import Pool2DOptions
from single_op import assert_matches_tflm

ACTIVATIONS = [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1]
QUANTIZATION = {"int8": (0.05, -7), "int16": (0.0003, 0), "float32": (None, 0)}
"""Scale and zero point of input and output (pooling keeps them): ±6 spans most of the range."""

# (padding, filter, stride, input height × width)
GEOMETRIES = [
    (Padding.VALID, (2, 2), (2, 2), (8, 6)),
    (Padding.SAME, (2, 2), (2, 2), (7, 5)),
    (Padding.SAME, (3, 3), (1, 1), (6, 6)),
    (Padding.VALID, (3, 2), (2, 1), (7, 6)),
    (Padding.SAME, (3, 3), (2, 2), (9, 7)),
    (Padding.SAME, (4, 3), (3, 2), (10, 7)),
    (Padding.SAME, (5, 5), (1, 1), (3, 4)),  # the window is larger than the image
    (Padding.VALID, (25, 5), (25, 5), (25, 5)),  # a global average pool, as in kws
]


def _out_size(padding: Padding, size: int, kernel: int, stride: int) -> int:
    return (size + stride - 1) // stride if padding == Padding.SAME else (size - kernel) // stride + 1


def _pool_graph(op_type: str, dtype: str, geometry, activation: Activation, batch: int = 1, channels: int = 3):
    padding, (filter_h, filter_w), (stride_h, stride_w), (height, width) = geometry
    out_h, out_w = _out_size(padding, height, filter_h, stride_h), _out_size(padding, width, filter_w, stride_w)
    scale, zero_point = QUANTIZATION[dtype]
    b = GraphBuilder(op_type.lower())
    x = b.tensor((batch, height, width, channels), dtype, scale=scale, zero_point=zero_point, name="input")
    y = b.tensor((batch, out_h, out_w, channels), dtype, scale=scale, zero_point=zero_point, name="output")
    options = Pool2DOptions(
        padding=padding,
        stride_h=stride_h,
        stride_w=stride_w,
        filter_h=filter_h,
        filter_w=filter_w,
        activation=activation,
    )
    b.op(op_type, [x], [y], options)
    return b.build([x], [y])


def _geometry_id(geometry) -> str:
    padding, kernel, stride, size = geometry
    return f"{padding.value}-k{kernel[0]}x{kernel[1]}-s{stride[0]}{stride[1]}-in{size[0]}x{size[1]}"


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=_geometry_id)
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
@pytest.mark.parametrize("op_type", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
def test_pool_geometry(op_type, dtype, geometry):
    """Averages divide by the taps inside the image, rounding half away from zero."""
    activation = ACTIVATIONS[GEOMETRIES.index(geometry) % len(ACTIVATIONS)]
    graph = _pool_graph(op_type, dtype, geometry, activation, batch=2)
    assert_matches_tflm(graph, seed=GEOMETRIES.index(geometry), float_exact=True)


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
@pytest.mark.parametrize("op_type", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
def test_pool_activation(op_type, dtype, activation):
    assert_matches_tflm(_pool_graph(op_type, dtype, GEOMETRIES[4], activation), seed=1, float_exact=True)


def test_average_pool_rounds_ties_away_from_zero():
    """Every int8 value, averaged in pairs of windows of 2 taps: each odd sum is a tie of either sign."""
    graph = _pool_graph(
        "AVERAGE_POOL_2D", "int8", (Padding.VALID, (1, 2), (1, 2), (1, 256)), Activation.NONE, channels=1
    )
    assert_matches_tflm(graph, seed=7)
    inputs = [np.random.default_rng(0).permutation(np.arange(-128, 128, dtype=np.int8)).reshape(1, 1, 256, 1)]
    assert_matches_tflm(graph, inputs=inputs)


@pytest.mark.parametrize("op_type", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
def test_float_pool_special_values(op_type):
    """inf clamps to the largest float (TFLite clamps even without an activation); the maximum
    skips NaN (std::max keeps its running value), the average propagates it."""
    graph = _pool_graph(op_type, "float32", (Padding.VALID, (2, 2), (2, 2), (2, 8)), Activation.NONE, channels=1)
    x = np.array([[1, np.inf, -np.inf, -1, np.nan, 2, np.nan, np.nan], [3, 4, -5, -6, 1, 1, np.nan, np.nan]])
    assert_matches_tflm(graph, inputs=[x.astype(np.float32).reshape(1, 2, 8, 1)], float_exact=True)


@pytest.mark.parametrize(
    ("padding", "size", "stride", "activation"),
    [
        (Padding.SAME, 3, 2, Activation.NONE),
        (Padding.VALID, 2, 2, Activation.RELU6),
        (Padding.SAME, 5, 1, Activation.RELU),
    ],
)
def test_l2_pool_2d(padding, size, stride, activation):
    """float32 only, as TFLite Micro."""
    b = GraphBuilder("l2_pool")
    x = b.tensor((2, 7, 9, 3), "float32")
    out_h, out_w = ((s + stride - 1) // stride if padding == Padding.SAME else (s - size) // stride + 1 for s in (7, 9))
    y = b.tensor((2, out_h, out_w, 3), "float32")
    b.op("L2_POOL_2D", [x], [y], Pool2DOptions(padding, stride, stride, size, size, activation))
    assert_matches_tflm(b.build([x], [y]), float_exact=True)
