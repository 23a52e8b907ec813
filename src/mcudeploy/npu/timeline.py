"""The whole inference on Cortex-M + Ethos-U: NPU segments at Vela's cycles, CPU segments at ours.

NPU segments are priced with Vela's cycles per operator at the NPU clock; CPU segments (the
fallback operators) with our own kernels counted on QEMU and priced by our cycle model at the core
clock (`estimate`). The hand-over between them moves no data: in Vela's Shared_Sram memory mode
both sides address the same arena, so the bytes handed over are reported, not priced; the
driver's per-invocation cost is not modeled.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcudeploy.estimate.model import ModelEstimate
from mcudeploy.npu.placement import Placement, Segment, Target
from mcudeploy.npu.vela import VelaCompilation

SLOW_FALLBACK_SHARE = 0.20
"""From this share of the wall-clock on the CPU, name the 'Ethos-U slower than expected' failure."""


@dataclass(frozen=True)
class TimedSegment:
    target: str
    operators: tuple[int, ...]
    cycles: float
    """Vela's (whole) cycles on the NPU; our model's priced cycles on the CPU."""
    clock_mhz: float
    handover_bytes: int

    @property
    def milliseconds(self) -> float:
        return self.cycles / (self.clock_mhz * 1e3)


@dataclass(frozen=True)
class Timeline:
    segments: tuple[TimedSegment, ...]
    cpu_only_ms: float
    """The whole model on the Cortex-M alone, by our estimate."""

    @property
    def npu_ms(self) -> float:
        return sum(s.milliseconds for s in self.segments if s.target == Target.NPU)

    @property
    def cpu_ms(self) -> float:
        return sum(s.milliseconds for s in self.segments if s.target == Target.CPU)

    @property
    def total_ms(self) -> float:
        return self.npu_ms + self.cpu_ms

    @property
    def cpu_share(self) -> float:
        return self.cpu_ms / self.total_ms if self.total_ms else 0.0

    @property
    def slow_fallback(self) -> bool:
        return self.cpu_ms > 0 and self.cpu_share >= SLOW_FALLBACK_SHARE


def timeline(
    segments: list[Segment], placements: list[Placement], compilation: VelaCompilation, cpu: ModelEstimate
) -> Timeline:
    npu_cycles = {p.index: p.npu_cycles for p in placements}
    cpu_cycles = {layer.index: layer.cycles.total for layer in cpu.layers}
    npu_mhz = compilation.clock_hz / 1e6
    timed = []
    for segment in segments:
        on_npu = segment.target == Target.NPU
        cycles = sum((npu_cycles if on_npu else cpu_cycles).get(i, 0) for i in segment.operators)
        timed.append(
            TimedSegment(
                segment.target, segment.operators, cycles, npu_mhz if on_npu else cpu.clock_mhz, segment.handover_bytes
            )
        )
    return Timeline(tuple(timed), cpu.milliseconds)


def cpu_savings(placements: list[Placement], cpu: ModelEstimate) -> dict[int, float]:
    """Milliseconds of CPU time each fallback operator costs: what moving it to the NPU would free."""
    by_index = {layer.index: layer.milliseconds for layer in cpu.layers}
    return {p.index: by_index.get(p.index, 0.0) for p in placements if p.target == Target.CPU}
