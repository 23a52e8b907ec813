"""Operators that move values: the indices STRIDED_SLICE visits and those RESIZE_NEAREST_NEIGHBOR
copies, derived once for the engine's slices and the kernel library's strided copy and tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.errors import ModelError
from mcudeploy.ir import Graph, Operator


@dataclass(frozen=True)
class SliceParams:
    """The indices a STRIDED_SLICE visits on each input axis (a shrunk axis visits at most one),
    and the output shape they make (the shrunk axes dropped)."""

    ranges: tuple[range, ...]
    kept_shape: tuple[int, ...]


def prepare_slice(op: Operator, graph: Graph) -> SliceParams | None:
    """TFLite Micro's begin, end and shrink masks (it ignores ellipsis_mask, new_axis_mask and
    offset); None when begin, end or strides are computed at run time."""
    begins, ends, steps = (graph.tensors[i].data for i in op.inputs[1:4])
    if begins is None or ends is None or steps is None:
        return None
    options = op.options
    begins, ends, steps = (np.ravel(values).astype(np.int64) for values in (begins, ends, steps))
    ranges, kept_shape = [], []
    for axis, size in enumerate(graph.tensors[op.inputs[0]].shape):
        step = int(steps[axis])
        if step == 0:
            raise ModelError(op.label, f"stride of axis {axis} is zero")
        start = slice_start(int(begins[axis]), step, size, mask_bit(options.begin_mask, axis))
        if mask_bit(options.shrink_axis_mask, axis):
            indices = range(start, start if start >= size else start + 1, step)
        else:
            indices = range(start, slice_stop(int(ends[axis]), step, size, mask_bit(options.end_mask, axis)), step)
            kept_shape.append(len(indices))
        ranges.append(indices)
    return SliceParams(tuple(ranges), tuple(kept_shape))


def mask_bit(mask: int, axis: int) -> bool:
    return bool(mask >> axis & 1)


def slice_start(begin: int, stride: int, size: int, begin_masked: bool) -> int:
    """First index visited on one axis (StridedSliceStartForAxis)."""
    if begin_masked:
        return 0 if stride > 0 else size - 1
    start = begin + size if begin < 0 else begin
    return min(max(start, 0), size) if stride > 0 else min(max(start, -1), size - 1)


def slice_stop(end: int, stride: int, size: int, end_masked: bool) -> int:
    """Exclusive bound of the indices visited on one axis (StridedSliceEndForAxis)."""
    if end_masked:
        return size if stride > 0 else -1
    stop = end + size if end < 0 else end
    return min(max(stop, 0), size) if stride > 0 else min(max(stop, -1), size - 1)


def nearest_source_indices(
    output_size: int, input_size: int, align_corners: bool, half_pixel_centers: bool
) -> np.ndarray:
    """Input index each output index copies, in float32 arithmetic as TFLM computes it."""
    if align_corners and output_size > 1:
        scale = np.float32(input_size - 1) / np.float32(output_size - 1)
    else:
        scale = np.float32(input_size) / np.float32(output_size)
    offset = np.float32(0.5 if half_pixel_centers else 0.0)
    position = (np.arange(output_size, dtype=np.float32) + offset) * scale  # never negative
    whole = np.floor(position)
    if align_corners:  # round half away from zero; position - whole is exact in float32
        whole = np.where(position - whole >= np.float32(0.5), whole + 1, whole)
    indices = np.minimum(whole.astype(np.int64), input_size - 1)
    return np.maximum(indices, 0) if half_pixel_centers else indices
