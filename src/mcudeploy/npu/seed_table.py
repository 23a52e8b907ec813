"""The seed's latency table: MobileNetV2 0.35 at 96x96 int8 on an M4, an M7, an M55 and an M55 + Ethos-U55-256.

Each CPU row is our generated code counted on QEMU and priced at the seed's clock on a part with that
core; the NPU row compiles the model with Vela for the Alif E7's Ethos-U55-256 with its NPU at the
seed's 250 MHz, the CPU fallback (if any) priced from the M55 row. The seed's approximate figures go
beside ours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcudeploy.devices import Device, find_device
from mcudeploy.estimate.model import compare_cores
from mcudeploy.ir import Graph
from mcudeploy.npu.config import npu_target
from mcudeploy.npu.pipeline import plan_for_npu
from mcudeploy.npu.timeline import timeline


@dataclass(frozen=True)
class SeedRow:
    label: str
    part: str
    clock_mhz: float
    npu_clock_mhz: float | None
    seed_ms: float
    """The seed's approximate figure."""


SEED_ROWS = (
    SeedRow("Cortex-M4 @ 168 MHz", "STM32F407VG", 168, None, 500),
    SeedRow("Cortex-M7 @ 480 MHz", "STM32H743ZI", 480, None, 200),
    SeedRow("Cortex-M55 @ 250 MHz", "AE722F80F55D5", 250, None, 50),
    SeedRow("Cortex-M55 + Ethos-U55-256 @ 250 MHz", "AE722F80F55D5", 250, 250, 5),
)


def seed_table(graph: Graph, model_path: Path, planner: str = "mcudeploy") -> list[dict[str, Any]]:
    """Our figure for each of the seed's rows, beside the seed's; `model_path` holds `graph` as .tflite."""
    cpu_rows = [row for row in SEED_ROWS if row.npu_clock_mhz is None]
    devices = [find_device(row.part) for row in cpu_rows]
    estimates = compare_cores(graph, devices, planner, [row.clock_mhz for row in cpu_rows])
    by_row = {(row.part, row.clock_mhz): estimate for row, estimate in zip(cpu_rows, estimates, strict=True)}
    result = []
    for row in SEED_ROWS:
        cpu = by_row[(row.part, row.clock_mhz)]
        ms, npu = cpu.milliseconds, None
        if row.npu_clock_mhz is not None:
            device = _with_npu_clock(cpu.device, row.npu_clock_mhz)
            target = npu_target(device, None, False)
            assert target is not None, f"{row.part} records its Ethos-U for Vela"
            plan = plan_for_npu(graph, model_path, target)
            line = timeline(plan.segments, plan.placements, plan.compilation, cpu)
            ms, npu = line.total_ms, target.accelerator
        result.append(
            {
                "row": row.label,
                "part": row.part,
                "core": cpu.device.core,
                "clock_mhz": row.clock_mhz,
                "npu": npu,
                "npu_clock_mhz": row.npu_clock_mhz,
                "ms": ms,
                "seed_ms": row.seed_ms,
                "macs": cpu.macs,
            }
        )
    return result


def _with_npu_clock(device: Device, clock_mhz: float) -> Device:
    npu = device.part.npu
    assert npu is not None
    part = dataclasses.replace(device.part, npu=dataclasses.replace(npu, clock_mhz=clock_mhz))
    return dataclasses.replace(device, part=part)
