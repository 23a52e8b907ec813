"""Elementwise math, comparisons, logic and Where: float (and bool) only, in the inputs' own layout;
binary ones broadcast as Add does (see elementwise.py)."""

from __future__ import annotations

import numpy as np

from mcudeploy.importers.onnx.convert import Context, Weights, converts
from mcudeploy.importers.onnx.layout import Layout, ir_shape
from mcudeploy.importers.onnx.ops.activations import unary
from mcudeploy.importers.onnx.ops.elementwise import broadcast_layout, operand
from mcudeploy.ir.options import ElementwiseOptions

_UNARY = {
    "Neg": "NEG",
    "Abs": "ABS",
    "Sqrt": "SQRT",
    "Exp": "EXP",
    "Log": "LOG",
    "Sin": "SIN",
    "Cos": "COS",
    "Floor": "FLOOR",
    "Ceil": "CEIL",
    "Round": "ROUND",  # both round half to even
    "Not": "LOGICAL_NOT",
}
_BINARY = {
    "Equal": "EQUAL",
    "Less": "LESS",
    "LessOrEqual": "LESS_EQUAL",
    "Greater": "GREATER",
    "GreaterOrEqual": "GREATER_EQUAL",
    "And": "LOGICAL_AND",
    "Or": "LOGICAL_OR",
    "Xor": "NOT_EQUAL",  # on bools
}
_VARIADIC = {"Min": "MINIMUM", "Max": "MAXIMUM"}
_POWERS = {2.0: "SQUARE", 0.5: "SQRT"}


@converts(*_UNARY)
def simple_unary(ctx: Context) -> None:
    unary(ctx, _UNARY[ctx.node.op_type])


@converts("Elu")
def elu(ctx: Context) -> None:
    if ctx.attr("alpha", 1.0, float) != 1.0:
        raise ctx.unsupported("Elu with alpha other than 1 (TFLite's ELU has alpha 1)")
    unary(ctx, "ELU")


@converts("Pow")
def power(ctx: Context) -> None:
    exponent = ctx.input_name(1)
    values = np.asarray(ctx.constant(exponent)) if ctx.is_constant(exponent) else None
    if values is None or values.size != 1 or float(values.reshape(())) not in _POWERS:
        raise ctx.unsupported("Pow other than by a constant 2 (SQUARE) or 0.5 (SQRT)")
    unary(ctx, _POWERS[float(values.reshape(()))])


@converts("Reciprocal")
def reciprocal(ctx: Context) -> None:
    """1 / x as a DIV (IEEE division, as onnxruntime's)."""
    name = ctx.input_name(0)
    layout = ctx.layout(name)
    one = ctx.add_constant(Weights(np.ones((1,) * len(layout), np.float32)), f"{ctx.node.name}/one")
    ctx.emit("DIV", [one, ctx.tensor(name, layout)], [ctx.output(0, layout)], ElementwiseOptions())


@converts(*_BINARY, "Where")
def broadcast(ctx: Context) -> None:
    names = list(ctx.node.inputs)
    layout = broadcast_layout(ctx, names)
    op_type = "SELECT_V2" if ctx.node.op_type == "Where" else _BINARY[ctx.node.op_type]
    ctx.emit(op_type, [_operand(ctx, n, layout) for n in names], [ctx.output(0, layout)])


@converts(*_VARIADIC)
def variadic(ctx: Context) -> None:
    """Min/Max of any number of inputs: a chain of MINIMUM/MAXIMUM, each result broadcast so far."""
    names = list(ctx.node.inputs)
    layout = broadcast_layout(ctx, names)
    if len(names) == 1:
        ctx.alias(0, names[0], layout)
        return
    rank = len(layout)
    op_type = _VARIADIC[ctx.node.op_type]
    result = _operand(ctx, names[0], layout)
    shape = (1,) * (rank - len(ctx.shape(names[0]))) + ctx.shape(names[0])
    for i, name in enumerate(names[1:], start=2):
        shape = np.broadcast_shapes(shape, (1,) * (rank - len(ctx.shape(name))) + ctx.shape(name))
        tensor = ctx.builder.tensors[result]
        out = ctx.output(0, layout) if i == len(names) else ctx.new_tensor(ir_shape(shape, layout), tensor.dtype)
        ctx.emit(op_type, [result, _operand(ctx, name, layout)], [out])
        result = out


def _operand(ctx: Context, name: str, layout: Layout) -> int:
    """`operand`, refusing constants that are not float (they would be read as float)."""
    if ctx.is_constant(name) and np.asarray(ctx.constant(name)).dtype.kind != "f":
        raise ctx.unsupported(f"constant input '{name}' of type {np.asarray(ctx.constant(name)).dtype}")
    return operand(ctx, name, layout)
