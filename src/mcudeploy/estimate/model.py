"""Per-layer latency of a model on a device: the generated code's instruction stream, priced.

`estimate_model` plans the arena, places the model in the device's memories (as `analyze`
does), builds the generated C for the QEMU machine of the device's core, counts one
inference per layer and prices the counts with the core's timings and the memories'
wait states at the chosen clock. A streaming model (a CIRCULAR_BUFFER waiting for frames) is run
frame after frame until an inference runs every layer: that one is priced per layer, and each
that waited on its own (`ModelEstimate.waiting`, `per_frame`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from mcudeploy.analysis.code_size import measured_code
from mcudeploy.analysis.costs import layer_macs
from mcudeploy.analysis.floats import float_operators
from mcudeploy.devices import CORES, Device, Fpu, MemoryRegion, find_device
from mcudeploy.emulation import Target, core_target
from mcudeploy.engine import Engine
from mcudeploy.estimate.cycles import CycleBreakdown, price
from mcudeploy.estimate.hot_code import FastCode, read_split, split_cache, split_hot_code
from mcudeploy.estimate.measure import build_model, run_model, stream_frames
from mcudeploy.estimate.memory import MemoryTiming, device_memory, splits_hot_code
from mcudeploy.estimate.placement import CACHE_CORES, Placement, arena_placements
from mcudeploy.estimate.stack import StackNeed, stack_need, static_need
from mcudeploy.estimate.timings import CoreTiming, core_timing
from mcudeploy.ir import Graph
from mcudeploy.ir.options import CallOnceOptions, WhileOptions
from mcudeploy.memory import MemoryPlan, plan_memory
from mcudeploy.memory.budget import (
    RUN_CODE,
    CodeEstimate,
    CodeSection,
    MemoryBudget,
    budget_request,
    check_code_section,
    code_estimate,
    constant_layout,
    memory_budget,
)


@dataclass(frozen=True)
class LayerEstimate:
    index: int
    op: str
    label: str
    macs: int
    cycles: CycleBreakdown
    milliseconds: float
    macs_per_cycle: float | None
    peak_fraction: float | None
    """MACs per cycle over the core's int8 peak."""


@dataclass(frozen=True)
class WaitingInference:
    """An inference of a streaming model's period that a layer ended waiting for frames."""

    frame: int
    """Its frame in the period, from 1 (the complete inference is the last, `frames_per_inference`)."""
    layer: int
    op: str
    cycles: CycleBreakdown


@dataclass(frozen=True)
class ModelEstimate:
    model: str
    device: Device
    timing: CoreTiming
    clock_mhz: float
    memory: MemoryTiming
    layers: list[LayerEstimate]
    inference: CycleBreakdown
    """The whole inference between the harness's count marks (layers plus the calls between them); for a
    streaming model the one that runs every layer."""
    macs: int
    fits: bool
    notes: list[str] = field(default_factory=list)
    stack: StackNeed | None = None
    placements: list[Placement] = field(default_factory=list)
    """Cortex-M7: the arena in DTCM, cacheable SRAM and external RAM, cold and steady (`estimate.placement`)."""
    waiting: list[WaitingInference] = field(default_factory=list)
    """A streaming model: the inferences before the complete one in its period, each waiting for frames."""
    code_section: CodeSection = CodeSection.FLASH
    """Where the hot code runs (`--code-section`)."""
    hot_code_bytes: int | None = None
    """Its run image in ITCM/SRAM (the budget's), None when it runs from flash."""
    fast_code: FastCode | None = None
    """The functions run from an SRAM's code alias, the hot code's rest in flash (`estimate.hot_code`), when
    the whole did not fit it."""

    @property
    def milliseconds(self) -> float:
        return self.inference.milliseconds(self.clock_mhz)

    @property
    def frames_per_inference(self) -> int:
        """Frames per complete inference: 1, or a streaming model's period."""
        return len(self.waiting) + 1

    @property
    def cycles_per_frame(self) -> float:
        """The period's cycles over its frames: what each frame costs on average in steady state."""
        return (self.inference.total + sum(item.cycles.total for item in self.waiting)) / self.frames_per_inference

    @property
    def instructions_per_frame(self) -> float:
        counted = self.inference.instructions + sum(item.cycles.instructions for item in self.waiting)
        return counted / self.frames_per_inference

    @property
    def bottleneck(self) -> LayerEstimate | None:
        return max(self.layers, key=lambda layer: layer.cycles.total, default=None)

    @property
    def macs_per_cycle(self) -> float:
        return self.macs / self.inference.total if self.inference.total else 0.0


