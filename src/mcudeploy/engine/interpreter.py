"""Runs a graph operator by operator with the registered numpy kernels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import mcudeploy.engine.ops  # noqa: F401 - registers the kernels
from mcudeploy.engine.registry import KERNELS, Kernel, OpContext
from mcudeploy.errors import McuDeployError, UnsupportedOperatorError
from mcudeploy.ir import NO_TENSOR, Graph, Operator, Tensor
from mcudeploy.ir.validate import validate_graph
from mcudeploy.params.variables import resource_layout


@dataclass
class RunResult:
    outputs: list[np.ndarray]
    tensors: dict[int, np.ndarray]
    """Every tensor's value by index (constants, inputs, intermediates, outputs)."""


def unsupported_operators(graph: Graph) -> list[Operator]:
    return [op for op in graph.operators if op.op_type not in KERNELS]


def check_supported(graph: Graph) -> None:
    """Raise naming the first operator the engine cannot run."""
    for op in unsupported_operators(graph):
        what = f"custom operator '{op.op_type}'" if op.is_custom else f"operator {op.op_type}"
        output = graph.tensors[op.outputs[0]].name if op.outputs else "?"
        raise UnsupportedOperatorError(
            graph.subject, f"{what} at layer #{op.index} (output '{output}') is not supported by the reference engine"
        )


class Engine:
    """A graph set up once and run many times, as TFLite Micro splits Prepare from Invoke: each
    kernel keeps what it derives from the operator's constants (`OpContext.prepared`) across runs,
    and the variable tensors (SVDF and LSTM state) keep their values from one run to the next,
    starting from TFLM's reset values (the zero point of int8 tensors, zero otherwise)."""

    def __init__(self, graph: Graph) -> None:
        check_supported(graph)
        validate_graph(graph)  # graphs built in code get the checks load_model gives files
        self.graph = graph
        self._constants = {t.index: t.data for t in graph.constants()}
        self._inputs = [_Expected.of(tensor) for tensor in graph.graph_inputs]
        self._steps = [_Step.of(graph, op) for op in graph.operators]
        self._resource_layout = resource_layout(graph)
        self.reset()

    def reset(self) -> None:
        """Variable tensors, resource variables and the history kernels keep (TFLM's signal
        operators) back to their values before the first run (TFLM's ResetVariableTensors and Reset)."""
        for step in self._steps:
            step.states.clear()  # what a kernel prepared from constants is simply prepared again
        self._variables = {
            t.index: np.full(t.shape, t.reset_value, dtype=t.dtype.numpy) for t in self.graph.tensors if t.is_variable
        }
        self._resources = {
            resource: np.full(variable.nbytes, variable.fill, dtype=np.uint8)
            for resource, variable in enumerate(self._resource_layout.variables)
            if variable.nbytes is not None
        }

    def run(self, inputs: Sequence[np.ndarray]) -> RunResult:
        """Run the graph on one set of inputs (in the order of `graph.inputs`)."""
        graph = self.graph
        values = dict(self._constants)
        values.update(self._variables)  # kernels update these arrays in place
        values.update(zip(graph.inputs, self._checked_inputs(inputs), strict=True))
        try:
            for step in self._steps:
                args = [None if i == NO_TENSOR else values[i] for i in step.op.inputs]
                result = step.kernel(OpContext(step.op, graph, args, step.states, self._resources))
                results = (result,) if isinstance(result, np.ndarray) else result
                for expected, array in zip(step.outputs, results, strict=True):
                    expected.check_output(graph, step.op, array)
                    values[expected.index] = array
        except McuDeployError as error:  # a variant a kernel refuses: reported against the file and the layer
            raise type(error)(graph.subject, f"layer {step.op.label}: {error.reason}") from None
        values.update({index: state.copy() for index, state in self._variables.items()})
        return RunResult(outputs=[values[i] for i in graph.outputs], tensors=values)

    def _checked_inputs(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        if len(inputs) != len(self._inputs):
            raise McuDeployError(self.graph.subject, f"the model takes {len(self._inputs)} inputs, {len(inputs)} given")
        return [
            expected.checked_input(self.graph, np.asarray(array))
            for expected, array in zip(self._inputs, inputs, strict=True)
        ]


def run(graph: Graph, inputs: Sequence[np.ndarray]) -> RunResult:
    """Run the graph once on one set of inputs (in the order of `graph.inputs`)."""
    return Engine(graph).run(inputs)


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
class _Step:
    """One operator as an engine runs it: its kernel, its prepared states, what its outputs must be."""

    op: Operator
    kernel: Kernel
    states: dict
    outputs: tuple[_Expected, ...]

    @classmethod
    def of(cls, graph: Graph, op: Operator) -> _Step:
        return cls(op, KERNELS[op.op_type], {}, tuple(_Expected.of(graph.tensors[i]) for i in op.outputs))
