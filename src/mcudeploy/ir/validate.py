"""Graph semantics checked once, at import, so that every later stage can trust the graph.

`load_model` calls `validate_graph` on what any importer returns. After it:
operators are a DAG in execution order (each reads only graph inputs, constants
or outputs of earlier operators; each tensor has at most one writer); required
inputs are present; shapes agree with weights, options and parameters as the
operator computes them (`ir.shapes`); window options are positive; quantized
tensors have finite, positive, normal scales and zero points their type holds;
every dimension is positive and sizes are bounded. A violation is one
ModelError naming the operator (index and type) and the tensor (index and name).
"""

from __future__ import annotations

import math

import numpy as np

from mcudeploy.errors import ModelError
from mcudeploy.ir.graph import NO_TENSOR, Graph, Operator
from mcudeploy.ir.options import called_subgraphs
from mcudeploy.ir.shapes import ARITIES, CUSTOM_OPERATORS, MAX_TENSOR_BYTES, Arity, ShapeError, check_operator_shapes
from mcudeploy.ir.tensor import DType, Tensor

MAX_TOTAL_BYTES = 1 << 30
"""All tensors together, for the same reason."""
MAX_RANK = 8

_QUANTIZED_TYPES = (DType.INT4, DType.INT8, DType.INT16)
"""Types whose values mean nothing without a scale, wherever an operator mcudeploy runs reads or writes them."""
_INT4_FILTER_OPERATORS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})
_POSITIVE_OPTIONS = (
    "stride_h",
    "stride_w",
    "dilation_h",
    "dilation_w",
    "filter_h",
    "filter_w",
    "depth_multiplier",
    "block_size",
)
_SMALLEST_SCALE = float(np.finfo(np.float32).tiny)
"""Scales are float32 in every format: below this they are denormal, and their reciprocals overflow."""


def validate_graph(graph: Graph) -> None:
    """Raise ModelError (subject: the model) on the first thing later stages could not trust,
    in any of its subgraphs."""
    for number, subgraph in enumerate(graph.subgraphs):
        _Validator(subgraph, graph.subgraphs, number).run()
    _check_no_recursion(graph)


def _check_no_recursion(graph: Graph) -> None:
    """Subgraphs that call each other in a cycle would recurse without end (TFLM has no stack for it)."""
    calls = [
        {index for op in subgraph.operators for index in called_subgraphs(op.options)} for subgraph in graph.subgraphs
    ]

    def visit(number: int, path: tuple[int, ...]) -> None:
        for callee in sorted(calls[number]):
            if callee in path:
                cycle = " -> ".join(str(i) for i in (*path[path.index(callee) :], callee))
                raise ModelError(graph.subject, f"subgraphs call each other in a cycle ({cycle}): it never ends")
            visit(callee, (*path, callee))

    visit(0, (0,))


