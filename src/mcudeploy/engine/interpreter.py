"""Runs a graph operator by operator with the registered numpy kernels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import mcudeploy.engine.ops  # noqa: F401 - registers the kernels
from mcudeploy.engine.registry import KERNELS, Kernel, OpContext, RunAborted
from mcudeploy.errors import McuDeployError, UnsupportedOperatorError
from mcudeploy.ir import NO_TENSOR, Graph, Operator, Tensor
from mcudeploy.ir.validate import validate_graph
from mcudeploy.params.variables import ResourceLayout, resource_layout


@dataclass
class RunResult:
    outputs: list[np.ndarray]
    tensors: dict[int, np.ndarray]
    """Every tensor's value by index (constants, inputs, intermediates, outputs)."""
    waiting_at: int | None = None
    """The layer whose kernel ended the run early (TFLM's kTfLiteAbort: a CIRCULAR_BUFFER awaiting
    frames, or an IF, WHILE or CALL_ONCE whose subgraph holds one that did; Invoke returns that
    status and the operators after it do not run), else None. The outputs of the skipped operators
    are not produced (TFLM and the generated C leave their buffers as they were): zeros here, for
    no one to read."""
    waiting_layer_wrote: bool = True
    """Whether the layer at `waiting_at` wrote its outputs before ending the run: a CIRCULAR_BUFFER
    does (the history), a WHILE too (the values of its last complete iteration, as TFLM copies them),
    an IF whose branch waited does not."""

    @property
    def aborted(self) -> bool:
        return self.waiting_at is not None

    def produced(self, graph: Graph, tensor: int) -> bool:
        """Whether this run wrote main-graph tensor `tensor` (no skipped operator produces it)."""
        if self.waiting_at is None:
            return True
        return all(
            op.index < self.waiting_at or (op.index == self.waiting_at and self.waiting_layer_wrote)
            for op in graph.operators
            if tensor in op.outputs
        )


def unsupported_operators(graph: Graph) -> list[Operator]:
    """The operators, in any subgraph, the engine has no kernel for."""
    return [op for subgraph in graph.subgraphs for op in subgraph.operators if op.op_type not in KERNELS]


def check_supported(graph: Graph) -> None:
    """Raise naming the first operator the engine cannot run."""
    for subgraph in graph.subgraphs:
        for op in subgraph.operators:
            if op.op_type in KERNELS:
                continue
            what = f"custom operator '{op.op_type}'" if op.is_custom else f"operator {op.op_type}"
            output = subgraph.tensors[op.outputs[0]].name if op.outputs else "?"
            where = f"layer #{op.index}" if subgraph is graph else f"layer #{op.index} of subgraph '{subgraph.name}'"
            raise UnsupportedOperatorError(
                graph.subject, f"{what} at {where} (output '{output}') is not supported by the reference engine"
            )


