"""Operators that move values: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Identity, Concat, Pad.

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
from mcudeploy.ir.options import ConcatenationOptions


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
