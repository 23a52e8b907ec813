"""Operators that cut tensors apart or glue them together: STRIDED_SLICE, SLICE,
DYNAMIC_UPDATE_SLICE, SPLIT, SPLIT_V, UNPACK, PACK and CONCATENATION. All copy values without
arithmetic.
"""

from __future__ import annotations

import math

import numpy as np

from mcudeploy.engine.registry import ANY_TYPE, OpContext, checked_type, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import Activation, DType, Tensor
from mcudeploy.ir.shapes import positive_axis
from mcudeploy.params.movement import prepare_slice
from mcudeploy.params.rearrange import slice_view

# --- STRIDED_SLICE ---------------------------------------------------------------------------


def _as_slice(indices: range) -> slice:
    """A basic slice selecting exactly `indices` (a range that may run backwards past 0)."""
    if not indices:
        return slice(0, 0)
    after_last = indices[-1] + indices.step
    return slice(indices[0], after_last if after_last >= 0 else None, indices.step)


@kernel("STRIDED_SLICE", types=ANY_TYPE)
def strided_slice(ctx: OpContext) -> np.ndarray:
    """TFLite Micro's strided slice: begin, end and shrink masks.

    TFLM ignores ellipsis_mask, new_axis_mask and offset (it never reads them), so
    a model relying on them is refused here exactly when TFLM refuses it: when
    the output shape they imply differs from the one computed without them. A
    shrunk axis that TFLM's loop never visits (begin past the end, or a negative
    stride) leaves its output unwritten; that is refused too.
    """
    return ctx.input(0)[ctx.prepared(_selection)].reshape(ctx.output_tensor().shape)


def _selection(ctx: OpContext) -> tuple[slice, ...] | None:
    """The basic slices selecting the output, checked against its shape."""
    params = prepare_slice(ctx.op, ctx.graph)
    if params is None:
        return None  # computed at run time: worked out on every call
    selection = tuple(_as_slice(indices) for indices in params.ranges)
    output = ctx.output_tensor()
    selected = [len(indices) for indices in params.ranges]
    if params.kept_shape != output.shape or math.prod(selected) != output.size:
        raise UnsupportedOperatorError(
            ctx.op.label,
            f"slice selects {selected} values, '{output.name}' is {list(output.shape)} "
            "(TFLite Micro ignores ellipsis_mask, new_axis_mask and offset, and shrinks no axis walked backwards)",
        )
    return selection


# --- SLICE ------------------------------------------------------------------------------------

SLICE_TYPES = (DType.FLOAT32, DType.INT32, DType.INT8, DType.INT16, DType.BOOL)


@kernel("SLICE", types=SLICE_TYPES)
def slice_(ctx: OpContext) -> np.ndarray:
    """`size` values from `begin` on each axis (constants: checked at import), -1 to the axis's end."""
    checked_type(ctx, SLICE_TYPES)
    return gathered(ctx, ctx.prepared(_slice_indices))


def _slice_indices(ctx: OpContext) -> np.ndarray:
    return slice_view(ctx.op, ctx.graph).source_indices()


def gathered(ctx: OpContext, indices: np.ndarray, position: int = 0) -> np.ndarray:
    """The output made of input `position`'s values at these flat indices, in output order."""
    return ctx.input(position).reshape(-1)[indices].reshape(ctx.output_tensor().shape)


UPDATE_TYPES = (DType.FLOAT32, DType.INT8, DType.INT16, DType.INT32)


@kernel("DYNAMIC_UPDATE_SLICE", types=UPDATE_TYPES)
def dynamic_update_slice(ctx: OpContext) -> np.ndarray:
    """The operand with the update written over it from the run-time start indices (int32 or
    int64), each clamped so that the update fits, as TFLite Micro clamps them."""
    checked_type(ctx, UPDATE_TYPES)
    checked_type(ctx, (DType.INT32, DType.INT64), ctx.input_tensor(2))
    operand, update = ctx.input(0), ctx.input(1)
    starts = np.clip(np.ravel(ctx.input(2)).astype(np.int64), 0, np.subtract(operand.shape, update.shape))
    output = operand.copy()
    output[tuple(slice(start, start + size) for start, size in zip(starts, update.shape, strict=True))] = update
    return output


