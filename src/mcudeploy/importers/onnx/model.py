"""An ONNX file read, checked and made static: the form the converter walks.

Everything the file claims is checked before it is used (the checker, opset
range, initializer sizes, static shapes), so that a malformed file gives one
ModelError line. Subgraphs that only compute constants (Constant nodes, shape
arithmetic of PyTorch exports) are evaluated here, so the converter sees real
operators and constant arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference
from onnx.reference import ReferenceEvaluator

from mcudeploy.errors import ModelError, UnsupportedOperatorError
from mcudeploy.files import read_regular
from mcudeploy.importers.onnx.qoperator import expand_qoperators
from mcudeploy.importers.tflite.reader import MAX_MODEL_BYTES, MAX_TENSOR_BYTES

OLDEST_OPSET = 11
NEWEST_OPSET = onnx.defs.onnx_opset_version()
MAX_FOLDED_ELEMENTS = 1 << 24
"""Constant subgraphs larger than this are not evaluated at import (no MCU model has one)."""

_NOT_FOLDED = {"QuantizeLinear", "DequantizeLinear"}
"""Kept as nodes even on constants: the converter reads their scales into the IR's quantization."""


@dataclass
class Node:
    name: str
    op_type: str
    inputs: list[str]
    outputs: list[str]
    attributes: dict[str, object]
    domain: str = ""
    proto: onnx.NodeProto | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"node '{self.name}' ({self.op_type})"


@dataclass
class OnnxModel:
    name: str
    nodes: list[Node]
    constants: dict[str, np.ndarray]
    shapes: dict[str, tuple[int, ...]]
    dtypes: dict[str, np.dtype]
    inputs: list[str]
    outputs: list[str]
    opset: int
    fixed_dims: list[str] = field(default_factory=list)
    """Symbolic input dimensions (a batch size) fixed to 1."""


def read_onnx_model(path: Path) -> OnnxModel:
    subject = str(path)
    data = read_regular(path, MAX_MODEL_BYTES, ModelError)  # a regular file of bounded size, as every model
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as error:  # protobuf's DecodeError and friends
        raise ModelError(subject, f"not an ONNX model ({_first_line(error)})") from None
    return _Reading(proto, subject).model()


