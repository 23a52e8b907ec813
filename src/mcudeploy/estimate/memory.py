"""What memory costs on a device: wait states at its clock, caches, and where a program's data lives.

A program run in QEMU has five kinds of data access, told apart by address: `code`
(.text, literal pools included), `constants` (.rodata: weights read from flash), `sram weights`
(the constants of the layers that read them from SRAM: `codegen.library.SRAM_WEIGHTS_SECTION`),
`arena` (the tensor arena) and `ram` (stack, globals). On the device each lives in the region the memory
budget places it in (mcudeploy.memory.budget), and each region costs:

* wait states, from the device database at the part's maximum clock, scaled to the chosen
  clock with the flash access time held constant: ws(f) = ceil((ws_max + 1) * f / f_max) - 1;
* through a cache, a penalty per read miss only. The plugin simulates the cache (LRU):
  the core's L1 data cache on Cortex-M7/M55 (32-byte lines, 4 ways), or the flash
  accelerator's data lines (ST ART, 16-byte lines, fully associative), or a code-bus cache
  that also serves data reads from flash (ST ICACHE, XIP caches: where the database gives its
  geometry, the very cache the plugin simulates for instruction fetch, one for both). A miss costs the
  line's flash reads less the access itself: `reads * (ws + 1) - 1` (`ws` for a 16-byte accelerator
  line), a serial flash's reads at their `read_cycles` instead; `ws + 1 + line/8` for an L1 line
  (one access, then 64-bit beats; from flash, its access is a flash read: `bus_clock_divider` core cycles
  a cycle of the flash's bus). Writes to cached memory go through a write buffer: free;
* instruction fetch, as the part's flash timing in the database says (`Part.flash`): free from TCM,
  and from an SRAM run through its code alias (`MemoryRegion.code_alias`: the I-Code/D-Code buses,
  where the budget pins the hot code's run image when it fits, else its hottest functions only, the rest
  of the code priced in flash as `FLASH_CODE_LABEL`: `estimate.hot_code`); from other SRAM on the Cortex-M3/M4,
  over the System bus (`SYSTEM_BUS_FETCH_CORES`); from flash behind an instruction cache whose
  geometry the database gives (`fetch_line_bytes`: a flash accelerator's, or the Cortex-M7's own L1
  instruction cache), the plugin simulates that cache (LRU) and each missed line costs its flash reads
  (`read_bytes` each, `ws + 1` cycles of the flash's bus, `bus_clock_divider` core cycles each, or
  `read_cycles`): a line's reads after the first hide at most the cycles the core spends on the previous
  read's code (one `THUMB_BYTES_PER_INSTRUCTION`-byte instruction a cycle: the line streams in), the first
  read of a line missed in sequence too where a prefetch buffer fetched it ahead, at a branch target the
  first read waits all but one of its cycles; behind another cache or accelerator, free (kernel loops taken
  to stay in it);
  from uncached flash with a prefetch buffer, every taken branch waits `ws` more cycles for the
  buffer to refill (sequential fetch is hidden); without one, every fetched word waits `ws` (Thumb-2
  code averages `THUMB_BYTES_PER_INSTRUCTION` bytes an instruction, fetched a 32-bit word at a
  time). A cache or prefetch that is off after reset is priced on, as what `enabled_by` names leaves
  it; the output says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from mcudeploy.codegen.library import FAST_CODE_SECTION
from mcudeploy.devices import Device, FlashTiming, MemoryRegion, Part, RegionKind, Span, find_core
from mcudeploy.emulation import ElfImage, Target
from mcudeploy.emulation.plugin import CacheGeometry, MemoryRange
from mcudeploy.errors import McuDeployError
from mcudeploy.memory.budget import (
    ARENA,
    CODE,
    MEASURED_CODE,
    RUN_CODE,
    SRAM_WEIGHTS,
    STACK,
    WEIGHTS,
    CodeSection,
    MemoryBudget,
)

CODE_LABEL = "code"
FLASH_CODE_LABEL = "flash code"
"""The code outside `FAST_CODE_SECTION` (`.vectors`, `.text`) where the hot code's sections are split between an
SRAM's code alias and flash (`device_memory`'s `split_code`); else it is priced as `CODE_LABEL`."""
CONSTANTS_LABEL = "constants"
SRAM_WEIGHTS_LABEL = "sram weights"
ARENA_LABEL = "arena"
RAM_LABEL = "ram"
LABEL_ITEMS = {
    CODE_LABEL: (RUN_CODE, CODE, MEASURED_CODE),
    CONSTANTS_LABEL: (WEIGHTS,),
    SRAM_WEIGHTS_LABEL: (SRAM_WEIGHTS,),
    ARENA_LABEL: (ARENA,),
    RAM_LABEL: (STACK,),
}
"""Which memory-budget item decides where each kind of access lives on the device, the first the budget
placed (the code's: its run image in ITCM/SRAM with `--code-section`, else estimated or measured in flash)."""

L1_LINE_BYTES = 32
L1_WAYS = 4
ACCELERATOR_LINE_BYTES = 16
BUS_BEAT_BYTES = 8
FETCH_WORD_BYTES = 4
SYSTEM_BUS_FETCH_CORES = ("cortex-m3", "cortex-m4")
"""Cores whose instruction fetches from 0x2000_0000 up (SRAM) go over the System bus, registered: each
fetch takes 2 cycles and none is back to back (Cortex-M3/M4 TRM, "Bus interfaces", pipelined instruction
fetches): priced as one wait state on every fetched word and taken branch, like flash with neither cache
nor prefetch. The contention with the core's own data accesses on that bus is not priced."""
SYSTEM_BUS_BASE = 0x2000_0000
THUMB_BYTES_PER_INSTRUCTION = 3
"""Mixed 16- and 32-bit Thumb-2 code: an approximation, used only for flash with neither cache nor prefetch."""
FULLY_ASSOCIATIVE_LINES = 64
"""Caches of at most this many lines are modelled fully associative, larger ones 4-way."""


@dataclass(frozen=True)
class ProgramLayout:
    """Labelled address ranges of a linked program, in look-up order (first match wins)."""

    ranges: tuple[tuple[str, int, int], ...]


def program_layout(elf: Path, target: Target) -> ProgramLayout:
    """Code, constants (those read from SRAM apart), arena and other RAM of a program built for an
    emulated `target`."""
    image = ElfImage(elf)
    ranges: list[tuple[str, int, int]] = []
    for section in image.sections:
        if section.allocated and section.size and section.name == FAST_CODE_SECTION:
            ranges.append((CODE_LABEL, section.address, section.address + section.size))
        elif section.allocated and section.size and section.name in (".vectors", ".text"):
            ranges.append((FLASH_CODE_LABEL, section.address, section.address + section.size))
        elif section.allocated and section.size and not section.writable and not section.executable:
            ranges.append((CONSTANTS_LABEL, section.address, section.address + section.size))
    names = {symbol.name: symbol.address for symbol in image.symbols if symbol.defined}
    if names.get("__sram_weights_end", 0) > names.get("__sram_weights_start", 0):
        ranges.append((SRAM_WEIGHTS_LABEL, names["__sram_weights_start"], names["__sram_weights_end"]))
    if names.get("__arena_end", 0) > names.get("__arena_start", 0):
        ranges.append((ARENA_LABEL, names["__arena_start"], names["__arena_end"]))
    if target.machine is not None:
        ram = [target.machine.ram, *target.machine.extra_ram]
        ranges += [(RAM_LABEL, region.base, region.end) for region in ram]
        # Whatever else sits in the code region (e.g. initial values of .data) is read like constants.
        ranges.append((CONSTANTS_LABEL, target.machine.code.base, target.machine.code.end))
    return ProgramLayout(tuple(ranges))


@dataclass(frozen=True)
class RegionCost:
    label: str
    placed_in: str
    kind: str
    wait_states: int
    cached: bool
    read_cycles: float
    """Added to every read that does not go through the cache."""
    write_cycles: float
    miss_cycles: float
    """Added to every read that misses the cache."""


@dataclass(frozen=True)
class MemoryTiming:
    clock_mhz: float
    regions: Mapping[str, RegionCost]
    cache: CacheGeometry | None = None
    cache_name: str = ""
    branch_fetch_cycles: float = 0.0
    """Added to every taken branch: code in uncached flash refilling the prefetch buffer."""
    instruction_fetch_cycles: float = 0.0
    """Added to every instruction: code in flash with neither cache nor prefetch."""
    fetch_cache: CacheGeometry | None = None
    """The instruction cache in front of flash the plugin simulates, when the database describes it."""
    fetch_miss_branch_cycles: float = 0.0
    """Added to every line of it missed at a branch target (FETCH_MISS_BRANCH) ..."""
    fetch_miss_sequential_cycles: float = 0.0
    """... and to every line missed in sequence (FETCH_MISS_SEQUENTIAL)."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    approximations: tuple[str, ...] = field(default_factory=tuple)
    """How instruction fetch and the caches are priced on this device."""
    shared_cache: bool = False
    """Data reads of cached ranges go through `fetch_cache` (one cache on the code bus), not `cache`."""

    def plugin_ranges(self, layout: ProgramLayout) -> tuple[MemoryRange, ...]:
        """The plugin's memory ranges: the layout, each marked cached when its region is (the code in flash
        counted as the rest of the code unless it is priced apart)."""
        ranges = []
        for label, start, end in layout.ranges:
            if label == FLASH_CODE_LABEL and label not in self.regions:
                label = CODE_LABEL
            ranges.append(
                MemoryRange(label, start, end, self.regions[label].cached if label in self.regions else False)
            )
        return tuple(ranges)


def zero_wait_memory(clock_mhz: float) -> MemoryTiming:
    """Every access at zero wait states: the instruction timings alone, as the manuals give them."""
    regions = {label: RegionCost(label, "zero-wait memory", "sram", 0, False, 0.0, 0.0, 0.0) for label in LABEL_ITEMS}
    return MemoryTiming(clock_mhz, regions, notes=("all memory at zero wait states",))


def wait_states_at(region: MemoryRegion, clock_mhz: float, max_clock_mhz: float) -> int | None:
    """The region's wait states at `clock_mhz`, its access time held to that at the maximum clock."""
    if region.wait_states is None:
        return None
    return max(0, math.ceil((region.wait_states + 1) * clock_mhz / max_clock_mhz - 1e-9) - 1)


