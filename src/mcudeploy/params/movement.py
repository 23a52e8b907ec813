"""Operators that move values: the indices STRIDED_SLICE visits and those RESIZE_NEAREST_NEIGHBOR
copies, derived once for the engine's slices and the kernel library's strided copy and tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.ir.shapes import slice_axes
from mcudeploy.params.quantization import zero_point
from mcudeploy.params.record import BESIDE_STRUCT
from mcudeploy.params.shapes import dims


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
    shape = graph.tensors[op.inputs[0]].shape
    axes = slice_axes(shape, np.ravel(begins), np.ravel(ends), np.ravel(steps), op.options)  # strides nonzero
    return SliceParams(tuple(a.indices for a in axes), tuple(len(a.indices) for a in axes if not a.shrunk))


@dataclass(frozen=True, eq=False)
class PadParams:
    """md_pad_params of PAD and PADV2."""

    rank: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    before: tuple[int, ...]
    """Padding before each dimension, in elements."""
    element_bytes: int
    value: tuple[int, ...]
    """The pad value's bytes (8)."""
    paddings: np.ndarray = field(default=None, metadata=BESIDE_STRUCT)
    """(rank, 2): before and after each dimension."""
    fill: np.ndarray = field(default=None, metadata=BESIDE_STRUCT)
    """The pad value, of the output's type."""


def prepare_pad(op: Operator, graph: Graph) -> PadParams | None:
    """PADV2's constant input, else what TFLM pads with: the output zero point for int8 and zero
    for every other type (int16 included, whatever its zero point). None when the paddings or
    the value are computed at run time."""
    source, output = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    paddings = graph.tensors[op.inputs[1]].data
    constant = graph.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    if paddings is None or (constant is not None and constant.data is None):
        return None
    rank = len(source.shape)
    paddings = np.asarray(paddings, dtype=np.int64).reshape(-1, 2)  # (rank, 2), giving the output: checked at import
    if constant is not None:
        if output.dtype == DType.INT8 and constant.quantization != output.quantization:
            raise UnsupportedOperatorError(op.label, "the int8 pad value is quantized unlike the output")
        value = np.ravel(constant.data)[0]
    else:
        value = zero_point(output) if output.dtype == DType.INT8 else 0
    fill = np.asarray(value, dtype=output.dtype.numpy)
    return PadParams(
        rank=max(rank, 1),
        input_shape=dims(source.shape or (1,), 1),
        output_shape=dims(output.shape or (1,), 1),
        before=dims(paddings[:, 0]),
        element_bytes=output.dtype.itemsize,
        value=tuple(fill.tobytes().ljust(8, b"\0")),
        paddings=paddings,
        fill=fill,
    )


@dataclass(frozen=True, eq=False)
class ResizeParams:
    """md_resize_params of RESIZE_NEAREST_NEIGHBOR (NHWC), and the tables its kernel reads:
    output (n, y, x, c) = input (n, rows[y], columns[x], c)."""

    batches: int
    input_h: int
    input_w: int
    channels: int
    output_h: int
    output_w: int
    element_bytes: int
    rows: np.ndarray = field(default=None, metadata=BESIDE_STRUCT)
    columns: np.ndarray = field(default=None, metadata=BESIDE_STRUCT)


def prepare_resize(op: Operator, graph: Graph) -> ResizeParams:
    """The tables of the output's size (NHWC in and out, the size input agreeing: checked at import)."""
    source, output = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    options = op.options
    rows, columns = (
        nearest_source_indices(out, size, options.align_corners, options.half_pixel_centers)
        for out, size in zip(output.shape[1:3], source.shape[1:3], strict=True)
    )
    batches, input_h, input_w, channels = source.shape
    _, output_h, output_w, _ = output.shape
    element_bytes = output.dtype.itemsize
    return ResizeParams(batches, input_h, input_w, channels, output_h, output_w, element_bytes, rows, columns)


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
