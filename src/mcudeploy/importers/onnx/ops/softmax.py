"""Softmax over one axis (opset 13+), or over the flattened trailing axes (opsets 11-12)."""

from __future__ import annotations

import math

from mcudeploy.importers.onnx.convert import Context, Int8, converts
from mcudeploy.importers.onnx.layout import identity
from mcudeploy.ir import Quantization
from mcudeploy.ir.options import SoftmaxOptions

_INT8_OUTPUT = Quantization.per_tensor(1 / 256, -128)
"""TFLite's int8 SOFTMAX always outputs scale 1/256, zero point -128."""


@converts("Softmax", int8=Int8.BETWEEN_QDQ)
def softmax(ctx: Context) -> None:
    name = ctx.input_name(0)
    shape = ctx.shape(name)
    rank = len(shape)
    axis = ctx.attr("axis", -1 if ctx.model.opset >= 13 else 1, int)
    if not -rank <= axis < rank:
        raise ctx.malformed(f"axis {axis} outside rank {rank}")
    axis %= rank
    if ctx.model.opset >= 13 or all(d == 1 for d in shape[axis + 1 :]):
        # TFLite's SOFTMAX works on the last axis: hold the data with `axis` last.
        layout = (*tuple(a for a in ctx.layout(name) if a != axis), axis)
        out = ctx.output(0, layout, fixed=_INT8_OUTPUT)
        ctx.emit("SOFTMAX", [ctx.tensor(name, layout)], [out], SoftmaxOptions())
        return
    # Opsets 11-12 normalize over everything from `axis` on, as one row per leading index.
    rows = ctx.reshaped(ctx.linear(name), (math.prod(shape[:axis]), math.prod(shape[axis:])))
    tensor = ctx.builder.tensors[rows]
    quantization = _INT8_OUTPUT if ctx.quantized else None
    normalized = ctx.new_tensor(tensor.shape, tensor.dtype, quantization)
    ctx.emit("SOFTMAX", [rows], [normalized], SoftmaxOptions())
    out = ctx.output(0, identity(rank), fixed=_INT8_OUTPUT)
    ctx.emit("RESHAPE", [normalized, ctx.int32_constant(shape)], [out])
