"""The cycle model: counted instructions, pipeline events and memory accesses priced for one core.

cycles = Σ kinds count × the core's cycles for that kind          (instruction timings)
       + Σ events count × the core's cycles for that event         (pipelining, dual issue, ...)
       + Σ memory labels reads, writes and cache misses × their cost (wait states)
       + taken branches × the code-fetch refill                     (code in uncached flash)
       + instructions × the fetch wait                              (flash with neither cache nor prefetch)
       + instruction-cache line misses × their flash reads          (flash behind a simulated instruction cache)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mcudeploy.emulation.plugin import CLASSES, FETCH_MISS_BRANCH, FETCH_MISS_SEQUENTIAL, KIND_CLASSES, ExecutionCounts
from mcudeploy.estimate.memory import MemoryTiming
from mcudeploy.estimate.timings import CoreTiming

TAKEN_BRANCH_KINDS = frozenset(kind for kind, group in KIND_CLASSES.items() if group == "branch_taken")


@dataclass(frozen=True)
class CycleBreakdown:
    instructions: int
    by_class: dict[str, float]
    """Cycles of the instruction timings, per instruction class."""
    pipeline_cycles: float
    """Cycles added (or saved, when negative) by pipeline events."""
    memory_cycles: float
    """Wait states, cache misses and code-fetch refills."""
    memory_by_label: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.by_class.values()) + self.pipeline_cycles + self.memory_cycles

    def milliseconds(self, clock_mhz: float) -> float:
        return self.total / (clock_mhz * 1e3)


def price(counts: ExecutionCounts, core: CoreTiming, memory: MemoryTiming | None = None) -> CycleBreakdown:
    """Cycles of `counts` on `core`, with `memory`'s wait states and caches (none: zero wait states)."""
    by_class = dict.fromkeys(CLASSES, 0.0)
    for kind, count in counts.kinds.items():
        if count:
            by_class[KIND_CLASSES.get(kind, "system")] += count * core.cycles_of(kind)
    pipeline = sum(count * core.event_cycles.get(event, 0.0) for event, count in counts.events.items())
    memory_by_label = _memory_cycles(counts, memory) if memory is not None else {}
    return CycleBreakdown(counts.instructions, by_class, pipeline, sum(memory_by_label.values()), memory_by_label)


def _memory_cycles(counts: ExecutionCounts, memory: MemoryTiming) -> dict[str, float]:
    cycles: dict[str, float] = {}
    for label, cost in memory.regions.items():
        cycles[label] = (
            counts.reads.get(label, 0) * cost.read_cycles
            + counts.writes.get(label, 0) * cost.write_cycles
            + counts.misses.get(label, 0) * cost.miss_cycles
        )
    taken = sum(count for kind, count in counts.kinds.items() if kind in TAKEN_BRANCH_KINDS)
    cycles["code fetch"] = (
        taken * memory.branch_fetch_cycles
        + counts.instructions * memory.instruction_fetch_cycles
        + fetch_miss_cycles(counts, memory)
    )
    return cycles


def fetch_miss_cycles(counts: ExecutionCounts, memory: MemoryTiming) -> float:
    """What the lines `counts` missed in the simulated instruction cache in front of flash cost."""
    return (
        counts.events.get(FETCH_MISS_BRANCH, 0) * memory.fetch_miss_branch_cycles
        + counts.events.get(FETCH_MISS_SEQUENTIAL, 0) * memory.fetch_miss_sequential_cycles
    )
