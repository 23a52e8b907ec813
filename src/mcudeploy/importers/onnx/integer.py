"""ConvInteger and MatMulInteger rewritten as their QDQ meaning, where TFLite int8 computes it.

    x_q ← QuantizeLinear(x, s_x, z_x)
    ConvInteger(x_q, w_q, z_x, z_w) → Cast(float) → Mul(s) [→ Add(b)]

is s · Σ (x_q - z_x)(w_q - z_w) [+ b]: a convolution of DequantizeLinear(x_q, s_x, z_x) with
weights w_q of scale s / s_x, plus bias b. Written so, the converter's QDQ path imports it as
an int8 CONV_2D / FULLY_CONNECTED when a QuantizeLinear follows (with a fused Relu or Clip in
between), as it does QLinearConv; the float bias becomes int32 in steps of s, as TFLite's. Without
a QuantizeLinear after it, it runs in float on the dequantized weights, as any QDQ operator.

What TFLite int8 cannot compute is refused with the node named: activations quantized at each
inference (DynamicQuantizeLinear, from onnxruntime's quantize_dynamic), weights with a zero
point (TFLite's kernels take symmetric weights; uint8 with zero point 128 is int8 shifted), an
input zero point other than its tensor's, a rescale other than a positive per-channel constant,
and a MatMulInteger of two computed tensors.
"""

from __future__ import annotations

import numpy as np
import onnx

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.importers.onnx.model import Node, OnnxModel

_FLOAT_OPS = {"ConvInteger": "Conv", "MatMulInteger": "MatMul"}
_KEEP_QUANTIZATION = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Identity", "MaxPool", "Slice"}
"""Operators that move or select quantized values: their output has their input's scale and zero point."""


def expand_integer_ops(model: OnnxModel, subject: str) -> None:
    for node in [n for n in model.nodes if n.op_type in _FLOAT_OPS]:
        _Expansion(model, node, subject).run()


