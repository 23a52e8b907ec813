"""ABS, NEG and the float32 math of TFLite Micro's element-wise kernels.

float32: ABS, NEG, SIN, COS, EXP, LOG, SQRT, RSQRT (1 / sqrt), SQUARE, FLOOR, CEIL
and ROUND (half to even), computed in float32 (C's libm may differ by an ulp).
ABS also takes int8 and int16 (quantized: requantized absolute value of the
centred input; int16 without quantization: plain, wrapping at -32768).
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.fixedpoint import multiply_by_quantized_multiplier
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.unary import AbsParams
from mcudeploy.params.unary import prepare as prepare_abs

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
}


@kernel(*FLOAT_FUNCTIONS, types=(DType.FLOAT32,))
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