def _layer_estimate(
    graph: Graph, index: int, cycles: CycleBreakdown, timing: CoreTiming, clock: float
) -> LayerEstimate:
    op = graph.operators[index]
    macs = layer_macs(graph, op)
    per_cycle = macs / cycles.total if macs and cycles.total else None
    peak = per_cycle / timing.int8_macs_per_cycle if per_cycle is not None else None
    return LayerEstimate(index, op.op_type, op.label, macs, cycles, cycles.milliseconds(clock), per_cycle, peak)


def npu_note(device: Device) -> str | None:
    npu = device.part.npu
    if npu is None:
        return None
    peak = f", {npu.macs_per_cycle} int8 MACs/cycle" if npu.macs_per_cycle else ""
    offload = (
        "`estimate` on this device without --cores or --no-npu compiles for the NPU with Vela"
        if npu.accelerator
        else "mcudeploy does not compile for this NPU"
    )
    return f"{device.name} has an NPU ({npu.type}{peak}): these figures are for the {device.core} alone; {offload}"


def estimate_model(
    graph: Graph,
    device: Device | str,
    clock_mhz: float | None = None,
    planner: str = "mcudeploy",
    workdir: Path | None = None,
    portable: bool = False,
    stack_bytes: int | None = None,
    placements: bool = False,
    paint_stack: bool = False,
    code_section: CodeSection = CodeSection.FLASH,
) -> ModelEstimate:
    """Cycles and milliseconds per layer of `graph`'s generated code on `device` at `clock_mhz`
    (default: the part's maximum clock). `portable`: the portable C kernels rather than the
    core's DSP/MVE paths. `stack_bytes`: the user's stack reserve (default: the static bound from
    `-fstack-usage` and the call graph, or with `paint_stack` the stack painted on QEMU in a run of its own;
    assumed without the toolchain).
    `placements` (Cortex-M7): also the arena in DTCM, cacheable SRAM and external RAM, cold and steady.
    `code_section` itcm/ram: the hot code built to run from there (its measured size placed in the budget),
    instruction fetch and literal reads priced where it runs."""
    device = find_device(device) if isinstance(device, str) else device
    timing = core_timing(device.core)
    clock = float(clock_mhz or device.part.max_clock_mhz)
    plan = plan_memory(graph, planner=planner)
    stack = (
        stack_need(graph, device, stack_bytes) if paint_stack else static_need(graph, plan, device.core, stack_bytes)
    )
    constants = constant_layout(graph, plan.alignment)
    check_code_section(device, code_section)
    code = code_estimate(graph)
    if code_section != CodeSection.FLASH:
        code = measured_code(graph, plan, device.core, code_section) or code
    request = budget_request(plan.arena_bytes, constants, code, stack.bytes, code_section=code_section)
    budget = memory_budget(request, device)
    memory = device_memory(device, budget, clock)
    alias = _code_alias_missed(device, budget, code_section)
    fast = None
    with tempfile.TemporaryDirectory(prefix="mcudeploy-estimate-", dir=workdir) as scratch:
        folder = Path(scratch)
        target = emulation_target(device.core)
        stream = stream_frames(graph)
        if alias is not None:
            in_flash = _all_code_in_flash(graph, plan, device, code, stack.bytes, clock)
            fast, elf = split_hot_code(graph, plan, portable, target, folder, stream, in_flash, alias, code.run_bytes)
            code = replace(code, hot_bytes=fast.placed_bytes)
            request = budget_request(plan.arena_bytes, constants, code, stack.bytes, code_section=code_section)
            budget = memory_budget(request, device)
            memory = device_memory(device, budget, clock, split_code=budget.region_of(RUN_CODE) is not None)
        else:
            elf = build_model(graph, plan, portable, target, folder, len(stream.frames), str(code_section))
        run = run_model(graph, elf, target, memory, folder, stream)
    streaming = len(stream.frames) > 1
    priced = placements and not portable and not streaming
    arenas = arena_placements(graph, plan, device, timing, memory, workdir) if priced else []
    layers = [
        _layer_estimate(graph, index, price(counts, timing, memory), timing, clock)
        for index, counts in run.layers.items()
    ]
    notes = [*([fast.note()] if fast else []), *memory.notes, f"stack in the budget: {stack.describe()}"]
    if streaming and placements and not portable and device.core in CACHE_CORES:
        notes.append("arena placements not priced: they repeat one inference, this model's CIRCULAR_BUFFER waits")
    if device.part.fpu == Fpu.NONE and (floats := float_operators(graph)):
        notes.append(
            f"{len(floats)} float operators: {device.part.name} has no FPU, so their code is the software float "
            "library's (__aeabi_fadd, __aeabi_fmul, ...), counted instruction by instruction on QEMU"
        )
    if (note := npu_note(device)) is not None:
        notes.append(note)
    if stream.start:
        first, last = stream.start + 1, len(stream.frames)
        frames = f"frame {last}" if first == last else f"frames {first} to {last}"
        notes.append(
            f"a CIRCULAR_BUFFER in a subgraph waits for frames: the period priced is {frames} from reset, after "
            "the first inference that ran every layer, on the measured inputs (inputs choosing other IF branches "
            "or WHILE iterations may give another)"
        )
    notes += control_flow_notes(graph)
    return ModelEstimate(
        model=graph.name,
        device=device,
        timing=timing,
        clock_mhz=clock,
        memory=memory,
        layers=layers,
        inference=price(run.inference, timing, memory),
        macs=sum(layer.macs for layer in layers),
        fits=budget.fits,
        notes=notes,
        stack=stack,
        placements=arenas,
        waiting=[
            WaitingInference(frame, item.layer, graph.operators[item.layer].op_type, price(item.counts, timing, memory))
            for frame, item in enumerate(run.waiting, 1)
        ],
        code_section=code_section,
        hot_code_bytes=code.run_bytes if code_section != CodeSection.FLASH else None,
        fast_code=fast,
    )


