"""Operator kernels of the reference engine, registered by operator type."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mcudeploy.ir import NO_TENSOR, Graph, Operator, Tensor


@dataclass
class OpContext:
    """What a kernel sees: its operator, the graph, and the values of its inputs."""

    op: Operator
    graph: Graph
    inputs: list[np.ndarray | None]

    @property
    def options(self):
        return self.op.options

    def input_tensor(self, i: int) -> Tensor | None:
        if i >= len(self.op.inputs) or self.op.inputs[i] == NO_TENSOR:
            return None
        return self.graph.tensors[self.op.inputs[i]]

    def output_tensor(self, i: int = 0) -> Tensor:
        return self.graph.tensors[self.op.outputs[i]]

    def input(self, i: int) -> np.ndarray | None:
        return self.inputs[i] if i < len(self.inputs) else None


KernelResult = np.ndarray | Sequence[np.ndarray]
Kernel = Callable[[OpContext], KernelResult]

KERNELS: dict[str, Kernel] = {}


def kernel(*op_types: str) -> Callable[[Kernel], Kernel]:
    """Register the decorated function as the kernel of the given operator types."""

    def register(fn: Kernel) -> Kernel:
        for op_type in op_types:
            if op_type in KERNELS:
                raise RuntimeError(f"two kernels registered for {op_type}")
            KERNELS[op_type] = fn
        return fn

    return register