class _Expansion:
    def __init__(self, model: OnnxModel, node: Node, subject: str) -> None:
        self.model, self.node, self.subject = model, node, subject

    def refuse(self, reason: str, node: Node | None = None) -> UnsupportedOperatorError:
        return UnsupportedOperatorError(self.subject, f"{(node or self.node).label}: {reason}")

    def run(self) -> None:
        model, node = self.model, self.node
        x_name, w_name = node.inputs[0], node.inputs[1]
        quantize = self._input_quantizer(x_name)
        x_scale = float(model.constants[quantize.inputs[1]].reshape(-1)[0])
        if not np.isfinite(x_scale) or x_scale <= 0:
            raise self.refuse(f"input '{x_name}' has scale {x_scale}, not positive")
        chain, scale, bias = self._rescale_chain()
        out_shape = model.shapes.get(chain[-1].outputs[0])
        if out_shape is None:
            raise self.refuse("its rescaled result has no static shape")
        channel_axis = 1 if node.op_type == "ConvInteger" else len(out_shape) - 1
        scale = self._per_channel(scale, out_shape, channel_axis, "rescale")
        scale = scale[:1] if np.unique(scale).size == 1 else scale  # per tensor
        if np.any(~np.isfinite(scale)) or np.any(scale <= 0):
            raise self.refuse(f"rescale {scale.tolist()} is not positive")
        prefix = node.name
        x_float, w_int8, w_float = f"{prefix}/x", f"{prefix}/w", f"{prefix}/w_float"
        w_scale = self._constant(f"{prefix}/w_scale", scale / x_scale)
        w_zero = self._constant(f"{prefix}/w_zero", np.zeros(scale.shape, np.int8))
        self._constant(w_int8, self._symmetric_weights(w_name))
        for name, like in ((x_float, x_name), (w_float, w_int8)):
            model.shapes[name], model.dtypes[name] = model.shapes[like], np.dtype(np.float32)
        inputs = [x_float, w_float]
        if bias is not None:
            inputs.append(self._constant(f"{prefix}/bias", self._per_channel(bias, out_shape, channel_axis, "bias")))
        weight_axis = 0 if node.op_type == "ConvInteger" else 1  # output channels: Conv (O, I, kh, kw), B (K, N)
        replacement = [
            _node(x_float, "DequantizeLinear", [x_name, *quantize.inputs[1:3]], {}),
            _node(w_float, "DequantizeLinear", [w_int8, w_scale, w_zero], {"axis": weight_axis}),
            _node(prefix, _FLOAT_OPS[node.op_type], inputs, dict(node.attributes), chain[-1].outputs[0]),
        ]
        position = model.nodes.index(node)
        for done in (node, *chain):
            model.nodes.remove(done)
        model.nodes[position:position] = replacement

    def _input_quantizer(self, x_name: str) -> Node:
        """The QuantizeLinear with constant parameters that made x; the ConvInteger's zero point must be its."""
        producer = self._producer(x_name)
        while producer is not None and producer.op_type in _KEEP_QUANTIZATION:
            producer = self._producer(producer.inputs[0])
        if producer is not None and producer.op_type == "DynamicQuantizeLinear":
            raise self.refuse(
                "activations quantized at each inference from their own range (onnxruntime's quantize_dynamic) "
                "have no TFLite int8 equivalent: quantize the float model statically (mcudeploy quantize)",
                producer,
            )
        params = producer.inputs[1:3] if producer is not None and producer.op_type == "QuantizeLinear" else []
        if not params or not all(name in self.model.constants for name in params if name):
            raise self.refuse(f"input '{x_name}' must come from a QuantizeLinear with constant scale and zero point")
        if self.model.constants[params[0]].size != 1:
            raise self.refuse(f"input '{x_name}' is quantized per channel")
        own = self.model.constants[params[1]] if len(params) > 1 and params[1] else np.zeros(1, np.uint8)
        given = self._constant_input(2, "the input zero point")
        given = np.zeros(1, np.int64) if given is None else given  # ONNX's default
        if given.size != 1 or int(given.reshape(-1)[0]) != int(own.reshape(-1)[0]):
            raise self.refuse(f"input zero point {given.tolist()} differs from its QuantizeLinear's {own.tolist()}")
        return producer

    def _symmetric_weights(self, w_name: str) -> np.ndarray:
        weights = self.model.constants.get(w_name)
        if weights is None:
            what = "B" if self.node.op_type == "MatMulInteger" else "the weights"
            raise self.refuse(f"{what} must be a constant (a product of two computed tensors is not supported)")
        zero_point = self._constant_input(3, "the weight zero point")
        zero_point = np.zeros(1, weights.dtype) if zero_point is None else zero_point
        if weights.dtype == np.uint8 and np.all(zero_point == 128):  # the same values in int8, zero point 0
            return (weights.astype(np.int16) - 128).astype(np.int8)
        if weights.dtype != np.int8 or np.any(zero_point != 0):
            raise self.refuse(
                f"{weights.dtype} weights with zero point {np.unique(zero_point).tolist()}: TFLite int8 kernels take "
                "symmetric weights only (int8 with zero point 0, or uint8 with 128)"
            )
        return weights

    def _rescale_chain(self) -> tuple[list[Node], np.ndarray, np.ndarray | None]:
        """Cast(float) → Mul(constant) [→ Add(constant)] after the node: (those nodes, scale, bias)."""
        expected = "Cast to float, Mul by a constant (optionally Add a constant bias)"
        cast = self._sole_consumer(self.node)
        if cast is None or cast.op_type != "Cast" or cast.attributes.get("to") != onnx.TensorProto.FLOAT:
            raise self.refuse(f"its int32 result must be rescaled by {expected}")
        mul = self._sole_consumer(cast)
        scale = self._other_constant(mul, cast, "Mul")
        if scale is None:
            raise self.refuse(f"its int32 result must be rescaled by {expected}")
        add = self._sole_consumer(mul)
        bias = self._other_constant(add, mul, "Add")
        return ([cast, mul, add] if bias is not None else [cast, mul]), scale, bias

    def _other_constant(self, node: Node | None, after: Node, op_type: str) -> np.ndarray | None:
        if node is None or node.op_type != op_type or len(node.inputs) != 2:
            return None
        other = node.inputs[1] if node.inputs[0] == after.outputs[0] else node.inputs[0]
        value = self.model.constants.get(other)
        return None if value is None or value.dtype != np.float32 else value

    def _per_channel(self, values: np.ndarray, shape: tuple[int, ...], axis: int, what: str) -> np.ndarray:
        """One value per output channel, from a constant that broadcasts to the output along `axis` only."""
        try:
            full = np.broadcast_to(values, shape)
        except ValueError:
            raise self.refuse(f"{what} of shape {list(values.shape)} does not broadcast to {list(shape)}") from None
        index = tuple(slice(None) if i == axis else 0 for i in range(len(shape)))
        channels = full[index]
        if not np.array_equal(full, np.broadcast_to(np.expand_dims(channels, _other_axes(len(shape), axis)), shape)):
            raise self.refuse(f"{what} of shape {list(values.shape)} varies along more than the channel axis")
        return channels

    def _constant_input(self, i: int, what: str) -> np.ndarray | None:
        name = self.node.inputs[i] if i < len(self.node.inputs) else ""
        if not name:
            return None
        if name not in self.model.constants:
            raise self.refuse(f"{what} must be a constant")
        return self.model.constants[name]

    def _producer(self, name: str) -> Node | None:
        return next((n for n in self.model.nodes if name in n.outputs), None)

    def _sole_consumer(self, node: Node) -> Node | None:
        name = node.outputs[0]
        consumers = [n for n in self.model.nodes if name in n.inputs]
        return consumers[0] if len(consumers) == 1 and name not in self.model.outputs else None

    def _constant(self, name: str, array: np.ndarray | int) -> str:
        """A new constant: float32 from floats, int8 from integers."""
        array = np.asarray(array)
        array = np.ascontiguousarray(array, np.float32 if array.dtype.kind == "f" else np.int8)
        array.flags.writeable = False
        self.model.constants[name], self.model.shapes[name], self.model.dtypes[name] = array, array.shape, array.dtype
        return name


def _other_axes(rank: int, axis: int) -> tuple[int, ...]:
    return tuple(i for i in range(rank) if i != axis)


def _node(name: str, op_type: str, inputs: list[str], attributes: dict, output: str | None = None) -> Node:
    return Node(name, op_type, inputs, [output or name], attributes)
