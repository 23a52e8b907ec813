"""ABS, NEG and the float32 math of TFLite Micro's element-wise kernels.

float32: ABS, NEG, SIN, COS, EXP, LOG, SQRT, RSQRT (1 / sqrt), SQUARE, FLOOR, CEIL,
ROUND (half to even) and ELU (expm1 below 0), computed in float32 (C's libm may differ
by an ulp); int8 ELU by TFLM's lookup table.
ABS also takes int8 and int16 (quantized: requantized absolute value of the
centred input; int16 without quantization: plain, wrapping at -32768); RSQRT int8,
through TFLite's fixed-point inverse square root (a table of the 256 inputs).
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.fixedpoint import (
    inv_sqrt_multiplier_exp,
    multiply_by_quantized_multiplier,
)
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import McuDeployError, UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.unary import AbsParams, RsqrtParams, elu_table, prepare_rsqrt
from mcudeploy.params.unary import prepare as prepare_abs

RSQRT_HEADROOM = 20
"""The left shift TFLM's int8 RSQRT gives its inverse square root multiplier, undone at the output."""

FLOAT_FUNCTIONS = {
    "NEG": np.negative,
    "SIN": np.sin,
    "COS": np.cos,
    "EXP": np.exp,
    "LOG": np.log,
    "SQRT": np.sqrt,
    "RSQRT": lambda x: np.float32(1.0) / np.sqrt(x),
    "SQUARE": np.square,
    "FLOOR": np.floor,
    "CEIL": np.ceil,
    "ROUND": np.rint,
    "ELU": lambda x: np.where(x < 0, np.expm1(x), x),
}


@kernel(*(op for op in FLOAT_FUNCTIONS if op not in ("RSQRT", "ELU")), types=(DType.FLOAT32,))
def float_math(ctx: OpContext) -> np.ndarray:
    _check(ctx, (DType.FLOAT32,))
    with np.errstate(all="ignore"):  # NaN and infinities as C's libm gives them
        return FLOAT_FUNCTIONS[ctx.op.op_type](ctx.input(0)).astype(np.float32)


@kernel("ABS", types=(DType.FLOAT32, DType.INT8, DType.INT16))
def absolute(ctx: OpContext) -> np.ndarray:
    dtype = _check(ctx, (DType.FLOAT32, DType.INT8, DType.INT16))
    if dtype == DType.FLOAT32:
        return np.abs(ctx.input(0))
    return _abs_quantized(ctx.prepared(_prepare), ctx.input(0))


@kernel("RSQRT", types=(DType.FLOAT32, DType.INT8))
def rsqrt(ctx: OpContext) -> np.ndarray:
    if _check(ctx, (DType.FLOAT32, DType.INT8)) == DType.FLOAT32:
        return float_math(ctx)
    params = ctx.prepared(_prepare_rsqrt)
    if np.any(ctx.input(0).astype(np.int32) < params.input_offset):
        raise McuDeployError(ctx.op.label, "RSQRT of a negative value (TFLite Micro fails the inference)")
    return ctx.prepared(_rsqrt_table)[ctx.input(0).view(np.uint8)]


@kernel("ELU", types=(DType.FLOAT32, DType.INT8))
def elu(ctx: OpContext) -> np.ndarray:
    """float32: expm1 below 0; int8: TFLM's lookup table."""
    if _check(ctx, (DType.FLOAT32, DType.INT8)) == DType.FLOAT32:
        return float_math(ctx)
    return ctx.prepared(_elu_table)[ctx.input(0).view(np.uint8)]


def _elu_table(ctx: OpContext) -> np.ndarray:
    return elu_table(ctx.op, ctx.graph)


def _prepare_rsqrt(ctx: OpContext) -> RsqrtParams:
    return prepare_rsqrt(ctx.op, ctx.graph)


def _rsqrt_table(ctx: OpContext) -> np.ndarray:
    """The output of every int8 input, at index (input's bits as uint8)."""
    params = _prepare_rsqrt(ctx)
    every_value = np.arange(256, dtype=np.uint8).view(np.int8)
    return np.array([_rsqrt_int8(int(v), params) for v in every_value], dtype=np.int8)


def _rsqrt_int8(value: int, params: RsqrtParams) -> int:
    """TFLM's RsqrtEvalQuantized: the inverse square root of the centred value as a multiplier and
    shift (GetInvSqrtQuantizedMultiplierExp), applied to 1 with 20 bits of headroom, then scaled."""
    centred = value - params.input_offset
    if centred <= 0:  # 0 gives the type's maximum; below, no value (refused at run time)
        return 127
    inv_sqrt, inv_shift = inv_sqrt_multiplier_exp(centred)
    data = int(multiply_by_quantized_multiplier(1, inv_sqrt, inv_shift + RSQRT_HEADROOM))
    output = int(multiply_by_quantized_multiplier(data, params.multiplier, params.shift - RSQRT_HEADROOM))
    return min(max(output + params.output_offset, -128), 127)


def _prepare(ctx: OpContext) -> AbsParams:
    return prepare_abs(ctx.op, ctx.graph)


def _abs_quantized(params: AbsParams, values: np.ndarray) -> np.ndarray:
    info = np.iinfo(params.dtype.numpy)
    magnitude = np.abs(values.astype(np.int64) - params.input_offset)
    if params.rescale:
        magnitude = multiply_by_quantized_multiplier(magnitude, params.multiplier, params.shift)
    result = magnitude + params.output_offset
    if not params.saturate:
        return result.astype(params.dtype.numpy)  # plain std::abs: -32768 wraps to itself
    return np.clip(result, info.min, info.max).astype(params.dtype.numpy)


def _check(ctx: OpContext, types: tuple[DType, ...]) -> DType:
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    if input_t.dtype != output_t.dtype or input_t.dtype not in types:
        raise UnsupportedOperatorError(
            ctx.op.label, f"{ctx.op.op_type} of {input_t.dtype} to {output_t.dtype} is not supported by TFLite Micro"
        )
    return input_t.dtype
