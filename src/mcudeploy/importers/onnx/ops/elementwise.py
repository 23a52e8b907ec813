"""Add, Sub, Mul, Div by a constant (numpy broadcasting, constants reshaped and transposed at import) and
unfolded BatchNormalization."""

from __future__ import annotations

import numpy as np

from mcudeploy.importers.onnx.convert import Context, Int8, Weights, converts
from mcudeploy.importers.onnx.layout import Layout, identity
from mcudeploy.ir.options import ElementwiseOptions

_OPS = {"Add": "ADD", "Sub": "SUB", "Mul": "MUL"}


@converts("Add", "Sub", "Mul", int8=Int8.BETWEEN_QDQ)
def binary(ctx: Context) -> None:
    names = ctx.node.inputs[:2]
    layout = broadcast_layout(ctx, names)
    operands = [operand(ctx, name, layout) for name in names]
    options = ElementwiseOptions(activation=ctx.activation)
    ctx.emit(_OPS[ctx.node.op_type], operands, [ctx.output(0, layout)], options)


def broadcast_layout(ctx: Context, names: list[str]) -> Layout:
    """The layout of the first computed input of the output's rank (others follow it), else ONNX order."""
    rank = len(ctx.out_shape())
    computed = [n for n in names if not ctx.is_constant(n) and len(ctx.shape(n)) == rank]
    return ctx.layout(computed[0]) if computed else identity(rank)


def operand(ctx: Context, name: str, layout: Layout) -> int:
    """Input `name` broadcast-ready in `layout`: its rank raised to the output's by leading 1s."""
    rank = len(layout)
    shape = ctx.shape(name)
    if len(shape) > rank:
        raise ctx.malformed(f"input '{name}' has a higher rank than the output")
    ones = (1,) * (rank - len(shape))
    if ctx.is_constant(name):
        weights = ctx.weights(name)
        axis = None if weights.axis is None else weights.axis + len(ones)
        raised = Weights(weights.data.reshape(ones + shape), weights.scale, weights.zero_point, axis)
        return ctx.add_constant(raised.transposed(layout), name)
    if not ones:
        return ctx.tensor(name, layout)
    raised = ctx.reshaped(ctx.linear(name), ones + shape)
    return ctx.held_in(raised, identity(rank), layout)


@converts("Div")
def divide(ctx: Context) -> None:
    """A division by a constant: a MUL by its reciprocal (float; within an ulp of the division)."""
    divisor = ctx.input_name(1)
    if not ctx.is_constant(divisor):
        raise ctx.unsupported("a division by a computed tensor (only by a constant)")
    values = np.asarray(ctx.constant(divisor))
    if values.dtype.kind != "f" or not np.all(np.isfinite(values)) or np.any(values == 0):
        raise ctx.unsupported("a division by a non-float, infinite or zero constant")
    rank = len(ctx.out_shape())
    name = ctx.input_name(0)
    layout = ctx.layout(name) if len(ctx.shape(name)) == rank else identity(rank)
    reciprocal = (1 / values.astype(np.float64)).astype(np.float32)
    ones = (1,) * (rank - reciprocal.ndim)
    constant = ctx.add_constant(Weights(reciprocal.reshape(ones + reciprocal.shape)).transposed(layout), divisor)
    options = ElementwiseOptions(activation=ctx.activation)
    ctx.emit("MUL", [operand(ctx, name, layout), constant], [ctx.output(0, layout)], options)


@converts("BatchNormalization")
def batch_normalization(ctx: Context) -> None:
    """One not folded into a convolution (see rewrite.py): a MUL and an ADD per channel."""
    x_name = ctx.input_name(0)
    shape = ctx.shape(x_name)
    gamma, beta, mean, variance = (np.asarray(ctx.constant(n), np.float64) for n in ctx.node.inputs[1:5])
    if ctx.attr("training_mode", 0, int) or len(shape) < 2 or any(p.shape != (shape[1],) for p in (gamma, mean)):
        raise ctx.unsupported("only inference-mode batch normalization with per-channel constants")
    scale = gamma / np.sqrt(variance + ctx.attr("epsilon", 1e-5, float))
    shift = beta - mean * scale
    layout = ctx.layout(x_name)
    channel = [1] * len(shape)
    channel[1] = -1
    x = ctx.tensor(x_name, layout)
    constants = [
        ctx.add_constant(Weights(v.astype(np.float32).reshape(channel)).transposed(layout), f"{ctx.node.name}/{what}")
        for v, what in ((scale, "scale"), (shift, "shift"))
    ]
    tensor = ctx.builder.tensors[x]
    scaled = ctx.new_tensor(tensor.shape, tensor.dtype)
    ctx.emit("MUL", [x, constants[0]], [scaled], ElementwiseOptions())
    ctx.emit("ADD", [scaled, constants[1]], [ctx.output(0, layout)], ElementwiseOptions())
