"""The analyze step: will a planned model fit a device, and where does its memory go.

`analyze_model` lays out the constants, measures the generated code's flash on the device's
core (through the one harness, `analysis.code_size`), places everything in the device's
regions and returns a `ModelAnalysis`: dataclasses whose `dataclasses.asdict` is what
`analyze --json` prints. `mcudeploy.reports.analyze` only renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from mcudeploy.analysis.code_size import measured_code
from mcudeploy.analysis.costs import layer_macs
from mcudeploy.analysis.coverage import OperatorGap, uncounted_operators, variable_bytes
from mcudeploy.devices import Database, Device, MemoryRegion, load_database
from mcudeploy.ir import Graph
from mcudeploy.memory.budget import (
    DEFAULT_STACK_BYTES,
    CodeSection,
    Memory,
    MemoryBudget,
    Shortfall,
    SpanUse,
    budget_request,
    code_estimate,
    constant_layout,
    fitting_devices,
    memory_budget,
)
from mcudeploy.memory.placement import ArenaPlace, arena_place
from mcudeploy.memory.plan import MemoryPlan

FITS = "fits"
DOES_NOT_FIT = "does not fit"
CANNOT_VERIFY = "cannot verify"
"""The counted memory fits, but operators whose memory mcudeploy cannot count are left out."""


@dataclass(frozen=True)
class Reserves:
    stack_bytes: int = DEFAULT_STACK_BYTES
    reserve_ram: int = 0
    reserve_flash: int = 0
    stack_source: str = "assumed"
    """How stack_bytes was had: estimate.stack's MEASURED, ASSUMED or RESERVED (--stack)."""


@dataclass(frozen=True)
class NpuSummary:
    type: str
    macs_per_cycle: int | None


@dataclass(frozen=True)
class DeviceSummary:
    name: str
    part: str
    board: str | None
    vendor: str
    core: str
    max_clock_mhz: int
    fpu: str
    dsp: bool
    mve: str
    npu: NpuSummary | None
    icache_bytes: int | None
    dcache_bytes: int | None

    @classmethod
    def of(cls, device: Device) -> DeviceSummary:
        part = device.part
        return cls(
            name=device.name,
            part=part.name,
            board=device.board.name if device.board else None,
            vendor=part.vendor,
            core=part.core,
            max_clock_mhz=part.max_clock_mhz,
            fpu=part.fpu.value,
            dsp=part.dsp,
            mve=part.mve.value,
            npu=NpuSummary(part.npu.type, part.npu.macs_per_cycle) if part.npu else None,
            icache_bytes=part.icache_bytes,
            dcache_bytes=part.dcache_bytes,
        )


@dataclass(frozen=True)
class PeakLayer:
    index: int
    op: str
    live_bytes: int


@dataclass(frozen=True)
class ItemUse:
    name: str
    bytes: int
    runs_at: str = ""
    """Where in its span it runs when pinned to one region's code alias ("SRAM2 via 0x10000000")."""


@dataclass(frozen=True)
class RegionUse:
    """One span of the device (a region, or adjacent regions merged) and what it holds."""

    name: str
    kind: str
    base: str
    """The address in hex, as the device database writes it."""
    size: int
    used: int
    free: int
    percent_used: float
    off_chip: bool
    wait_states: int | None
    """None when the merged regions differ, or the documents give no single figure."""
    items: list[ItemUse]


@dataclass(frozen=True)
class ShortfallSummary:
    item: str
    memory: str
    bytes: int
    best_region: str | None
    room: int
    over_by: int


@dataclass(frozen=True)
class LayerMemory:
    index: int
    op: str
    macs: int
    weight_bytes: int
    scratch_bytes: int
    live_bytes: int | None
    peak: bool


@dataclass(frozen=True)
class ModelAnalysis:
    model: str
    device: DeviceSummary
    planner: str
    alignment: int
    arena_bytes: int
    weights_bytes: int
    code_bytes: int
    code_bytes_is_estimate: bool
    stack_bytes: int
    stack_source: str
    reserve_ram_bytes: int
    reserve_flash_bytes: int
    flash_bytes: int
    ram_bytes: int
    verdict: str
    """FITS, DOES_NOT_FIT or CANNOT_VERIFY."""
    fits: bool
    uncounted_operators: list[OperatorGap]
    """Operators whose memory the figures leave out (no kernel declares it)."""
    peak_layer: PeakLayer | None
    regions: list[RegionUse]
    shortfalls: list[ShortfallSummary]
    over_by: dict[str, int]
    """Bytes over, per kind of memory (flash, ram)."""
    external_room: list[str]
    """Off-chip spans that could hold what did not fit (never used on their own)."""
    fitting_devices: list[str]
    layers: list[LayerMemory]
    arena_placement: ArenaPlace | None
    """Where the arena goes and why, on parts with a choice (`memory.placement`)."""