def _all_code_in_flash(
    graph: Graph, plan: MemoryPlan, device: Device, code: CodeEstimate, stack_bytes: int, clock: float
) -> MemoryTiming:
    """The device's memory timing with all code in flash: what the hot functions are ranked by."""
    request = budget_request(plan.arena_bytes, constant_layout(graph, plan.alignment), code, stack_bytes)
    return device_memory(device, memory_budget(request, device), clock)


def hottest_code(
    graph: Graph,
    plan: MemoryPlan,
    device: Device,
    stack_bytes: int,
    clock_mhz: float | None = None,
    workdir: Path | None = None,
) -> FastCode | None:
    """With `--code-section ram`, the hottest functions of the hot code run through an SRAM's code alias
    (`estimate.hot_code`, runs of its own on QEMU) when the whole does not fit it; else None."""
    code = measured_code(graph, plan, device.core, CodeSection.RAM)
    if code is None:
        return None
    constants = constant_layout(graph, plan.alignment)
    request = budget_request(plan.arena_bytes, constants, code, stack_bytes, code_section=CodeSection.RAM)
    alias = _code_alias_missed(device, memory_budget(request, device), CodeSection.RAM)
    if alias is None:
        return None
    in_flash = _all_code_in_flash(graph, plan, device, code, stack_bytes, float(clock_mhz or device.part.max_clock_mhz))
    target = emulation_target(device.core)
    known = read_split(split_cache(graph, plan, False, target, in_flash, alias), alias)
    if known is not None:
        return known
    with tempfile.TemporaryDirectory(prefix="mcudeploy-hot-code-", dir=workdir) as scratch:
        stream = stream_frames(graph)
        return split_hot_code(graph, plan, False, target, Path(scratch), stream, in_flash, alias, code.run_bytes)[0]


