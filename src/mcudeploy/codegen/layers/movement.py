"""Operators that move values without arithmetic: the reshape family, TRANSPOSE, STRIDED_SLICE,
CONCATENATION, PACK, SPLIT, SPLIT_V, UNPACK, PAD, PADV2, RESIZE_NEAREST_NEIGHBOR, SHAPE and FILL.
All work on bytes, for any element type."""

from __future__ import annotations

import math

import numpy as np

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType, Tensor
from mcudeploy.ir.shapes import positive_axis
from mcudeploy.params.movement import prepare_pad, prepare_resize, prepare_slice
from mcudeploy.params.shapes import MAX_DIMS, contiguous_strides, dims

SOURCES = ("md_copy.c",)


def check_rank(ctx: LayerContext, rank: int) -> None:
    if rank > MAX_DIMS:
        raise ctx.unsupported(f"rank {rank} above {MAX_DIMS}")


@emits("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
def reshape(ctx: LayerContext) -> LayerCode:
    """No code when the plan gives the output the input's bytes; a copy otherwise (a constant input)."""
    source, target = ctx.input_tensor(0), ctx.output_tensor()
    if source.size != target.size:
        raise ctx.unsupported(f"{source.size} values cannot take the shape {list(target.shape)}")
    same_bytes = source.index in ctx.arena_offsets and ctx.arena_offsets[source.index] == ctx.arena_offsets.get(
        target.index
    )
    if same_bytes or target.nbytes == 0:
        return LayerCode((), "MD_OK")
    return LayerCode(SOURCES, f"md_copy({ctx.input_ref(0)}, {ctx.output_ref()}, {target.nbytes})")


def strided_copy(ctx: LayerContext, shape: list[int], strides: list[int], start: int) -> LayerCode:
    """One md_strided_copy: output element (i0, ...) is input element start + sum(i_d strides[d])."""
    check_rank(ctx, len(shape))
    fields = {
        "rank": max(len(shape), 1),
        "shape": dims(shape or [1], 1),
        "strides": dims(strides or [0]),
        "start": start,
        "element_bytes": ctx.output_tensor().dtype.itemsize,
    }
    call = f"md_strided_copy(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
    return LayerCode(SOURCES, call, [ctx.params("md_strided_copy_params", fields)])


@emits("TRANSPOSE")
def transpose(ctx: LayerContext) -> LayerCode:
    shape = ctx.input_tensor(0).shape
    perm = [int(p) for p in np.ravel(ctx.constant_values(1))]
    if sorted(perm) != list(range(len(shape))):
        raise ctx.unsupported(f"perm {perm} is not a permutation of the input's axes")
    strides = contiguous_strides(shape)
    return strided_copy(ctx, [shape[p] for p in perm], [strides[p] for p in perm], 0)


@emits("STRIDED_SLICE")
def strided_slice(ctx: LayerContext) -> LayerCode:
    """The indices the engine selects, as one strided copy; a shrunk axis is walked once."""
    ctx.require_constants(1, 2, 3)
    params = ctx.prepared(prepare_slice)
    axes = list(zip(params.ranges, contiguous_strides(ctx.input_tensor(0).shape), strict=True))
    counts = [len(indices) for indices, _ in axes]
    strides = [indices.step * stride for indices, stride in axes]
    start = sum(indices.start * stride for indices, stride in axes if len(indices))
    if params.kept_shape != ctx.output_tensor().shape or math.prod(counts) != ctx.output_tensor().size:
        raise ctx.unsupported("the slice's shape differs from the output's (masks TFLite Micro ignores)")
    return strided_copy(ctx, counts, strides, start)


def _pieces(joined: Tensor, tensors: list[Tensor], axis: int) -> tuple[int, list[int]]:
    """(outer blocks, bytes of each tensor's piece per block) around `axis` of the joined tensor."""
    outer = math.prod(joined.shape[:axis])
    return outer, [t.size // outer * t.dtype.itemsize if outer else 0 for t in tensors]


def pointer_array(ctx: LayerContext, tensors: list[Tensor], name: str, const: bool, ctype: str = "void") -> str:
    """A C array of pointers to the tensors, to `ctype` values (const ones with `const`)."""
    qualifier = f"const {ctype} *const" if const else f"{ctype} *const"
    refs = ", ".join(ctx.tensor_ref(t) for t in tensors)
    return f"{qualifier} {name}[{len(tensors)}] = {{{refs}}};"


def _bytes_array(values: list[int]) -> str:
    return f"static const int32_t pieces[{len(values)}] = {{{', '.join(str(v) for v in values)}}};"


@emits("CONCATENATION", "PACK")
def concatenation(ctx: LayerContext) -> LayerCode:
    output = ctx.output_tensor()
    inputs = [ctx.input_tensor(i) for i in range(len(ctx.op.inputs))]
    if any(t is None or t.dtype != output.dtype for t in inputs):
        raise ctx.unsupported("inputs and output of different types")
    axis = positive_axis(ctx.options.axis, len(output.shape), ctx.label)
    outer, pieces = _pieces(output, inputs, axis)
    declarations = [pointer_array(ctx, inputs, "inputs", const=True), _bytes_array(pieces)]
    call = f"md_concatenate({len(inputs)}, inputs, pieces, {outer}, {ctx.output_ref()})"
    return LayerCode(SOURCES, call, declarations)


@emits("SPLIT", "SPLIT_V", "UNPACK")
def split(ctx: LayerContext) -> LayerCode:
    data_position = 1 if ctx.op.op_type == "SPLIT" else 0
    data = ctx.input_tensor(data_position)
    if ctx.op.op_type == "UNPACK":
        axis = positive_axis(ctx.options.axis, len(data.shape), ctx.label)
    else:
        axis_position = 0 if ctx.op.op_type == "SPLIT" else 2
        axis = positive_axis(int(np.ravel(ctx.constant_values(axis_position))[0]), len(data.shape), ctx.label)
    outputs = [ctx.output_tensor(i) for i in range(len(ctx.op.outputs))]
    outer, pieces = _pieces(data, outputs, axis)
    if sum(pieces) * outer != data.nbytes:
        raise ctx.unsupported("the outputs do not tile the input")
    declarations = [pointer_array(ctx, outputs, "outputs", const=False), _bytes_array(pieces)]
    call = f"md_split({len(outputs)}, {ctx.input_ref(data_position)}, outputs, pieces, {outer})"
    return LayerCode(SOURCES, call, declarations)


@emits("PAD", "PADV2")
def pad(ctx: LayerContext) -> LayerCode:
    ctx.require_constants(1)
    check_rank(ctx, len(ctx.input_tensor(0).shape))
    ctx.require_constants(2)
    call = f"md_pad(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
    return LayerCode(SOURCES, call, [ctx.params("md_pad_params", ctx.prepared(prepare_pad))])


@emits("RESIZE_NEAREST_NEIGHBOR")
def resize_nearest_neighbor(ctx: LayerContext) -> LayerCode:
    if len(ctx.input_tensor(0).shape) != 4 or len(ctx.output_tensor().shape) != 4:
        raise ctx.unsupported("input and output must be NHWC (rank 4)")
    params = ctx.prepared(prepare_resize)
    declarations = [ctx.params("md_resize_params", params)]
    for name, table in (("rows", params.rows), ("columns", params.columns)):
        declarations.append(f"static const int32_t {name}[{len(table)}] = {{{', '.join(str(int(v)) for v in table)}}};")
    call = f"md_resize_nearest(&params, rows, columns, {ctx.input_ref(0)}, {ctx.output_ref()})"
    return LayerCode(SOURCES, call, declarations)


@emits("SHAPE")
def shape(ctx: LayerContext) -> LayerCode:
    """The input's dimensions, known when the code is generated: copied from a constant array."""
    if ctx.output_tensor().dtype != DType.INT32:
        raise ctx.dtype_error(ctx.output_tensor())
    dims = ctx.input_tensor(0).shape or (1,)
    declarations = [f"static const int32_t dims[{len(dims)}] = {{{', '.join(str(d) for d in dims)}}};"]
    call = f"md_copy(dims, {ctx.output_ref()}, {4 * len(ctx.input_tensor(0).shape)})"
    return LayerCode(SOURCES, call, declarations)


@emits("FILL")
def fill(ctx: LayerContext) -> LayerCode:
    """The scalar value input repeated over the output."""
    output = ctx.output_tensor()
    call = f"md_fill({ctx.input_ref(1)}, {ctx.output_ref()}, {output.size}, {output.dtype.itemsize})"
    return LayerCode(SOURCES, call)
