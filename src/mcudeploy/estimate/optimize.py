"""`--optimize speed|balanced|size`: each layer's kernel variant chosen for the whole model.

Each CONV_2D has two column paths (im2col, fast, with scratch; direct, none: `memory.variants`)
and, on cores whose convolution runs the DSP kernel, two weight layouts (int8; int16, twice the
flash and a 4-column scratch, no unpacking, each weight read once for 4 pixels: `ir.variants`); so
has each FULLY_CONNECTED (int16 in blocks of 4 rows, nothing unpacked per row); each DEPTHWISE_CONV_2D
of depth multiplier 1 two schedules (channel planes copied to scratch; streaming, none). The
configurations considered:

- *size columns*: the smallest arena (direct only where that lowers it, each depthwise layer in
  the schedule taking fewer bytes), int8 weights;
- *fast columns* (speed only): im2col wherever the arena still fits the device's RAM with the reserves;
- each of those with planes on the depthwise layers where they pay by the cycle model, most cycles
  saved first, as many as keep the arena within the device's RAM with the reserves (speed) or
  within the size columns' arena (balanced);
- each of those with int16 weights on the layers where they pay by the cycle model, best gain
  per flash byte first, as many as fit the flash with the reserve (balanced: and leave the arena
  at its smallest).

size takes the first; balanced the fastest with the smallest arena; speed the fastest that fits,
then (speed only) that one with the weights of some layers read from SRAM (`ir.variants.WeightMemory`:
loaded in flash, copied at start-up): most cycles the layer's reads of flash constants took (as the cycle
model measured them) per byte first, as many as the device's RAM holds beside the arena, the stack and
the reserves; on a core with a data cache and a DTCM, also the configuration whose SRAM block stays in
the DTCM, both run whole; then its depthwise layers on the schedule measured faster with their
constants in SRAM (run whole). Last (speed and balanced), on the DSP cores, the chosen one with the
layers whose kernel has its hot loop both ways (`ir.variants.Loops`) rolled where a run with all of them
rolled measured them faster: behind a flash cache smaller than the unrolled loop (ST's 1 KB ART), not
where the code is cached or run from SRAM.
Latency is the cycle model's (`estimate`), per layer, priced for the device at its clock: one run of
each configuration as it is and one with every layer in its fastest candidate variant; one with int16
weights sums its layers' cycles and the calls between layers of those runs; one with planes is run
whole, as the arena's layout moves and some kernels' paths follow it. With `code_section` itcm/ram,
each run and each budget has the hot code where it will run (its run image in RAM, fetch priced
there): what a variant's code costs to fetch depends on where it runs; and each configuration is
run whole, as whether the hot code fits an SRAM's code alias follows the whole code's size. The
choice is set
on the operators (`Operator.variant`), the one record planner, code generator, flash measurement
and estimate read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial

from mcudeploy.analysis.code_size import measured_code
from mcudeploy.analysis.coverage import variable_bytes
from mcudeploy.analysis.model import Reserves
from mcudeploy.devices import Device, RegionKind, find_core
from mcudeploy.emulation.plugin import cache_dir
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate.hot_code import split_bound
from mcudeploy.estimate.measure import run_cache_key
from mcudeploy.estimate.memory import CONSTANTS_LABEL, device_memory, faster_code_sections
from mcudeploy.estimate.model import estimate_model
from mcudeploy.estimate.stack import static_need
from mcudeploy.files import write_file
from mcudeploy.ir import Columns, DType, Graph, KernelVariant, Loops, Operator, Schedule, WeightLayout, WeightMemory
from mcudeploy.kernels.contracts import has_planes, least_memory_schedule
from mcudeploy.kernels.loops import has_rolled_loops
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import (
    ARENA,
    DEFAULT_STACK_BYTES,
    SRAM_WEIGHTS,
    CodeEstimate,
    CodeSection,
    Memory,
    MemoryBudget,
    budget_request,
    code_estimate,
    constant_layout,
    memory_budget,
)
from mcudeploy.memory.plan import MemoryPlan
from mcudeploy.memory.variants import settle_columns, settle_schedule
from mcudeploy.params.constant_inputs import WIDENED_FILTERS
from mcudeploy.params.quantization import zero_point


class Objective(StrEnum):
    SPEED = "speed"
    BALANCED = "balanced"
    SIZE = "size"


@dataclass(frozen=True)
class VariantPoint:
    """One configuration considered: its memory on the device and its latency."""

    name: str
    flash_bytes: int
    ram_bytes: int
    arena_bytes: int
    milliseconds: float | None
    """None when the cycle model could not run (no cross compiler or QEMU)."""
    fits: bool
    direct_layers: list[int]
    int16_layers: list[int]
    plane_layers: list[int]
    sram_weight_layers: list[int] = field(default_factory=list)
    """The layers whose constants are read from SRAM (loaded in flash, counted in both)."""
    sram_weight_bytes: int = 0
    rolled_layers: list[int] = field(default_factory=list)
    """The layers whose hot loop is rolled (`ir.variants.Loops`)."""
    chosen: bool = False


@dataclass(frozen=True)
class VariantChoice:
    objective: str
    points: list[VariantPoint]
    """The Pareto-optimal points (flash, RAM, ms) of those considered, the chosen one marked."""
    latency: str
    """How the latencies were had, or why there are none."""
    clock_mhz: float | None = None
    code_section: CodeSection = CodeSection.FLASH
    """Where the hot code runs in the budgets and runs of the points."""
    code_sections: dict[str, float | None] = field(default_factory=dict)
    """With speed and no `--code-section` named: the chosen latency with the hot code in each place tried
    (`faster_code_sections`), ms (None: not timed, or it did not fit)."""

    @property
    def chosen(self) -> VariantPoint | None:
        return next((point for point in self.points if point.chosen), None)


Config = dict[int, KernelVariant]
LayerCycles = dict[tuple[int, KernelVariant], float]


def convolutions(graph: Graph) -> list[Operator]:
    return [op for op in graph.operators if op.op_type == "CONV_2D"]


def depthwise_choices(graph: Graph) -> list[Operator]:
    """The DEPTHWISE_CONV_2D layers that may take either schedule."""
    return [op for op in graph.operators if op.op_type == "DEPTHWISE_CONV_2D" and has_planes(graph, op)]


def widenable(graph: Graph, op: Operator, core: str) -> bool:
    """Whether the layer has the int16-weight kernel on `core`: int8 activations, an int32 bias (or
    none), a filter no other layer reads, and a core whose best path is the DSP one; a convolution not
    grouped, with an int8 filter or an int4 one (then unpacked when the code is generated: no scratch
    to unpack it into, four times the packed flash); a fully connected layer with a symmetric int8
    filter; a depthwise layer of one input channel with an int8 filter and several output channels
    (with one it is a channel-plane candidate), computed as the convolution it is."""
    if op.op_type not in WIDENED_FILTERS or find_core(core).kernel_variants[:1] != ("dsp",):
        return False
    input_t, filter_t = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    bias = graph.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    if not (
        input_t.dtype == DType.INT8
        and filter_t.dtype in (DType.INT8, DType.INT4)
        and filter_t.is_constant
        and (bias is None or bias.dtype == DType.INT32)
        and sum(op.inputs[1] in other.inputs for other in graph.operators) == 1
    ):
        return False
    if op.op_type == "DEPTHWISE_CONV_2D":
        output_c = graph.tensors[op.outputs[0]].shape[3]
        return filter_t.dtype == DType.INT8 and input_t.shape[3] == 1 and output_c > 1
    if op.op_type == "FULLY_CONNECTED":
        quantization = filter_t.quantization
        symmetric = quantization is not None and (quantization.per_channel or zero_point(filter_t) == 0)
        return filter_t.dtype == DType.INT8 and len(filter_t.shape) == 2 and symmetric
    return len(filter_t.shape) == 4 and filter_t.shape[3] == input_t.shape[3]


def optimize_variants(
    graph: Graph,
    device: Device,
    reserve: Reserves,
    objective: Objective,
    alignment: int = 16,
    clock_mhz: float | None = None,
    measure: Measure | None = None,
    weights_to_sram: bool = True,
    code_section: CodeSection = CodeSection.FLASH,
) -> VariantChoice:
    """Choose and set every CONV_2D's and DEPTHWISE_CONV_2D's variant on `graph` for `objective` on
    `device`, and the weights of the FULLY_CONNECTED layers that may take int16 ones; with speed and
    `weights_to_sram`, which layers read their constants from SRAM; each timed and budgeted with the hot
    code run from `code_section`."""
    convs, depthwise = convolutions(graph), depthwise_choices(graph)
    clock = float(clock_mhz or device.part.max_clock_mhz)
    device_memory(device, None, clock)  # refuses a clock the part does not run at, before any run
    wide = [op.index for op in graph.operators if widenable(graph, op, device.core)]
    wide = wide if objective != Objective.SIZE else []
    if not convs and not wide and not depthwise:
        return VariantChoice(objective.value, [], "no layer with a choice of kernel", code_section=code_section)
    evaluate = _Evaluator(graph, device, reserve, alignment, code_section)
    # fully connected and one-channel depthwise layers: no columns to choose, their int8 weights until widened
    dense = {i: KernelVariant() for i in wide if graph.operators[i].op_type != "CONV_2D"}
    size_columns = {**evaluate.columns(convs, depthwise, None), **dense}
    configs = {"size": size_columns}
    if objective == Objective.SPEED:
        fast = {**evaluate.columns(convs, depthwise, evaluate.arena_room(size_columns)), **dense}
        if fast != size_columns:
            configs["fast columns"] = fast
    scheduled = [op.index for op in depthwise] if objective != Objective.SIZE else []
    measure = measure or partial(_measure_layers, code_section=code_section)
    whole = code_section != CodeSection.FLASH
    timing, latency = _cycles(graph, device, clock, reserve, configs, wide, scheduled, measure, whole)
    if timing is not None and scheduled:
        latency = _add_schedules(evaluate, timing, configs, scheduled, objective) or latency
    if timing is not None:
        # balanced keeps the smallest arena: int16 weights only where their 4-column scratch leaves it
        arena_limit = evaluate.budget(size_columns)[0].arena_bytes if objective == Objective.BALANCED else None
        for name, config in list(configs.items()):
            widened = evaluate.widen(config, _paying(graph, config, wide, timing.cycles), arena_limit)
            if widened != config:
                configs[f"{name} + int16 weights"] = widened
    points = [evaluate.point(name, config, timing, clock) for name, config in configs.items()]
    chosen = _choose(points, objective)
    if timing is not None and objective == Objective.SPEED and weights_to_sram:
        for name, config in _weights_to_sram(evaluate, timing, chosen.name, configs[chosen.name]).items():
            configs[name] = config
            points.append(evaluate.point(name, config, timing, clock))
        chosen = _choose(points, objective)
        for name, config in _retimed_schedules(evaluate, timing, chosen.name, configs[chosen.name], scheduled).items():
            configs[name] = config
            points.append(evaluate.point(name, config, timing, clock))
        chosen, latency = _choose(points, objective), timing.latency
    if timing is not None and objective != Objective.SIZE:
        for name, config in _rolled(evaluate, timing, chosen.name, configs[chosen.name], wide, scheduled).items():
            configs[name] = config
            points.append(evaluate.point(name, config, timing, clock))
        chosen, latency = _choose(points, objective), timing.latency
    evaluate.apply(configs[chosen.name])
    front = _pareto(points)
    front += [] if chosen in front else [chosen]
    marked = [replace(p, chosen=p.name == chosen.name) for p in front]
    return VariantChoice(objective.value, marked, latency, clock if timing is not None else None, code_section)


def optimize_code_and_variants(
    graph: Graph,
    device: Device,
    reserve: Reserves,
    objective: Objective,
    alignment: int = 16,
    clock_mhz: float | None = None,
    code_section: CodeSection | None = None,
    weights_to_sram: bool = True,
) -> VariantChoice:
    """`optimize_variants` with the hot code in `code_section`; none named: in flash, but for speed the
    fastest fitting choice of flash and the places the hot code may run faster (`faster_code_sections`),
    each optimized whole, as the variants that win depend on where the code runs (rolled loops for a small
    flash cache). The winner's variants are left set on `graph`."""
    optimize = partial(
        optimize_variants, graph, device, reserve, objective, alignment, clock_mhz, weights_to_sram=weights_to_sram
    )
    if code_section is not None or objective != Objective.SPEED:
        return optimize(code_section=code_section or CodeSection.FLASH)
    start = {op.index: op.variant for op in graph.operators}
    tried: dict[CodeSection, tuple[VariantChoice, dict[int, KernelVariant | None]]] = {}
    for section in (CodeSection.FLASH, *faster_code_sections(device)):
        for op in graph.operators:
            op.variant = start[op.index]
        try:
            choice = optimize(code_section=section)
        except McuDeployError:  # e.g. no room for the hot code there
            if section == CodeSection.FLASH:
                raise
            continue
        tried[section] = (choice, {op.index: op.variant for op in graph.operators})
        if section == CodeSection.FLASH and choice.clock_mhz is None:  # not timed (no toolchain): flash only
            break
    timed = {section: ms for section, (choice, _) in tried.items() if (ms := _fitting_ms(choice)) is not None}
    best = min(timed, key=timed.__getitem__) if timed else CodeSection.FLASH
    choice, variants = tried[best]
    for op in graph.operators:
        op.variant = variants[op.index]
    sections = {str(section): _fitting_ms(choice) for section, (choice, _) in tried.items()} if len(tried) > 1 else {}
    return replace(choice, code_section=best, code_sections=sections)


