"""FULLY_CONNECTED as TFLite Micro's reference kernels compute it.

The input is read as [batches, depth] whatever its rank (depth = the filter's
columns, batches = output size / output depth); keep_num_dims only shapes the
output tensor, which the kernel fills in the declared shape.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.ops.conv import (
    add_bias,
    check_integer_types,
    clamp_float,
    conv_real_multipliers,
    exact_dot,
    float_bias_add,
    make_requantization,
    ordered_float32_dot,
    requantize,
    wide_accumulator,
)
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Tensor


@kernel("FULLY_CONNECTED")
def fully_connected(ctx: OpContext) -> np.ndarray:
    input_t, filter_t, output_t = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    x, weights, bias = ctx.input(0), ctx.input(1), ctx.input(2)
    output_depth = output_t.shape[-1]
    accum_depth = weights.shape[-1]
    batches = output_t.size // output_depth
    rows = x.reshape(-1)[: batches * accum_depth].reshape(batches, accum_depth)
    weights = weights.reshape(-1, accum_depth)[:output_depth]
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.FLOAT32:
        acc = ordered_float32_dot(rows, weights.T)
        return clamp_float(float_bias_add(acc, bias), ctx.options.activation).reshape(output_t.shape)
    if input_t.dtype == DType.FLOAT32:
        raise UnsupportedOperatorError("FULLY_CONNECTED", f"hybrid float input with {filter_t.dtype} weights")
    check_integer_types(ctx, "FULLY_CONNECTED")
    wide = wide_accumulator(input_t, ctx.input_tensor(2))
    per_channel = filter_t.quantization.scale.size > 1
    # The per-channel kernel ignores the filter zero point; the per-tensor one subtracts it.
    filter_offset = 0 if per_channel else -filter_t.quantization.single_zero_point
    acc = exact_dot(
        rows.astype(np.float64) - input_t.quantization.single_zero_point,
        (weights.astype(np.float64) + filter_offset).T,
    )
    real_multipliers = (
        conv_real_multipliers(input_t, filter_t, output_t, output_depth)
        if per_channel
        else _per_tensor_real_multiplier(input_t, filter_t, output_t)
    )
    params = make_requantization(
        real_multipliers, ctx.options.activation, output_t, output_t.quantization.single_zero_point
    )
    return requantize(add_bias(acc, bias, wide), params, output_t.dtype.numpy, wide).reshape(output_t.shape)


def _per_tensor_real_multiplier(input_t: Tensor, filter_t: Tensor, output_t: Tensor) -> np.ndarray:
    """GetQuantizedConvolutionMultipler: the scale product is taken in float32, then divided in double."""
    product = np.float32(input_t.quantization.single_scale) * np.float32(filter_t.quantization.single_scale)
    return np.array([float(product) / output_t.quantization.single_scale])
