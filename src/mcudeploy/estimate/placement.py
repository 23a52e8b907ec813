"""Cortex-M7 and M55: the inference with the arena in DTCM, in cacheable SRAM and in external SDRAM, cold and steady.

QEMU models no caches. The counting plugin simulates the part's L1 data cache (LRU, 32-byte lines, 4
ways, `estimate.memory`) over the access stream QEMU executes, so a miss is counted where the core
would miss, and each is priced at the region's line fill; this is a model over the counted stream,
not a cycle-accurate core (no write-back traffic, no bus contention, no prefetch). The harness runs
two inferences, each between its own count marks: the first from reset (every line cold), the second
on the same input after it (steady state). DTCM is never cached, so there the difference is the
weights' and code's misses alone. Code and weights stay where the budget put them; only the arena moves.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mcudeploy.devices import Device, RegionKind, Span
from mcudeploy.devices.cores import CORES
from mcudeploy.emulation import core_target
from mcudeploy.emulation.harness import build_harness, generate_project, run_harness
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate.cycles import price
from mcudeploy.estimate.measure import LAYER_FUNCTIONS, counting_for
from mcudeploy.estimate.memory import ARENA_LABEL, MemoryTiming, device_cache, program_layout, region_cost
from mcudeploy.estimate.timings import CoreTiming
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Graph
from mcudeploy.memory import MemoryPlan

CACHE_CORES = tuple(core.name for core in CORES if core.data_cache and core.machine is not None)
"""Cores with an L1 data cache that QEMU emulates (Cortex-M7 and M55; the M85 has no machine)."""
PLACEMENT_APPROXIMATION = (
    "QEMU models no caches: the L1 data cache is simulated (LRU) over the counted access stream and each miss "
    "priced at the region's line fill; no write-back traffic, bus contention or prefetch"
)


@dataclass(frozen=True)
class Placement:
    region: str
    kind: str
    cached: bool
    wait_states: int | None
    """From the device database at the clock; None: not given there (priced as 0)."""
    cold_cycles: float
    steady_cycles: float
    clock_mhz: float

    @property
    def cold_ms(self) -> float:
        return self.cold_cycles / (self.clock_mhz * 1000)

    @property
    def steady_ms(self) -> float:
        return self.steady_cycles / (self.clock_mhz * 1000)

    @property
    def variation(self) -> float:
        """How much slower the first inference is than the steady state (0: none)."""
        return self.cold_cycles / self.steady_cycles - 1 if self.steady_cycles else 0.0


def arena_spans(device: Device, arena_bytes: int) -> list[Span]:
    """Where the arena can go on a cached core: the DTCM, the largest cacheable on-chip SRAM and the
    largest external RAM, each only where the arena fits."""
    spans = [span for span in device.spans() if span.size >= arena_bytes]
    choices = [
        [s for s in spans if s.kind == RegionKind.DTCM],
        [s for s in spans if s.kind == RegionKind.SRAM and s.regions[0].cacheable],
        [s for s in spans if s.kind == RegionKind.EXTERNAL],
    ]
    return [max(group, key=lambda s: s.size) for group in choices if group]


def arena_placements(
    graph: Graph, plan: MemoryPlan, device: Device, timing: CoreTiming, base: MemoryTiming, workdir: Path | None = None
) -> list[Placement]:
    """Cold and steady inference for each place the arena can go on `device` (empty on cores without a data cache).
    `base`: the memory timing with code and weights where the budget put them."""
    if device.core not in CACHE_CORES:
        return []
    spans = arena_spans(device, plan.arena_bytes)
    cache = device_cache(device)
    costs = {span.name: region_cost(ARENA_LABEL, span, device, base.clock_mhz, cache) for span in spans}
    placements = []
    with tempfile.TemporaryDirectory(prefix="mcudeploy-placement-", dir=workdir) as scratch:
        folder = Path(scratch)
        target = core_target(device.core)
        assert target is not None, f"{device.core} has a cycle model but no QEMU machine"
        code = generate_project(graph, plan, target, folder / "generated")
        elf = build_harness(graph, code, target, folder, repeat=True, extra_defines=LAYER_FUNCTIONS)
        runs: dict[bool, tuple] = {}
        for span in spans:
            cost = costs[span.name]
            memory = dataclasses.replace(base, regions={**base.regions, ARENA_LABEL: cost})
            if cost.cached not in runs:  # the cache's hits and misses do not depend on the miss penalty
                counting = counting_for(graph, program_layout(elf, target), memory)
                result = run_harness(graph, target, elf, random_inputs(graph, 0), folder, counting, check=False)
                counts = result.program.counts
                intervals = counts.mark_intervals() if counts is not None else []
                if result.program.exit_code != 0 or len(intervals) < 3:
                    raise McuDeployError(graph.subject, f"the two-inference run failed on {target.name}")
                runs[cost.cached] = (intervals[0], intervals[2])  # [1]: re-reading the input
            cold, steady = runs[cost.cached]
            placements.append(
                Placement(span.name, span.kind.value, cost.cached,
                          cost.wait_states if span.regions[0].wait_states is not None else None,
                          price(cold, timing, memory).total, price(steady, timing, memory).total, base.clock_mhz)
            )  # fmt: skip
    return placements