def _fitting_ms(choice: VariantChoice) -> float | None:
    chosen = choice.chosen
    return chosen.milliseconds if chosen is not None and chosen.fits else None


def _add_schedules(
    evaluate: _Evaluator, timing: _Timing, configs: dict[str, Config], scheduled: list[int], objective: Objective
) -> str | None:
    """Add to `configs` each one with its depthwise layers on the schedule (planes or streaming) measured
    faster, as many as keep the arena within the device's RAM (speed) or the size configuration's arena
    (balanced), each run whole; the timing's description then, None when no configuration was added or
    a run failed."""
    size_arena = evaluate.budget(configs["size"])[0].arena_bytes
    for name, config in list(configs.items()):
        limit = evaluate.arena_room(config) if objective == Objective.SPEED else size_arena
        settled = evaluate.schedules(config, scheduled, timing.cycles, limit)
        if settled == config:
            continue
        try:
            timing.run(settled)
        except McuDeployError:
            return None
        configs[f"{name} + faster depthwise"] = settled
    return timing.latency


def _weights_to_sram(evaluate: _Evaluator, timing: _Timing, name: str, config: Config) -> dict[str, Config]:
    """`config` with the constants of its layers read from SRAM where the RAM holds them, each run whole:
    in any SRAM, and on a core with a data cache, in a DTCM only (where it differs); none where the
    layers read nothing from flash, a run failed or no layer's constants fit."""
    evaluate.apply(config)
    layout = constant_layout(evaluate.graph, evaluate.alignment)

    def flash_reads(index: int) -> float:
        return timing.flash_reads.get((index, config.get(index)), 0.0)

    paying = [i for i in range(len(evaluate.graph.operators)) if layout.layer_bytes(i) and flash_reads(i) > 0]
    paying.sort(key=lambda i: -flash_reads(i) / layout.layer_bytes(i))
    tcm = find_core(evaluate.device.core).data_cache and any(
        span.kind == RegionKind.DTCM for span in evaluate.device.spans()
    )
    moved: dict[str, Config] = {}
    for tcm_only in (False, True) if tcm else (False,):
        trial = evaluate.to_sram(config, paying, tcm_only)
        if trial != config and trial not in moved.values():
            try:
                timing.run(trial)
            except McuDeployError:
                return {}
            moved[f"{name} + weights in {'DTCM' if tcm_only else 'SRAM'}"] = trial
    return moved


