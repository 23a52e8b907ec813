"""RESIZE_BILINEAR: md_resize_params and, per axis, TFLite Micro's interpolation tables.

Each output row (and column) reads two input rows, `lower` and `upper`, at the source `position`
between them; the tables hold what TFLM's ComputeInterpolationValues computes per output index:
in float32 for float kernels, in 10 fractional bits (ComputeInterpolationValuesInteger) for int8.
TFLM's kernel takes float32 and int8 only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.params.record import BESIDE_STRUCT

TYPES = (DType.FLOAT32, DType.INT8)
FRACTION_BITS = 10


@dataclass(frozen=True, eq=False)
class InterpolationAxis:
    lower: np.ndarray
    """int32: the first input index read, per output index."""
    upper: np.ndarray
    """int32: the second."""
    position: np.ndarray
    """The source position: float32, or int32 in units of 2^-10."""


@dataclass(frozen=True, eq=False)
class ResizeBilinearParams:
    """md_resize_params (NHWC) and the two axes' tables."""

    batches: int
    input_h: int
    input_w: int
    channels: int
    output_h: int
    output_w: int
    element_bytes: int
    rows: InterpolationAxis = field(default=None, metadata=BESIDE_STRUCT)
    columns: InterpolationAxis = field(default=None, metadata=BESIDE_STRUCT)


def prepare(op: Operator, graph: Graph) -> ResizeBilinearParams:
    source, output = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    options = op.options
    if options.align_corners and options.half_pixel_centers:
        raise UnsupportedOperatorError(op.label, "half_pixel_centers needs align_corners off (TFLite Micro)")
    if source.dtype not in TYPES or output.dtype != source.dtype:
        raise UnsupportedOperatorError(op.label, f"{source.dtype} is not supported (TFLite Micro: float32, int8)")
    axis = _float_axis if source.dtype == DType.FLOAT32 else _fixed_axis
    rows, columns = (
        axis(out, size, options.align_corners, options.half_pixel_centers)
        for out, size in zip(output.shape[1:3], source.shape[1:3], strict=True)
    )
    batches, input_h, input_w, channels = source.shape
    _, output_h, output_w, _ = output.shape
    return ResizeBilinearParams(
        batches, input_h, input_w, channels, output_h, output_w, output.dtype.itemsize, rows, columns
    )


def _float_axis(output_size: int, input_size: int, align_corners: bool, half_pixel_centers: bool) -> InterpolationAxis:
    """ComputeInterpolationValues: float32 scale and position, floor and ceil clamped to the input."""
    if align_corners and output_size > 1:
        scale = np.float32(input_size - 1) / np.float32(output_size - 1)
    else:
        scale = np.float32(input_size) / np.float32(output_size)
    index = np.arange(output_size, dtype=np.float32)
    half = np.float32(0.5)
    position = (index + half) * scale - half if half_pixel_centers else index * scale
    lower = np.maximum(np.floor(position), 0).astype(np.int32)
    upper = np.minimum(np.ceil(position), input_size - 1).astype(np.int32)
    return InterpolationAxis(lower, upper, position.astype(np.float32))


def _fixed_axis(output_size: int, input_size: int, align_corners: bool, half_pixel_centers: bool) -> InterpolationAxis:
    """ComputeInterpolationValuesInteger: the scale in 10 fractional bits, rounded to nearest; a
    negative position (half-pixel centres) reads index 0 twice."""
    one = 1 << FRACTION_BITS
    if align_corners and output_size > 1:
        scale = (one * (input_size - 1) + (output_size - 1) // 2) // (output_size - 1)
    else:
        scale = (one * input_size + output_size // 2) // output_size
    position = np.arange(output_size, dtype=np.int64) * scale
    if half_pixel_centers:
        position += scale // 2 - one // 2
    lower = np.maximum(position, 0) // one  # C's division truncates, and the bound is 0 anyway
    upper = np.minimum((position + one - 1) // one, input_size - 1)
    return InterpolationAxis(lower.astype(np.int32), upper.astype(np.int32), position.astype(np.int32))
