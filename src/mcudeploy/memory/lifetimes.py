"""Which tensors live in the arena, and from which operator step to which.

Step i is the execution of operator i (the graph's operators are in execution
order). A tensor is live from the step that writes it to the last step that
reads it, both inclusive:

- graph inputs are written before step 0, so they live from step 0;
- graph outputs are read after the last step, so they live to the last step;
- a tensor read by several operators (a branch, the skip path of a residual
  ADD) lives to its last reader, whatever lies between;
- a produced tensor nobody reads still needs its bytes during its own step.

Constants live in flash and variable tensors (state kept across inferences) in
persistent memory, so neither is in the arena; nor are resource handles, empty tensors, nor
tensors no operator and no graph input/output touches.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcudeploy.ir import NO_TENSOR, Graph


@dataclass(frozen=True)
class Lifetime:
    tensor: int
    first: int
    last: int
    size: int
    """Bytes of the tensor."""


def last_step(graph: Graph) -> int:
    return max(len(graph.operators) - 1, 0)


def tensor_lifetimes(graph: Graph) -> dict[int, Lifetime]:
    """The arena tensors' lifetimes, by tensor index in increasing order."""
    steps: dict[int, list[int]] = {}
    for op in graph.operators:
        for index in (*op.inputs, *op.outputs):
            if index != NO_TENSOR:
                steps.setdefault(index, []).append(op.index)
    for index in graph.inputs:
        steps.setdefault(index, []).append(0)
    for index in graph.outputs:
        steps.setdefault(index, []).append(last_step(graph))
    lifetimes = {}
    for index in sorted(steps):
        tensor = graph.tensors[index]
        if not tensor.lives_in_arena:
            continue
        lifetimes[index] = Lifetime(index, min(steps[index]), max(steps[index]), tensor.nbytes)
    return lifetimes


def buffer_names(graph: Graph) -> dict[int, str]:
    """A unique, readable buffer name per tensor: its own name, with `#index` when names repeat."""
    counts: dict[str, int] = {}
    for tensor in graph.tensors:
        counts[tensor.name] = counts.get(tensor.name, 0) + 1
    return {t.index: t.name if counts[t.name] == 1 else f"{t.name}#{t.index}" for t in graph.tensors}


def scratch_name(graph: Graph, op_index: int) -> str:
    return f"scratch of {graph.operators[op_index].label}"