def _retimed_schedules(
    evaluate: _Evaluator, timing: _Timing, name: str, config: Config, scheduled: list[int]
) -> dict[str, Config]:
    """`config`, whose depthwise layers of `scheduled` read their constants from SRAM, with each of them on
    the schedule measured faster so (the schedules were settled with the constants in flash, whose wait
    states weigh on streaming, which reads the filter at every pixel, more than on planes, which read it
    once a channel), within the device's RAM: the other schedule of each run whole first; none where no
    such layer reads SRAM, the schedules stay or a run failed."""
    in_sram = [i for i in scheduled if config[i].weights_in == WeightMemory.SRAM]
    if not in_sram:
        return {}
    try:
        for schedule in DEPTHWISE_SCHEDULES:
            timing.run({i: (_planned(v, schedule) if i in in_sram else v) for i, v in config.items()})
        settled = evaluate.schedules(config, in_sram, timing.cycles, evaluate.arena_room(config))
        if settled == config:
            return {}
        timing.run(settled)
    except McuDeployError:
        return {}
    return {f"{name} + depthwise re-timed": settled}


def _rolled(
    evaluate: _Evaluator, timing: _Timing, name: str, config: Config, wide: list[int], scheduled: list[int]
) -> dict[str, Config]:
    """`config` with rolled loops (`ir.variants.Loops`) on its layers that have them and were measured
    faster so, in a run with every one of them rolled (what the unrolled code costs to fetch depends on
    the device's instruction cache and where the code runs), run whole; none where no layer has them,
    none gains or a run failed. A convolution of `wide` left with int8 weights is a candidate with int16
    ones rolled, a depthwise layer of `scheduled` left off grouped planes one with them rolled: its
    unrolled kernel may have lost only by missing the cache."""
    if find_core(evaluate.device.core).kernel_variants[:1] != ("dsp",):  # the DSP path's kernels only
        return {}
    graph = evaluate.graph
    int8_convolutions = [i for i in wide if graph.operators[i].op_type == "CONV_2D" and i in config]
    ungrouped = [i for i in scheduled if i in config and config[i].schedule != Schedule.GROUPED]
    widened = {
        **config,
        **{i: _widened(config[i]) for i in int8_convolutions if config[i].columns == Columns.IM2COL},
        **{i: _planned(config[i], Schedule.GROUPED) for i in ungrouped},
    }
    evaluate.apply(widened)
    having = [i for i in config if has_rolled_loops(graph, graph.operators[i])]
    if not having:
        return {}

    def rolled(indices: list[int]) -> Config:
        return {i: (replace(widened[i], loops=Loops.ROLLED) if i in indices else v) for i, v in config.items()}

    try:
        timing.run(config)
        timing.run(rolled(having))
        faster = [i for i in having if timing.cycles[(i, rolled([i])[i])] < timing.cycles[(i, config[i])]]
        if not faster:
            return {}
        timing.run(rolled(faster))
    except McuDeployError:
        return {}
    return {f"{name} + rolled loops": rolled(faster)}


