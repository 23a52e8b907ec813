"""Operator kernels of the reference engine, registered by operator type."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import NO_TENSOR, DType, Graph, Operator, Tensor

State = TypeVar("State")


class RunAborted(Exception):  # noqa: N818 - not an error: TFLM's kTfLiteAbort, the run ends early
    """Raised by a kernel that has written its `outputs` (None: it wrote none) and ends the run
    there, as a TFLM kernel returning kTfLiteAbort does (CIRCULAR_BUFFER before enough new frames
    arrived; IF, WHILE or CALL_ONCE when the subgraph it runs did so)."""

    def __init__(self, outputs: tuple[np.ndarray, ...] | None) -> None:
        super().__init__("run aborted")
        self.outputs = outputs


@dataclass
class OpContext:
    """What a kernel sees: its operator, the graph, the values of its inputs, and the states
    it prepared from the operator's constants (`prepared`)."""

    op: Operator
    graph: Graph
    inputs: list[np.ndarray | None]
    states: dict[Callable[..., Any], Any] = field(default_factory=dict, repr=False)
    """Shared by every run of an `Engine`; a context made on its own starts empty."""
    resources: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    """The resource variables' buffers (bytes) by id, shared by every operator and run of an `Engine`."""
    subgraph: int = 0
    """The index of `graph` among the model's subgraphs."""
    model: Graph | None = field(default=None, repr=False)
    """The whole model (its main graph) when `graph` is one of its other subgraphs."""
    call: Callable[[int, Sequence[np.ndarray]], list[np.ndarray]] | None = field(default=None, repr=False)
    """Runs one of the model's subgraphs on the given inputs and gives its outputs (IF, WHILE, CALL_ONCE)."""

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

    def prepared(self, prepare: Callable[[OpContext], State | None]) -> State:
        """`prepare(ctx)`, computed on the first call and then kept (TFLite Micro's Prepare):
        multipliers, converted weights, index arrays, tables.

        `prepare` sees only the constant inputs (the others are None), so what it returns
        cannot depend on the values of one run. When it needs an input that is not constant
        (a filter computed by another operator), it returns None, and then runs again on
        every call, seeing all the inputs.
        """
        if prepare not in self.states:
            self.states[prepare] = prepare(self._constants_only())
        state = self.states[prepare]
        return prepare(self) if state is None else state

    def _constants_only(self) -> OpContext:
        tensors = [self.input_tensor(i) for i in range(len(self.op.inputs))]
        constants = [t.data if t is not None and t.is_constant else None for t in tensors]
        return OpContext(self.op, self.graph, constants, subgraph=self.subgraph, model=self.model)


KernelResult = np.ndarray | Sequence[np.ndarray]
Kernel = Callable[[OpContext], KernelResult]

KERNELS: dict[str, Kernel] = {}
KERNEL_TYPES: dict[str, tuple[DType, ...]] = {}
"""The element types each kernel accepts (its activations' or values')."""
KERNEL_FILTER_TYPES: dict[str, tuple[DType, ...]] = {}
"""Filter types a weighted kernel accepts beyond its activations' own (int4 filters, packed)."""
ANY_TYPE: tuple[DType, ...] = tuple(t for t in DType if t is not DType.INT4)
"""The types of kernels that move bytes without arithmetic: every element type (int4 is only ever a
filter: TFLite Micro has no int4 activations)."""


def kernel(*op_types: str, types: Sequence[DType] = (), filters: Sequence[DType] = ()) -> Callable[[Kernel], Kernel]:
    """Register the decorated function as the kernel of the given operator types, which accept
    the element types `types` (as TFLite Micro's kernels do) and filters of `filters` too."""

    def register(fn: Kernel) -> Kernel:
        for op_type in op_types:
            if op_type in KERNELS:
                raise RuntimeError(f"two kernels registered for {op_type}")
            KERNELS[op_type] = fn
            if types:
                KERNEL_TYPES[op_type] = tuple(types)
            if filters:
                KERNEL_FILTER_TYPES[op_type] = tuple(filters)
        return fn

    return register


def checked_type(ctx: OpContext, types: Sequence[DType], tensor: Tensor | None = None) -> DType:
    """The element type of `tensor` (the output by default), refused unless it is one of `types`,
    those TFLite Micro's kernel takes."""
    dtype = (tensor or ctx.output_tensor()).dtype
    if dtype not in types:
        raise UnsupportedOperatorError(ctx.op.label, f"{ctx.op.op_type} of {dtype} is not supported by TFLite Micro")
    return dtype