# --- SPLIT, SPLIT_V, UNPACK --------------------------------------------------------------------


def _split_points(ctx: OpContext, source: int, axis_input: int) -> tuple[list[int], int]:
    """Where to split input `source` and along which axis (a constant input): each piece as wide
    as its output tensor (the widths tile the axis: checked at import)."""
    shape = ctx.input_tensor(source).shape
    axis = positive_axis(int(np.ravel(ctx.input(axis_input))[0]), len(shape), ctx.op.label)
    widths = [ctx.output_tensor(i).shape[axis] for i in range(len(ctx.op.outputs))]
    return np.cumsum(widths)[:-1].tolist(), axis


@kernel("SPLIT", types=ANY_TYPE)
def split(ctx: OpContext) -> list[np.ndarray]:
    points, axis = ctx.prepared(_split_points_of_split)
    return np.split(ctx.input(1), points, axis=axis)


def _split_points_of_split(ctx: OpContext) -> tuple[list[int], int]:
    return _split_points(ctx, source=1, axis_input=0)


@kernel("SPLIT_V", types=ANY_TYPE)
def split_v(ctx: OpContext) -> list[np.ndarray]:
    """The size_splits input is not read: like TFLM, widths come from the output tensors."""
    points, axis = ctx.prepared(_split_points_of_split_v)
    return np.split(ctx.input(0), points, axis=axis)


def _split_points_of_split_v(ctx: OpContext) -> tuple[list[int], int]:
    return _split_points(ctx, source=0, axis_input=2)


@kernel("UNPACK", types=ANY_TYPE)
def unpack(ctx: OpContext) -> list[np.ndarray]:
    data = ctx.input(0)
    axis = positive_axis(ctx.options.axis, data.ndim, ctx.op.label)
    return list(np.moveaxis(data, axis, 0))


# --- PACK, CONCATENATION -----------------------------------------------------------------------


@kernel("PACK", types=ANY_TYPE)
def pack(ctx: OpContext) -> np.ndarray:
    output = ctx.output_tensor()
    axis = positive_axis(ctx.options.axis, len(output.shape), ctx.op.label)
    return np.stack(ctx.inputs, axis=axis)


MAX_CONCATENATION_INPUTS = 10


def _check_concatenation_quantization(ctx: OpContext, inputs: list[Tensor], output: Tensor) -> None:
    """TFLM copies bytes without rescaling: int8 inputs must share the output's quantization,
    int16 ones only need zero points of 0 (differing int16 scales are copied unscaled)."""
    if output.dtype == DType.INT8 and any(t.quantization != output.quantization for t in inputs):
        raise UnsupportedOperatorError(
            ctx.op.label, "int8 concatenation of inputs quantized unlike the output (TFLite Micro does not rescale)"
        )
    if output.dtype == DType.INT16:
        for tensor in [*inputs, output]:
            if tensor.quantization is not None and np.any(tensor.quantization.zero_point != 0):
                raise UnsupportedOperatorError(ctx.op.label, f"int16 tensor '{tensor.name}' has a nonzero zero point")


@kernel("CONCATENATION", types=ANY_TYPE)
def concatenation(ctx: OpContext) -> np.ndarray:
    return np.concatenate(ctx.inputs, axis=ctx.prepared(_concatenation_axis))


def _concatenation_axis(ctx: OpContext) -> int:
    """The axis, once the operator is checked against what TFLite Micro accepts."""
    output = ctx.output_tensor()
    inputs = [ctx.input_tensor(i) for i in range(len(ctx.op.inputs))]
    if len(inputs) > MAX_CONCATENATION_INPUTS:
        raise UnsupportedOperatorError(
            ctx.op.label, f"{len(inputs)} inputs: TFLite Micro concatenates at most {MAX_CONCATENATION_INPUTS}"
        )
    if ctx.options.activation != Activation.NONE:
        raise UnsupportedOperatorError(ctx.op.label, "TFLite Micro refuses a fused activation on CONCATENATION")
    _check_concatenation_quantization(ctx, inputs, output)
    return positive_axis(ctx.options.axis, len(output.shape), ctx.op.label)
