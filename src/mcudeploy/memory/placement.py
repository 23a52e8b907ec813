"""Where the budget put the tensor arena, why, and the linker section that puts it there.

The budget places the arena first, in the fastest RAM it fits (tightly coupled memory first). On a
core with a data cache that choice decides whether latency varies: DTCM has no wait states and is
never cached, so every inference takes the same time; in cacheable SRAM or external RAM the first
inference after reset (or after other code evicted the lines) pays the misses.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcudeploy.devices import Device, RegionKind, Span, find_core
from mcudeploy.memory.budget import ARENA, MemoryBudget

DTCM_SECTION = ".dtcm"
"""The section `generate` gives the arena when it goes to DTCM; the firmware's linker script maps it."""


@dataclass(frozen=True)
class ArenaPlace:
    region: str
    kind: str
    section: str | None
    """The linker section for the arena (None: the default .bss, wherever the firmware puts it)."""
    why: str


def arena_place(budget: MemoryBudget, device: Device, arena_bytes: int) -> ArenaPlace | None:
    """Where the arena went in `budget` and why; None when it fits nowhere."""
    span = next((use.span for use in budget.uses if any(item.name == ARENA for item in use.items)), None)
    if span is None:
        return None
    dtcm = [s for s in device.spans() if s.kind == RegionKind.DTCM]
    cached_core = find_core(device.core).data_cache and bool(device.part.dcache_bytes)
    if span.kind == RegionKind.DTCM:
        why = "tightly coupled: no wait states and no cache, so every inference takes the same time"
        return ArenaPlace(span.name, span.kind.value, DTCM_SECTION, why)
    reasons = [_why_not_dtcm(dtcm, arena_bytes)]
    if cached_core and _cacheable(span):
        reasons.append("it is cached: the first inference after reset, or after other code evicted its lines, "
                       "is slower (estimate gives both)")  # fmt: skip
    return ArenaPlace(span.name, span.kind.value, None, "; ".join(reasons))


def _why_not_dtcm(dtcm: list[Span], arena_bytes: int) -> str:
    if not dtcm:
        return "the part has no DTCM"
    largest = max(s.size for s in dtcm)
    if arena_bytes > largest:
        return f"the {arena_bytes} B arena does not fit the {largest} B DTCM"
    return "the DTCM is taken by other items of the budget"


def _cacheable(span: Span) -> bool:
    return any(region.cacheable for region in span.regions)