DEPTHWISE_SCHEDULES = (Schedule.GROUPED, Schedule.PLANES, Schedule.STREAMING)
"""The depthwise schedules timed per layer, in the order `_Evaluator.schedules` settles them."""


def _in_sram(variant: KernelVariant | None) -> KernelVariant:
    return replace(variant or KernelVariant(), weights_in=WeightMemory.SRAM)


def _choose(points: list[VariantPoint], objective: Objective) -> VariantPoint:
    size = points[0]
    if objective == Objective.SIZE:
        return size
    allowed = [p for p in points if p.fits and (objective == Objective.SPEED or p.arena_bytes <= size.arena_bytes)]
    timed = [p for p in allowed if p.milliseconds is not None]
    return min(timed, key=lambda p: (p.milliseconds, p.flash_bytes, p.ram_bytes)) if timed else size


def _pareto(points: list[VariantPoint]) -> list[VariantPoint]:
    """The points no other point beats or equals on flash, RAM and latency at once."""

    def key(point: VariantPoint) -> tuple[float, float, float]:
        return (point.flash_bytes, point.ram_bytes, point.milliseconds if point.milliseconds is not None else 0.0)

    return [p for p in points if not any(q is not p and _dominates(key(q), key(p)) for q in points)]


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and a != b


def _paying(graph: Graph, config: Config, wide: list[int], cycles: LayerCycles) -> list[int]:
    """The layers of `wide` that run im2col in `config` and take fewer cycles with int16 weights,
    the most cycles saved per extra flash byte first."""

    def saved(index: int) -> float:
        return cycles[(index, config[index])] - cycles[(index, _widened(config[index]))]

    paying = [i for i in wide if config[i].columns == Columns.IM2COL and saved(i) > 0]
    return sorted(paying, key=lambda i: -saved(i) / graph.tensors[graph.operators[i].inputs[1]].size)


