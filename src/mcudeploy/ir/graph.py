"""The graph IR: operators in execution order over a table of tensors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from mcudeploy.ir.options import OperatorOptions, called_subgraphs
from mcudeploy.ir.tensor import Tensor
from mcudeploy.ir.variants import KernelVariant

NO_TENSOR = -1
"""Index of an optional input the operator does not use (e.g. a conv without bias)."""
ETHOS_U = "ethos-u"
"""The custom operator Vela writes for each Arm Ethos-U NPU segment."""


@dataclass
class Operator:
    """One node. `op_type` is the builtin name (e.g. "CONV_2D"); custom operators
    keep their own code (e.g. "ethos-u") with `is_custom` set."""

    index: int
    op_type: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: OperatorOptions | None = None
    is_custom: bool = False
    version: int = 1
    variant: KernelVariant | None = None
    """The kernel variant chosen for this layer where the C library has several (`ir.variants`);
    None until chosen (the kernel contract then takes the default one)."""
    intermediates: tuple[int, ...] = ()
    """Tensors that only carry quantization for the operator (an integer LSTM's gate scales), as
    the file lists them; kept so that a model written back says what it said."""

    @property
    def label(self) -> str:
        """How reports and errors name this layer: `#3 CONV_2D`."""
        return f"#{self.index} {self.op_type}"


@dataclass
class Graph:
    """A model's main subgraph (the file's subgraph 0), with the model's other subgraphs, those
    IF, WHILE and CALL_ONCE call. Operators are listed in execution order."""

    name: str
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    description: str = ""
    source: str = ""
    """Where the model came from (a file path), used to name it in errors."""
    metadata: dict[str, str] = field(default_factory=dict)
    other_subgraphs: tuple[Graph, ...] = field(default=(), repr=False)
    """The file's subgraphs 1, 2, ... in order (empty in the subgraphs themselves)."""

    @property
    def subject(self) -> str:
        return self.source or self.name

    @property
    def subgraphs(self) -> tuple[Graph, ...]:
        """Every subgraph, indexed as in the file: this graph is subgraph 0."""
        return (self, *self.other_subgraphs)

    def called_order(self) -> list[int]:
        """The subgraphs this graph runs (IF, WHILE, CALL_ONCE), directly or not, each after those
        it runs itself (validation refuses cycles)."""
        order: list[int] = []

        def visit(number: int) -> None:
            for op in self.subgraphs[number].operators:
                for index in called_subgraphs(op.options):
                    if index not in order:
                        visit(index)
                        order.append(index)

        visit(0)
        return order

    def calling_steps(self) -> dict[int, tuple[int, int]]:
        """Each subgraph this graph runs, directly or not, with the first and last of its own
        operators whose run runs it."""
        return {m: (min(steps), max(steps)) for (n, m), steps in self.running_steps().items() if n == 0}

    def running_steps(self) -> dict[tuple[int, int], set[int]]:
        """(subgraph n, subgraph m) -> the operators of n whose run runs m, directly or not, for
        every pair where n runs m (validation refuses cycles)."""
        reached: dict[int, set[int]] = {}

        def reach(number: int) -> set[int]:
            if number not in reached:
                direct = {m for op in self.subgraphs[number].operators for m in called_subgraphs(op.options)}
                reached[number] = direct.union(*(reach(m) for m in direct))
            return reached[number]

        steps: dict[tuple[int, int], set[int]] = {}
        for number, subgraph in enumerate(self.subgraphs):
            for op in subgraph.operators:
                for called in called_subgraphs(op.options):
                    for m in {called, *reach(called)}:
                        steps.setdefault((number, m), set()).add(op.index)
        return steps

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def input_tensors(self, op: Operator) -> list[Tensor | None]:
        return [None if i == NO_TENSOR else self.tensors[i] for i in op.inputs]

    def output_tensors(self, op: Operator) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]

    @property
    def graph_inputs(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.inputs]

    @property
    def graph_outputs(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.outputs]

    def constants(self) -> Iterator[Tensor]:
        return (t for t in self.tensors if t.is_constant)

    def producer(self, tensor_index: int) -> Operator | None:
        for op in self.operators:
            if tensor_index in op.outputs:
                return op
        return None

    def consumers(self, tensor_index: int) -> list[Operator]:
        return [op for op in self.operators if tensor_index in op.inputs]
