"""QuantizeLinear and DequantizeLinear: where the int8 IR tensors begin and end.

A DequantizeLinear of a constant makes a quantized constant (weights, biases);
of a computed int8 value, a view that quantized operators read as int8 and float
operators through a DEQUANTIZE. A QuantizeLinear that no operator absorbed is a
QUANTIZE (from float, or a requantization of a view), or nothing when it
restores the view's own quantization.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.importers.onnx.convert import Context, Value, Weights, converts
from mcudeploy.ir import DType


@converts("DequantizeLinear")
def dequantize(ctx: Context) -> None:
    name, output = ctx.input_name(0), ctx.node.outputs[0]
    if name in ctx.qconstants:  # a weight quantized at import (QuantizeLinear of a float constant)
        ctx.qconstants[output] = ctx.qconstants[name]
        return
    if name in ctx.model.constants:
        data = ctx.model.constants[name]
        if data.dtype not in (np.int8, np.uint8, np.int32):
            raise ctx.unsupported(f"dequantizing {data.dtype} values")
        ctx.qconstants[output] = ctx.qdq_parameters(ctx.node, data)
        return
    value = ctx.values.get(name)
    if value is None or value.ir is None or ctx.builder.tensors[value.ir].dtype != DType.INT8:
        raise ctx.unsupported("dequantizing a value that is not a computed int8 tensor")
    tensor = ctx.builder.tensors[value.ir]
    stored = ctx.model.dtypes.get(name, np.dtype(np.int8))
    quantization = ctx.qdq_parameters(ctx.node, np.zeros((), dtype=stored)).quantization
    if tensor.quantization is None:  # an int8 graph input: its scale is known from here
        tensor.quantization = quantization
    elif tensor.quantization != quantization:
        raise ctx.unsupported("dequantizing with other parameters than the value was quantized with")
    ctx.values[output] = Value(value.shape, value.layout, source=value)


@converts("QuantizeLinear")
def quantize(ctx: Context) -> None:
    name, output = ctx.input_name(0), ctx.node.outputs[0]
    if ctx.model.dtypes.get(output) not in (np.int8, np.uint8):
        raise ctx.unsupported(f"quantizing to {ctx.model.dtypes.get(output)} (only int8 and uint8)")
    if name in ctx.model.constants or name in ctx.qconstants:
        ctx.qconstants[output] = _quantized_constant(ctx, np.asarray(ctx.constant(name), np.float32))
        return
    target = ctx.quantize_parameters(ctx.node)
    value = ctx.values.get(name)
    if value is None:
        raise ctx.malformed(f"input '{name}' is not produced by any earlier node")
    if value.source is not None and ctx.builder.tensors[value.source.ir].quantization == target:
        ctx.values[output] = value.source
        return
    source = value.source.ir if value.source is not None else ctx.tensor(name)
    out = ctx.new_tensor(ctx.builder.tensors[source].shape, DType.INT8, target, name=output)
    ctx.emit("QUANTIZE", [source], [out])
    ctx.values[output] = Value(value.shape, value.layout, out)


def _quantized_constant(ctx: Context, values: np.ndarray) -> Weights:
    """A float constant quantized as QuantizeLinear does: round half to even, saturate."""
    stored = ctx.model.dtypes.get(ctx.node.outputs[0])
    template = ctx.qdq_parameters(ctx.node, np.zeros(values.shape, dtype=stored))
    shape = [1] * values.ndim
    if template.axis is not None:
        shape[template.axis] = -1
    scale = template.scale.astype(np.float32).reshape(shape or ())
    zero_point = template.zero_point.reshape(shape or ())
    q = np.clip(np.rint(values / scale) + zero_point, -128, 127).astype(np.int8)
    template.data = q
    return template
