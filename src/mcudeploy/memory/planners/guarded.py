"""A plan for sanitizer runs: every buffer on bytes of its own, `guard_bytes` or more unused before
and after it, so that a harness can poison those gaps and an overrun from one buffer into the next
is reported even inside the arena. No search: the buffers go one after the other.

The same buffers as our planner's (the kernel contracts' scratch included, so the generated code
takes the same kernel paths); a reshape-like alias keeps its source's bytes, as its no-code kernel
requires; the subgraphs IF, WHILE and CALL_ONCE run get theirs after the main graph's. Not offered
to users: the arena is as large as it can be.
"""

from __future__ import annotations

from mcudeploy.ir import Graph
from mcudeploy.memory.budget import align_up
from mcudeploy.memory.lifetimes import scratch_name
from mcudeploy.memory.plan import Buffer, MemoryPlan
from mcudeploy.memory.sharing import arena_tensors


def plan_guarded(graph: Graph, alignment: int = 16, guard_bytes: int = 32, scratch: bool = True) -> MemoryPlan:
    """Without `scratch`, no kernel scratch buffer (as in TFLite Micro's plan): the generated code
    then calls the kernels' scratch-free variants. The subgraphs IF, WHILE and CALL_ONCE run get
    bytes of their own too, after the main graph's, live over the steps of the main layers that run them."""
    buffers: list[Buffer] = []
    end = 0
    for number, steps in [(0, None), *graph.calling_steps().items()]:
        placed, end = _placed(graph.subgraphs[number], number, steps, end, alignment, guard_bytes, scratch)
        buffers += placed
    return MemoryPlan(
        planner="guarded",
        alignment=alignment,
        buffers=buffers,
        arena_bytes=align_up(end + guard_bytes, alignment),
        step_live_bytes=[
            sum(b.size for b in buffers if b.alias_of is None and b.live_at(step))
            for step in range(len(graph.operators))
        ],
        subgraphs_planned=True,
    )


def _placed(
    subgraph: Graph,
    number: int,
    steps: tuple[int, int] | None,
    end: int,
    alignment: int,
    guard_bytes: int,
    scratch: bool,
) -> tuple[list[Buffer], int]:
    """One subgraph's buffers one after the other from `end`, and the new end. Those of a called
    subgraph (`number` > 0) are named and keyed after it and live over the main `steps` that run it."""
    tensors = arena_tensors(subgraph)
    roots = [(index, life.size) for index, life in tensors.lifetimes.items() if tensors.root[index] == index]
    requests = [
        (op.index, c.scratch_bytes)
        for op, c in zip(subgraph.operators, tensors.contracts, strict=True)
        if c.scratch_bytes and scratch
    ]
    offsets = []
    for size in [size for _, size in roots + requests]:
        offsets.append(align_up(end + guard_bytes, alignment))
        end = offsets[-1] + size
    root_offset = {index: offset for (index, _), offset in zip(roots, offsets[: len(roots)], strict=True)}
    scope = f"{subgraph.name}/" if number else ""
    buffers = [
        Buffer(
            scope + tensors.names[index],
            life.size,
            *((life.first, life.last) if steps is None else steps),
            root_offset[tensors.root[index]],
            **_tensor_keys(number, index, tensors.root[index]),
        )
        for index, life in tensors.lifetimes.items()
    ]
    buffers += [
        Buffer(
            scope + scratch_name(subgraph, op),
            size,
            *((op, op) if steps is None else steps),
            offset,
            **({"subgraph_scratch_of": (number, op)} if number else {"scratch_of": op}),
        )
        for (op, size), offset in zip(requests, offsets[len(roots) :], strict=True)
    ]
    return buffers, end


def _tensor_keys(number: int, index: int, root: int) -> dict:
    if number:  # alias_of indexes the main graph's tensors: a called subgraph's alias keeps its root's offset only
        return {"subgraph_tensor": (number, index)}
    return {"tensor": index, "alias_of": None if root == index else root}