class _Validator:
    def __init__(self, graph: Graph, subgraphs: tuple[Graph, ...] = (), number: int = 0) -> None:
        self.graph = graph
        self.subgraphs = subgraphs or (graph,)
        self.number = number
        """The subgraph's index in the file: 0 is the main graph, the others are called by it."""

    def fail(self, reason: str, tensor: int | None = None, op: Operator | None = None) -> ModelError:
        where = [f"subgraph {self.number}"] if self.number else []
        if op is not None:
            where.append(f"operator {op.label}")
        if tensor is not None:
            where.append(self._tensor_label(tensor))
        return ModelError(self.graph.subject, ", ".join(where) + ": " + reason if where else reason)

    def _tensor_label(self, index: int) -> str:
        return f"tensor {index} '{self.graph.tensors[index].name}'"

    def run(self) -> None:
        total = 0
        carriers = self._quantization_carriers()
        for tensor in self.graph.tensors:
            self._tensor(tensor, may_be_empty=tensor.index in carriers)
            total += tensor.nbytes
        if total > MAX_TOTAL_BYTES:
            raise self.fail(f"tensors of {total:,} bytes together: not plausible for a microcontroller")
        self._graph_ends()
        written = self._execution_order()
        if self.number:  # a called subgraph may pass an input or a constant straight through
            written |= set(self.graph.inputs) | {t.index for t in self.graph.constants()}
        for index in self.graph.outputs:
            if index not in written:
                raise self.fail("is a graph output no operator writes", index)
        for op in self.graph.operators:
            self._operator(op)

    # --------------------------------------------------------------------- tensors

    def _quantization_carriers(self) -> set[int]:
        """Operators' intermediates no operator reads or writes: they hold a scale, never data
        (TensorFlow's converter writes them empty)."""
        used = {i for op in self.graph.operators for i in (*op.inputs, *op.outputs)}
        used |= {*self.graph.inputs, *self.graph.outputs}
        return {i for op in self.graph.operators for i in op.intermediates} - used

    def _tensor(self, tensor: Tensor, may_be_empty: bool = False) -> None:
        index = tensor.index
        if len(tensor.shape) > MAX_RANK:
            raise self.fail(f"rank {len(tensor.shape)} is above {MAX_RANK}", index)
        if any(d <= 0 for d in tensor.shape) and not (may_be_empty and all(d >= 0 for d in tensor.shape)):
            raise self.fail(f"shape {list(tensor.shape)} has a dimension below 1 (empty tensors are refused)", index)
        nbytes = tensor.dtype.nbytes(math.prod(tensor.shape))
        if nbytes > MAX_TENSOR_BYTES:
            raise self.fail(f"{nbytes:,} bytes (shape {list(tensor.shape)}): not plausible", index)
        if tensor.dtype == DType.INT4 and not tensor.is_constant:
            raise self.fail("int4 activations: TFLite Micro reads int4 only as constant filters", index)
        if tensor.quantization is not None:
            self._quantization(tensor)

    def _quantization(self, tensor: Tensor) -> None:
        quantization, index = tensor.quantization, tensor.index
        scales, zero_points = quantization.scale, quantization.zero_point
        if scales.size == 0 or zero_points.size != scales.size:
            raise self.fail(f"{scales.size} scales and {zero_points.size} zero points", index)
        if quantization.per_channel and not (
            0 <= quantization.axis < len(tensor.shape) and tensor.shape[quantization.axis] == scales.size
        ):
            raise self.fail(f"{scales.size} scales on axis {quantization.axis} of shape {list(tensor.shape)}", index)
        if not np.issubdtype(tensor.dtype.numpy, np.integer):
            return  # float and bool tensors ignore what quantization they carry
        bad = [s for s in scales.tolist() if not (math.isfinite(s) and s >= _SMALLEST_SCALE)]
        if bad:
            raise self.fail(f"quantization scale {bad[0]!r} is not a finite positive normal number", index)
        low, high = _zero_point_range(tensor.dtype)
        bad = [z for z in zero_points.tolist() if not low <= z <= high]
        if bad:
            raise self.fail(f"zero point {bad[0]} is outside [{low}, {high}] for {tensor.dtype}", index)

    # ----------------------------------------------------------------- structure

    def _graph_ends(self) -> None:
        graph = self.graph
        if not graph.inputs and not self.number:
            raise self.fail("the graph has no inputs")
        if not graph.outputs and not self.number:  # CALL_ONCE's subgraph has neither: it only sets variables
            raise self.fail("the graph has no outputs")
        for what, indices in (("input", graph.inputs), ("output", graph.outputs)):
            for index in indices:
                if not 0 <= index < len(graph.tensors):
                    raise self.fail(f"graph {what} {index} is not a tensor")
            if len(set(indices)) != len(indices):
                raise self.fail(f"a tensor is listed twice among the graph {what}s {list(indices)}")
        for index in graph.inputs:
            if graph.tensors[index].is_constant:
                raise self.fail("is a graph input but a constant", index)

    def _execution_order(self) -> set[int]:
        """Walk the operators in order: every input available before use, every tensor written once.
        Returns the tensors operators write."""
        graph = self.graph
        # state (variable tensors) holds its reset value before the first operator runs
        available = set(graph.inputs) | {t.index for t in graph.tensors if t.is_constant or t.is_variable}
        written: set[int] = set()
        for op in graph.operators:
            for position, index in enumerate(op.inputs):
                if index == NO_TENSOR:
                    continue
                if not 0 <= index < len(graph.tensors):
                    raise self.fail(f"input {position} is tensor {index}, which does not exist", op=op)
                if index not in available:
                    producer = next((later for later in graph.operators if index in later.outputs), None)
                    if producer is None and not _runs(op):
                        continue  # an operator only other hardware runs may own scratch tensors (Vela's ethos-u)
                    why = "nothing writes it" if producer is None else f"operator {producer.label} writes it later"
                    raise self.fail(f"is read before it is written ({why})", index, op)
            if not op.outputs and op.op_type not in _STATE_WRITERS:
                raise self.fail("has no outputs", op=op)
            for index in op.outputs:
                if not 0 <= index < len(graph.tensors):
                    raise self.fail(f"output {index} is not a tensor", op=op)
                if graph.tensors[index].is_constant:
                    raise self.fail("is a constant but written by the operator", index, op)
                # a variable tensor may be one operator's output too (CIRCULAR_BUFFER's history)
                if index in available and not (graph.tensors[index].is_variable and index not in written):
                    raise self.fail("is written twice (graph input, or output of another operator)", index, op)
                available.add(index)
                written.add(index)
        return written

    # ----------------------------------------------------------------- operators

    def _operator(self, op: Operator) -> None:
        if not _runs(op):
            return  # later stages refuse it by name
        arity = ARITIES[op.op_type]
        self._arity(op, arity)
        self._options(op, arity)
        self._int4_filters(op)
        self._types(op, arity)
        self._scales(op, arity)
        try:
            check_operator_shapes(self.graph, op, self.subgraphs)
        except ShapeError as error:
            raise self.fail(error.reason, error.tensor, op) from None

    def _arity(self, op: Operator, arity: Arity) -> None:
        count = len(op.inputs)
        most = arity.most if arity.most is not None else count
        if not arity.required <= count <= most:
            expected = f"{arity.required}" if arity.required == most else f"{arity.required} to {most}"
            raise self.fail(f"has {count} inputs, takes {expected}", op=op)
        for position, index in enumerate(op.inputs):
            if index == NO_TENSOR and position not in arity.optional:
                raise self.fail(f"required input {position} is absent (-1)", op=op)
        if arity.outputs is not None and len(op.outputs) != arity.outputs:
            raise self.fail(f"has {len(op.outputs)} outputs, gives {arity.outputs}", op=op)
        for position in arity.parameters:
            index = op.inputs[position]
            if not self.graph.tensors[index].is_constant:
                raise self.fail("decides the output shape, so it must be a constant", index, op)

    def _scales(self, op: Operator, arity: Arity) -> None:
        if not arity.needs_scales:
            return
        for index in (*op.inputs, *op.outputs):
            tensor = self.graph.tensors[index] if index != NO_TENSOR else None
            if tensor is None or tensor.dtype not in _QUANTIZED_TYPES:
                continue
            if tensor.quantization is None:
                raise self.fail(f"{tensor.dtype} tensor without quantization parameters", index, op)
            data = op.inputs[arity.typed_inputs[0] if arity.typed_inputs else 0]
            activation = index == data or index in op.outputs
            if (
                arity.symmetric_int16
                and activation
                and tensor.dtype == DType.INT16
                and tensor.quantization.zero_point.any()
            ):
                raise self.fail(f"int16 zero point {tensor.quantization.single_zero_point}, must be 0", index, op)

    def _int4_filters(self, op: Operator) -> None:
        """int4 constants only where TFLite Micro unpacks them: the filter of an int8 CONV_2D,
        DEPTHWISE_CONV_2D or FULLY_CONNECTED, the last per tensor only (its int4 path has no per-channel
        multipliers)."""
        for position, index in enumerate(op.inputs):
            if index == NO_TENSOR or self.graph.tensors[index].dtype != DType.INT4:
                continue
            data = self.graph.tensors[op.inputs[0]].dtype
            if op.op_type not in _INT4_FILTER_OPERATORS or position != 1 or data != DType.INT8:
                raise self.fail(
                    "int4 is read by TFLite Micro only as the filter of an int8 CONV_2D, DEPTHWISE_CONV_2D "
                    "or FULLY_CONNECTED",
                    index,
                    op,
                )
            quantization = self.graph.tensors[index].quantization
            if op.op_type == "FULLY_CONNECTED" and quantization is not None and quantization.scale.size > 1:
                raise self.fail("per-channel int4 weights: TFLite Micro's FULLY_CONNECTED refuses them", index, op)

    def _types(self, op: Operator, arity: Arity) -> None:
        """Outputs share the element type of the inputs that carry the data (TFLite's kernels check it)."""
        if arity.typed_inputs is None:
            return
        positions = range(len(op.inputs)) if arity.most is None else arity.typed_inputs
        dtype = self.graph.tensors[op.outputs[0]].dtype
        typed = [op.inputs[p] for p in positions if p < len(op.inputs)] + list(op.outputs)
        for index in typed:
            if index != NO_TENSOR and self.graph.tensors[index].dtype != dtype:
                raise self.fail(f"is {self.graph.tensors[index].dtype}, the operator's output {dtype}", index, op)

    def _options(self, op: Operator, arity: Arity) -> None:
        options = op.options
        if arity.options is not None and not isinstance(options, arity.options):
            raise self.fail(f"options are {type(options).__name__}, {arity.options.__name__} expected", op=op)
        for name in _POSITIVE_OPTIONS:
            value = getattr(options, name, 1)
            if value < 1:
                raise self.fail(f"{name} is {value}, must be at least 1", op=op)
        for name in ("beta", "alpha"):
            value = getattr(options, name, 0.0)
            if not math.isfinite(value):
                raise self.fail(f"{name} is {value}, must be finite", op=op)


_STATE_WRITERS = frozenset({"ASSIGN_VARIABLE", "CALL_ONCE"})
"""Operators whose only effect is on state kept across inferences: they have no output tensor."""


def _runs(op: Operator) -> bool:
    """Whether mcudeploy runs this operator (and so knows its semantics)."""
    return op.op_type in ARITIES and op.is_custom == (op.op_type in CUSTOM_OPERATORS)


def _zero_point_range(dtype: DType) -> tuple[int, int]:
    info = np.iinfo(dtype.numpy)
    return int(info.min), int(info.max)
