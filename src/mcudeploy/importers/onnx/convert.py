"""The walk from ONNX nodes to IR operators, and what operator converters call.

Each ONNX value becomes a `Value`: an IR tensor and the layout it is held in.
Quantized graphs (QDQ, and QOperator rewritten as QDQ) are folded into int8 IR
tensors: a DequantizeLinear output is a *view* of its int8 source; an operator
whose inputs are all such views (or quantized constants) and whose output feeds
one QuantizeLinear runs in int8, writing the quantized tensor directly. Anything
else runs in float, the views dequantized where a float operator reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import Enum

import numpy as np

from mcudeploy.errors import ModelError, UnsupportedOperatorError
from mcudeploy.importers.onnx import layout as lay
from mcudeploy.importers.onnx.model import Node, OnnxModel
from mcudeploy.ir import NO_TENSOR, Activation, DType, Graph, GraphBuilder, Quantization
from mcudeploy.ir.options import OperatorOptions, ReshapeOptions

_DTYPES = {np.dtype(d.value): d for d in DType if d not in (DType.RESOURCE, DType.INT4)}
FUSED_ACTIVATION = "_mcudeploy_activation"
"""Attribute the rewrite pass sets on a node that absorbed the Relu/Clip after it."""


class Int8(Enum):
    """How an operator may run on quantized inputs."""

    NEVER = "never"
    BETWEEN_QDQ = "between"
    """Only when every output feeds one QuantizeLinear, whose scale it takes."""
    PASS_THROUGH = "pass"
    """Moves or selects values: the output keeps the input's quantization."""


@dataclass
class Value:
    shape: tuple[int, ...]
    """The ONNX shape."""
    layout: lay.Layout
    ir: int | None = None
    """The IR tensor; for a view, its float form once a float operator asked for one."""
    source: Value | None = None
    """For a DequantizeLinear output: the int8 value it dequantizes."""


@dataclass
class Weights:
    """A constant in ONNX axis order, float or int8 with its quantization (`axis` for per-channel)."""

    data: np.ndarray
    scale: np.ndarray | None = None
    zero_point: np.ndarray | None = None
    axis: int | None = None

    def transposed(self, perm: Sequence[int]) -> Weights:
        axis = None if self.axis is None else list(perm).index(self.axis)
        return replace(self, data=np.transpose(self.data, perm), axis=axis)

    @property
    def quantization(self) -> Quantization | None:
        if self.scale is None:
            return None
        if self.axis is None or self.scale.size == 1:
            return Quantization.per_tensor(float(self.scale.reshape(-1)[0]), int(self.zero_point.reshape(-1)[0]))
        return Quantization.per_axis(self.scale, np.broadcast_to(self.zero_point, self.scale.shape), self.axis)


@dataclass(frozen=True)
class Converter:
    run: Callable[[Context], None]
    int8: Int8
    bias_inputs: tuple[int, ...] = ()
    """Inputs that may stay float constants in a quantized node (quantized to int32 here)."""


CONVERTERS: dict[str, Converter] = {}


def converts(*op_types: str, int8: Int8 = Int8.NEVER, bias_inputs: tuple[int, ...] = ()):
    def register(fn: Callable[[Context], None]) -> Callable[[Context], None]:
        for op_type in op_types:
            CONVERTERS[op_type] = Converter(fn, int8, bias_inputs)
        return fn

    return register


