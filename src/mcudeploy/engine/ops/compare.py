"""MAXIMUM, MINIMUM and the comparisons, with numpy broadcasting, as TFLite Micro computes them.

MAXIMUM and MINIMUM pick one of the raw input values (no requantization, as TFLM:
quantized inputs are compared by their stored values), `a > b ? a : b` and
`a < b ? a : b`, so a float NaN first input yields the second. Comparisons give
bool; int8 compares the inputs rescaled onto a common scale (params/comparison.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcudeploy.engine.fixedpoint import multiply_by_quantized_multiplier_smaller_than_one_exp
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.comparison import (
    EQUALITY_TYPES,
    ORDER_TYPES,
    CompareParams,
    check_input_type,
)
from mcudeploy.params.comparison import prepare as prepare_compare

MIN_MAX_TYPES = (DType.FLOAT32, DType.INT8, DType.INT16, DType.INT32, DType.INT64)
COMPARISONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "EQUAL": np.equal,
    "NOT_EQUAL": np.not_equal,
    "LESS": np.less,
    "LESS_EQUAL": np.less_equal,
    "GREATER": np.greater,
    "GREATER_EQUAL": np.greater_equal,
}


@kernel("MAXIMUM", "MINIMUM", types=MIN_MAX_TYPES)
def maximum_minimum(ctx: OpContext) -> np.ndarray:
    _check_types(ctx, ctx.output_tensor().dtype)
    if ctx.output_tensor().dtype not in MIN_MAX_TYPES:
        raise UnsupportedOperatorError(
            ctx.op.label, f"{ctx.op.op_type} of {ctx.output_tensor().dtype} is not supported by TFLite Micro"
        )
    a, b = ctx.input(0), ctx.input(1)
    picks_first = a > b if ctx.op.op_type == "MAXIMUM" else a < b
    return np.where(picks_first, a, b).astype(ctx.output_tensor().dtype.numpy).reshape(ctx.output_tensor().shape)


@kernel("EQUAL", "NOT_EQUAL", types=EQUALITY_TYPES)
@kernel("LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", types=ORDER_TYPES)
def compare(ctx: OpContext) -> np.ndarray:
    _check_types(ctx, DType.BOOL)
    check_input_type(ctx.op, ctx.input_tensor(0).dtype)
    a, b = ctx.input(0), ctx.input(1)
    if ctx.input_tensor(0).dtype == DType.INT8:
        params = ctx.prepared(_prepare)
        a = _scaled(a, params.input1_offset, params.left_shift, params.input1_multiplier, params.input1_shift)
        b = _scaled(b, params.input2_offset, params.left_shift, params.input2_multiplier, params.input2_shift)
    return COMPARISONS[ctx.op.op_type](a, b).reshape(ctx.output_tensor().shape)


def _prepare(ctx: OpContext) -> CompareParams:
    return prepare_compare(ctx.op, ctx.graph)


def _scaled(values: np.ndarray, offset: int, left_shift: int, multiplier: int, shift: int) -> np.ndarray:
    """TFLM's int8 comparison operand: the centred value shifted left, times the input's scale."""
    return multiply_by_quantized_multiplier_smaller_than_one_exp(
        (values.astype(np.int64) + offset) << left_shift, multiplier, shift
    )


def _check_types(ctx: OpContext, output_type: DType) -> None:
    """Both inputs of one type, the output of `output_type`."""
    first, second, output = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    if first.dtype != second.dtype or output.dtype != output_type:
        raise UnsupportedOperatorError(
            ctx.op.label, f"{ctx.op.op_type} of {first.dtype}, {second.dtype} to {output.dtype}"
        )