class _Reading:
    def __init__(self, proto: onnx.ModelProto, subject: str) -> None:
        self.proto = proto
        self.subject = subject

    def fail(self, reason: str) -> ModelError:
        return ModelError(self.subject, reason)

    def model(self) -> OnnxModel:
        proto = self.proto
        if not proto.graph.node:
            raise self.fail("not an ONNX model, or one without a graph (no nodes)")
        opset = self._opset()
        self._check_initializers()
        try:
            expand_qoperators(proto.graph, self.subject)
        except (ValueError, TypeError) as error:  # scales the file gives malformed
            raise self.fail(f"a QOperator node cannot be read: {_first_line(error)}") from None
        try:
            onnx.checker.check_model(proto)
        except Exception as error:
            raise self.fail(f"invalid ONNX model: {_first_line(error)}") from None
        fixed_dims = self._fix_symbolic_input_dims()
        try:
            inferred = shape_inference.infer_shapes(proto, check_type=True, strict_mode=True, data_prop=True)
        except Exception as error:
            raise self.fail(f"shapes cannot be inferred: {_first_line(error)}") from None
        graph = inferred.graph
        constants = {init.name: self._initializer(init) for init in graph.initializer}
        shapes, dtypes = self._value_types(graph)
        for name, array in constants.items():
            shapes[name], dtypes[name] = array.shape, array.dtype
        inputs = [value.name for value in graph.input if value.name not in constants]
        nodes = self._fold_constants([_node(node, i) for i, node in enumerate(graph.node)], constants, shapes)
        return OnnxModel(
            name=graph.name or Path(self.subject).stem,
            nodes=nodes,
            constants=constants,
            shapes=shapes,
            dtypes=dtypes,
            inputs=inputs,
            outputs=[value.name for value in graph.output],
            opset=opset,
            fixed_dims=fixed_dims,
        )

    def _opset(self) -> int:
        versions = {entry.domain or "ai.onnx": entry.version for entry in self.proto.opset_import}
        if "ai.onnx" not in versions:
            raise self.fail("the model imports no version of the default ONNX operator set")
        opset = versions["ai.onnx"]
        if not OLDEST_OPSET <= opset <= NEWEST_OPSET:
            raise self.fail(
                f"opset {opset} is outside the {OLDEST_OPSET}..{NEWEST_OPSET} this importer reads "
                f"(re-export with an opset in that range)"
            )
        return opset

    def _check_initializers(self) -> None:
        for init in self.proto.graph.initializer:
            if init.data_location == onnx.TensorProto.EXTERNAL:
                raise self.fail(f"initializer '{init.name}' keeps its data in an external file, which is not read")
            if any(d < 0 for d in init.dims):
                raise self.fail(f"initializer '{init.name}' has a negative dimension in {list(init.dims)}")
            try:
                itemsize = onnx.helper.tensor_dtype_to_np_dtype(init.data_type).itemsize
            except Exception:
                raise self.fail(f"initializer '{init.name}' has unknown element type {init.data_type}") from None
            if math.prod(init.dims) * itemsize > MAX_TENSOR_BYTES:
                raise self.fail(f"initializer '{init.name}' claims shape {list(init.dims)}: not plausible")

    def _initializer(self, init: onnx.TensorProto) -> np.ndarray:
        try:
            array = numpy_helper.to_array(init)
        except Exception as error:
            raise self.fail(f"initializer '{init.name}' is malformed ({_first_line(error)})") from None
        if array.shape != tuple(init.dims):
            raise self.fail(
                f"initializer '{init.name}' holds {array.size} values, its shape {list(init.dims)} needs more"
            )
        array.flags.writeable = False
        return array

    def _fix_symbolic_input_dims(self) -> list[str]:
        """A symbolic dimension of an input (a batch size) becomes 1: an MCU runs one sample at a time."""
        fixed = []
        initializers = {init.name for init in self.proto.graph.initializer}
        for value in self.proto.graph.input:
            if value.name in initializers:
                continue
            if not value.type.HasField("tensor_type") or not value.type.tensor_type.HasField("shape"):
                raise self.fail(f"input '{value.name}' has no tensor shape")
            for dim in value.type.tensor_type.shape.dim:
                if not dim.HasField("dim_value"):
                    fixed.append(f"{value.name}:{dim.dim_param or '?'}")
                    dim.Clear()
                    dim.dim_value = 1
                elif dim.dim_value <= 0:
                    raise self.fail(f"input '{value.name}' has dimension {dim.dim_value}")
        return fixed

    def _value_types(self, graph: onnx.GraphProto) -> tuple[dict[str, tuple[int, ...]], dict[str, np.dtype]]:
        shapes, dtypes = {}, {}
        for value in [*graph.input, *graph.value_info, *graph.output]:
            tensor_type = value.type.tensor_type
            if not tensor_type.HasField("shape"):
                continue
            dims = tensor_type.shape.dim
            if all(d.HasField("dim_value") for d in dims):
                shape = tuple(int(d.dim_value) for d in dims)
                if min(shape, default=0) < 0 or math.prod(shape) * 8 > MAX_TENSOR_BYTES:
                    raise self.fail(f"value '{value.name}' has the implausible inferred shape {list(shape)}")
                shapes[value.name] = shape
            if tensor_type.elem_type:
                dtypes[value.name] = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
        return shapes, dtypes

    def _fold_constants(
        self, nodes: list[Node], constants: dict[str, np.ndarray], shapes: dict[str, tuple[int, ...]]
    ) -> list[Node]:
        """Evaluate the nodes whose inputs are all known at import; return the others."""
        kept = []
        for node in nodes:
            if node.op_type == "Shape" and node.inputs and node.inputs[0] in shapes and not node.attributes:
                constants[node.outputs[0]] = np.array(shapes[node.inputs[0]], dtype=np.int64)
                continue
            known = all(name in constants for name in node.inputs if name)
            if node.domain or node.op_type in _NOT_FOLDED or not known:
                kept.append(node)
                continue
            sizes = [math.prod(shapes.get(name, (MAX_FOLDED_ELEMENTS + 1,))) for name in node.outputs]
            if max(sizes, default=0) > MAX_FOLDED_ELEMENTS:
                raise self.fail(f"{node.label} computes a constant without a plausible static shape")
            for name, value in zip(node.outputs, self._evaluate(node, constants), strict=True):
                value = np.asarray(value)
                value.flags.writeable = False
                constants[name] = value
                shapes[name] = value.shape
        return kept

    def _evaluate(self, node: Node, constants: dict[str, np.ndarray]) -> list[np.ndarray]:
        try:
            evaluator = ReferenceEvaluator(node.proto, opsets={"": self._opset()})
            return evaluator.run(None, {name: constants[name] for name in node.inputs if name})
        except Exception as error:
            raise self.fail(f"{node.label} cannot be evaluated at import: {_first_line(error)}") from None


def _node(proto: onnx.NodeProto, index: int) -> Node:
    attributes = {}
    for attribute in proto.attribute:
        value = onnx.helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        elif isinstance(value, onnx.TensorProto):
            value = numpy_helper.to_array(value)
        attributes[attribute.name] = value
    name = proto.name or (proto.output[0] if proto.output else f"node_{index}")
    return Node(name, proto.op_type, list(proto.input), list(proto.output), attributes, proto.domain, proto)


def _first_line(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return " ".join(text.splitlines()[0].split())


def unsupported(subject: str, node: Node, reason: str = "operator not supported by the ONNX importer") -> Exception:
    return UnsupportedOperatorError(subject, f"{node.label}: {reason}")
