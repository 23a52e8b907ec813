"""Operators that rearrange values by index arithmetic alone, derived once for the engine and the
kernel library: SLICE, REVERSE_V2, BROADCAST_TO, SPACE_TO_DEPTH and DEPTH_TO_SPACE as strided
copies (md_strided_copy); MIRROR_PAD and BATCH_TO_SPACE_ND as one table of input offsets per
output axis (md_axis_gather); SPACE_TO_BATCH_ND's padded blocks (md_space_to_batch);
DYNAMIC_UPDATE_SLICE's shapes (md_dynamic_update_slice).

Every index here is in elements; the shapes, parameters and options were checked at import
(ir/shapes.py), so the arithmetic trusts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.ir.options import MirrorPadMode
from mcudeploy.ir.shapes import positive_axis
from mcudeploy.params.quantization import zero_point
from mcudeploy.params.record import BESIDE_STRUCT
from mcudeploy.params.shapes import contiguous_strides, dims


@dataclass(frozen=True)
class StridedView:
    """Output element (i0, ..., ik), row-major over `shape`, is input element start + sum(i_d strides[d])."""

    shape: tuple[int, ...]
    strides: tuple[int, ...]
    start: int = 0

    def source_indices(self) -> np.ndarray:
        """The input element of every output element, in output order (flat)."""
        index = np.asarray(self.start, dtype=np.int64)
        for axis, (size, stride) in enumerate(zip(self.shape, self.strides, strict=True)):
            steps = np.arange(size, dtype=np.int64) * stride
            index = index[..., None] + steps.reshape((1,) * axis + (size,))
        return index.reshape(-1)


def _constant_ints(graph: Graph, op: Operator, position: int) -> list[int]:
    return [int(v) for v in np.ravel(graph.tensors[op.inputs[position]].data)]


def _input_shape(graph: Graph, op: Operator) -> tuple[int, ...]:
    return graph.tensors[op.inputs[0]].shape


def slice_view(op: Operator, graph: Graph) -> StridedView:
    """SLICE: `size` elements from `begin` on each axis, a size of -1 running to the axis's end."""
    shape = _input_shape(graph, op)
    begins, sizes = _constant_ints(graph, op, 1), _constant_ints(graph, op, 2)
    strides = contiguous_strides(shape)
    counts = tuple(dim - begin if size == -1 else size for dim, begin, size in zip(shape, begins, sizes, strict=True))
    return StridedView(counts, tuple(strides), sum(b * s for b, s in zip(begins, strides, strict=True)))


def reverse_view(op: Operator, graph: Graph) -> StridedView:
    """REVERSE_V2: the listed axes walked backwards (adjacent axes only, as TFLite Micro)."""
    shape = _input_shape(graph, op)
    axes = {positive_axis(a, len(shape), op.label) for a in _constant_ints(graph, op, 1)}
    if axes and max(axes) - min(axes) + 1 != len(axes):
        raise UnsupportedOperatorError(op.label, f"axes {sorted(axes)} are not adjacent (TFLite Micro refuses them)")
    strides = contiguous_strides(shape)
    start = sum((shape[a] - 1) * strides[a] for a in axes)
    return StridedView(shape, tuple(-s if a in axes else s for a, s in enumerate(strides)), start)


def broadcast_view(op: Operator, graph: Graph) -> StridedView:
    """BROADCAST_TO: the input aligned to the output's last axes, its axes of size 1 repeated."""
    shape, output = _input_shape(graph, op), graph.tensors[op.outputs[0]].shape
    strides = contiguous_strides(shape)
    lead = len(output) - len(shape)
    aligned = [0] * lead + [0 if size == 1 else stride for size, stride in zip(shape, strides, strict=True)]
    return StridedView(output, tuple(aligned))


