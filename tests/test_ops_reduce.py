"""MEAN, SUM, REDUCE_MAX, REDUCE_MIN and REDUCE_ALL against TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import ReducerOptions
from single_op import assert_matches_tflm, constant

# input shape, axes: H,W of NHWC in every spelling TFLM distinguishes, others, duplicates, negatives
AXES = [
    ((1, 5, 7, 8), [1, 2]),
    ((2, 5, 7, 8), [2, 1]),
    ((1, 5, 7, 8), [-3, -2]),
    ((2, 4, 3, 5), [3]),
    ((2, 4, 3, 5), [0, 1, 2, 3]),
    ((2, 4, 3, 5), [1, -3]),
    ((3, 6, 4), [1]),
    ((3, 6, 4), [0, -1]),
    ((9, 5), [-1]),
    ((12,), [0]),
]

# dtype, input scale and zero point, output scale and zero point
# long sums, one column and many, where pairwise and sequential float32 sums part ways
LARGE_FLOAT_AXES = [*AXES, ((1, 48, 48, 4), [1, 2]), ((300, 2), [0]), ((3, 300), [1])]

QUANTIZATIONS = [
    ("int8", 0.05, -3, 0.02, 5),  # multiplier above one
    ("int8", 0.02, 10, 0.05, -128),
    ("int16", 0.001, 0, 0.0007, 0),
    ("int16", 0.002, 0, 0.005, 0),
]


def _reduce(op_type, shape, axes, keep_dims, dtype, in_quant=(None, 0), out_quant=(None, 0)):
    resolved = {a % len(shape) for a in axes}
    out_shape = [1 if i in resolved else d for i, d in enumerate(shape) if keep_dims or i not in resolved]
    b = GraphBuilder(op_type.lower())
    x = b.tensor(shape, dtype, scale=in_quant[0], zero_point=in_quant[1])
    y = b.tensor(out_shape, dtype, scale=out_quant[0], zero_point=out_quant[1])
    b.op(op_type, [x, constant(b, axes)], [y], ReducerOptions(keep_dims=keep_dims))
    return b.build([x], [y])


@pytest.mark.parametrize("keep_dims", [True, False])
@pytest.mark.parametrize(("shape", "axes"), AXES, ids=str)
@pytest.mark.parametrize("quantization", QUANTIZATIONS, ids=str)
def test_mean_quantized(shape, axes, keep_dims, quantization):
    dtype, in_scale, in_zero, out_scale, out_zero = quantization
    assert_matches_tflm(_reduce("MEAN", shape, axes, keep_dims, dtype, (in_scale, in_zero), (out_scale, out_zero)))


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_mean_quantized_with_clamped_division_shift(dtype):
    """8192 values with a multiplier near 2^-20: TFLM caps how far it scales the multiplier up."""
    graph = _reduce("MEAN", (1, 64, 128, 2), [1, 2], True, dtype, (1e-6, 0), (1.0, 0))
    assert_matches_tflm(graph)


@pytest.mark.parametrize("keep_dims", [True, False])
@pytest.mark.parametrize(("shape", "axes"), LARGE_FLOAT_AXES, ids=str)
def test_mean_float_bit_exact(shape, axes, keep_dims):
    """TFLM adds float32 values one by one in input order: our sums round identically."""
    assert_matches_tflm(_reduce("MEAN", shape, axes, keep_dims, "float32"), float_exact=True)


@pytest.mark.parametrize("keep_dims", [True, False])
@pytest.mark.parametrize(("shape", "axes"), AXES[::3], ids=str)
@pytest.mark.parametrize("quantization", [*QUANTIZATIONS[::2], ("float32", None, 0, None, 0)], ids=str)
def test_sum(shape, axes, keep_dims, quantization):
    dtype, in_scale, in_zero, out_scale, out_zero = quantization
    graph = _reduce("SUM", shape, axes, keep_dims, dtype, (in_scale, in_zero), (out_scale, out_zero))
    assert_matches_tflm(graph, float_exact=True)


@pytest.mark.parametrize("op_type", ["REDUCE_MAX", "REDUCE_MIN"])
@pytest.mark.parametrize("keep_dims", [True, False])
@pytest.mark.parametrize(("shape", "axes"), AXES[::2], ids=str)
@pytest.mark.parametrize(("dtype", "scale", "zero_point"), [("int8", 0.05, -3), ("float32", None, 0)], ids=str)
def test_reduce_min_max(op_type, shape, axes, keep_dims, dtype, scale, zero_point):
    quant = (scale, zero_point)
    assert_matches_tflm(_reduce(op_type, shape, axes, keep_dims, dtype, quant, quant), float_exact=True)


@pytest.mark.parametrize("keep_dims", [True, False])
@pytest.mark.parametrize(("shape", "axes"), AXES[::2], ids=str)
def test_reduce_all(shape, axes, keep_dims):
    """bool, mostly true so that some outputs stay true."""
    graph = _reduce("REDUCE_ALL", shape, axes, keep_dims, "bool")
    rng = np.random.default_rng(len(shape))
    assert_matches_tflm(graph, inputs=[rng.uniform(size=shape) < 0.97])