class Context:
    """The conversion's state; `node` and `quantized` describe the node being converted."""

    def __init__(self, model: OnnxModel, subject: str) -> None:
        self.model = model
        self.subject = subject
        self.builder = GraphBuilder(model.name)
        self.values: dict[str, Value] = {}
        self.qconstants: dict[str, Weights] = {}
        self.consumers: dict[str, list[Node]] = {}
        for node in model.nodes:
            for name in node.inputs:
                self.consumers.setdefault(name, []).append(node)
        self.absorbed: set[int] = set()
        self._held: dict[tuple[int, lay.Layout], int] = {}
        self.converted: list[str] = []
        """Graph inputs and outputs held NHWC where the ONNX model has them NCHW."""
        self.pending_requantizations: list[tuple[int, int]] = []
        """(int8 tensor in a fixed quantization, the tensor its QuantizeLinear asked for)"""
        self.node: Node
        self.quantized = False

    # ------------------------------------------------------------------ errors and attributes

    def unsupported(self, reason: str) -> UnsupportedOperatorError:
        return UnsupportedOperatorError(self.subject, f"{self.node.label}: {reason}")

    def malformed(self, reason: str) -> ModelError:
        return ModelError(self.subject, f"{self.node.label}: {reason}")

    def attr(self, name: str, default, kind: type):
        value = self.node.attributes.get(name, default)
        if kind is tuple:
            if not isinstance(value, list | tuple) or not all(isinstance(v, int) for v in value):
                raise self.malformed(f"attribute '{name}' must be a list of integers, got {value!r}")
            return tuple(int(v) for v in value)
        if kind is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, kind):
            raise self.malformed(f"attribute '{name}' must be {kind.__name__}, got {value!r}")
        return value

    def input_name(self, i: int) -> str:
        inputs = self.node.inputs
        return inputs[i] if i < len(inputs) else ""

    # ------------------------------------------------------------------ reading values

    def shape(self, name: str) -> tuple[int, ...]:
        if name in self.values:
            return self.values[name].shape
        if name in self.model.constants:
            return self.model.constants[name].shape
        if name in self.qconstants:
            return self.qconstants[name].data.shape
        raise self.malformed(f"value '{name}' has no static shape")

    def out_shape(self, i: int = 0) -> tuple[int, ...]:
        name = self.node.outputs[i]
        if name not in self.model.shapes:
            raise self.malformed(f"output '{name}' has no static shape")
        return self.model.shapes[name]

    def is_constant(self, name: str) -> bool:
        return name in self.model.constants or name in self.qconstants

    def constant(self, name: str) -> np.ndarray:
        """A constant's value (dequantized, as onnxruntime computes it, if quantized)."""
        if name in self.model.constants:
            return self.model.constants[name]
        if name in self.qconstants:
            return dequantized(self.qconstants[name])
        raise self.unsupported(f"input '{name}' must be a constant")

    def weights(self, name: str) -> Weights:
        """A constant operand: int8 with its scales in a quantized node, float otherwise."""
        if self.quantized and name in self.qconstants:
            return self.qconstants[name]
        return Weights(np.asarray(self.constant(name), dtype=np.float32))

    def layout(self, name: str) -> lay.Layout:
        return self.values[name].layout if name in self.values else lay.identity(len(self.shape(name)))

    def value_quantization(self, name: str) -> Quantization | None:
        """The quantization of what `tensor(name, ...)` returns in this node."""
        if self.quantized and name in self.qconstants:
            return self.qconstants[name].quantization
        value = self.int8_value(name) if self.quantized else None
        return None if value is None else self.builder.tensors[value.ir].quantization

    def int8_value(self, name: str) -> Value | None:
        """The quantized int8 data of value `name`: a view's source, or the value itself when int8."""
        value = self.values.get(name)
        if value is None:
            return None
        if value.source is not None:
            return value.source
        tensor = self.builder.tensors[value.ir]
        return value if tensor.dtype == DType.INT8 and tensor.quantization is not None else None

    def tensor(self, name: str, layout: lay.Layout | None = None) -> int:
        """The IR tensor holding ONNX value `name` in `layout` (its own layout if None)."""
        if not name:
            return NO_TENSOR
        if self.is_constant(name):
            weights = self.weights(name)
            if layout is not None:
                weights = weights.transposed(layout)
            return self.add_constant(weights, name)
        value = self._value(name)
        if value.source is not None:
            value = value.source if self.quantized else self._dequantized(name, value)
        target = value.layout if layout is None else tuple(layout)
        return self.held_in(value.ir, value.layout, target)

    def linear(self, name: str) -> int:
        """An IR tensor whose data, read in order, is the ONNX value in ONNX order (for reshapes)."""
        value = self.values.get(name)
        if value is not None and lay.keeps_data_order(value.layout, value.shape):
            return self.tensor(name)
        return self.tensor(name, lay.identity(len(self.shape(name))))

    def _value(self, name: str) -> Value:
        if name not in self.values:
            raise self.malformed(f"input '{name}' is not produced by any earlier node")
        return self.values[name]

    def held_in(self, index: int, source: lay.Layout, target: lay.Layout) -> int:
        if source == target:
            return index
        key = (index, target)
        if key not in self._held:
            tensor = self.builder.tensors[index]
            perm = lay.permutation_between(source, target)
            out = self.new_tensor(tuple(tensor.shape[p] for p in perm), tensor.dtype, tensor.quantization)
            perm_index = self.builder.tensor((len(perm),), DType.INT32, data=np.array(perm, dtype=np.int32))
            self.emit("TRANSPOSE", [index, perm_index], [out])
            self._held[key] = out
        return self._held[key]

    def _dequantized(self, name: str, view: Value) -> Value:
        if view.ir is None:
            source = self.builder.tensors[view.source.ir]
            view.ir = self.new_tensor(source.shape, DType.FLOAT32, name=name)
            self.emit("DEQUANTIZE", [view.source.ir], [view.ir])
        return Value(view.shape, view.layout, view.ir)

    # ------------------------------------------------------------------ writing values

    def new_tensor(self, shape, dtype: DType, quantization: Quantization | None = None, name: str | None = None) -> int:
        index = self.builder.tensor(shape, dtype, name=name)
        self.builder.tensors[index].quantization = quantization
        return index

    def add_constant(self, weights: Weights, name: str) -> int:
        dtype = _DTYPES.get(weights.data.dtype)
        if dtype is None:
            raise self.unsupported(f"constant '{name}' of type {weights.data.dtype}")
        index = self.builder.tensor(weights.data.shape, dtype, data=weights.data, name=name)
        self.builder.tensors[index].quantization = weights.quantization
        return index

    def int32_constant(self, values: Sequence[int] | np.ndarray) -> int:
        data = np.asarray(values, dtype=np.int32)
        return self.builder.tensor(data.shape, DType.INT32, data=data)

    def reshaped(self, index: int, shape: Sequence[int]) -> int:
        """A RESHAPE of IR tensor `index` to `shape` (same data order)."""
        tensor = self.builder.tensors[index]
        shape = tuple(int(d) for d in shape)
        if shape == tensor.shape:
            return index
        out = self.new_tensor(shape, tensor.dtype, tensor.quantization)
        self.emit("RESHAPE", [index, self.int32_constant(shape)], [out], ReshapeOptions(new_shape=shape))
        return out

    @property
    def activation(self) -> Activation:
        """The activation folded into this node (see rewrite.py)."""
        return self.node.attributes.get(FUSED_ACTIVATION, Activation.NONE)

    def emit(self, op_type: str, inputs: Sequence[int], outputs: Sequence[int], options: OperatorOptions | None = None):
        self.builder.op(op_type, inputs, outputs, options)

    def output(self, i: int, layout: lay.Layout, like: str | None = None, fixed: Quantization | None = None) -> int:
        """Make the IR tensor of output `i` held in `layout`.

        Quantized, the tensor is int8: a pass-through operator keeps the quantization of
        input `like`; others take the scale of the QuantizeLinear they feed, or `fixed` (the
        only output quantization TFLite accepts for the operator) then requantized to it.
        """
        name = self.node.outputs[i]
        shape = self.out_shape(i)
        if not self.quantized:
            dtype = _DTYPES.get(self.model.dtypes.get(name, np.dtype(np.float32)))
            if dtype is None:
                raise self.unsupported(f"output '{name}' of type {self.model.dtypes[name]}")
            index = self.new_tensor(lay.ir_shape(shape, layout), dtype, name=name)
            self.values[name] = Value(shape, layout, index)
            return index
        converter = CONVERTERS[self.node.op_type]
        if converter.int8 is Int8.PASS_THROUGH:  # a view in, a view out; int8 in, int8 out
            source = like or self.node.inputs[0]
            index = self.new_tensor(lay.ir_shape(shape, layout), DType.INT8, self.value_quantization(source), name=name)
            int8 = Value(shape, layout, index)
            self.values[name] = Value(shape, layout, source=int8) if self.values[source].source else int8
            return index
        quantize = self.consumers[name][0]
        self.absorbed.add(id(quantize))
        target = self.quantize_parameters(quantize)
        index = self.new_tensor(lay.ir_shape(shape, layout), DType.INT8, fixed or target, name=quantize.outputs[0])
        final = index
        if fixed is not None and fixed != target:
            final = self.new_tensor(lay.ir_shape(shape, layout), DType.INT8, target, name=quantize.outputs[0])
            self.pending_requantizations.append((index, final))
        self.values[quantize.outputs[0]] = Value(shape, layout, final)
        return index

    def alias(self, i: int, name: str, layout: lay.Layout) -> None:
        """Output `i` is input `name`'s IR data seen in another layout (Transpose, Identity)."""
        value = self._value(name)
        source = value.source
        if source is not None:
            source = Value(self.out_shape(i), layout, source.ir)
        self.values[self.node.outputs[i]] = Value(self.out_shape(i), layout, value.ir, source)

    # ------------------------------------------------------------------ quantization

    def quantize_parameters(self, quantize: Node) -> Quantization:
        """A QuantizeLinear's (or DequantizeLinear's) per-tensor scale and zero point, as int8."""
        stored = self.model.dtypes.get(quantize.outputs[0], np.dtype(np.uint8))
        weights = self.qdq_parameters(quantize, np.zeros((), dtype=stored))
        if weights.scale.size != 1:
            raise self.unsupported(f"per-channel quantization of activations ('{quantize.name}')")
        return weights.quantization

    def qdq_parameters(self, node: Node, data: np.ndarray) -> Weights:
        """`data` with node's scale, zero point and axis, uint8 turned into int8 (zero point - 128)."""
        scale = np.asarray(self.model.constants.get(node.inputs[1]) if len(node.inputs) > 1 else None)
        if scale.dtype != np.float32 or scale.ndim > 1 or scale.size == 0:
            raise UnsupportedOperatorError(self.subject, f"{node.label}: the scale must be a float32 constant")
        if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
            raise ModelError(self.subject, f"{node.label}: scale {scale.tolist()} is not positive")
        zero_name = node.inputs[2] if len(node.inputs) > 2 else ""
        zero_point = self.model.constants.get(zero_name) if zero_name else np.zeros(scale.shape, dtype=data.dtype)
        if zero_point is None:
            raise UnsupportedOperatorError(self.subject, f"{node.label}: the zero point must be a constant")
        if zero_point.dtype not in (np.int8, np.uint8, np.int32) or zero_point.size != scale.size:
            raise UnsupportedOperatorError(self.subject, f"{node.label}: {zero_point.dtype} quantization")
        if node.attributes.get("block_size"):
            raise UnsupportedOperatorError(self.subject, f"{node.label}: blocked quantization")
        uint8 = zero_point.dtype == np.uint8
        scale, zero_point = scale.reshape(-1), zero_point.astype(np.int64).reshape(-1)
        if uint8:  # the same reals in int8: q - 128 with zero point - 128
            zero_point = zero_point - 128
            data = (data.astype(np.int16) - 128).astype(np.int8)
        axis = None
        if scale.size > 1:
            axis = int(node.attributes.get("axis", 1))
            if not -data.ndim <= axis < data.ndim or data.shape[axis] != scale.size:
                raise ModelError(self.subject, f"{node.label}: {scale.size} scales for axis {axis} of {data.shape}")
            axis %= data.ndim
        return Weights(data, scale.astype(np.float64), zero_point, axis)

    def bias(self, name: str, input_name: str, weights: Weights, channels: int) -> int:
        """The bias input (one value per output channel): float32, or int32 with scale input scale x
        weight scale in a quantized node."""
        if not name:
            return NO_TENSOR
        if self.shape(name) != (channels,):
            raise self.malformed(f"bias '{name}' of shape {list(self.shape(name))}, expected [{channels}]")
        if not self.quantized:
            return self.add_constant(Weights(np.asarray(self.constant(name), dtype=np.float32)), name)
        if name in self.qconstants and self.qconstants[name].data.dtype == np.int32:
            return self.add_constant(self.qconstants[name], name)
        scale = self.value_quantization(input_name).single_scale * weights.scale.reshape(-1)
        values = np.asarray(self.constant(name), dtype=np.float64) / scale
        int32 = np.clip(np.round(values), -(2**31), 2**31 - 1).astype(np.int32)
        return self.add_constant(Weights(int32, scale, np.zeros_like(scale, np.int64), 0), name)


