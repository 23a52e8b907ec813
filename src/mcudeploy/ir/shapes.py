"""What each operator computes from its input shapes, options and parameter constants.

The one source of shape rules: the validator checks every operator's declared
output shapes with them at import, and the engine and code generator share the
window and slice arithmetic below, so that no stage can disagree on a shape.
A rule raises `ShapeError` naming the offending tensor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mcudeploy.errors import ModelError
from mcudeploy.ir import options as o
from mcudeploy.ir.graph import NO_TENSOR, Graph, Operator
from mcudeploy.ir.options import Padding
from mcudeploy.ir.tensor import DType, Tensor

Shape = tuple[int, ...]

MAX_TENSOR_BYTES = 1 << 28
"""256 MiB: far above any microcontroller's memory; a larger tensor (or padded window input)
marks a corrupt file."""


class ShapeError(ModelError):
    """An operator's shapes, options or parameters disagree. `tensor` is the index of the tensor at fault."""

    def __init__(self, subject: str, reason: str, tensor: int | None = None) -> None:
        super().__init__(subject, reason)
        self.tensor = tensor


# ------------------------------------------------------------------ shared arithmetic


def window_output_size(padding: Padding, in_size: int, filter_size: int, stride: int, dilation: int) -> int:
    """Output length of a sliding window along one axis (TFLite's ComputeOutSize)."""
    effective_filter = (filter_size - 1) * dilation + 1
    if padding == Padding.SAME:
        return (in_size + stride - 1) // stride
    return (in_size + stride - effective_filter) // stride


def positive_axis(axis: int, rank: int, op_label: str) -> int:
    """An axis counted from the end (negative) turned into one counted from the start."""
    resolved = axis + rank if axis < 0 else axis
    if not 0 <= resolved < rank:
        raise ShapeError(op_label, f"axis {axis} is out of range for a tensor of rank {rank}")
    return resolved


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


@dataclass(frozen=True)
class SliceAxis:
    """The indices STRIDED_SLICE visits on one axis, and whether the axis is dropped (shrunk)."""

    indices: range
    shrunk: bool


def slice_axes(shape: Sequence[int], begins, ends, strides, options: o.StridedSliceOptions) -> list[SliceAxis]:
    """Each axis of a strided slice as TFLite Micro reads begin, end and shrink masks (it never
    reads offset, ellipsis_mask or new_axis_mask). A shrunk axis visits its start once, or
    nothing when the start lies past the end or the stride is negative (TFLM's loop then never
    runs). Strides are nonzero (checked at import)."""
    axes = []
    for axis, size in enumerate(shape):
        stride = int(strides[axis])
        start = slice_start(int(begins[axis]), stride, size, mask_bit(options.begin_mask, axis))
        if mask_bit(options.shrink_axis_mask, axis):
            axes.append(SliceAxis(range(start, start if start >= size else start + 1, stride), True))
        else:
            stop = slice_stop(int(ends[axis]), stride, size, mask_bit(options.end_mask, axis))
            axes.append(SliceAxis(range(start, stop, stride), False))
    return axes


# ------------------------------------------------------------------ operator rules


@dataclass(frozen=True)
class Arity:
    """How many inputs an operator takes; `optional` positions may be absent (-1)."""

    required: int
    most: int | None = None
    """None: any number from `required` up (CONCATENATION, PACK)."""
    optional: tuple[int, ...] = ()
    outputs: int | None = 1
    """None: one or more (SPLIT, UNPACK)."""
    parameters: tuple[int, ...] = ()
    """Inputs that decide the output shape: they must be constants."""
    options: type | None = None
    """The options class the operator must carry (None: options are optional)."""
    needs_scales: bool = True
    """Whether its int8 and int16 tensors need quantization (False: it only moves values)."""
    symmetric_int16: bool = False
    """Whether int16 input and output need a zero point of 0 (TFLite's 16x8 kernels refuse others)."""
    typed_inputs: tuple[int, ...] | None = (0,)
    """Inputs whose element type every output shares (all inputs when the count is open; None: the
    operator converts types)."""


@dataclass(frozen=True)
class OpShapes:
    """One operator as a shape rule sees it."""

    graph: Graph
    op: Operator
    subgraphs: tuple[Graph, ...] = ()
    """The model's subgraphs, indexed as in the file (those control-flow operators call)."""

    @property
    def label(self) -> str:
        return self.op.label

    def input(self, position: int) -> Tensor | None:
        if position >= len(self.op.inputs) or self.op.inputs[position] == NO_TENSOR:
            return None
        return self.graph.tensors[self.op.inputs[position]]

    def output(self, position: int = 0) -> Tensor:
        return self.graph.tensors[self.op.outputs[position]]

    @property
    def outputs(self) -> list[Tensor]:
        return [self.graph.tensors[i] for i in self.op.outputs]

    def fail(self, tensor: Tensor | None, reason: str) -> ShapeError:
        return ShapeError(self.label, reason, None if tensor is None else tensor.index)

    def rank(self, position: int, rank: int) -> Shape:
        tensor = self.input(position)
        if len(tensor.shape) != rank:
            raise self.fail(tensor, f"needs rank {rank}, has shape {list(tensor.shape)}")
        return tensor.shape

    def values(self, position: int) -> list[int]:
        """A parameter input's integer values (a constant: `Arity.parameters` makes sure)."""
        tensor = self.input(position)
        if tensor.dtype.is_float:
            raise self.fail(tensor, f"parameter must be integers, is {tensor.dtype}")
        return [int(v) for v in np.ravel(tensor.data)]

    def axis(self, axis: int, rank: int, tensor: Tensor) -> int:
        """`positive_axis`, its error naming `tensor`."""
        try:
            return positive_axis(axis, rank, self.label)
        except ShapeError as error:
            raise self.fail(tensor, error.reason) from None

    def expect(self, shape: Sequence[int], position: int = 0) -> None:
        output = self.output(position)
        if tuple(shape) != output.shape:
            raise self.fail(output, f"shape {list(output.shape)}, but the operator computes {list(shape)}")

    def expect_size(self, size: int, position: int = 0) -> None:
        output = self.output(position)
        if output.size != size:
            raise self.fail(output, f"holds {output.size} values (shape {list(output.shape)}), the input {size}")


Rule = Callable[[OpShapes], None]


def _window(q: OpShapes, filter_hw: tuple[int, int], channels: int, filter_t: Tensor | None) -> None:
    """Conv and pool: NHWC in, (N, out_h, out_w, channels) out, each window size at least 1, and
    the padded input the windows span (what a kernel that pads reads) within the tensor bound."""
    x = q.rank(0, 4)
    options = q.op.options
    strides = (options.stride_h, options.stride_w)
    dilations = (getattr(options, "dilation_h", 1), getattr(options, "dilation_w", 1))
    sizes = [
        window_output_size(options.padding, x[1 + axis], filter_hw[axis], strides[axis], dilations[axis])
        for axis in (0, 1)
    ]
    if min(sizes) < 1:
        raise q.fail(
            filter_t or q.input(0),
            f"a {filter_hw[0]}x{filter_hw[1]} window (dilation {list(dilations)}) "
            f"does not fit the {x[1]}x{x[2]} input without padding",
        )
    spans = [
        max(x[1 + axis], (sizes[axis] - 1) * strides[axis] + (filter_hw[axis] - 1) * dilations[axis] + 1)
        for axis in (0, 1)
    ]
    if x[0] * spans[0] * spans[1] * x[3] * q.input(0).dtype.itemsize > MAX_TENSOR_BYTES:
        raise q.fail(
            filter_t or q.input(0),
            f"windows of {filter_hw[0]}x{filter_hw[1]} (dilation {list(dilations)}, strides {list(strides)}) "
            f"span {spans[0]}x{spans[1]} pixels of padded input: not plausible",
        )
    q.expect((x[0], sizes[0], sizes[1], channels))


_BIAS_TYPES = {
    DType.FLOAT32: (DType.FLOAT32,),
    DType.INT8: (DType.INT32,),
    DType.INT16: (DType.INT32, DType.INT64),
}
"""The bias types TFLite's kernels accumulate in, by input type."""


