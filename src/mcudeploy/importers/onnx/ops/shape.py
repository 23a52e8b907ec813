"""Operators that move values: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Identity, Concat, Pad,
Slice, Split.

Transpose and Identity emit nothing: the output is the input's IR data seen in
another layout. The reshapes read the data in ONNX order: after an NHWC feature
map that is a TRANSPOSE back to NCHW first, unless only axes of size 1 are out
of place (a Flatten after global pooling), where the data order is the same.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.importers.onnx.convert import Context, Int8, converts
from mcudeploy.importers.onnx.layout import after_transpose, identity, ir_axis
from mcudeploy.importers.onnx.window import pad_constant
from mcudeploy.ir.options import ConcatenationOptions, SplitOptions, StridedSliceOptions


@converts("Reshape", "Flatten", "Squeeze", "Unsqueeze", int8=Int8.PASS_THROUGH)
def reshape(ctx: Context) -> None:
    """Every reshape: the output shape is the inferred one, the data keeps its ONNX order."""
    x = ctx.linear(ctx.input_name(0))
    shape = ctx.out_shape()
    out = ctx.output(0, identity(len(shape)))
    ctx.emit("RESHAPE", [x, ctx.int32_constant(shape)], [out])


@converts("Transpose", int8=Int8.PASS_THROUGH)
def transpose(ctx: Context) -> None:
    name = ctx.input_name(0)
    rank = len(ctx.shape(name))
    perm = ctx.attr("perm", tuple(reversed(range(rank))), tuple)
    if sorted(perm) != list(range(rank)):
        raise ctx.malformed(f"perm {list(perm)} is not a permutation of {rank} axes")
    ctx.alias(0, name, after_transpose(ctx.layout(name), perm))


@converts("Identity", "Dropout", int8=Int8.PASS_THROUGH)
def identity_op(ctx: Context) -> None:
    name = ctx.input_name(0)
    ctx.alias(0, name, ctx.layout(name))


@converts("Concat", int8=Int8.BETWEEN_QDQ)
def concat(ctx: Context) -> None:
    names = [n for n in ctx.node.inputs if n]
    rank = len(ctx.out_shape())
    computed = [n for n in names if not ctx.is_constant(n)]
    layout = ctx.layout(computed[0]) if computed else identity(rank)
    axis = ctx.attr("axis", 0, int)
    if not -rank <= axis < rank:
        raise ctx.malformed(f"axis {axis} outside rank {rank}")
    inputs = [ctx.tensor(n, layout) for n in names]
    out = ctx.output(0, layout)
    if ctx.quantized:  # TFLite Micro concatenates int8 values of one quantization only
        inputs = [_requantized(ctx, i, out) for i in inputs]
    ctx.emit("CONCATENATION", inputs, [out], ConcatenationOptions(axis=ir_axis(axis, layout)))


def _requantized(ctx: Context, index: int, like: int) -> int:
    tensor, target = ctx.builder.tensors[index], ctx.builder.tensors[like].quantization
    if tensor.quantization == target:
        return index
    out = ctx.new_tensor(tensor.shape, tensor.dtype, target)
    ctx.emit("QUANTIZE", [index], [out])
    return out


@converts("Pad", int8=Int8.PASS_THROUGH)
def pad(ctx: Context) -> None:
    name = ctx.input_name(0)
    rank = len(ctx.shape(name))
    if ctx.attr("mode", "constant", str) != "constant" or ctx.input_name(3):
        raise ctx.unsupported("only constant padding of every axis is supported")
    pads = [int(p) for p in np.ravel(ctx.constant(ctx.input_name(1)))]
    if len(pads) != 2 * rank or min(pads, default=0) < 0:
        raise ctx.unsupported(f"pads {pads} (negative pads crop, which is not supported)")
    value = float(np.ravel(ctx.constant(ctx.input_name(2)))[0]) if ctx.input_name(2) else 0.0
    layout = ctx.layout(name)
    x = ctx.tensor(name, layout)
    paddings = ctx.int32_constant([(pads[a], pads[a + rank]) for a in layout])
    out = ctx.output(0, layout)
    if value == 0.0:
        ctx.emit("PAD", [x, paddings], [out])
    else:
        ctx.emit("PADV2", [x, paddings, pad_constant(ctx, ctx.builder.tensors[x], value)], [out])


@converts("Slice", int8=Int8.PASS_THROUGH)
def slice_op(ctx: Context) -> None:
    """Constant starts, ends, axes and positive steps → STRIDED_SLICE with the bounds resolved here."""
    name = ctx.input_name(0)
    shape = ctx.shape(name)
    rank = len(shape)
    starts, ends = (_ints(ctx, ctx.input_name(i)) for i in (1, 2))
    axes = _ints(ctx, ctx.input_name(3)) if ctx.input_name(3) else list(range(len(starts)))
    steps = _ints(ctx, ctx.input_name(4)) if ctx.input_name(4) else [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps) or any(not -rank <= a < rank for a in axes):
        raise ctx.malformed(f"starts {starts}, ends {ends}, axes {axes}, steps {steps} do not fit rank {rank}")
    if any(step <= 0 for step in steps):
        raise ctx.unsupported("a Slice with a step below 1 (reversing) is not supported")
    begin, end, stride = [0] * rank, list(shape), [1] * rank
    for start, stop, axis, step in zip(starts, ends, axes, steps, strict=True):
        axis %= rank
        size = shape[axis]
        begin[axis] = min(max(start + size if start < 0 else start, 0), size)
        end[axis] = min(max(stop + size if stop < 0 else stop, 0), size)
        stride[axis] = step
    layout = ctx.layout(name)
    bounds = [ctx.int32_constant([values[a] for a in layout]) for values in (begin, end, stride)]
    ctx.emit("STRIDED_SLICE", [ctx.tensor(name, layout), *bounds], [ctx.output(0, layout)], StridedSliceOptions())


@converts("Split", int8=Int8.PASS_THROUGH)
def split(ctx: Context) -> None:
    name = ctx.input_name(0)
    rank = len(ctx.shape(name))
    axis = ctx.attr("axis", 0, int)
    if not -rank <= axis < rank:
        raise ctx.malformed(f"axis {axis} outside rank {rank}")
    widths = [ctx.out_shape(i)[axis] for i in range(len(ctx.node.outputs))]
    layout = ctx.layout(name)
    outputs = [ctx.output(i, layout) for i in range(len(ctx.node.outputs))]
    inputs = [ctx.tensor(name, layout), ctx.int32_constant(widths), ctx.int32_constant(ir_axis(axis, layout))]
    ctx.emit("SPLIT_V", inputs, outputs, SplitOptions(num_splits=len(outputs)))


def _ints(ctx: Context, name: str) -> list[int]:
    return [int(v) for v in np.ravel(ctx.constant(name))]