def dequantized(weights: Weights) -> np.ndarray:
    """(q - zero point) x scale in float32, as DequantizeLinear computes it."""
    shape = [1] * weights.data.ndim
    if weights.axis is not None:
        shape[weights.axis] = -1
    scale = weights.scale.astype(np.float32).reshape(shape or ())
    zero_point = weights.zero_point.reshape(shape or ())
    return ((weights.data.astype(np.int64) - zero_point).astype(np.float32) * scale).astype(np.float32)


def convert(model: OnnxModel, subject: str) -> Graph:
    """The IR graph of a read ONNX model."""
    from mcudeploy.importers.onnx import ops  # noqa: F401 - registers the converters

    ctx = Context(model, subject)
    inputs = [_graph_input(ctx, name) for name in model.inputs]
    for node in model.nodes:
        if id(node) in ctx.absorbed:
            continue
        ctx.node = node
        converter = CONVERTERS.get(node.op_type) if not node.domain or node.domain == "ai.onnx" else None
        if converter is None:
            raise ctx.unsupported("operator not supported by the ONNX importer")
        ctx.quantized = _runs_quantized(ctx, node, converter)
        converter.run(ctx)
        for source, target in ctx.pending_requantizations:
            ctx.emit("QUANTIZE", [source], [target])
        ctx.pending_requantizations.clear()
    ctx.quantized = False
    outputs = [_graph_output(ctx, name) for name in model.outputs]
    graph = ctx.builder.build(inputs, outputs)
    graph.source = subject
    graph.metadata["converted_layouts"] = "; ".join(ctx.converted)
    return graph