_TRANSPOSE_CONV_BIAS_TYPES = {**_BIAS_TYPES, DType.INT16: (DType.INT16, DType.INT64)}
"""TFLM's 16x8 TRANSPOSE_CONV reads its bias as int64 (an int16 one widened first), never as int32."""


def _bias(q: OpShapes, channels: int, position: int = 2, data: int = 0, types=_BIAS_TYPES) -> None:
    """One bias value per output channel, in the input type's accumulator type."""
    bias = q.input(position)
    if bias is None:
        return
    if bias.shape != (channels,):
        raise q.fail(bias, f"bias of shape {list(bias.shape)} for {channels} output channels")
    allowed = types.get(q.input(data).dtype, ())
    if bias.dtype not in allowed:
        raise q.fail(bias, f"{bias.dtype} bias for {q.input(data).dtype} input")


def _weight_scales(q: OpShapes, axis: int, channels: int) -> None:
    """Per-channel weight scales run along the output channels, one each."""
    weights = q.input(1)
    quantization = weights.quantization
    if (
        quantization is not None
        and quantization.scale.size > 1
        and (quantization.axis != axis or quantization.scale.size != channels)
    ):
        raise q.fail(
            weights,
            f"{quantization.scale.size} scales on axis {quantization.axis}, "
            f"the operator needs one per output channel ({channels}) on axis {axis}",
        )


