"""Runs a graph operator by operator with the registered numpy kernels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import mcudeploy.engine.ops  # noqa: F401 - registers the kernels
from mcudeploy.engine.registry import KERNELS, KernelResult, OpContext
from mcudeploy.errors import McuDeployError, UnsupportedOperatorError
from mcudeploy.ir import NO_TENSOR, Graph, Operator


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


def run(graph: Graph, inputs: Sequence[np.ndarray]) -> RunResult:
    """Run the graph on one set of inputs (in the order of `graph.inputs`)."""
    check_supported(graph)
    values: dict[int, np.ndarray] = {t.index: t.data for t in graph.constants()}
    for index, array in zip(graph.inputs, _checked_inputs(graph, inputs), strict=True):
        values[index] = array
    for op in graph.operators:
        args = [None if i == NO_TENSOR else values[i] for i in op.inputs]
        result = _call_kernel(graph, op, args)
        results = [result] if isinstance(result, np.ndarray) else list(result)
        for index, array in zip(op.outputs, results, strict=True):
            values[index] = _checked_output(graph, op, index, array)
    return RunResult(outputs=[values[i] for i in graph.outputs], tensors=values)


def _call_kernel(graph: Graph, op: Operator, args: list[np.ndarray | None]) -> KernelResult:
    """Run one kernel; a variant it refuses is reported against the model file and the layer."""
    try:
        return KERNELS[op.op_type](OpContext(op, graph, args))
    except McuDeployError as error:
        raise type(error)(graph.subject, f"layer {op.label}: {error.reason}") from None


def _checked_inputs(graph: Graph, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    if len(inputs) != len(graph.inputs):
        raise McuDeployError(graph.subject, f"the model takes {len(graph.inputs)} inputs, {len(inputs)} given")
    checked = []
    for tensor, array in zip(graph.graph_inputs, inputs, strict=True):
        array = np.asarray(array)
        if array.size != tensor.size:
            raise McuDeployError(
                graph.subject,
                f"input '{tensor.name}' needs {tensor.size} values (shape {list(tensor.shape)}), got {array.size}",
            )
        if array.dtype != tensor.dtype.numpy:
            raise McuDeployError(
                graph.subject, f"input '{tensor.name}' is {tensor.dtype}, got {array.dtype}"
            )
        checked.append(array.reshape(tensor.shape))
    return checked


def _checked_output(graph: Graph, op: Operator, index: int, array: np.ndarray) -> np.ndarray:
    """Kernels must produce exactly the declared type and shape: a mismatch is an engine bug."""
    tensor = graph.tensors[index]
    if array.dtype != tensor.dtype.numpy or tuple(array.shape) != tensor.shape:
        raise AssertionError(
            f"{op.label}: kernel produced {array.dtype}{list(array.shape)}, "
            f"tensor '{tensor.name}' is {tensor.dtype}{list(tensor.shape)}"
        )
    return array