class Engine:
    """A graph set up once and run many times, as TFLite Micro splits Prepare from Invoke: each
    kernel keeps what it derives from the operator's constants (`OpContext.prepared`) across runs,
    and the variable tensors (SVDF and LSTM state) keep their values from one run to the next,
    starting from TFLM's reset values (the zero point of int8 tensors, zero otherwise). The
    model's other subgraphs run when IF, WHILE or CALL_ONCE call them."""

    def __init__(self, graph: Graph) -> None:
        check_supported(graph)
        validate_graph(graph)  # graphs built in code get the checks load_model gives files
        self.graph = graph
        self._subgraphs = [_Subgraph.of(subgraph) for subgraph in graph.subgraphs]
        self._inputs = [_Expected.of(tensor) for tensor in graph.graph_inputs]
        self._resource_layout = resource_layout(graph)
        self.subgraph_runs: dict[int, int] = {}
        """How many times each called subgraph has run in this engine (a WHILE's body: its iterations)."""
        self.reset()

    def reset(self, restart: bool = False) -> None:
        """Variable tensors, resource variables and the history kernels keep (TFLM's signal
        operators) back to their values before the first run (TFLM's ResetVariableTensors and Reset).
        A CALL_ONCE that has run does not run again, as in TFLM; unless `restart`: then it runs
        again on the next run, as in a new interpreter (a new program, or the generated code's init())."""
        for subgraph in self._subgraphs:
            for step in subgraph.steps:
                if restart or step.op.op_type != "CALL_ONCE":  # what a kernel prepared from constants is prepared again
                    step.states.clear()
        self._variables = [
            {t.index: np.full(t.shape, t.reset_value, dtype=t.dtype.numpy) for t in subgraph.tensors if t.is_variable}
            for subgraph in self.graph.subgraphs
        ]
        self._resources = initial_resources(self._resource_layout)

    def run(self, inputs: Sequence[np.ndarray]) -> RunResult:
        """Run the graph on one set of inputs (in the order of `graph.inputs`)."""
        values, ended = self._invoke(0, self._checked_inputs(inputs))
        for tensor in self.graph.tensors:
            if tensor.index not in values:  # written by an operator an abort skipped
                values[tensor.index] = np.zeros(tensor.shape, dtype=tensor.dtype.numpy)
        outputs = [values[i] for i in self.graph.outputs]
        if ended is None:
            return RunResult(outputs=outputs, tensors=values)
        return RunResult(outputs, values, ended.layer, ended.wrote)

    def _invoke(self, number: int, inputs: Sequence[np.ndarray]) -> tuple[dict[int, np.ndarray], _Ended | None]:
        """Run subgraph `number` on its inputs: every one of its tensors' values by index, and
        the layer whose kernel aborted the run (the operators after it did not run), if one did."""
        subgraph = self._subgraphs[number]
        graph = subgraph.graph
        values = dict(subgraph.constants)
        values.update(self._variables[number])  # kernels update these arrays in place
        values.update(zip(graph.inputs, inputs, strict=True))
        ended = None
        try:
            for step in subgraph.steps:
                args = [None if i == NO_TENSOR else values[i] for i in step.op.inputs]
                context = OpContext(step.op, graph, args, step.states, self._resources, number, self.graph, self._call)
                try:
                    result = step.kernel(context)
                except RunAborted as abort:
                    ended = _Ended(step.op.index, wrote=abort.outputs is not None)
                    if abort.outputs is None:  # it wrote no outputs (an IF whose branch waited)
                        break
                    result = abort.outputs
                # numpy gives a scalar, not an array, for some operations on rank-0 tensors
                results = (result,) if isinstance(result, np.ndarray | np.generic) else result
                for expected, array in zip(step.outputs, map(np.asarray, results), strict=True):
                    expected.check_output(graph, step.op, array)
                    values[expected.index] = array
                    if expected.index in self._variables[number]:  # a variable output (CIRCULAR_BUFFER's) keeps it
                        self._variables[number][expected.index][...] = array
                if ended is not None:
                    break
        except McuDeployError as error:  # a variant a kernel refuses: reported against the file and the layer
            if error.subject == self.graph.subject:
                raise  # already placed, by a subgraph this one called
            where = f"subgraph {number}, layer" if number else "layer"
            raise type(error)(self.graph.subject, f"{where} {step.op.label}: {error.reason}") from None
        values.update({index: state.copy() for index, state in self._variables[number].items()})
        return values, ended

    def _call(self, number: int, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """What a control-flow kernel calls: the subgraph's outputs, copied as TFLM copies them out.
        A subgraph that ended waiting for frames ends the calling layer there (RunAborted, no outputs
        written), as TFLM's InvokeSubgraph returns kTfLiteAbort to IF, WHILE and CALL_ONCE."""
        self.subgraph_runs[number] = self.subgraph_runs.get(number, 0) + 1
        values, ended = self._invoke(number, [np.array(array) for array in inputs])
        if ended is not None:
            raise RunAborted(None)
        return [np.array(values[i]) for i in self._subgraphs[number].graph.outputs]

    def _checked_inputs(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        if len(inputs) != len(self._inputs):
            raise McuDeployError(self.graph.subject, f"the model takes {len(self._inputs)} inputs, {len(inputs)} given")
        return [
            expected.checked_input(self.graph, np.asarray(array))
            for expected, array in zip(self._inputs, inputs, strict=True)
        ]


def initial_resources(layout: ResourceLayout) -> dict[int, np.ndarray]:
    """The resource variables' buffers (bytes) by id, as before the first run."""
    return {
        resource: np.full(variable.nbytes, variable.fill, dtype=np.uint8)
        for resource, variable in enumerate(layout.variables)
        if variable.nbytes is not None
    }


def run(graph: Graph, inputs: Sequence[np.ndarray]) -> RunResult:
    """Run the graph once on one set of inputs (in the order of `graph.inputs`)."""
    return Engine(graph).run(inputs)


@dataclass(frozen=True)
class _Ended:
    """The layer of a subgraph that ended its run waiting for frames, and whether it wrote its outputs."""

    layer: int
    wrote: bool


@dataclass(frozen=True)
class _Expected:
    """The type and shape a tensor's value must have, taken from the graph once."""

    index: int
    dtype: np.dtype
    shape: tuple[int, ...]
    size: int

    @classmethod
    def of(cls, tensor: Tensor) -> _Expected:
        return cls(tensor.index, tensor.dtype.numpy, tensor.shape, tensor.size)

    def checked_input(self, graph: Graph, array: np.ndarray) -> np.ndarray:
        tensor = graph.tensors[self.index]
        if array.size != self.size:
            raise McuDeployError(
                graph.subject,
                f"input '{tensor.name}' needs {self.size} values (shape {list(self.shape)}), got {array.size}",
            )
        if array.dtype != self.dtype:
            raise McuDeployError(graph.subject, f"input '{tensor.name}' is {tensor.dtype}, got {array.dtype}")
        return array.reshape(self.shape)

    def check_output(self, graph: Graph, op: Operator, array: np.ndarray) -> None:
        """Kernels must produce exactly the declared type and shape: a mismatch is an engine bug."""
        if array.dtype != self.dtype or array.shape != self.shape:
            tensor = graph.tensors[self.index]
            raise AssertionError(
                f"{op.label}: kernel produced {array.dtype}{list(array.shape)}, "
                f"tensor '{tensor.name}' is {tensor.dtype}{list(tensor.shape)}"
            )


@dataclass(frozen=True)
class _Subgraph:
    """One subgraph as an engine runs it: its constants and its steps."""

    graph: Graph
    constants: dict[int, np.ndarray]
    steps: list[_Step]

    @classmethod
    def of(cls, graph: Graph) -> _Subgraph:
        return cls(graph, {t.index: t.data for t in graph.constants()}, [_Step.of(graph, op) for op in graph.operators])


@dataclass(frozen=True)
class _Step:
    """One operator as an engine runs it: its kernel, its prepared states, what its outputs must be."""

    op: Operator
    kernel: Kernel
    states: dict
    outputs: tuple[_Expected, ...]

    @classmethod
    def of(cls, graph: Graph, op: Operator) -> _Step:
        return cls(op, KERNELS[op.op_type], {}, tuple(_Expected.of(graph.tensors[i]) for i in op.outputs))