def _widened(variant: KernelVariant) -> KernelVariant:
    return replace(variant, weights=WeightLayout.INT16_PAIRS)


def _faster(config: Config, scheduled: list[int], cycles: LayerCycles, schedule: Schedule) -> list[int]:
    """The depthwise layers of `scheduled` not on `schedule` in `config` that take fewer cycles on it, the
    most cycles saved first."""

    def saved(index: int) -> float:
        return cycles[(index, config[index])] - cycles[(index, _planned(config[index], schedule))]

    other = [i for i in scheduled if config[i].schedule != schedule and saved(i) > 0]
    return sorted(other, key=lambda i: -saved(i))


def _planned(variant: KernelVariant, schedule: Schedule = Schedule.PLANES) -> KernelVariant:
    return replace(variant, schedule=schedule)


class _Evaluator:
    """Sets configurations on the graph and measures their memory on the device."""

    def __init__(
        self, graph: Graph, device: Device, reserve: Reserves, alignment: int, code_section: CodeSection
    ) -> None:
        self.graph, self.device, self.reserve, self.alignment = graph, device, reserve, alignment
        self.code_section = code_section
        self.initial = [op.variant for op in graph.operators]
        """Each layer's variant before any choice: that of a layer a configuration leaves out."""

    def apply(self, config: Config) -> None:
        for op in self.graph.operators:
            op.variant = config.get(op.index, self.initial[op.index])

    def columns(self, convs: list[Operator], depthwise: list[Operator], arena_limit: int | None) -> Config:
        """Columns settled for `arena_limit`, each depthwise layer in the schedule taking fewer bytes."""
        for op in convs:
            op.variant = None
        for op in depthwise:
            op.variant = KernelVariant(schedule=least_memory_schedule(self.graph, op))
        settle_columns(self.graph, convs, self.alignment, arena_limit)
        return {op.index: op.variant for op in [*convs, *depthwise] if op.variant is not None}

    def schedules(self, config: Config, scheduled: list[int], cycles: LayerCycles, arena_limit: int) -> Config:
        """`config` with each depthwise layer of `scheduled` on its faster schedule, where the arena stays
        within `arena_limit` (the most cycles saved first, grouped planes, one plane, then streaming;
        each against the schedule the layer has so far)."""
        self.apply(config)
        for schedule in DEPTHWISE_SCHEDULES:
            current = {i: self.graph.operators[i].variant for i in config}
            faster = [self.graph.operators[i] for i in _faster(current, scheduled, cycles, schedule)]
            settle_schedule(self.graph, faster, schedule, self.alignment, arena_limit)
        return {index: self.graph.operators[index].variant for index in config}

    def budget(self, config: Config, code: CodeEstimate | None = None) -> tuple[MemoryPlan, MemoryBudget]:
        """The plan and budget of `config`, its code measured from the link (or `code`'s figure)."""
        self.apply(config)
        plan = plan_memory(self.graph, alignment=self.alignment)
        code = code or self.measured_code(plan) or code_estimate(self.graph)
        request = budget_request(
            plan.arena_bytes,
            constant_layout(self.graph, plan.alignment),
            code,
            self.reserve.stack_bytes,
            self.reserve.reserve_ram,
            self.reserve.reserve_flash,
            variable_bytes(self.graph),
            self.code_section,
        )
        return plan, memory_budget(request, self.device)

    def measured_code(self, plan: MemoryPlan | None = None) -> CodeEstimate | None:
        """The code of the configuration set on the graph, linked with its hot code run from the code section
        (where its hottest functions only will run through a code alias, at most the alias's bytes there)."""
        plan = plan or plan_memory(self.graph, alignment=self.alignment)
        code = measured_code(self.graph, plan, self.device.core, self.code_section)
        return None if code is None else split_bound(code, self.device, self.code_section)

    def arena_room(self, config: Config) -> int:
        """The largest arena the device's RAM holds beside everything else of `config`."""
        plan, budget = self.budget(config)
        spans = [use for use in budget.uses if any(item.memory == Memory.RAM for item in use.items)]
        arena_span = next((use for use in spans if any(item.name == ARENA for item in use.items)), None)
        return plan.arena_bytes + (arena_span.free if arena_span is not None else 0)

    def widen(self, config: Config, paying: list[int], arena_limit: int | None = None) -> Config:
        """`config` with int16 weights on the first layers of `paying` that the flash holds, and
        whose scratch keeps the arena within `arena_limit` if given (each trial with the code
        measured with all of them: the int16 kernel linked)."""

        def holds(trial: Config, code: CodeEstimate | None = None) -> bool:
            plan, budget = self.budget(trial, code)
            return budget.fits and (arena_limit is None or plan.arena_bytes <= arena_limit)

        widened = {**config, **{index: _widened(config[index]) for index in paying}}
        if not paying or holds(widened):
            return widened
        self.apply(widened)
        code = self.measured_code()
        widened = dict(config)
        for index in paying:
            trial = {**widened, index: _widened(widened[index])}
            if holds(trial, code):
                widened = trial
        return widened

    def to_sram(self, config: Config, paying: list[int], tcm_only: bool) -> Config:
        """`config` with the constants of the first layers of `paying` read from SRAM, as many as the
        device's RAM holds with everything else (`tcm_only`: in a DTCM), each trial with the code
        measured for `config` (where its constants live does not change the code's flash)."""
        self.apply(config)
        code = self.measured_code()
        moved = dict(config)
        for index in paying:
            trial = {**moved, index: _in_sram(moved.get(index))}
            _, budget = self.budget(trial, code)
            span = next((use.span for use in budget.uses if any(i.name == SRAM_WEIGHTS for i in use.items)), None)
            if budget.fits and span is not None and (not tcm_only or span.kind == RegionKind.DTCM):
                moved = trial
        return moved

    def point(self, name: str, config: Config, timing: _Timing | None, clock: float) -> VariantPoint:
        plan, budget = self.budget(config)
        milliseconds = timing.total(config) / (clock * 1000.0) if timing is not None else None
        return VariantPoint(
            name=name,
            flash_bytes=budget.flash_bytes,
            ram_bytes=budget.ram_bytes,
            arena_bytes=plan.arena_bytes,
            milliseconds=milliseconds,
            fits=budget.fits,
            direct_layers=sorted(i for i, v in config.items() if v.columns == Columns.DIRECT),
            int16_layers=sorted(i for i, v in config.items() if v.weights == WeightLayout.INT16_PAIRS),
            plane_layers=sorted(i for i, v in config.items() if v.schedule in (Schedule.PLANES, Schedule.GROUPED)),
            sram_weight_layers=sorted(i for i, v in config.items() if v.weights_in == WeightMemory.SRAM),
            sram_weight_bytes=constant_layout(self.graph, plan.alignment).sram_bytes,
            rolled_layers=sorted(i for i, v in config.items() if v.loops == Loops.ROLLED),
        )