@dataclass(frozen=True)
class DeviceCache:
    geometry: CacheGeometry
    name: str
    level_one: bool
    """The core's L1 (caches every cacheable region) rather than a cache in front of flash only."""
    reads_per_line: int = 1
    """Flash reads a missed line takes (a cache in front of flash)."""
    shared_with_fetch: bool = False
    """The instruction-fetch cache itself (`FlashTiming.serves_data_reads`): the plugin simulates one cache."""


def _geometry(size_bytes: int, line_bytes: int, ways: int | None) -> CacheGeometry:
    lines = max(1, size_bytes // line_bytes)
    ways = ways or (lines if lines <= FULLY_ASSOCIATIVE_LINES else 4)
    return CacheGeometry(line_bytes, max(1, lines // ways), ways)


def _fetch_geometry(part: Part) -> CacheGeometry:
    """The instruction cache in front of flash, as the database describes it (`fetch_line_bytes`)."""
    line = part.flash.fetch_line_bytes
    assert part.icache_bytes, "the database checks that fetch_line_bytes comes with icache_bytes"
    lines = part.icache_bytes // line
    ways = part.flash.fetch_ways or lines
    return CacheGeometry(line, lines // ways, ways)


def device_cache(device: Device) -> DeviceCache | None:
    """The data cache reads of the device's memories go through, if the database gives its size."""
    part = device.part
    flash = part.flash
    if flash.serves_data_reads:
        shared = f"{flash.cache}, shared with instruction fetch"
        return DeviceCache(_fetch_geometry(part), shared, False, flash.reads_per_line, True)
    if find_core(part.core).data_cache and part.dcache_bytes:
        geometry = _geometry(part.dcache_bytes, L1_LINE_BYTES, L1_WAYS)
        return DeviceCache(geometry, f"L1 data cache, {part.dcache_bytes // 1024} KiB", True)
    if part.dcache_bytes:
        geometry = _geometry(part.dcache_bytes, ACCELERATOR_LINE_BYTES, None)
        return DeviceCache(geometry, f"flash accelerator data lines, {part.dcache_bytes} bytes", False)
    if part.icache_bytes:
        geometry = _geometry(part.icache_bytes, ACCELERATOR_LINE_BYTES, None)
        return DeviceCache(geometry, f"code-bus cache in front of flash, {part.icache_bytes} bytes", False)
    return None


def _span_of(budget: MemoryBudget, item_names: tuple[str, ...]) -> Span | None:
    for name in item_names:
        for use in budget.uses:
            if any(item.name == name for item in use.items):
                return use.span
    return None


def _short_of_room(budget: MemoryBudget, item_names: tuple[str, ...]) -> str | None:
    """The item's name when the budget found it no place (an item of 0 bytes, e.g. the constants
    of a model without any, is not in the budget at all: nothing to place, nothing to say)."""
    return next((short.item.name for short in budget.shortfalls if short.item.name in item_names), None)


def region_cost(label: str, span: Span, device: Device, clock_mhz: float, cache: DeviceCache | None) -> RegionCost:
    region = span.regions[0]
    wait_states = wait_states_at(region, clock_mhz, device.part.max_clock_mhz) or 0
    tightly_coupled = region.kind in (RegionKind.DTCM, RegionKind.ITCM)
    cached = (
        cache is not None
        and region.cacheable
        and not tightly_coupled
        and (cache.level_one or region.kind == RegionKind.FLASH)
    )
    if not cached:
        return RegionCost(label, span.name, region.kind.value, wait_states, False, wait_states, wait_states, 0.0)
    assert cache is not None
    line = cache.geometry.line_bytes
    if cache.level_one:
        flash = device.part.flash
        access = _flash_read_cycles(flash, wait_states) if region.kind == RegionKind.FLASH else wait_states + 1
        miss = access + line / BUS_BEAT_BYTES
    else:
        miss = cache.reads_per_line * _flash_read_cycles(device.part.flash, wait_states) - 1
    return RegionCost(label, span.name, region.kind.value, wait_states, True, 0.0, 0.0, miss)


@dataclass(frozen=True)
class _CodeFetch:
    per_taken_branch: float
    per_instruction: float
    approximation: str
    cache: CacheGeometry | None = None
    per_branch_miss: float = 0.0
    per_sequential_miss: float = 0.0


def _flash_read_cycles(flash: FlashTiming, ws: int) -> int:
    """Core cycles one flash read takes: its wait states and the access at the flash's bus clock, or a serial
    flash's transfer."""
    return flash.read_cycles or (ws + 1) * flash.bus_clock_divider


def _simulated_fetch(device: Device, span: Span, ws: int) -> _CodeFetch:
    """Instruction fetch through the flash's instruction cache, its misses simulated: a missed line costs
    its flash reads, each after the first hiding what the core spends on the previous read's code (the line
    streams in), the first too in sequence where a prefetch buffer fetched it ahead."""
    part = device.part
    flash = part.flash
    geometry = _fetch_geometry(part)
    line, read, ways = geometry.line_bytes, flash.read_bytes, geometry.ways
    lines = geometry.sets * ways
    reads = flash.reads_per_line
    cycles = _flash_read_cycles(flash, ws)
    hidden = read / THUMB_BYTES_PER_INSTRUCTION
    stall = max(0.0, cycles - hidden)
    first_in_sequence = stall if flash.prefetch else cycles
    branch, sequential = cycles - 1 + (reads - 1) * stall, first_in_sequence + (reads - 1) * stall
    access = f"{ws} wait states + 1" + (
        f", {flash.bus_clock_divider} core cycles each: the flash's bus at 1/{flash.bus_clock_divider} of the "
        "core clock"
        if flash.bus_clock_divider > 1
        else ""
    )
    timing = f"{cycles} cycles ({'a serial transfer' if flash.read_cycles else access})"
    each = f"at most {hidden:.3g} cycles of each (one {THUMB_BYTES_PER_INSTRUCTION}-byte instruction a cycle)"
    if flash.prefetch:
        overlap = f"the prefetch hiding {each}"
    elif reads > 1:
        overlap = f"no prefetch: a line missed in sequence waits its first read whole, the later ones hiding {each}"
    else:
        overlap = "no prefetch hiding any of it"
    association = "fully associative" if ways == lines else f"{ways}-way"
    shared = "; the core's data reads of flash go through it too (one cache, simulated for both)"
    return _CodeFetch(
        0.0,
        0.0,
        f"instruction fetch from {span.name} ({ws} wait states) through the {flash.cache}: {lines} lines of "
        f"{line} bytes, {association} LRU, simulated; a missed line is {reads} flash read(s) of {read} bytes at "
        f"{timing}, {overlap}: {sequential:.3g} cycles a line missed in sequence, {branch:.3g} at a branch "
        "target (its first read waits all its cycles but the one the branch already counts)"
        + (shared if flash.serves_data_reads else ""),
        geometry,
        branch,
        sequential,
    )


def _code_fetch(device: Device, span: Span, code: RegionCost, cache: DeviceCache | None) -> _CodeFetch:
    """What fetching the program's instructions costs where the budget placed them."""
    flash = device.part.flash
    region = span.regions[0]
    ws = code.wait_states
    if span.kind != RegionKind.FLASH:
        if region.code_alias is not None and len(span.regions) == 1:
            return _CodeFetch(
                0.0,
                0.0,
                f"instruction fetch from {region.via_code_alias} (its code alias) over I-Code/D-Code: "
                f"no wait states, no System-bus penalty ({region.code_alias_source})",
            )
        if device.core in SYSTEM_BUS_FETCH_CORES and region.base >= SYSTEM_BUS_BASE:
            per_word = THUMB_BYTES_PER_INSTRUCTION / FETCH_WORD_BYTES
            return _CodeFetch(
                1.0,
                per_word,
                f"instruction fetch from {span.name} over the {device.core} System bus: 2 cycles a "
                f"{FETCH_WORD_BYTES}-byte word, never back to back ({per_word:g} cycles an instruction, 1 a taken "
                "branch); contention with data accesses on that bus not priced",
            )
        if code.cached:
            return _CodeFetch(0.0, 0.0, f"instruction fetch from {span.name} ({span.kind.value}) hits the cache")
        return _CodeFetch(0.0, 0.0, f"instruction fetch from {span.name} ({span.kind.value}): no wait states")
    if region.cacheable and flash.cache and flash.fetch_line_bytes:
        return _simulated_fetch(device, span, ws)
    if region.cacheable and (flash.cache or cache is not None):
        what = flash.cache or (cache.name if cache else "cache")
        return _CodeFetch(
            0.0,
            0.0,
            f"instruction fetch from {span.name} ({ws} wait states) hits the {what}: kernel loops fit in it; "
            "the first pass over each line is not priced",
        )
    if flash.prefetch:
        return _CodeFetch(
            float(ws),
            0.0,
            f"instruction fetch from uncached {span.name}: sequential fetch hidden by the prefetch buffer, "
            f"each taken branch waits its {ws} wait states",
        )
    per_instruction = ws * THUMB_BYTES_PER_INSTRUCTION / FETCH_WORD_BYTES
    return _CodeFetch(
        float(ws),
        per_instruction,
        f"instruction fetch from {span.name} with neither cache nor prefetch: {ws} wait states per "
        f"{FETCH_WORD_BYTES}-byte word, {THUMB_BYTES_PER_INSTRUCTION} bytes an instruction "
        f"({per_instruction:g} cycles each), and each taken branch waits {ws}",
    )


def _flash_notes(device: Device, spans: Mapping[str, Span]) -> list[str]:
    flash = device.part.flash
    notes = []
    in_flash = any(span.kind == RegionKind.FLASH for span in spans.values())
    if in_flash and flash.cache and not flash.cache_on_at_reset:
        name = device.part.name
        notes.append(f"{name}'s {flash.cache} is off after reset: priced on, as {flash.enabled_by} leaves it")
    elif in_flash and flash.enabled_by:
        notes.append(f"{device.part.name}'s flash prefetch priced on, as {flash.enabled_by} leaves it")
    return notes


def _fetch_simulated(device: Device) -> bool:
    """Whether the code's flash has its instruction cache simulated: fetch there costs its misses."""
    flash = device.part.flash
    in_flash = _fallback_span(device, CODE_LABEL).regions[0]
    return in_flash.kind == RegionKind.FLASH and in_flash.cacheable and bool(flash.cache and flash.fetch_line_bytes)


def splits_hot_code(device: Device) -> bool:
    """Whether the hot code's functions can be split between an SRAM's code alias and flash, each priced where
    it runs: the device has a code alias and its flash's instruction cache is simulated (fetch there costs
    its misses only, as the alias costs nothing: no per-instruction or per-branch wait to tell apart)."""
    return _fetch_simulated(device) and any(region.code_alias is not None for region in device.regions)


def faster_code_sections(device: Device) -> tuple[CodeSection, ...]:
    """Where the hot code may run faster than from flash by the cycle model, which `--optimize speed` tries
    when the user names no `--code-section`: an ITCM, and an SRAM's code alias (split with flash), on a part
    whose flash cache is simulated (elsewhere fetch from flash is priced as hits or as fixed waits: no gain
    the model could weigh against the SRAM it costs)."""
    if not _fetch_simulated(device):
        return ()
    itcm = any(span.kind == RegionKind.ITCM for span in device.spans())
    return (*((CodeSection.ITCM,) if itcm else ()), *((CodeSection.RAM,) if splits_hot_code(device) else ()))


def device_memory(
    device: Device, budget: MemoryBudget | None, clock_mhz: float, split_code: bool = False
) -> MemoryTiming:
    """The cost of each kind of access on `device` at `clock_mhz`, with the budget's placement
    (without a budget, e.g. for a program we did not generate: code and constants in the
    largest flash, data in the largest SRAM). `split_code` (`splits_hot_code`, the budget's run image
    pinned to a code alias): only `FAST_CODE_SECTION` runs there, the rest of the code (`FLASH_CODE_LABEL`)
    from flash, its instruction cache simulated."""
    if clock_mhz <= 0 or clock_mhz > device.part.max_clock_mhz:
        raise McuDeployError(
            f"--clock {clock_mhz:g}", f"must be above 0 and at most {device.name}'s {device.part.max_clock_mhz} MHz"
        )
    cache = device_cache(device)
    notes: list[str] = []
    regions: dict[str, RegionCost] = {}
    spans: dict[str, Span] = {}
    for label, items in LABEL_ITEMS.items():
        placed = _span_of(budget, items) if budget is not None else None
        if label == SRAM_WEIGHTS_LABEL and placed is None and (budget is None or _short_of_room(budget, items) is None):
            continue  # no layer reads its weights from SRAM: nothing to price or show
        spans[label] = placed or _fallback_span(device, label)
        regions[label] = region_cost(label, spans[label], device, clock_mhz, cache)
        if budget is None:
            notes.append(f"{label} taken as in {spans[label].name}")
        elif label == CODE_LABEL and (item := _short_of_room(budget, (RUN_CODE,))) is not None:
            notes.append(f"{item} does not fit {device.name}: priced as if run from {spans[label].name}")
        elif placed is None:
            if (item := _short_of_room(budget, items)) is None:
                continue  # 0 bytes of it: no access to price, no note
            notes.append(f"{item} does not fit {device.name}: priced as if in {spans[label].name}")
        if spans[label].regions[0].wait_states is None:
            why = device.part.flash.wait_states_note if spans[label].kind == RegionKind.FLASH else ""
            notes.append(f"{spans[label].name}: wait states taken as 0" + (f" ({why})" if why else ""))
    if budget is not None and (aliased := budget.region_of(RUN_CODE)) is not None:
        spans[CODE_LABEL] = Span((aliased,))
        cost = region_cost(CODE_LABEL, spans[CODE_LABEL], device, clock_mhz, cache)
        regions[CODE_LABEL] = replace(cost, placed_in=aliased.via_code_alias)
    elif budget is not None and _span_of(budget, (RUN_CODE,)) is not None:
        notes += _missed_code_alias(device, budget, spans[CODE_LABEL])
    fetch = _code_fetch(device, spans[CODE_LABEL], regions[CODE_LABEL], cache)
    alias_fetch = None
    if split_code:
        assert budget is not None and budget.region_of(RUN_CODE) is not None, "split code runs through a code alias"
        spans[FLASH_CODE_LABEL] = _span_of(budget, (MEASURED_CODE, CODE)) or _fallback_span(device, CODE_LABEL)
        regions[FLASH_CODE_LABEL] = region_cost(FLASH_CODE_LABEL, spans[FLASH_CODE_LABEL], device, clock_mhz, cache)
        alias_fetch, fetch = fetch, _code_fetch(device, spans[FLASH_CODE_LABEL], regions[FLASH_CODE_LABEL], cache)
        assert fetch.cache is not None, "splits_hot_code: the flash's instruction cache is simulated"
    if budget is not None and _span_of(budget, (SRAM_WEIGHTS,)) is not None:
        copied = sum(item.size for item in budget.request.items if item.name == SRAM_WEIGHTS)
        notes.append(
            f"{copied:,} B of weights read from {spans[SRAM_WEIGHTS_LABEL].name}, "
            "copied there from flash at start-up (before any inference: not priced)"
        )
    if split_code:
        notes.append(
            f"code priced where it runs: {FAST_CODE_SECTION} from {regions[CODE_LABEL].placed_in}, the rest "
            f"(.text) from {spans[FLASH_CODE_LABEL].name}, its instruction cache simulated"
        )
    elif budget is not None and _span_of(budget, (RUN_CODE,)) is not None:
        notes.append(
            f"all code priced as run from {regions[CODE_LABEL].placed_in}: the hot code (kernels and layers, "
            "--code-section) runs there, the little else an inference calls (memcpy, memset) stays in flash"
        )
    return MemoryTiming(
        clock_mhz,
        regions,
        cache.geometry if cache else None,
        cache.name if cache else "",
        fetch.per_taken_branch,
        fetch.per_instruction,
        fetch.cache,
        fetch.per_branch_miss,
        fetch.per_sequential_miss,
        tuple(dict.fromkeys([*notes, *_flash_notes(device, spans)])),
        (
            *((alias_fetch.approximation,) if alias_fetch else ()),
            fetch.approximation,
            f"flash timing: {device.part.flash.source}",
        ),
        cache is not None and cache.shared_with_fetch,
    )


def _missed_code_alias(device: Device, budget: MemoryBudget, span: Span) -> list[str]:
    """Why the hot code runs from `span` rather than through an SRAM's code alias, where the device has one."""
    aliased = [region for region in device.regions if region.code_alias is not None]
    if not aliased:
        return []
    size = sum(item.size for item in budget.request.items if item.name == RUN_CODE)
    largest = max(aliased, key=lambda region: region.size)
    alias = f"{largest.via_code_alias} ({largest.size:,} B)"
    return [f"the hot code ({size:,} B) does not fit {alias}: run from {span.name} instead"]


def _fallback_span(device: Device, label: str) -> Span:
    """Code and constants in the largest flash; data in the largest tightly coupled RAM, else the
    largest SRAM (where a deployment puts its arena and stack)."""
    if label in (CODE_LABEL, CONSTANTS_LABEL):
        preferences: tuple[tuple[RegionKind, ...], ...] = ((RegionKind.FLASH,),)
    else:
        preferences = ((RegionKind.DTCM,), (RegionKind.SRAM,))
    for kinds in preferences:
        spans = [span for span in device.spans() if span.kind in kinds]
        if spans:
            return max(spans, key=lambda span: span.size)
    return max(device.spans(), key=lambda span: span.size)
