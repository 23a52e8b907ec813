"""The Ethos-U stage of `analyze` and `estimate`: compile with Vela, place, budget, time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcudeploy.devices import Device
from mcudeploy.estimate.model import ModelEstimate, estimate_model
from mcudeploy.files import read_regular
from mcudeploy.importers.tflite.reader import MAX_MODEL_BYTES
from mcudeploy.ir import Graph
from mcudeploy.memory import plan_memory
from mcudeploy.npu.budget import NpuRequirement, Reserve, compiled_budget, compiled_for, precompiled_budget
from mcudeploy.npu.compiled import ethos_u_operators, offline_arena_bytes
from mcudeploy.npu.config import NpuTarget, npu_target
from mcudeploy.npu.placement import Placement, Segment, place_operators, segments
from mcudeploy.npu.report import (
    budget_data,
    compilation_summary,
    ethos_u_rows,
    placement_rows,
    segment_rows,
    timeline_data,
)
from mcudeploy.npu.timeline import cpu_savings, timeline
from mcudeploy.npu.vela import VelaCompilation, compile_for_npu


@dataclass(frozen=True)
class NpuPlan:
    compilation: VelaCompilation
    placements: list[Placement]
    segments: list[Segment]


def plan_for_npu(graph: Graph, model_path: Path, target: NpuTarget) -> NpuPlan:
    """Vela's compilation of the model file and its placement on our graph."""
    compilation = compile_for_npu(read_model(model_path), graph.name, target)
    placements = place_operators(graph, compilation)
    return NpuPlan(compilation, placements, segments(graph, placements))


def analyze_for_npu(graph: Graph, model_path: Path, device: Device, target: NpuTarget, reserve: Reserve) -> dict:
    plan = plan_for_npu(graph, model_path, target)
    compilation = plan.compilation
    budget = compiled_budget(graph, compilation.arena_bytes, compilation.flash_bytes, plan.placements, device, reserve)
    return {
        "model": graph.name,
        "device": device.name,
        "npu": compilation_summary(compilation),
        "placement": placement_rows(plan.placements),
        "segments": segment_rows(plan.segments),
        **budget_data(budget, NpuRequirement(target.accelerator, target.accelerator)),
    }


def analyze_precompiled(
    graph: Graph, model_path: Path, device: Device, target: NpuTarget | None, reserve: Reserve
) -> dict:
    """A .tflite Vela already compiled: its Ethos-U operators explained, its arena as Vela planned it."""
    offline = offline_arena_bytes(read_model(model_path), graph)
    arena = offline if offline is not None else plan_memory(graph).arena_bytes
    budget = precompiled_budget(graph, arena, device, reserve)
    need = compiled_for(graph, target.accelerator if target else None)
    return {
        "model": graph.name,
        "device": device.name,
        "ethos_u": ethos_u_rows(ethos_u_operators(graph)),
        "arena_bytes": arena,
        "arena_source": "Vela's offline plan in the model" if offline is not None else "our planner",
        **budget_data(budget, need),
    }


def estimate_for_npu(
    graph: Graph, model_path: Path, device: Device, target: NpuTarget, clock_mhz: float | None, planner: str
) -> dict[str, Any]:
    plan = plan_for_npu(graph, model_path, target)
    cpu = estimate_model(graph, device, clock_mhz, planner=planner)
    line = timeline(plan.segments, plan.placements, plan.compilation, cpu)
    return {
        "model": graph.name,
        "device": device.name,
        "core": device.core,
        "core_clock_mhz": cpu.clock_mhz,
        "npu": compilation_summary(plan.compilation),
        "placement": placement_rows(plan.placements, cpu_savings(plan.placements, cpu)),
        "timeline": timeline_data(line),
    }


def npu_comparison(graph: Graph, model_path: Path, estimates: list[ModelEstimate]) -> list[dict[str, Any]]:
    """`estimate --cores`: for each compared part with an Ethos-U, the same part with its NPU on (the CPU
    segments priced from that part's own estimate)."""
    rows = []
    for cpu in estimates:
        target = npu_target(cpu.device, None, False)
        if target is None:
            continue
        plan = plan_for_npu(graph, model_path, target)
        line = timeline(plan.segments, plan.placements, plan.compilation, cpu)
        rows.append(
            {
                "core": cpu.device.core,
                "device": cpu.device.name,
                "accelerator": target.accelerator,
                "core_clock_mhz": cpu.clock_mhz,
                "npu_clock_mhz": plan.compilation.clock_hz / 1e6,
                **timeline_data(line),
            }
        )
    return rows


def read_model(path: Path) -> bytes:
    return read_regular(path, MAX_MODEL_BYTES)