def _graph_input(ctx: Context, name: str) -> int:
    shape = ctx.model.shapes.get(name)
    if shape is None:
        raise ModelError(ctx.subject, f"input '{name}' has no static shape")
    consumers = ctx.consumers.get(name, [])
    # A 4-D image goes channels last, unless the model takes NHWC and transposes it to NCHW itself (a TF export).
    from_nhwc = consumers and all(node.attributes.get("perm") == [0, 3, 1, 2] for node in consumers)
    layout = lay.spatial(len(shape)) if len(shape) == 4 and not from_nhwc else lay.identity(len(shape))
    dtype = _DTYPES.get(ctx.model.dtypes.get(name))
    if dtype is None:
        raise ModelError(ctx.subject, f"input '{name}' has element type {ctx.model.dtypes.get(name)}")
    index = ctx.new_tensor(lay.ir_shape(shape, layout), dtype, name=name)
    ctx.values[name] = Value(shape, layout, index)
    if layout != lay.identity(len(shape)):
        ctx.converted.append(f"input '{name}' NCHW {list(shape)} → NHWC {list(lay.ir_shape(shape, layout))}")
    return index


def _graph_output(ctx: Context, name: str) -> int:
    if name not in ctx.values:
        raise ModelError(ctx.subject, f"output '{name}' is a constant or is not computed by the graph")
    value = ctx.values[name]
    ctx.node = Node(name, "output", [name], [], {})
    target = lay.spatial(4) if len(value.shape) == 4 else lay.identity(len(value.shape))
    if target != lay.identity(len(value.shape)):
        ctx.converted.append(
            f"output '{name}' NCHW {list(value.shape)} → NHWC {list(lay.ir_shape(value.shape, target))}"
        )
    return ctx.tensor(name, target)


def _runs_quantized(ctx: Context, node: Node, converter: Converter) -> bool:
    """Whether the node can run on int8 data (see the module's docstring)."""
    if converter.int8 is Int8.NEVER:
        return False
    views = 0
    for i, name in enumerate(node.inputs):
        if not name:
            continue
        if name in ctx.model.constants:
            is_float = ctx.model.constants[name].dtype.kind == "f"
            if is_float and (converter.int8 is Int8.PASS_THROUGH or i not in converter.bias_inputs):
                return False
        elif name not in ctx.qconstants:
            if ctx.int8_value(name) is None:
                return False
            views += 1
    if views == 0:
        return False
    if converter.int8 is Int8.PASS_THROUGH:
        return True
    graph_outputs = set(ctx.model.outputs)
    for name in node.outputs:
        consumers = ctx.consumers.get(name, [])
        if name in graph_outputs or len(consumers) != 1 or consumers[0].op_type != "QuantizeLinear":
            return False
        quantize = consumers[0]
        if quantize.inputs[0] != name or ctx.model.dtypes.get(quantize.outputs[0]) not in (np.int8, np.uint8):
            return False
        scale = ctx.model.constants.get(quantize.inputs[1])
        if scale is None or scale.size != 1:
            return False
    return True