def _conv_2d(q: OpShapes) -> None:
    x, w = q.rank(0, 4), q.rank(1, 4)
    if x[3] % w[3] or w[0] % (x[3] // w[3]):
        raise q.fail(q.input(1), f"filter {list(w)} does not divide the {x[3]} input channels into groups")
    _weight_scales(q, 0, w[0])
    _bias(q, w[0])
    _window(q, (w[1], w[2]), w[0], q.input(1))


def _depthwise_conv_2d(q: OpShapes) -> None:
    x, w = q.rank(0, 4), q.rank(1, 4)
    multiplier = q.op.options.depth_multiplier
    if w[0] != 1 or w[3] != x[3] * multiplier:
        raise q.fail(q.input(1), f"filter {list(w)} is not [1, h, w, {x[3]} channels x multiplier {multiplier}]")
    _weight_scales(q, 3, w[3])
    _bias(q, w[3])
    _window(q, (w[1], w[2]), w[3], q.input(1))


def _transpose_conv(q: OpShapes) -> None:
    """Inputs: the output shape (a constant), the OHWI filter, the NHWC input, an optional bias.
    The output's size is the shape given; the padding follows from it (TFLM's rule)."""
    shape, w, x = q.values(0), q.rank(1, 4), q.rank(2, 4)
    if len(shape) != 4 or min(shape) < 1:
        raise q.fail(q.input(0), f"output shape {shape} is not four positive lengths")
    if w[3] != x[3] or shape[3] != w[0] or shape[0] != x[0]:
        raise q.fail(q.input(1), f"filter {list(w)} does not map input {list(x)} onto output {shape}")
    _weight_scales(q, 0, w[0])
    _bias(q, w[0], position=3, data=2, types=_TRANSPOSE_CONV_BIAS_TYPES)
    q.expect(shape)


def _batch_matmul(q: OpShapes) -> None:
    """Ranks 2 to 5; batch axes broadcast; lhs' (rows, depth) times rhs' (depth, cols), the adjoints
    swapping an operand's last two axes."""
    lhs, rhs = q.input(0), q.input(1)
    for tensor in (lhs, rhs):
        if not 2 <= len(tensor.shape) <= 5:
            raise q.fail(tensor, f"needs rank 2 to 5, has shape {list(tensor.shape)}")
    try:
        batch = np.broadcast_shapes(lhs.shape[:-2], rhs.shape[:-2])
    except ValueError:
        raise q.fail(rhs, f"batch axes {list(rhs.shape[:-2])} do not broadcast with {list(lhs.shape[:-2])}") from None
    options = q.op.options
    rows, depth = lhs.shape[-2:][::-1] if options.adj_x else lhs.shape[-2:]
    rhs_depth, cols = rhs.shape[-2:][::-1] if options.adj_y else rhs.shape[-2:]
    if depth != rhs_depth:
        raise q.fail(rhs, f"sums over {rhs_depth} values, the left operand over {depth}")
    q.expect((*batch, rows, cols))


def _fully_connected(q: OpShapes) -> None:
    x, w = q.input(0), q.rank(1, 2)
    units, depth = w
    if x.size % depth:
        raise q.fail(x, f"{x.size} values do not make rows of the filter's depth {depth}")
    output = q.output()
    if q.op.options.keep_num_dims:
        if x.shape[-1] != depth:
            raise q.fail(x, f"last axis is not the filter's depth {depth} (keep_num_dims)")
        q.expect((*x.shape[:-1], units))
    elif not output.shape or output.shape[-1] != units:
        raise q.fail(output, f"shape {list(output.shape)} does not end in the filter's {units} units")
    q.expect_size(x.size // depth * units)
    _weight_scales(q, 0, units)
    _bias(q, units)


def _pool_2d(q: OpShapes) -> None:
    options = q.op.options
    _window(q, (options.filter_h, options.filter_w), q.rank(0, 4)[3], None)


def _same_shape(q: OpShapes) -> None:
    q.expect(q.input(0).shape)


def _broadcast(q: OpShapes) -> None:
    first, second = q.input(0), q.input(1)
    try:
        shape = np.broadcast_shapes(first.shape, second.shape)
    except ValueError:
        raise q.fail(second, f"shape {list(second.shape)} does not broadcast with {list(first.shape)}") from None
    q.expect(shape)


def _same_size(q: OpShapes) -> None:
    q.expect_size(q.input(0).size)


def _shape(q: OpShapes) -> None:
    q.expect((len(q.input(0).shape),))


def _fill(q: OpShapes) -> None:
    """A scalar value; the dims, when a constant, are the output's shape."""
    dims, value = q.input(0), q.input(1)
    if value.shape != ():
        raise q.fail(value, f"the fill value must be a scalar, has shape {list(value.shape)}")
    if dims.is_constant:
        q.expect(q.values(0))


def _concatenation(q: OpShapes) -> None:
    output = q.output()
    rank = len(output.shape)
    axis = q.axis(q.op.options.axis, rank, output)
    total = 0
    for position in range(len(q.op.inputs)):
        tensor = q.input(position)
        shape = tensor.shape
        if len(shape) != rank or shape[:axis] + shape[axis + 1 :] != output.shape[:axis] + output.shape[axis + 1 :]:
            raise q.fail(tensor, f"shape {list(shape)} does not join {list(output.shape)} along axis {axis}")
        total += shape[axis]
    q.expect((*output.shape[:axis], total, *output.shape[axis + 1 :]))


def _pack(q: OpShapes) -> None:
    count = len(q.op.inputs)
    if q.op.options.values_count not in (0, count):
        raise q.fail(None, f"values_count {q.op.options.values_count} for {count} inputs")
    shape = q.input(0).shape
    for position in range(1, count):
        if q.input(position).shape != shape:
            raise q.fail(q.input(position), f"shape {list(q.input(position).shape)} differs from {list(shape)}")
    axis = q.axis(q.op.options.axis, len(shape) + 1, q.output())
    q.expect((*shape[:axis], count, *shape[axis:]))


def _unpack(q: OpShapes) -> None:
    shape, count = q.input(0).shape, len(q.op.outputs)
    axis = q.axis(q.op.options.axis, len(shape), q.input(0))
    if shape[axis] != count or q.op.options.num not in (0, count):
        raise q.fail(q.input(0), f"axis {axis} of {list(shape)} does not unpack into {count} outputs")
    for position in range(count):
        q.expect(shape[:axis] + shape[axis + 1 :], position)


def _split_pieces(q: OpShapes, source: int, axis_input: int, equal: bool) -> None:
    shape = q.input(source).shape
    axis = q.axis(q.values(axis_input)[0], len(shape), q.input(axis_input))
    widths = []
    for position, output in enumerate(q.outputs):
        width = output.shape[axis] if len(output.shape) == len(shape) else -1
        q.expect((*shape[:axis], width, *shape[axis + 1 :]), position)
        widths.append(width)
    if sum(widths) != shape[axis] or (equal and len(set(widths)) != 1):
        raise q.fail(q.input(source), f"axis {axis} of size {shape[axis]} does not split into widths {widths}")


def _split(q: OpShapes) -> None:
    if q.op.options.num_splits not in (0, len(q.op.outputs)):
        raise q.fail(None, f"num_splits {q.op.options.num_splits} for {len(q.op.outputs)} outputs")
    _split_pieces(q, source=1, axis_input=0, equal=True)


def _split_v(q: OpShapes) -> None:
    _split_pieces(q, source=0, axis_input=2, equal=False)


def _transpose(q: OpShapes) -> None:
    shape, perm = q.input(0).shape, q.values(1)
    if sorted(perm) != list(range(len(shape))):
        raise q.fail(q.input(1), f"perm {perm} is not a permutation of the {len(shape)} input axes")
    q.expect(tuple(shape[p] for p in perm))


def _pad(q: OpShapes) -> None:
    shape, paddings = q.input(0).shape, q.values(1)
    if len(paddings) != 2 * len(shape) or min(paddings, default=0) < 0:
        raise q.fail(q.input(1), f"paddings {paddings} do not fit an input of rank {len(shape)}")
    q.expect(tuple(size + paddings[2 * axis] + paddings[2 * axis + 1] for axis, size in enumerate(shape)))
    value = q.input(2)
    if value is not None and value.size != 1:
        raise q.fail(value, f"pad value holds {value.size} values, not one")


def _reduce(q: OpShapes) -> None:
    shape = q.input(0).shape
    axes = {q.axis(a, len(shape), q.input(1)) for a in q.values(1)}
    options = q.op.options
    if options is not None and options.keep_dims:
        q.expect(tuple(1 if axis in axes else size for axis, size in enumerate(shape)))
    else:
        q.expect(tuple(size for axis, size in enumerate(shape) if axis not in axes))


def _resize(q: OpShapes) -> None:
    x, size = q.rank(0, 4), q.values(1)
    if len(size) != 2 or min(size) < 1:
        raise q.fail(q.input(1), f"size {size} is not two positive lengths")
    q.expect((x[0], size[0], size[1], x[3]))


def _strided_slice(q: OpShapes) -> None:
    """The slice must fill the output, unless the operator uses what TFLite Micro ignores (offset,
    ellipsis and new-axis masks) or shrinks an axis it never visits: later stages refuse those as
    unsupported, naming the reason."""
    shape = q.input(0).shape
    begins, ends, strides = q.values(1), q.values(2), q.values(3)
    if not len(begins) == len(ends) == len(strides) == len(shape):
        raise q.fail(
            q.input(1),
            f"begin, end and strides of lengths {[len(begins), len(ends), len(strides)]} "
            f"for an input of rank {len(shape)}",
        )
    if 0 in strides:
        raise q.fail(q.input(3), f"strides {strides} hold a zero")
    options = q.op.options
    if options.offset or options.ellipsis_mask or options.new_axis_mask:
        return
    axes = slice_axes(shape, begins, ends, strides, options)
    kept = tuple(len(a.indices) for a in axes if not a.shrunk)
    if kept != q.output().shape and all(a.indices or not a.shrunk for a in axes):
        raise q.fail(
            q.output(), f"shape {list(q.output().shape)}, but the slice selects {[len(a.indices) for a in axes]}"
        )


def _slice(q: OpShapes) -> None:
    shape, begins, sizes = q.input(0).shape, q.values(1), q.values(2)
    if not len(begins) == len(sizes) == len(shape):
        raise q.fail(q.input(1), f"begin {begins} and size {sizes} for an input of rank {len(shape)}")
    counts = [dim - begin if size == -1 else size for dim, begin, size in zip(shape, begins, sizes, strict=True)]
    if any(b < 0 or c < 0 or b + c > dim for dim, b, c in zip(shape, begins, counts, strict=True)):
        raise q.fail(q.input(2), f"begin {begins} and size {sizes} reach outside the input {list(shape)}")
    q.expect(counts)


def _reverse(q: OpShapes) -> None:
    shape, axes = q.input(0).shape, q.values(1)
    resolved = [q.axis(a, len(shape), q.input(1)) for a in axes]
    if len(set(resolved)) != len(resolved):
        raise q.fail(q.input(1), f"axes {axes} name an axis twice")
    q.expect(shape)


def _broadcast_to(q: OpShapes) -> None:
    source, output = q.input(0).shape, q.output().shape
    if len(source) > len(output) or any(s not in (1, o) for s, o in zip(source[::-1], output[::-1], strict=False)):
        raise q.fail(q.input(0), f"shape {list(source)} does not broadcast to {list(output)}")
    if q.input(1).is_constant:
        q.expect(q.values(1))


def _broadcast_args(q: OpShapes) -> None:
    lengths = [q.rank(position, 1)[0] for position in (0, 1)]
    q.expect((max(lengths),))


def _block_size(q: OpShapes) -> int:
    return q.op.options.block_size


def _space_to_depth(q: OpShapes) -> None:
    n, h, w, c = q.rank(0, 4)
    b = _block_size(q)
    if h % b or w % b:
        raise q.fail(q.input(0), f"{h}x{w} pixels do not divide into {b}x{b} blocks")
    q.expect((n, h // b, w // b, c * b * b))


def _depth_to_space(q: OpShapes) -> None:
    n, h, w, c = q.rank(0, 4)
    b = _block_size(q)
    if c % (b * b):
        raise q.fail(q.input(0), f"depth {c} does not divide into {b}x{b} blocks")
    q.expect((n, h * b, w * b, c // (b * b)))


def _batch_space_parameters(q: OpShapes) -> tuple[Shape, list[int], list[int]]:
    """The input's shape, the block shape (one per spatial axis), its edges (two per spatial axis)."""
    shape = q.input(0).shape
    if len(shape) not in (3, 4):
        raise q.fail(q.input(0), f"needs rank 3 or 4, has shape {list(shape)}")
    block, edges = q.values(1), q.values(2)
    spatial = len(shape) - 2
    if len(block) != spatial or min(block) < 1:
        raise q.fail(q.input(1), f"block shape {block} is not {spatial} positive sizes")
    if len(edges) != 2 * spatial or min(edges) < 0:
        raise q.fail(q.input(2), f"{edges} are not {2 * spatial} sizes of at least 0")
    return shape, block, edges


def _space_to_batch(q: OpShapes) -> None:
    shape, block, pads = _batch_space_parameters(q)
    padded = [size + pads[2 * i] + pads[2 * i + 1] for i, size in enumerate(shape[1:-1])]
    if any(size % b for size, b in zip(padded, block, strict=True)):
        raise q.fail(q.input(1), f"padded sizes {padded} do not divide into blocks {block}")
    spatial = [size // b for size, b in zip(padded, block, strict=True)]
    q.expect((shape[0] * math.prod(block), *spatial, shape[-1]))


def _batch_to_space(q: OpShapes) -> None:
    shape, block, crops = _batch_space_parameters(q)
    if shape[0] % math.prod(block):
        raise q.fail(q.input(0), f"{shape[0]} batches do not divide into blocks {block}")
    spatial = [
        size * b - crops[2 * i] - crops[2 * i + 1] for i, (size, b) in enumerate(zip(shape[1:-1], block, strict=True))
    ]
    if min(spatial) < 1:
        raise q.fail(q.input(2), f"crops {crops} leave nothing of {list(shape)} in blocks {block}")
    q.expect((shape[0] // math.prod(block), *spatial, shape[-1]))


def _mirror_pad(q: OpShapes) -> None:
    """Each pad at most the axis's size (less than it for REFLECT, which skips the edge)."""
    shape, paddings = q.input(0).shape, q.values(1)
    reflect = q.op.options.mode == o.MirrorPadMode.REFLECT
    if len(paddings) != 2 * len(shape) or min(paddings, default=0) < 0:
        raise q.fail(q.input(1), f"paddings {paddings} do not fit an input of rank {len(shape)}")
    if any(pad > size - reflect for axis, size in enumerate(shape) for pad in paddings[2 * axis : 2 * axis + 2]):
        mode = q.op.options.mode.name
        raise q.fail(q.input(1), f"paddings {paddings} reach past the edges of {list(shape)} ({mode})")
    q.expect(tuple(size + paddings[2 * axis] + paddings[2 * axis + 1] for axis, size in enumerate(shape)))


def _gather(q: OpShapes) -> None:
    shape, coords = q.input(0).shape, q.input(1).shape
    axis = q.axis(q.op.options.axis, len(shape), q.input(0))
    batch_dims = q.op.options.batch_dims
    batch_dims = batch_dims + len(coords) if batch_dims < 0 else batch_dims
    if not 0 <= batch_dims <= min(axis, len(coords)) or shape[:batch_dims] != coords[:batch_dims]:
        raise q.fail(q.input(1), f"batch_dims {q.op.options.batch_dims} does not fit {list(shape)} and {list(coords)}")
    q.expect((*shape[:axis], *coords[batch_dims:], *shape[axis + 1 :]))


def _gather_nd(q: OpShapes) -> None:
    shape, indices = q.input(0).shape, q.input(1).shape
    if not shape or not indices or indices[-1] > len(shape):
        raise q.fail(q.input(1), f"indices {list(indices)} do not index {list(shape)}")
    q.expect((*indices[:-1], *shape[indices[-1] :]))


def _arg_min_max(q: OpShapes) -> None:
    shape = q.input(0).shape
    axis = q.axis(q.values(1)[0], len(shape), q.input(1))
    q.expect(shape[:axis] + shape[axis + 1 :])


def _cumsum(q: OpShapes) -> None:
    q.axis(q.values(1)[0], len(q.input(0).shape), q.input(1))
    q.expect(q.input(0).shape)


def _add_n(q: OpShapes) -> None:
    shape = q.input(0).shape
    for position in range(1, len(q.op.inputs)):
        if q.input(position).shape != shape:
            raise q.fail(q.input(position), f"shape {list(q.input(position).shape)} differs from {list(shape)}")
    q.expect(shape)


def _embedding_lookup(q: OpShapes) -> None:
    lookup, values = q.rank(0, 1), q.input(1).shape
    if len(values) < 2:
        raise q.fail(q.input(1), f"needs rank 2 or more, has shape {list(values)}")
    q.expect((lookup[0], *values[1:]))


def _dynamic_update_slice(q: OpShapes) -> None:
    shape, update, starts = q.input(0).shape, q.input(1).shape, q.input(2).shape
    if len(update) != len(shape) or any(u > s for u, s in zip(update, shape, strict=True)):
        raise q.fail(q.input(1), f"update {list(update)} does not fit in {list(shape)}")
    if starts != (len(shape),):
        raise q.fail(q.input(2), f"start indices of shape {list(starts)} for an operand of rank {len(shape)}")
    q.expect(shape)


def _comparison(q: OpShapes) -> None:
    """Two operands of one type, broadcast; a bool result."""
    first, second = q.input(0), q.input(1)
    if second.dtype != first.dtype:
        raise q.fail(second, f"is {second.dtype}, the first operand {first.dtype}")
    if q.output().dtype != DType.BOOL:
        raise q.fail(q.output(), f"is {q.output().dtype}, a comparison gives bool")
    _broadcast(q)


def _select(q: OpShapes) -> None:
    """A bool condition choosing between two values, the three broadcast together."""
    condition = q.input(0)
    if condition.dtype != DType.BOOL:
        raise q.fail(condition, f"the condition is {condition.dtype}, must be bool")
    try:
        shape = np.broadcast_shapes(*(q.input(i).shape for i in range(3)))
    except ValueError:
        shapes = ", ".join(str(list(q.input(i).shape)) for i in range(3))
        raise q.fail(q.output(), f"condition and values of shapes {shapes} do not broadcast") from None
    q.expect(shape)


def _svdf(q: OpShapes) -> None:
    """[batches, units]: one unit per `rank` filters (the weights' and state's agreement is params.svdf's)."""
    batches = q.rank(0, 2)[0]
    filters = q.rank(1, 2)[0]
    rank = q.op.options.rank
    if rank < 1 or filters % rank:
        raise q.fail(q.input(1), f"{filters} filters do not group by rank {rank}")
    q.expect((batches, filters // rank))


def _sequence_lstm(q: OpShapes) -> None:
    """The sequence's shape with the hidden state's width in place of the features."""
    sequence = q.rank(0, 3)
    hidden = q.rank(o.HIDDEN_STATE, 2)
    q.expect((*sequence[:2], hidden[1]))


# ------------------------------------------------------------------ TFLM's signal operators
# Custom operators with FlexBuffer attributes (signal/micro/kernels/*.cc, and TFLM's own
# CIRCULAR_BUFFER); their element types are fixed, so each rule checks them too.

SIGNAL_TYPE_CODES = {0: DType.FLOAT32, 2: DType.INT32, 7: DType.INT16}
"""The TFLite TensorType codes a signal operator's attribute T may hold."""

PCAN_GAIN_LUT_SIZE = 125
"""PCAN's gain table: 4 entries per bit of a 32-bit noise estimate from bit 2 up, plus the first three."""


SIGNAL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "SignalWindow": ("shift",),
    "SignalFftAutoScale": (),
    "SignalRfft": ("T", "fft_length"),
    "SignalIrfft": ("T", "fft_length"),
    "SignalEnergy": ("end_index", "start_index"),
    "SignalFilterBank": ("num_channels",),
    "SignalFilterBankSquareRoot": (),
    "SignalFilterBankSpectralSubtraction": (
        "alternate_one_minus_smoothing",
        "alternate_smoothing",
        "clamping",
        "min_signal_remaining",
        "num_channels",
        "one_minus_smoothing",
        "smoothing",
        "smoothing_bits",
        "spectral_subtraction_bits",
    ),
    "SignalFilterBankLog": ("input_correction_bits", "output_scale"),
    "SignalPCAN": ("snr_shift",),
    "SignalFramer": ("frame_size", "frame_step", "prefill"),
    "SignalStacker": ("num_channels", "stacker_left_context", "stacker_right_context", "stacker_step"),
    "SignalDelay": ("delay_length",),
    "SignalOverlapAdd": ("T", "frame_step"),
    "CIRCULAR_BUFFER": ("cycles_max",),
}
"""Each signal operator's attributes in the order TFLM reads them: by position in the FlexBuffer map,
whose keys are sorted (so a map of exactly these keys puts each where TFLM reads it)."""


def signal_attributes(op: Operator, *names: str) -> dict[str, int]:
    """The integer (or bool) attributes `names` of a signal operator, read where TFLM reads them
    (their position in SIGNAL_ATTRIBUTES) and refused unless that entry has the expected key."""
    options = op.options if isinstance(op.options, o.CustomOptions) else o.CustomOptions()
    order = SIGNAL_ATTRIBUTES[op.op_type]
    values = {}
    for name in names:
        entry = options.flexbuffer_entry(order.index(name))
        if entry is None or entry[0] != name or entry[1] is None:
            found = f"finds '{entry[0]}'" if entry else "finds nothing"
            raise ShapeError(
                op.label,
                f"options lack the integer attribute '{name}' (TFLite Micro reads entry {order.index(name)}: {found})",
            )
        values[name] = entry[1]
    return values


def _typed(q: OpShapes, tensor: Tensor, *dtypes: DType) -> None:
    if tensor.dtype not in dtypes:
        raise q.fail(tensor, f"is {tensor.dtype}, {q.op.op_type} takes {' or '.join(dtypes)}")


def _signal_types(q: OpShapes, inputs: Sequence[DType], outputs: Sequence[DType]) -> None:
    for position, dtype in enumerate(inputs):
        _typed(q, q.input(position), dtype)
    for position, dtype in enumerate(outputs):
        _typed(q, q.output(position), dtype)


def _fft_type(q: OpShapes) -> DType:
    """Rfft, Irfft and OverlapAdd's element type, which their attribute T names as a TFLite type code."""
    code = signal_attributes(q.op, "T")["T"]
    if code not in SIGNAL_TYPE_CODES:
        raise q.fail(None, f"attribute T is type code {code}, not int16, int32 or float32")
    return SIGNAL_TYPE_CODES[code]


def _signal_window(q: OpShapes) -> None:
    signal_attributes(q.op, "shift")
    _signal_types(q, (DType.INT16, DType.INT16), (DType.INT16,))
    weights = q.rank(1, 1)[0]
    if weights == 0 or q.input(0).size % weights:
        raise q.fail(q.input(1), f"{weights} weights do not tile the input's {q.input(0).size} samples")
    q.expect(q.input(0).shape)


def _signal_fft_auto_scale(q: OpShapes) -> None:
    _signal_types(q, (DType.INT16,), (DType.INT16, DType.INT32))
    q.expect(q.rank(0, 1))
    q.expect((), 1)


def _rfft_lengths(q: OpShapes) -> tuple[int, DType]:
    fft_length = signal_attributes(q.op, "fft_length")["fft_length"]
    dtype = _fft_type(q)
    if fft_length < 2 or fft_length & (fft_length - 1):
        raise q.fail(None, f"fft_length {fft_length} is not a power of two")
    _signal_types(q, (dtype,), (dtype,))
    if not q.input(0).shape:
        raise q.fail(q.input(0), "needs rank 1 or more")
    return fft_length, dtype


def _signal_rfft(q: OpShapes) -> None:
    fft_length, _ = _rfft_lengths(q)
    shape = q.input(0).shape
    if shape[-1] > fft_length:
        raise q.fail(q.input(0), f"frames of {shape[-1]} samples are longer than fft_length {fft_length}")
    q.expect((*shape[:-1], 2 * (fft_length // 2 + 1)))


def _signal_irfft(q: OpShapes) -> None:
    fft_length, _ = _rfft_lengths(q)
    shape = q.input(0).shape
    if shape[-1] != 2 * (fft_length // 2 + 1):
        raise q.fail(q.input(0), f"needs {fft_length // 2 + 1} complex values per frame for fft_length {fft_length}")
    q.expect((*shape[:-1], fft_length))


def _signal_energy(q: OpShapes) -> None:
    span = signal_attributes(q.op, "start_index", "end_index")
    _signal_types(q, (DType.INT16,), (DType.UINT32,))
    bins = q.rank(0, 1)[0] // 2
    if not 0 <= span["start_index"] <= span["end_index"] <= bins:
        raise q.fail(None, f"bins {span['start_index']}..{span['end_index']} are not within the {bins} of the input")
    q.expect((bins,))


def _signal_filter_bank(q: OpShapes) -> None:
    channels = signal_attributes(q.op, "num_channels")["num_channels"]
    _signal_types(q, (DType.UINT32, *[DType.INT16] * 5), (DType.UINT64,))
    spectrum = q.rank(0, 1)[0]
    weights, unweights = q.rank(1, 1)[0], q.rank(2, 1)[0]
    starts, weight_starts, widths = (np.asarray(q.input(i).data, dtype=np.int64) for i in (3, 4, 5))
    for position in (3, 4, 5):
        if q.rank(position, 1)[0] != channels + 1:
            raise q.fail(q.input(position), f"needs {channels + 1} entries (num_channels + 1)")
    if (widths < 0).any() or (starts < 0).any() or (weight_starts < 0).any():
        raise q.fail(q.input(5), "a channel has a negative start or width")
    if (starts + widths > spectrum).any() or (weight_starts + widths > min(weights, unweights)).any():
        raise q.fail(q.input(5), "a channel reaches past the spectrum or its weights")
    q.expect((channels,))


def _signal_filter_bank_square_root(q: OpShapes) -> None:
    _signal_types(q, (DType.UINT64, DType.INT32), (DType.UINT32,))
    q.rank(1, 0)
    q.expect(q.rank(0, 1))


def _signal_spectral_subtraction(q: OpShapes) -> None:
    names = ("num_channels", "smoothing", "one_minus_smoothing", "alternate_smoothing")
    names += ("alternate_one_minus_smoothing", "smoothing_bits", "min_signal_remaining", "spectral_subtraction_bits")
    channels = signal_attributes(q.op, *names, "clamping")["num_channels"]
    _signal_types(q, (DType.UINT32,), (DType.UINT32, DType.UINT32))
    if q.rank(0, 1) != (channels,):
        raise q.fail(q.input(0), f"needs {channels} channels (num_channels)")
    q.expect((channels,))
    q.expect((channels,), 1)


def _signal_filter_bank_log(q: OpShapes) -> None:
    signal_attributes(q.op, "input_correction_bits", "output_scale")
    _signal_types(q, (DType.UINT32,), (DType.INT16,))
    q.expect(q.rank(0, 1))


def _signal_pcan(q: OpShapes) -> None:
    signal_attributes(q.op, "snr_shift")
    _signal_types(q, (DType.UINT32, DType.UINT32, DType.INT16), (DType.UINT32,))
    channels = q.rank(0, 1)
    if q.rank(1, 1) != channels:
        raise q.fail(q.input(1), f"needs one noise estimate per channel ({channels[0]})")
    if q.rank(2, 1)[0] != PCAN_GAIN_LUT_SIZE:
        raise q.fail(q.input(2), f"needs {PCAN_GAIN_LUT_SIZE} gain table entries")
    q.expect(channels)


def _signal_framer(q: OpShapes) -> None:
    frame = signal_attributes(q.op, "frame_size", "frame_step", "prefill")
    _signal_types(q, (DType.INT16,), (DType.INT16, DType.BOOL))
    shape = q.input(0).shape
    size, step = frame["frame_size"], frame["frame_step"]
    if not shape or size < 1 or step < 1 or shape[-1] < step or shape[-1] % step:
        raise q.fail(q.input(0), f"frames of step {step} do not tile shape {list(shape)}")
    q.expect((*shape[:-1], shape[-1] // step, size))
    q.expect((), 1)


def _signal_stacker(q: OpShapes) -> None:
    names = ("num_channels", "stacker_left_context", "stacker_right_context", "stacker_step")
    stack = signal_attributes(q.op, *names)
    _signal_types(q, (DType.INT16,), (DType.INT16, DType.BOOL))
    channels = stack["num_channels"]
    if q.rank(0, 1) != (channels,) or min(stack.values()) < 0 or stack["stacker_step"] < 1:
        raise q.fail(q.input(0), f"needs {channels} channels (num_channels) and non-negative contexts")
    frames = stack["stacker_left_context"] + stack["stacker_right_context"] + 1
    if stack["stacker_step"] > frames:
        raise q.fail(None, f"stacker_step {stack['stacker_step']} is more than the {frames} stacked frames")
    q.expect((channels * frames,))
    q.expect((), 1)


def _signal_delay(q: OpShapes) -> None:
    if signal_attributes(q.op, "delay_length")["delay_length"] < 0:
        raise q.fail(None, "delay_length is negative")
    _signal_types(q, (DType.INT16,), (DType.INT16,))
    if not q.input(0).shape:
        raise q.fail(q.input(0), "needs rank 1 or more")
    q.expect(q.input(0).shape)


def _signal_overlap_add(q: OpShapes) -> None:
    step = signal_attributes(q.op, "frame_step")["frame_step"]
    dtype = _fft_type(q)
    if dtype == DType.INT32:
        raise q.fail(q.input(0), f"is {dtype}, OverlapAdd takes int16 or float32")
    _signal_types(q, (dtype,), (dtype,))
    shape = q.input(0).shape
    if len(shape) < 2 or not 1 <= step <= shape[-1]:
        raise q.fail(q.input(0), f"needs frames of at least frame_step {step} samples, has shape {list(shape)}")
    q.expect((*shape[:-2], shape[-2] * step))


def _circular_buffer(q: OpShapes) -> None:
    # TFLM guesses a cycles_max of 0 or less from the output shape and a static count of the
    # operators it prepared (two streaming models of its own): refused rather than guessed.
    if signal_attributes(q.op, "cycles_max")["cycles_max"] < 1:
        raise q.fail(None, "cycles_max is less than 1 (TFLite Micro then guesses it for two of its own models)")
    _signal_types(q, (DType.INT8,), (DType.INT8,))
    # TFLM's kernel moves the whole output by one frame of the first batch: batch 1 only.
    batch, one, width, depth = q.rank(0, 4)
    slots = q.output().shape[1] if len(q.output().shape) == 4 else 0
    if (batch, one) != (1, 1) or slots < 1:
        raise q.fail(q.input(0), "needs one new frame [1, 1, w, depth] into a history of [1, slots, w, depth]")
    q.expect((1, slots, width, depth))


# ------------------------------------------------------------------ TFLM's detection post-processing
# TFLite_Detection_PostProcess (kernels/detection_postprocess.cc): SSD box decoding and non-max
# suppression, a custom operator whose FlexBuffer attributes TFLM reads by key.

DETECTION_POSTPROCESS = "TFLite_Detection_PostProcess"
DETECTIONS_PER_CLASS_DEFAULT = 100
"""TFLM's detections_per_class when the options leave it out."""


@dataclass(frozen=True)
class DetectionAttributes:
    max_detections: int
    max_classes_per_detection: int
    detections_per_class: int
    use_regular_nms: bool
    nms_score_threshold: np.float32
    nms_iou_threshold: np.float32
    num_classes: int
    scales: tuple[np.float32, np.float32, np.float32, np.float32]
    """y_scale, x_scale, h_scale, w_scale."""

    @property
    def detected_rows(self) -> int:
        """The rows of the detection outputs, as TFLite's Prepare sizes them."""
        return self.max_detections * self.max_classes_per_detection


def detection_attributes(op: Operator) -> DetectionAttributes:
    """The attributes TFLM reads by key (AsInt32, AsFloat, AsBool), refused where its kernel would
    fail its checks at every inference or write outside its outputs."""
    options = op.options if isinstance(op.options, o.CustomOptions) else o.CustomOptions()

    def number(key: str, integer: bool, default: int | None = None) -> int | float:
        value = options.flexbuffer_value(key)
        if value is None and default is not None:
            return default
        if value is None or (integer and not isinstance(value, int)):
            kind = "integer" if integer else "number"
            raise ShapeError(op.label, f"options lack the {kind} attribute '{key}'")
        return value

    a = DetectionAttributes(
        max_detections=number("max_detections", True),
        max_classes_per_detection=number("max_classes_per_detection", True),
        detections_per_class=number("detections_per_class", True, DETECTIONS_PER_CLASS_DEFAULT),
        use_regular_nms=bool(number("use_regular_nms", True, 0)),
        nms_score_threshold=np.float32(number("nms_score_threshold", False)),
        nms_iou_threshold=np.float32(number("nms_iou_threshold", False)),
        num_classes=number("num_classes", True),
        scales=tuple(np.float32(number(f"{axis}_scale", False)) for axis in "yxhw"),
    )
    if a.num_classes < 1 or a.max_detections < 0:
        raise ShapeError(op.label, f"num_classes {a.num_classes} or max_detections {a.max_detections} out of range")
    if not 0 < a.nms_iou_threshold <= 1:
        raise ShapeError(op.label, f"nms_iou_threshold {a.nms_iou_threshold} is outside (0, 1] (TFLite Micro fails)")
    if a.use_regular_nms and a.detections_per_class < 1:
        raise ShapeError(op.label, "detections_per_class is less than 1 (TFLite Micro fails)")
    if not a.use_regular_nms and a.max_classes_per_detection < 1:
        raise ShapeError(op.label, "max_classes_per_detection is less than 1 (TFLite Micro fails)")
    if not a.use_regular_nms and min(a.max_classes_per_detection, a.num_classes) > 1:
        # TFLM's fast path puts class c of its n-th row at k * n + c, past its outputs
        raise ShapeError(
            op.label, "fast NMS with max_classes_per_detection > 1: TFLite Micro writes its rows past the outputs"
        )
    return a


def _detection_postprocess(q: OpShapes) -> None:
    a = detection_attributes(q.op)
    # TFLM's kernel decodes float32 only: quantized encodings or scores fail every inference
    _signal_types(q, (DType.FLOAT32,) * 3, (DType.FLOAT32,) * 4)
    batch, boxes, coordinates = q.rank(0, 3)
    if batch != 1 or boxes < 1 or coordinates < 4:
        raise q.fail(q.input(0), "needs box encodings [1, boxes, 4 or more]")
    classes = q.rank(1, 3)
    if classes[:2] != (1, boxes) or not a.num_classes <= classes[2] <= a.num_classes + 1:
        raise q.fail(q.input(1), f"needs scores [1, {boxes}, {a.num_classes} classes, or one more for the background]")
    if q.rank(2, 2) != (boxes, 4):
        raise q.fail(q.input(2), f"needs anchors [{boxes}, 4]")
    rows = a.detected_rows
    for position, shape in enumerate(((1, rows, 4), (1, rows), (1, rows), (1,))):
        q.expect(shape, position)


# ------------------------------------------------------------------ TFLM's DECODE
# TFLM_DECODE (kernels/decode.cc): each output the decoding of one (encoded, ancillary) pair of
# constant inputs; the decoding itself, and its checks, are params.decode's.

DECODE = "TFLM_DECODE"


def _decode(q: OpShapes) -> None:
    if len(q.op.inputs) != 2 * len(q.op.outputs):
        inputs, outputs = len(q.op.inputs), len(q.op.outputs)
        raise q.fail(None, f"{inputs} inputs for {outputs} outputs, TFLite Micro takes two per output")
    for position in range(len(q.op.inputs)):
        tensor = q.input(position)
        if tensor is None or not tensor.is_constant:
            raise q.fail(tensor, "is not a constant (TFLite Micro decodes constant tensors only)")


def _called(q: OpShapes, index: int) -> Graph:
    """The subgraph a control-flow operator calls: one of the model's others (0 is the main graph)."""
    if not 0 < index < len(q.subgraphs):
        have = f"subgraphs 1 to {len(q.subgraphs) - 1}" if len(q.subgraphs) > 1 else "no subgraph but the main one"
        raise q.fail(None, f"calls subgraph {index}, the model has {have}")
    return q.subgraphs[index]


def _agree(q: OpShapes, ours: Sequence[Tensor], what: str, theirs: Sequence[Tensor], whose: str) -> None:
    """Values copied between the operator and a subgraph: same count, element types and shapes."""
    if len(ours) != len(theirs):
        raise q.fail(None, f"has {len(ours)} {what}, {whose} {len(theirs)}")
    for position, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
        if (mine.dtype, mine.shape) != (other.dtype, other.shape):
            raise q.fail(
                mine,
                f"{what[:-1]} {position} is {mine.dtype}{list(mine.shape)}, "
                f"{whose} '{other.name}' {other.dtype}{list(other.shape)}",
            )


def _one_bool(q: OpShapes, tensor: Tensor, what: str, own: bool = True) -> None:
    """`tensor` (the operator's own, or when not `own` a called subgraph's) must hold one bool."""
    if tensor.dtype != DType.BOOL or tensor.size != 1:
        raise q.fail(tensor if own else None, f"{what} must be one bool, is {tensor.dtype}{list(tensor.shape)}")


def _if(q: OpShapes) -> None:
    """TFLM's IF: a one-bool condition, then the branches' inputs and outputs copied in and out."""
    _one_bool(q, q.input(0), "the condition")
    inputs = [q.input(p) for p in range(1, len(q.op.inputs))]
    for index in (q.op.options.then_subgraph, q.op.options.else_subgraph):
        branch = _called(q, index)
        _agree(q, inputs, "inputs", branch.graph_inputs, f"subgraph {index} takes")
        _agree(q, q.outputs, "outputs", branch.graph_outputs, f"subgraph {index} gives")


def _while(q: OpShapes) -> None:
    """TFLM's WHILE: the loop values go through cond and body unchanged in count, type and shape."""
    inputs = [q.input(p) for p in range(len(q.op.inputs))]
    _agree(q, inputs, "inputs", q.outputs, "the outputs hold")
    cond, body = _called(q, q.op.options.cond_subgraph), _called(q, q.op.options.body_subgraph)
    _agree(q, inputs, "inputs", cond.graph_inputs, f"subgraph {q.op.options.cond_subgraph} takes")
    _agree(q, inputs, "inputs", body.graph_inputs, f"subgraph {q.op.options.body_subgraph} takes")
    _agree(q, q.outputs, "outputs", body.graph_outputs, f"subgraph {q.op.options.body_subgraph} gives")
    if len(cond.outputs) != 1:
        raise q.fail(None, f"its condition, subgraph {q.op.options.cond_subgraph}, gives {len(cond.outputs)} outputs")
    going = cond.graph_outputs[0]
    _one_bool(q, going, f"subgraph {q.op.options.cond_subgraph}'s output '{going.name}'", own=False)


def _call_once(q: OpShapes) -> None:
    _called(q, q.op.options.init_subgraph)


_SAME_SHAPE = (
    "CEIL",
    "COS",
    "EXP",
    "FLOOR",
    "LOG",
    "LOGICAL_NOT",
    "NEG",
    "ROUND",
    "RSQRT",
    "SIN",
    "SQRT",
    "SQUARE",
    "SOFTMAX",
    "LOG_SOFTMAX",
    "LOGISTIC",
    "TANH",
    "RELU",
    "RELU6",
    "RELU_N1_TO_1",
    "LEAKY_RELU",
    "HARD_SWISH",
    "ELU",
    "L2_NORMALIZATION",
    "QUANTIZE",
    "DEQUANTIZE",
)
_COMPARISONS = ("EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL")
_CONVERTING = ("SOFTMAX", "QUANTIZE", "DEQUANTIZE")
"""Operators whose output type may differ from their input's (int8 SOFTMAX may give int16)."""

ARITIES: dict[str, Arity] = {
    "CONV_2D": Arity(2, 3, optional=(2,), options=o.Conv2DOptions, symmetric_int16=True),
    "DEPTHWISE_CONV_2D": Arity(2, 3, optional=(2,), options=o.DepthwiseConv2DOptions, symmetric_int16=True),
    "FULLY_CONNECTED": Arity(2, 3, optional=(2,), options=o.FullyConnectedOptions, symmetric_int16=True),
    "BATCH_MATMUL": Arity(2, 2, options=o.BatchMatMulOptions, typed_inputs=(0, 1)),
    "TRANSPOSE_CONV": Arity(
        3, 4, optional=(3,), parameters=(0,), options=o.TransposeConvOptions, symmetric_int16=True, typed_inputs=(2,)
    ),
    "AVERAGE_POOL_2D": Arity(1, 1, options=o.Pool2DOptions),
    "MAX_POOL_2D": Arity(1, 1, options=o.Pool2DOptions),
    "L2_POOL_2D": Arity(1, 1, options=o.Pool2DOptions),
    "ADD": Arity(2, 2, typed_inputs=(0, 1)),
    "SUB": Arity(2, 2, typed_inputs=(0, 1)),
    "MUL": Arity(2, 2, typed_inputs=(0, 1)),
    "DIV": Arity(2, 2, typed_inputs=(0, 1)),
    "PRELU": Arity(2, 2),
    "FLOOR_DIV": Arity(2, 2, typed_inputs=(0, 1)),
    "FLOOR_MOD": Arity(2, 2, typed_inputs=(0, 1)),
    "CONCATENATION": Arity(1, options=o.ConcatenationOptions, needs_scales=False),
    "PACK": Arity(1, options=o.PackOptions, needs_scales=False),
    "UNPACK": Arity(1, 1, outputs=None, options=o.UnpackOptions, needs_scales=False),
    "SPLIT": Arity(2, 2, outputs=None, parameters=(0,), options=o.SplitOptions, needs_scales=False, typed_inputs=(1,)),
    "SPLIT_V": Arity(3, 3, outputs=None, parameters=(2,), needs_scales=False),
    "RESHAPE": Arity(1, 2, optional=(1,), needs_scales=False),
    "SQUEEZE": Arity(1, 1, needs_scales=False),
    "EXPAND_DIMS": Arity(2, 2, needs_scales=False),
    "TRANSPOSE": Arity(2, 2, parameters=(1,), needs_scales=False),
    "PAD": Arity(2, 3, optional=(2,), parameters=(1,), typed_inputs=(0, 2)),
    "PADV2": Arity(2, 3, optional=(2,), parameters=(1,), typed_inputs=(0, 2)),
    "MEAN": Arity(2, 2, parameters=(1,)),
    "SUM": Arity(2, 2, parameters=(1,)),
    "REDUCE_MAX": Arity(2, 2, parameters=(1,)),
    "REDUCE_MIN": Arity(2, 2, parameters=(1,)),
    "REDUCE_ALL": Arity(2, 2, parameters=(1,), needs_scales=False),
    "RESIZE_NEAREST_NEIGHBOR": Arity(2, 2, parameters=(1,), options=o.ResizeNearestNeighborOptions, needs_scales=False),
    "RESIZE_BILINEAR": Arity(2, 2, parameters=(1,), options=o.ResizeBilinearOptions, needs_scales=False),
    "STRIDED_SLICE": Arity(4, 4, parameters=(1, 2, 3), options=o.StridedSliceOptions, needs_scales=False),
    "SHAPE": Arity(1, 1, needs_scales=False, typed_inputs=None),
    "SLICE": Arity(3, 3, parameters=(1, 2), needs_scales=False),
    "REVERSE_V2": Arity(2, 2, parameters=(1,), needs_scales=False),
    "BROADCAST_TO": Arity(2, 2, needs_scales=False),
    "BROADCAST_ARGS": Arity(2, 2, needs_scales=False, typed_inputs=(0, 1)),
    "ZEROS_LIKE": Arity(1, 1, needs_scales=False),
    "SPACE_TO_DEPTH": Arity(1, 1, options=o.BlockSizeOptions, needs_scales=False),
    "DEPTH_TO_SPACE": Arity(1, 1, options=o.BlockSizeOptions, needs_scales=False),
    "SPACE_TO_BATCH_ND": Arity(3, 3, parameters=(1, 2), needs_scales=False),
    "BATCH_TO_SPACE_ND": Arity(3, 3, parameters=(1, 2), needs_scales=False),
    "MIRROR_PAD": Arity(2, 2, parameters=(1,), options=o.MirrorPadOptions, needs_scales=False),
    "GATHER": Arity(2, 2, options=o.GatherOptions, needs_scales=False),
    "GATHER_ND": Arity(2, 2, needs_scales=False),
    "ARG_MAX": Arity(2, 2, parameters=(1,), options=o.ArgOptions, needs_scales=False, typed_inputs=None),
    "ARG_MIN": Arity(2, 2, parameters=(1,), options=o.ArgOptions, needs_scales=False, typed_inputs=None),
    "CUMSUM": Arity(2, 2, parameters=(1,), options=o.CumsumOptions),
    "ADD_N": Arity(2),
    "EMBEDDING_LOOKUP": Arity(2, 2, needs_scales=False, typed_inputs=None),
    "DYNAMIC_UPDATE_SLICE": Arity(3, 3, needs_scales=False, typed_inputs=(0, 1)),
    "FILL": Arity(2, 2, needs_scales=False, typed_inputs=(1,)),
    "CAST": Arity(1, 1, needs_scales=False, typed_inputs=None),
    "ABS": Arity(1, 1, needs_scales=False),  # TFLM's int16 ABS takes unquantized tensors too
    "MAXIMUM": Arity(2, 2, needs_scales=False, typed_inputs=(0, 1)),
    "MINIMUM": Arity(2, 2, needs_scales=False, typed_inputs=(0, 1)),
    "SQUARED_DIFFERENCE": Arity(2, 2, typed_inputs=(0, 1)),
    "LOGICAL_AND": Arity(2, 2, needs_scales=False, typed_inputs=(0, 1)),
    "LOGICAL_OR": Arity(2, 2, needs_scales=False, typed_inputs=(0, 1)),
    **{name: Arity(2, 2, typed_inputs=None) for name in _COMPARISONS},
    "SELECT_V2": Arity(3, 3, needs_scales=False, typed_inputs=(1, 2)),
    "SVDF": Arity(5, 5, optional=(3,), options=o.SVDFOptions, needs_scales=False, typed_inputs=None),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": Arity(
        20, 24, optional=(1, 5, 9, 10, 11, 12, 16, 17, 20, 21, 22, 23), needs_scales=False, typed_inputs=None
    ),
    "VAR_HANDLE": Arity(0, 0, needs_scales=False, typed_inputs=None),
    "IF": Arity(1, outputs=None, options=o.IfOptions, needs_scales=False, typed_inputs=None),
    "WHILE": Arity(0, outputs=None, options=o.WhileOptions, needs_scales=False, typed_inputs=None),
    "CALL_ONCE": Arity(0, 0, outputs=0, options=o.CallOnceOptions, needs_scales=False, typed_inputs=None),
    "READ_VARIABLE": Arity(1, 1, needs_scales=False, typed_inputs=None),
    "ASSIGN_VARIABLE": Arity(2, 2, outputs=0, needs_scales=False, typed_inputs=None),
    **{name: Arity(1, 1) for name in _SAME_SHAPE if name not in _CONVERTING},
    **{name: Arity(1, 1, typed_inputs=None) for name in _CONVERTING},
    **{
        name: Arity(count, count, outputs=outputs, options=o.CustomOptions, needs_scales=False, typed_inputs=None)
        for name, (count, outputs) in {
            "SignalWindow": (2, 1),
            "SignalFftAutoScale": (1, 2),
            "SignalRfft": (1, 1),
            "SignalIrfft": (1, 1),
            "SignalEnergy": (1, 1),
            "SignalFilterBank": (6, 1),
            "SignalFilterBankSquareRoot": (2, 1),
            "SignalFilterBankSpectralSubtraction": (1, 2),
            "SignalFilterBankLog": (1, 1),
            "SignalPCAN": (3, 1),
            "SignalFramer": (1, 2),
            "SignalStacker": (1, 2),
            "SignalDelay": (1, 1),
            "SignalOverlapAdd": (1, 1),
            "CIRCULAR_BUFFER": (1, 1),
            DETECTION_POSTPROCESS: (3, 4),
        }.items()
    },
    DECODE: Arity(2, outputs=None, options=o.CustomOptions, needs_scales=False, typed_inputs=None),
}
"""Every operator type the engine runs. Others (custom operators) get the structural checks only."""

RULES: dict[str, Rule] = {
    "CONV_2D": _conv_2d,
    "DEPTHWISE_CONV_2D": _depthwise_conv_2d,
    "FULLY_CONNECTED": _fully_connected,
    "TRANSPOSE_CONV": _transpose_conv,
    "BATCH_MATMUL": _batch_matmul,
    "AVERAGE_POOL_2D": _pool_2d,
    "MAX_POOL_2D": _pool_2d,
    "L2_POOL_2D": _pool_2d,
    "ADD": _broadcast,
    "SUB": _broadcast,
    "MUL": _broadcast,
    "DIV": _broadcast,
    "PRELU": _broadcast,
    "FLOOR_DIV": _broadcast,
    "FLOOR_MOD": _broadcast,
    "CONCATENATION": _concatenation,
    "PACK": _pack,
    "UNPACK": _unpack,
    "SPLIT": _split,
    "SPLIT_V": _split_v,
    "RESHAPE": _same_size,
    "SQUEEZE": _same_size,
    "EXPAND_DIMS": _same_size,
    "TRANSPOSE": _transpose,
    "PAD": _pad,
    "PADV2": _pad,
    "MEAN": _reduce,
    "SUM": _reduce,
    "REDUCE_MAX": _reduce,
    "REDUCE_MIN": _reduce,
    "REDUCE_ALL": _reduce,
    "RESIZE_NEAREST_NEIGHBOR": _resize,
    "RESIZE_BILINEAR": _resize,
    "STRIDED_SLICE": _strided_slice,
    "SHAPE": _shape,
    "SLICE": _slice,
    "REVERSE_V2": _reverse,
    "BROADCAST_TO": _broadcast_to,
    "BROADCAST_ARGS": _broadcast_args,
    "ZEROS_LIKE": _same_shape,
    "SPACE_TO_DEPTH": _space_to_depth,
    "DEPTH_TO_SPACE": _depth_to_space,
    "SPACE_TO_BATCH_ND": _space_to_batch,
    "BATCH_TO_SPACE_ND": _batch_to_space,
    "MIRROR_PAD": _mirror_pad,
    "GATHER": _gather,
    "GATHER_ND": _gather_nd,
    "ARG_MAX": _arg_min_max,
    "ARG_MIN": _arg_min_max,
    "CUMSUM": _cumsum,
    "ADD_N": _add_n,
    "EMBEDDING_LOOKUP": _embedding_lookup,
    "DYNAMIC_UPDATE_SLICE": _dynamic_update_slice,
    "FILL": _fill,
    "CAST": _same_shape,
    "ABS": _same_shape,
    "MAXIMUM": _broadcast,
    "MINIMUM": _broadcast,
    "SQUARED_DIFFERENCE": _broadcast,
    "LOGICAL_AND": _broadcast,
    "LOGICAL_OR": _broadcast,
    **dict.fromkeys(_COMPARISONS, _comparison),
    "SELECT_V2": _select,
    "SVDF": _svdf,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _sequence_lstm,
    "IF": _if,
    "WHILE": _while,
    "CALL_ONCE": _call_once,
    **dict.fromkeys(_SAME_SHAPE, _same_shape),
    "SignalWindow": _signal_window,
    "SignalFftAutoScale": _signal_fft_auto_scale,
    "SignalRfft": _signal_rfft,
    "SignalIrfft": _signal_irfft,
    "SignalEnergy": _signal_energy,
    "SignalFilterBank": _signal_filter_bank,
    "SignalFilterBankSquareRoot": _signal_filter_bank_square_root,
    "SignalFilterBankSpectralSubtraction": _signal_spectral_subtraction,
    "SignalFilterBankLog": _signal_filter_bank_log,
    "SignalPCAN": _signal_pcan,
    "SignalFramer": _signal_framer,
    "SignalStacker": _signal_stacker,
    "SignalDelay": _signal_delay,
    "SignalOverlapAdd": _signal_overlap_add,
    "CIRCULAR_BUFFER": _circular_buffer,
    DETECTION_POSTPROCESS: _detection_postprocess,
    DECODE: _decode,
}

SIGNAL_OPERATORS = frozenset(SIGNAL_ATTRIBUTES)
"""TFLM's signal library and CIRCULAR_BUFFER."""
CUSTOM_OPERATORS = SIGNAL_OPERATORS | {DETECTION_POSTPROCESS, DECODE}
"""The custom operators mcudeploy knows by name."""


def waits_for_frames(op: Operator) -> bool:
    """Whether the operator can end a run before the layers after it (TFLM's CIRCULAR_BUFFER
    returning kTfLiteAbort until cycles_max frames came; with 1 it never does)."""
    return op.op_type == "CIRCULAR_BUFFER" and signal_attributes(op, "cycles_max")["cycles_max"] > 1


def can_wait(graph: Graph, op: Operator) -> bool:
    """Whether running layer `op` of `graph` (or of one of its subgraphs) can end the inference
    waiting for frames: a buffer that waits (`waits_for_frames`), or an IF, WHILE or CALL_ONCE
    running a subgraph that holds one, directly or not (TFLM passes the subgraph's kTfLiteAbort up
    through the calling layer, ending the whole inference there)."""
    return waits_for_frames(op) or any(
        any(can_wait(graph, inner) for inner in graph.subgraphs[number].operators)
        for number in o.called_subgraphs(op.options)
    )


def frame_buffers(graph: Graph) -> list[Operator]:
    """The layers, in the main graph and the subgraphs it runs, that can end an inference waiting for frames."""
    run = [graph.subgraphs[number] for number in [0, *graph.called_order()]]
    return [op for subgraph in run for op in subgraph.operators if waits_for_frames(op)]


def graph_can_wait(graph: Graph) -> bool:
    """Whether an inference of `graph` can end waiting for frames (a streaming model)."""
    return any(can_wait(graph, op) for op in graph.operators)


def check_operator_shapes(graph: Graph, op: Operator, subgraphs: tuple[Graph, ...] = ()) -> None:
    """Raise ShapeError when an operator's declared output shapes differ from what it computes
    (or, for IF, WHILE and CALL_ONCE, from what the `subgraphs` they call take and give)."""
    rule = RULES.get(op.op_type)
    if rule is not None and op.is_custom == (op.op_type in CUSTOM_OPERATORS):
        rule(OpShapes(graph, op, subgraphs or graph.subgraphs))
