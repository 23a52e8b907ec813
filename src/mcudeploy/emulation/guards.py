"""Red zones for sanitizer runs: every arena buffer and every constant array followed by bytes that
nothing may touch, which the harness poisons, so that AddressSanitizer reports an overrun from one
buffer into the next even inside the arena or the weights block.

The arena side is the guarded plan (`memory.planners.guarded`: each buffer on bytes of its own,
a gap before and after it); the constants side is the generator's `guard_bytes` (a never-read
member after each array). Neither changes what any kernel computes: only where its buffers are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mcudeploy.ir import Graph
from mcudeploy.memory.budget import constant_layout
from mcudeploy.memory.plan import MemoryPlan

GUARD_BYTES = 32
"""Bytes of red zone between two buffers: more than any kernel's widest access (16-byte vectors)."""

Ranges = tuple[tuple[int, int], ...]
"""(offset, bytes) of each red zone."""


@dataclass(frozen=True)
class RedZones:
    arena: Ranges
    """In the arena (`<prefix>_arena`)."""
    weights: Ranges
    """In the constants block (`<prefix>_weights`; the SRAM block has none)."""


def red_zones(graph: Graph, plan: MemoryPlan, guard_bytes: int) -> RedZones:
    """The bytes of the arena no buffer of `plan` ever uses, and those of the constants block
    (laid out with `guard_bytes`) no array holds."""
    arena = _unused(plan.arena_bytes, ((b.offset, b.end) for b in plan.buffers))
    layout = constant_layout(graph, plan.alignment, guard_bytes)
    flash = [(a.offset, a.offset + a.nbytes) for a in layout.arrays if not a.in_sram]
    weights = _unused(layout.flash_block_bytes, flash)
    return RedZones(arena, weights)


def _unused(total: int, spans: Iterable[tuple[int, int]]) -> Ranges:
    zones, reach = [], 0
    for start, end in sorted(spans):
        if start > reach:
            zones.append((reach, start - reach))
        reach = max(reach, end)
    if total > reach:
        zones.append((reach, total - reach))
    return tuple(zones)
