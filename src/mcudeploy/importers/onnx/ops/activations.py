"""Relu, Clip, Sigmoid, Tanh, HardSwish, LeakyRelu: elementwise, in the input's own layout."""

from __future__ import annotations

from mcudeploy.importers.onnx.convert import Context, Int8, converts
from mcudeploy.importers.onnx.rewrite import clip_bounds
from mcudeploy.ir import Quantization
from mcudeploy.ir.options import LeakyReluOptions

_CLIPS = {(0.0, None): "RELU", (0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}
_SIMPLE = {"Relu": "RELU", "HardSwish": "HARD_SWISH"}
_LOGISTIC_INT8 = Quantization.per_tensor(1 / 256, -128)
"""TFLite's int8 LOGISTIC always outputs scale 1/256, zero point -128."""


def unary(ctx: Context, op_type: str, options=None, fixed: Quantization | None = None) -> None:
    name = ctx.input_name(0)
    layout = ctx.layout(name)
    x = ctx.tensor(name, layout)
    ctx.emit(op_type, [x], [ctx.output(0, layout, fixed=fixed)], options)


@converts("Relu", "HardSwish", int8=Int8.BETWEEN_QDQ)
def simple(ctx: Context) -> None:
    unary(ctx, _SIMPLE[ctx.node.op_type])


@converts("Clip", int8=Int8.BETWEEN_QDQ)
def clip(ctx: Context) -> None:
    bounds = clip_bounds(ctx.model, ctx.node)
    if bounds not in _CLIPS:
        raise ctx.unsupported(f"Clip to {bounds} (only [0, inf), [0, 6] and [-1, 1] are supported)")
    unary(ctx, _CLIPS[bounds])


@converts("Sigmoid", int8=Int8.BETWEEN_QDQ)
def sigmoid(ctx: Context) -> None:
    unary(ctx, "LOGISTIC", fixed=_LOGISTIC_INT8)


@converts("Tanh")
def tanh(ctx: Context) -> None:
    unary(ctx, "TANH")


@converts("LeakyRelu", int8=Int8.BETWEEN_QDQ)
def leaky_relu(ctx: Context) -> None:
    unary(ctx, "LEAKY_RELU", LeakyReluOptions(alpha=ctx.attr("alpha", 0.01, float)))