def space_to_depth_view(op: Operator, graph: Graph) -> StridedView:
    """SPACE_TO_DEPTH (NHWC): output (n, y, x, (dy b + dx) C + c) = input (n, y b + dy, x b + dx, c)."""
    batches, height, width, channels = _input_shape(graph, op)
    b = op.options.block_size
    row = width * channels
    view = (batches, height // b, width // b, b, b, channels)
    return StridedView(view, (height * row, b * row, b * channels, row, channels, 1))


def depth_to_space_view(op: Operator, graph: Graph) -> StridedView:
    """DEPTH_TO_SPACE (NHWC, TFLite's DCR order): output (n, y b + dy, x b + dx, c) = input (n, y, x,
    (dy b + dx) C + c), C the output's depth."""
    batches, height, width, depth = _input_shape(graph, op)
    b = op.options.block_size
    channels = depth // (b * b)
    view = (batches, height, b, width, b, channels)
    return StridedView(view, (height * width * depth, width * depth, b * channels, depth, channels, 1))


@dataclass(frozen=True, eq=False)
class AxisGatherParams:
    """md_axis_gather_params: output element (i0, ..., ik) is input element tables[0][i0] + ... +
    tables[k][ik] (the tables concatenated, in axis order, beside the struct)."""

    rank: int
    shape: tuple[int, ...]
    element_bytes: int
    tables: tuple[np.ndarray, ...] = field(default=(), metadata=BESIDE_STRUCT)

    def source_indices(self) -> np.ndarray:
        index = np.zeros((), dtype=np.int64)
        for axis, table in enumerate(self.tables):
            index = index[..., None] + table.astype(np.int64).reshape((1,) * axis + (len(table),))
        return index.reshape(-1)


def _axis_gather(op: Operator, graph: Graph, tables: list[np.ndarray]) -> AxisGatherParams:
    shape = [len(t) for t in tables]
    element_bytes = graph.tensors[op.outputs[0]].dtype.itemsize
    return AxisGatherParams(len(shape), dims(shape, 1), element_bytes, tuple(t.astype(np.int32) for t in tables))


def mirrored_index(position: np.ndarray, before: int, size: int, offset: int) -> np.ndarray:
    """The input index TFLite Micro's MIRROR_PAD reads for each padded position on one axis
    (offset 1 reflects without repeating the edge, 0 repeats it); pads beyond the input clamp."""
    inside = position - before
    left_origin = before + offset - 1
    left = left_origin - np.minimum(position, left_origin - offset)
    right_origin = size - 1 - offset
    right = right_origin - np.minimum(inside - size, right_origin)
    return np.where(position < before, left, np.where(inside >= size, right, inside))


def mirror_pad_params(op: Operator, graph: Graph) -> AxisGatherParams:
    shape = _input_shape(graph, op)
    paddings = np.asarray(_constant_ints(graph, op, 1)).reshape(-1, 2)
    offset = 1 if op.options.mode == MirrorPadMode.REFLECT else 0
    strides = contiguous_strides(shape)
    tables = [
        mirrored_index(np.arange(before + size + after), before, size, offset) * stride
        for (before, after), size, stride in zip(paddings.tolist(), shape, strides, strict=True)
    ]
    return _axis_gather(op, graph, tables)


def _spatial_4d(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """An NHC shape as TFLite's block operators extend it: NH1C."""
    return shape if len(shape) == 4 else (shape[0], shape[1], 1, shape[2])


def _blocks_and_edges(op: Operator, graph: Graph) -> tuple[tuple[int, int], tuple[int, int]]:
    """(block height, width), (crop or pad before the rows, before the columns); 1 and 0 for the
    missing width of a rank-3 input."""
    block, edges = _constant_ints(graph, op, 1), _constant_ints(graph, op, 2)
    if len(_input_shape(graph, op)) == 4:
        return (block[0], block[1]), (edges[0], edges[2])
    return (block[0], 1), (edges[0], 0)


def batch_to_space_params(op: Operator, graph: Graph) -> AxisGatherParams:
    """BATCH_TO_SPACE_ND: output (n, y, x, c) = input ((dy w_b + dx) N + n, h, w, c) where
    y + crop_top = h h_b + dy and x + crop_left = w w_b + dx; each term depends on one output axis."""
    _, height, width, depth = _spatial_4d(_input_shape(graph, op))
    batches, out_h, out_w, _ = _spatial_4d(graph.tensors[op.outputs[0]].shape)
    (block_h, block_w), (crop_top, crop_left) = _blocks_and_edges(op, graph)
    image = height * width * depth
    rows = np.arange(out_h) + crop_top
    columns = np.arange(out_w) + crop_left
    tables = [
        np.arange(batches) * image,
        (rows % block_h) * block_w * batches * image + rows // block_h * width * depth,
        (columns % block_w) * batches * image + columns // block_w * depth,
        np.arange(depth),
    ]
    return _axis_gather(op, graph, tables)


@dataclass(frozen=True)
class SpaceToBatchParams:
    """md_space_to_batch_params (NHWC; a rank-3 input as NH1C): output batch (dy w_b + dx) N + n,
    pixel (y, x) is input (n, y h_b + dy - pad_top, x w_b + dx - pad_left); outside the input,
    every byte is `pad_byte`."""

    batches: int
    input_h: int
    input_w: int
    output_batches: int
    output_h: int
    output_w: int
    block_h: int
    block_w: int
    pad_top: int
    pad_left: int
    pixel_bytes: int
    pad_byte: int


def space_to_batch_params(op: Operator, graph: Graph) -> SpaceToBatchParams:
    """Padding of the int8 zero point's byte, zero bytes for float32 (0.0): TFLite's kernel fills
    bytes with its output offset, which TFLite Micro never sets (its padding is whatever that
    memory held), TFLite sets to the zero point."""
    batches, height, width, depth = _spatial_4d(_input_shape(graph, op))
    output = graph.tensors[op.outputs[0]]
    output_batches, out_h, out_w, _ = _spatial_4d(output.shape)
    (block_h, block_w), (pad_top, pad_left) = _blocks_and_edges(op, graph)
    return SpaceToBatchParams(
        batches, height, width, output_batches, out_h, out_w, block_h, block_w, pad_top, pad_left,
        depth * output.dtype.itemsize, zero_point(output) & 0xFF if output.dtype == DType.INT8 else 0,
    )  # fmt: skip


@dataclass(frozen=True)
class UpdateSliceParams:
    """md_update_slice_params of DYNAMIC_UPDATE_SLICE (start indices read at run time)."""

    rank: int
    shape: tuple[int, ...]
    update_shape: tuple[int, ...]
    element_bytes: int
    index_bytes: int


def update_slice_params(op: Operator, graph: Graph) -> UpdateSliceParams:
    operand, update, starts = (graph.tensors[i] for i in op.inputs)
    return UpdateSliceParams(
        len(operand.shape), dims(operand.shape, 1), dims(update.shape, 1), operand.dtype.itemsize, starts.dtype.itemsize
    )