def _code_alias_missed(device: Device, budget: MemoryBudget, code_section: CodeSection) -> MemoryRegion | None:
    """The SRAM with a code alias to run the hottest of the hot code from (`estimate.hot_code`), when
    `--code-section ram` wants it there but the whole does not fit it; else None."""
    if code_section != CodeSection.RAM or budget.region_of(RUN_CODE) is not None or not splits_hot_code(device):
        return None
    return max((region for region in device.regions if region.code_alias is not None), key=lambda r: r.size)


def control_flow_notes(graph: Graph) -> list[str]:
    """What the one measured inference (the first after init(), on `run_model`'s inputs) says of the
    layers that run subgraphs: a WHILE's figure is for the iterations its body made on those inputs,
    counted by the engine on the same inputs; a CALL_ONCE's includes its subgraph, which later
    inferences skip."""
    control_flow = [op for op in graph.operators if isinstance(op.options, WhileOptions | CallOnceOptions)]
    if not control_flow:
        return []
    engine = Engine(graph)
    *earlier, measured = stream_frames(graph).frames
    for frame in earlier:
        engine.run(frame)
    engine.subgraph_runs.clear()  # the measured inference's runs only
    engine.run(measured)
    notes = []
    for op in control_flow:
        if isinstance(op.options, WhileOptions):
            runs = engine.subgraph_runs.get(op.options.body_subgraph, 0)
            notes.append(
                f"layer {op.label}: its figures are for the {runs} runs of its body (subgraph "
                f"{op.options.body_subgraph}) on the measured inputs; a loop's time depends on how often it "
                "runs, which other inputs change"
            )
        elif engine.subgraph_runs.get(op.options.init_subgraph):
            notes.append(
                f"layer {op.label}: its figures include subgraph {op.options.init_subgraph}, which runs on the "
                "first inference after init() only (the one measured); later inferences skip it"
            )
        else:  # its subgraph waited for frames: it ran to its end on an earlier inference
            notes.append(
                f"layer {op.label}: subgraph {op.options.init_subgraph} ran on the inferences from init() up to the "
                "first that ran every layer, not on the one measured (later inferences skip it)"
            )
    return notes


def emulation_target(core: str) -> Target:
    """The target that runs `core`'s code (the core of a device with a cycle model always has one)."""
    target = core_target(core)
    assert target is not None, f"{core} has a cycle model but no QEMU machine"
    return target


def comparison_devices(device: Device | None) -> list[Device]:
    """The reference part of each core that has one; the user's device stands in for its own core."""
    return [
        device if device is not None and device.core == core.name else find_device(core.reference_part)
        for core in CORES
        if core.reference_part is not None
    ]


def compare_cores(
    graph: Graph, devices: list[Device], planner: str = "mcudeploy", clocks: Sequence[float | None] | None = None
) -> list[ModelEstimate]:
    """The same model estimated on each device at its clock in `clocks` (default: its maximum), two
    builds at a time."""
    chosen = list(clocks) if clocks is not None else [None] * len(devices)
    # Settled here, once: our planner settles unsettled convolutions' columns in place, trying each, and a
    # build in the other thread would read those trials (the direct path where im2col is chosen).
    plan_memory(graph, planner=planner)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(lambda device, clock: estimate_model(graph, device, clock, planner=planner), devices, chosen)
        return list(runs)
