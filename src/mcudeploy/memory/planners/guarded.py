"""A plan for sanitizer runs: every buffer on bytes of its own, `guard_bytes` or more unused before
and after it, so that a harness can poison those gaps and an overrun from one buffer into the next
is reported even inside the arena. No search: the buffers go one after the other.

The same buffers as our planner's (the kernel contracts' scratch included, so the generated code
takes the same kernel paths); a reshape-like alias keeps its source's bytes, as its no-code kernel
requires. Not offered to users: the arena is as large as it can be.
"""

from __future__ import annotations

from mcudeploy.ir import Graph
from mcudeploy.memory.budget import align_up
from mcudeploy.memory.lifetimes import scratch_name
from mcudeploy.memory.plan import Buffer, MemoryPlan
from mcudeploy.memory.sharing import arena_tensors


def plan_guarded(graph: Graph, alignment: int = 16, guard_bytes: int = 32, scratch: bool = True) -> MemoryPlan:
    """Without `scratch`, no kernel scratch buffer (as in TFLite Micro's plan): the generated code
    then calls the kernels' scratch-free variants."""
    tensors = arena_tensors(graph)
    roots = [(index, life.size) for index, life in tensors.lifetimes.items() if tensors.root[index] == index]
    scratch = [
        (op.index, c.scratch_bytes)
        for op, c in zip(graph.operators, tensors.contracts, strict=True)
        if c.scratch_bytes and scratch
    ]
    offsets, end = [], 0
    for size in [size for _, size in roots + scratch]:
        offsets.append(align_up(end + guard_bytes, alignment))
        end = offsets[-1] + size
    root_offset = {index: offset for (index, _), offset in zip(roots, offsets[: len(roots)], strict=True)}
    buffers = [
        Buffer(
            tensors.names[index],
            life.size,
            life.first,
            life.last,
            root_offset[tensors.root[index]],
            tensor=index,
            alias_of=None if tensors.root[index] == index else tensors.root[index],
        )
        for index, life in tensors.lifetimes.items()
    ]
    buffers += [
        Buffer(scratch_name(graph, op), size, op, op, offset, scratch_of=op)
        for (op, size), offset in zip(scratch, offsets[len(roots) :], strict=True)
    ]
    return MemoryPlan(
        planner="guarded",
        alignment=alignment,
        buffers=buffers,
        arena_bytes=align_up(end + guard_bytes, alignment),
        step_live_bytes=[
            sum(b.size for b in buffers if b.alias_of is None and b.live_at(step))
            for step in range(len(graph.operators))
        ],
    )