@dataclass(frozen=True)
class ModelRun:
    """One inference as the cycle model priced it."""

    layers: dict[int, float]
    """Cycles per layer."""
    between: float
    """Cycles between layers (the calls, the inference's own set-up)."""
    flash_reads: dict[int, float] = field(default_factory=dict)
    """Per layer, the memory cycles of its reads of the constants in flash (the estimate's 'constants')."""


Measure = Callable[[Graph, Device, float, int], ModelRun]


@dataclass
class _Timing:
    """Cycles per (layer, variant) from whole runs of the model, and each run's own total."""

    graph: Graph
    device: Device
    clock: float
    stack_bytes: int
    measure: Measure
    cycles: LayerCycles = field(default_factory=dict)
    flash_reads: LayerCycles = field(default_factory=dict)
    runs: list[tuple[Config, float]] = field(default_factory=list)
    overhead: float = 0.0
    whole: bool = False
    """Every configuration's total from a run of its own: with the hot code out of flash, where it runs
    (through a code alias, or not where it does not fit) follows the whole configuration's code size."""

    def run(self, config: Config) -> None:
        if any(config == done for done, _ in self.runs):
            return
        for op in self.graph.operators:
            op.variant = config.get(op.index)
        run = self.measure(self.graph, self.device, self.clock, self.stack_bytes)
        self.overhead = run.between
        self.cycles.update({(index, config.get(index)): total for index, total in run.layers.items()})
        self.flash_reads.update({(index, config.get(index)): total for index, total in run.flash_reads.items()})
        self.runs.append((config, self.overhead + sum(run.layers.values())))

    def total(self, config: Config) -> float:
        """The run's own total where `config` was run, else its layers' cycles summed: a kernel's path
        may follow the arena's layout (a 1x1 convolution on Helium reads its input in place only where
        its output does not overlap it), so a configuration that moves the layout is run whole."""
        if self.whole:
            self.run(config)
        own = next((total for done, total in self.runs if config == done), None)
        if own is not None:
            return own
        return self.overhead + sum(self.cycles[(op.index, config.get(op.index))] for op in self.graph.operators)

    @property
    def latency(self) -> str:
        return f"{self.device.core} cycle model ({len(self.runs)} runs of the whole model) at {self.clock:g} MHz"


