"""QUANTIZE (float to integer, and requantization between integer types) and DEQUANTIZE."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from mcudeploy.engine.fixedpoint import multiply_by_quantized_multiplier, saturate, tabulated, wrap_int32
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.quantization import round_half_away_f32
from mcudeploy.params.quantize import FLOAT_QUANTIZE_TARGETS, SUPPORTED_REQUANTIZATIONS
from mcudeploy.params.quantize import prepare as prepare_params


@kernel("QUANTIZE", types=(DType.FLOAT32, DType.INT8, DType.UINT8, DType.INT16, DType.INT32))
def quantize(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_quantize)(ctx.input(0))


def _prepare_quantize(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    quant = output.quantization
    if quant is None or quant.per_channel:
        raise UnsupportedOperatorError(ctx.op.label, "QUANTIZE needs a per-tensor quantized output")
    if source.dtype == DType.FLOAT32 and output.dtype in FLOAT_QUANTIZE_TARGETS:
        params = prepare_params(ctx.op, ctx.graph)
        return partial(_affine_quantize, params.scale, params.output_zero_point, output.dtype.numpy)
    if (source.dtype, output.dtype) in SUPPORTED_REQUANTIZATIONS:
        params = prepare_params(ctx.op, ctx.graph)
        scaling = (params.multiplier, params.shift)
        requantize = partial(
            _requantize, params.input_zero_point, scaling, params.output_zero_point, output.dtype.numpy
        )
        return tabulated(requantize, source.dtype.numpy, source.size)
    raise UnsupportedOperatorError(
        ctx.op.label, f"QUANTIZE from {source.dtype} to {output.dtype} is not supported by TFLite Micro"
    )


def _requantize(
    input_zero_point: int, scaling: tuple[int, int], output_zero_point: int, dtype: np.dtype, values: np.ndarray
) -> np.ndarray:
    centered = wrap_int32(values.astype(np.int64) - input_zero_point)
    result = multiply_by_quantized_multiplier(centered, *scaling) + output_zero_point
    return saturate(wrap_int32(result), dtype)


def _affine_quantize(scale: float, zero_point: int, dtype: np.dtype, data: np.ndarray) -> np.ndarray:
    """round(x / scale) + zero_point with float32 division and C's roundf, saturated.

    Values beyond the int32 range saturate (as Arm's conversion does; x86's gives INT32_MIN).
    """
    rounded = round_half_away_f32(data.astype(np.float32) / np.float32(scale)).astype(np.float64)
    with np.errstate(invalid="ignore"):  # NaN casts to the lowest integer, as on x86
        as_int32 = np.clip(rounded, -(2**31), 2**31 - 1).astype(np.int64)
    return saturate(as_int32 + zero_point, dtype)


@kernel("DEQUANTIZE", types=(DType.INT8, DType.UINT8, DType.INT16, DType.FLOAT16))
def dequantize(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_dequantize)(ctx.input(0))


def _prepare_dequantize(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    if output.dtype != DType.FLOAT32:
        raise UnsupportedOperatorError(ctx.op.label, f"DEQUANTIZE to {output.dtype} is not supported")
    if source.dtype == DType.FLOAT16:
        return _float16_to_float32
    if source.dtype not in (DType.INT8, DType.UINT8, DType.INT16) or source.quantization is None:
        raise UnsupportedOperatorError(ctx.op.label, f"DEQUANTIZE of {source.dtype} is not supported by TFLite Micro")
    params = prepare_params(ctx.op, ctx.graph)
    return partial(_dequantize, params.scale, params.input_zero_point)


def _float16_to_float32(data: np.ndarray) -> np.ndarray:
    return data.astype(np.float32)


def _dequantize(scale: float, zero_point: int, data: np.ndarray) -> np.ndarray:
    # scale (the float32 value, in double) times the centered integer, rounded once to float32
    return (scale * (data.astype(np.float64) - zero_point)).astype(np.float32)