def analyze_model(
    graph: Graph,
    plan: MemoryPlan,
    device: Device,
    reserves: Reserves,
    database: Database | None = None,
    code_section: CodeSection = CodeSection.FLASH,
    state_in_arena: bool = False,
    fast_code_bytes: int | None = None,
) -> ModelAnalysis:
    """The model's memory on `device`: the budget per region, the verdict, the memory per layer (with
    `code_section` itcm/ram the hot code twice: loaded in flash, run from there). `state_in_arena`:
    the plan's arena already holds the variable tensors and kernels' state (TFLM's tail holds them),
    else they are budgeted beside it (our generated code). `fast_code_bytes`: where only the hottest functions
    of the hot code run from its section (`estimate.hot_code`), the bytes linked there, the run image placed."""
    constants = constant_layout(graph, plan.alignment)
    code = measured_code(graph, plan, device.core, code_section) or code_estimate(graph)
    if fast_code_bytes is not None:
        code = replace(code, hot_bytes=fast_code_bytes)
    request = budget_request(
        plan.arena_bytes,
        constants,
        code,
        reserves.stack_bytes,
        reserves.reserve_ram,
        reserves.reserve_flash,
        0 if state_in_arena else variable_bytes(graph),
        code_section,
    )
    budget = memory_budget(request, device)
    uncounted = uncounted_operators(graph, plan.subgraphs_planned)
    status = _verdict(budget.fits, uncounted)
    return ModelAnalysis(
        model=graph.name,
        device=DeviceSummary.of(device),
        planner=plan.planner,
        alignment=plan.alignment,
        arena_bytes=plan.arena_bytes,
        weights_bytes=constants.total_bytes,
        code_bytes=code.total,
        code_bytes_is_estimate=code.measured_on is None,
        stack_bytes=reserves.stack_bytes,
        stack_source=reserves.stack_source,
        reserve_ram_bytes=reserves.reserve_ram,
        reserve_flash_bytes=reserves.reserve_flash,
        flash_bytes=budget.flash_bytes,
        ram_bytes=budget.ram_bytes,
        verdict=status,
        fits=status == FITS,
        uncounted_operators=uncounted,
        peak_layer=_peak_layer(graph, plan),
        regions=[_region_use(use) for use in budget.uses],
        shortfalls=[_shortfall(s) for s in budget.shortfalls],
        over_by={memory.value: _over_by(budget, memory) for memory in Memory},
        external_room=[span.name for span in budget.external_room()],
        fitting_devices=[d.name for d in fitting_devices(request, database or load_database())],
        layers=_layers(graph, plan, constants.layer_bytes),
        arena_placement=arena_place(budget, device, plan.arena_bytes),
    )


def _verdict(counted_fit: bool, uncounted: list[OperatorGap]) -> str:
    if not counted_fit:
        return DOES_NOT_FIT
    return CANNOT_VERIFY if uncounted else FITS


def _peak_layer(graph: Graph, plan: MemoryPlan) -> PeakLayer | None:
    if not graph.operators or not plan.step_live_bytes:
        return None
    op = graph.operators[plan.peak_step]
    return PeakLayer(op.index, op.op_type, plan.step_live_bytes[op.index])


def _layers(graph: Graph, plan: MemoryPlan, weight_bytes: Callable[[int], int]) -> list[LayerMemory]:
    scratch: dict[int, int] = {}
    for buffer in plan.buffers:
        if buffer.scratch_of is not None:
            scratch[buffer.scratch_of] = scratch.get(buffer.scratch_of, 0) + buffer.size
    peak = plan.peak_step if plan.step_live_bytes else None
    return [
        LayerMemory(
            index=op.index,
            op=op.op_type,
            macs=layer_macs(graph, op),
            weight_bytes=weight_bytes(op.index),
            scratch_bytes=scratch.get(op.index, 0),
            live_bytes=plan.step_live_bytes[op.index] if op.index < len(plan.step_live_bytes) else None,
            peak=op.index == peak,
        )
        for op in graph.operators
    ]


def _region_use(use: SpanUse) -> RegionUse:
    span = use.span
    return RegionUse(
        name=span.name,
        kind=span.kind.value,
        base=f"0x{span.base:08X}",
        size=span.size,
        used=use.used,
        free=use.free,
        percent_used=percent(use.used, span.size),
        off_chip=span.off_chip,
        wait_states=_wait_states(span.regions),
        items=[ItemUse(item.name, item.size, _runs_at(use, item.name)) for item in use.items],
    )


def _runs_at(use: SpanUse, item_name: str) -> str:
    return use.pinned[item_name].via_code_alias if item_name in use.pinned else ""


def _wait_states(regions: tuple[MemoryRegion, ...]) -> int | None:
    known = {r.wait_states for r in regions}
    return known.pop() if len(known) == 1 else None


def _shortfall(shortfall: Shortfall) -> ShortfallSummary:
    return ShortfallSummary(
        item=shortfall.item.name,
        memory=shortfall.item.memory.value,
        bytes=shortfall.item.size,
        best_region=shortfall.best_region,
        room=shortfall.room,
        over_by=shortfall.over_by,
    )


def _over_by(budget: MemoryBudget, memory: Memory) -> int:
    return sum(s.over_by for s in budget.shortfalls if s.item.memory == memory)


def percent(part: int, whole: int) -> float:
    """`part` of `whole` in percent, to one decimal."""
    return round(100.0 * part / whole, 1) if whole else 0.0