def _cycles(
    graph: Graph,
    device: Device,
    clock: float,
    reserve: Reserves,
    configs: dict[str, Config],
    wide: list[int],
    scheduled: list[int],
    measure: Measure,
    whole: bool = False,
) -> tuple[_Timing | None, str]:
    """Per (layer, variant), the cycles of every variant the configurations may take: one run of
    each configuration as it is, and one with int16 weights on every layer of `wide` it runs im2col
    for each schedule on every depthwise layer of `scheduled` (`whole`: `_Timing.whole`)."""

    def fastest(config: Config, schedule: Schedule) -> Config:
        widened = {i: (_widened(v) if i in wide and v.columns == Columns.IM2COL else v) for i, v in config.items()}
        return {i: (_planned(v, schedule) if i in scheduled else v) for i, v in widened.items()}

    schedules = DEPTHWISE_SCHEDULES if scheduled else (Schedule.PLANES,)
    runs = [*configs.values(), *(fastest(c, schedule) for c in configs.values() for schedule in schedules)]
    unique = [c for n, c in enumerate(runs) if c not in runs[:n]]
    if len(unique) == 1:
        return None, "one configuration only: nothing to time"
    timing = _Timing(graph, device, clock, reserve.stack_bytes, measure, whole=whole)
    try:
        for config in unique:
            timing.run(config)
    except McuDeployError as error:
        return None, f"not timed: {error}"
    return timing, timing.latency


def _measure_layers(
    graph: Graph, device: Device, clock: float, stack_bytes: int, code_section: CodeSection = CodeSection.FLASH
) -> ModelRun:
    """Cycles per layer of one inference, those between layers and each layer's flash constant reads,
    by the estimate with the hot code run from `code_section` (cached by content)."""
    # The part's database entry too: its wait states, caches and their geometry.
    key = run_cache_key(graph, plan_memory(graph), f"{device.name}@{clock}, code in {code_section}, {device.part!r}")
    cached = cache_dir() / f"variant-cycles-{key}.json"
    if cached.exists():
        figures = json.loads(cached.read_text())
        layers, flash = ({int(k): v for k, v in figures[name].items()} for name in ("layers", "flash_reads"))
        return ModelRun(layers, figures["between"], flash)
    estimate = estimate_model(graph, device, clock, stack_bytes=stack_bytes, code_section=code_section)
    layers = {layer.index: layer.cycles.total for layer in estimate.layers}
    flash = {layer.index: layer.cycles.memory_by_label.get(CONSTANTS_LABEL, 0.0) for layer in estimate.layers}
    between = estimate.inference.total - sum(layers.values())
    cached.parent.mkdir(parents=True, exist_ok=True)
    figures = {"layers": layers, "between": between, "flash_reads": flash}
    write_file(cached, json.dumps(figures).encode(), replace=True)
    return ModelRun(layers, between, flash)


def stack_reserve(graph: Graph, core: str, stack: int | None) -> int:
    """The stack to keep beside the model while choosing: the user's, else analyze's static bound
    for the default variants (the choice hardly moves it), else the default reserve."""
    chosen_layers = convolutions(graph) or depthwise_choices(graph)
    if stack is not None or not chosen_layers:  # no choice to make: the figure does not matter
        return stack or DEFAULT_STACK_BYTES
    return static_need(graph, plan_memory(graph), core).bytes
