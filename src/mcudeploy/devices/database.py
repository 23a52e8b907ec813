"""The device database: Cortex-M parts, their memories, the boards users name, and the QEMU machines.

The facts live in `devices.toml` beside this file, each part with the documents
its figures come from. This module reads and checks that file once and answers
look-ups: by part, alias or board name, case- and punctuation-insensitive, with
the closest names suggested when a name is unknown. The QEMU machines are boards
too (Arm's FPGA images of a core), described with the same memory regions; they are
where generated code runs, not devices a user deploys to, so look-ups by name skip them.
"""

from __future__ import annotations

import difflib
import itertools
import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from mcudeploy.devices.cores import CORE_NAMES, CORES_BY_NAME, Core, Fpu, Mve
from mcudeploy.errors import McuDeployError

KIB = 1024
CODE_AREA_END = 0x2000_0000
"""End of the Cortex-M Code area: instructions fetched below it go over I-Code/D-Code."""


class RegionKind(StrEnum):
    FLASH = "flash"
    SRAM = "sram"
    DTCM = "dtcm"
    ITCM = "itcm"
    EXTERNAL = "external"
    """Off-chip RAM (SDRAM, PSRAM, HyperRAM) wired on a board."""


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    kind: RegionKind
    base: int
    size: int
    cacheable: bool
    """Accesses go through a cache by default (the core's L1, or the flash accelerator's)."""
    wait_states: int | None = None
    """At the part's maximum clock; None where the documents give no single figure."""
    group: str | None = None
    """Regions sharing a group sit back to back and can hold one buffer across their boundary."""
    off_chip: bool = False
    """Memory outside the die (e.g. XIP QSPI flash): its size is the board's."""
    note: str = ""
    code_alias: int | None = None
    """An SRAM's second address in the Code area (below CODE_AREA_END), where the core fetches its
    instructions over I-Code/D-Code instead of the System bus (e.g. the STM32L4's SRAM2 at 0x1000_0000)."""
    code_alias_source: str = ""

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def via_code_alias(self) -> str:
        """The region as code run through its code alias sees it, e.g. "SRAM2 via 0x10000000"."""
        assert self.code_alias is not None
        return f"{self.name} via 0x{self.code_alias:08X}"


@dataclass(frozen=True)
class NpuPort:
    """How fast the NPU reaches one memory, in the terms of Vela's system configuration."""

    memory: str
    """Vela's name for the memory on this AXI port: Sram, OnChipFlash, OffChipFlash or Dram."""
    clock_scale: float
    """The memory's clock relative to the NPU's."""
    burst_bytes: int
    read_latency: int
    """NPU cycles."""
    write_latency: int


@dataclass(frozen=True)
class Npu:
    type: str
    macs_per_cycle: int | None = None
    note: str = ""
    accelerator: str | None = None
    """Vela's accelerator configuration, e.g. ethos-u55-256; None for NPUs Vela does not compile for."""
    clock_mhz: float | None = None
    arena_port: NpuPort | None = None
    """Vela's AXI0: the SRAM holding the NPU's feature maps and scratch."""
    weights_port: NpuPort | None = None
    """Vela's AXI1: the memory holding the command stream and encoded weights."""
    source: str = ""


@dataclass(frozen=True)
class FlashTiming:
    """How the core reads its flash: what hides the wait states, and whether it is on after reset."""

    prefetch: bool
    """A prefetch buffer fetches the next flash line while the core executes the current one."""
    cache: str
    """The cache or accelerator in front of flash (empty: none); the sizes are the part's icache/dcache_bytes."""
    cache_on_at_reset: bool
    enabled_by: str
    """What turns the cache and prefetch on when reset leaves them off (the estimate assumes it runs)."""
    source: str
    wait_states_note: str = ""
    """Why the flash region gives no wait-state figure (serial XIP flash, or none published)."""
    fetch_line_bytes: int = 0
    """Line of the instruction cache in front of flash (its size: the part's icache_bytes), whose misses
    the estimate simulates and prices; 0: not described, instruction fetch from it priced as hits."""
    fetch_ways: int = 0
    """Its associativity (0: fully associative, LRU)."""
    read_bytes: int = 0
    """Bytes one flash read returns (in wait states + 1 cycles): what a missed line costs."""
    read_cycles: int = 0
    """Core cycles one such read takes where it is not wait states + 1: a serial (QSPI) flash's transfer at
    the clock divider the boot stage sets, the same number of core cycles at any clock (0: wait states + 1)."""
    serves_data_reads: bool = False
    """The instruction cache is also the one the core's data reads of flash go through (one cache on the
    code bus, e.g. ST's ICACHE): weights read from flash share its lines with the code."""
    bus_clock_divider: int = 1
    """Core cycles per cycle of the clock the flash's wait states count, where the flash's bus runs slower than
    the core (the STM32H74x/H75x AXI bus at half the core clock: 2); it scales every flash read's cycles."""

    @property
    def reads_per_line(self) -> int:
        """Flash reads a missed line of the instruction cache takes (the loader checks they divide it)."""
        return max(1, self.fetch_line_bytes // self.read_bytes) if self.read_bytes else 1


@dataclass(frozen=True)
class Part:
    name: str
    vendor: str
    core: str
    max_clock_mhz: int
    fpu: Fpu
    dsp: bool
    mve: Mve
    regions: tuple[MemoryRegion, ...]
    sources: tuple[str, ...]
    flash: FlashTiming
    aliases: tuple[str, ...] = ()
    npu: Npu | None = None
    icache_bytes: int | None = None
    dcache_bytes: int | None = None
    cache_note: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Board:
    name: str
    part: str
    source: str
    aliases: tuple[str, ...] = ()
    regions: tuple[MemoryRegion, ...] = ()
    """Changes to the part's regions: same name replaces (size 0 removes), a new name adds."""
    notes: str = ""


@dataclass(frozen=True)
class Machine:
    """A board QEMU emulates: an Arm FPGA image of one core, its memory map, and which regions
    a program's code, read-only data and RAM go to (the reset vector is at the start of `code`)."""

    name: str
    """QEMU's machine name (`-M`)."""
    core: str
    source: str
    regions: tuple[MemoryRegion, ...]
    code_region: str
    rodata_region: str
    ram_region: str
    notes: str = ""

    def region(self, name: str) -> MemoryRegion:
        """A region by its name or by its role ("code", "rodata", "ram")."""
        roles = {"code": self.code_region, "rodata": self.rodata_region, "ram": self.ram_region}
        wanted = roles.get(name, name)
        for region in self.regions:
            if region.name == wanted:
                return region
        known = ", ".join(region.name for region in self.regions)
        raise McuDeployError(name, f"no such memory region (this target has: {known})")

    @property
    def code(self) -> MemoryRegion:
        return self.region("code")

    @property
    def rodata(self) -> MemoryRegion:
        return self.region("rodata")

    @property
    def ram(self) -> MemoryRegion:
        return self.region("ram")

    @property
    def extra_ram(self) -> tuple[MemoryRegion, ...]:
        """Writable regions besides `ram`: where a program may place e.g. its arena."""
        roles = {self.code_region, self.rodata_region, self.ram_region}
        return tuple(r for r in self.regions if r.name not in roles)


@dataclass(frozen=True)
class Span:
    """What a linker can use as one block: a region, or a group of adjacent regions."""

    regions: tuple[MemoryRegion, ...]

    @property
    def name(self) -> str:
        return "+".join(r.name for r in self.regions)

    @property
    def kind(self) -> RegionKind:
        return self.regions[0].kind

    @property
    def base(self) -> int:
        return self.regions[0].base

    @property
    def size(self) -> int:
        return sum(r.size for r in self.regions)

    @property
    def off_chip(self) -> bool:
        return any(r.off_chip for r in self.regions)


@dataclass(frozen=True)
class Device:
    """What the user named: a part, or a board with the part it carries (and the board's memories)."""

    name: str
    part: Part
    board: Board | None
    regions: tuple[MemoryRegion, ...]

    @property
    def core(self) -> str:
        return self.part.core

    def spans(self) -> list[Span]:
        """Regions in file order, those of one group merged into one span (ordered by address)."""
        order: list[MemoryRegion | str] = []
        members: dict[str, list[MemoryRegion]] = {}
        for region in self.regions:
            if region.group is None:
                order.append(region)
                continue
            if region.group not in members:
                members[region.group] = []
                order.append(region.group)
            members[region.group].append(region)
        return [
            Span(tuple(sorted(members[entry], key=lambda r: r.base))) if isinstance(entry, str) else Span((entry,))
            for entry in order
        ]

    def internal_ram_bytes(self) -> int:
        return sum(r.size for r in self.regions if r.kind in (RegionKind.SRAM, RegionKind.DTCM))

    def flash_bytes(self) -> int:
        return sum(r.size for r in self.regions if r.kind == RegionKind.FLASH)


@dataclass(frozen=True)
class Database:
    parts: tuple[Part, ...]
    boards: tuple[Board, ...]
    machines: tuple[Machine, ...] = ()

    def find(self, name: str) -> Device:
        """The part or board called `name` (or one of its aliases), ignoring case and punctuation."""
        entry = self._index().get(_key(name))
        if entry is None:
            raise McuDeployError(f"device '{name}'", f"unknown device{_suggestion(name, self.names())}")
        return self.device(entry)

    def device(self, entry: Part | Board) -> Device:
        if isinstance(entry, Part):
            return Device(entry.name, entry, None, entry.regions)
        part = self.part(entry.part)
        return Device(entry.name, part, entry, _apply_overrides(part.regions, entry.regions))

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    def machine(self, name: str) -> Machine:
        return next(m for m in self.machines if m.name == name)

    def names(self) -> list[str]:
        return [n for entry in (*self.parts, *self.boards) for n in (entry.name, *entry.aliases)]

    def parts_with_core(self, core: str) -> list[Part]:
        wanted = normalize_core(core)
        return [p for p in self.parts if p.core == wanted]

    def boards_of(self, part: Part) -> list[Board]:
        return [b for b in self.boards if b.part == part.name]

    def _index(self) -> dict[str, Part | Board]:
        return {_key(n): entry for entry in (*self.parts, *self.boards) for n in (entry.name, *entry.aliases)}


def normalize_core(core: str) -> str:
    """`M7`, `cortex-m7`, `Cortex-M7` → `cortex-m7`; unknown cores get the closest suggested."""
    text = core.strip().lower().replace("plus", "+")
    candidate = text if text.startswith("cortex-") else f"cortex-{text}"
    if candidate not in CORE_NAMES:
        raise McuDeployError(f"core '{core}'", f"unknown core{_suggestion(core, list(CORE_NAMES))}")
    return candidate


def find_core(name: str) -> Core:
    """The record of the core called `name` (`M7`, `cortex-m7`, `Cortex-M0+` ...)."""
    return CORES_BY_NAME[normalize_core(name)]


@cache
def load_database() -> Database:
    """The packaged database, read and checked once per process."""
    text = resources.files("mcudeploy.devices").joinpath("devices.toml").read_text(encoding="utf-8")
    return parse_database(tomllib.loads(text))


def parse_database(data: dict[str, Any]) -> Database:
    parts = tuple(_part(entry) for entry in data.get("part", []))
    database = Database(parts, ())
    boards = tuple(_board(entry, database) for entry in data.get("board", []))
    machines = tuple(_machine(entry) for entry in data.get("machine", []))
    database = Database(parts, boards, machines)
    _check_unique_names(database)
    return database


def _part(entry: dict[str, Any]) -> Part:
    name = entry["name"]
    core = entry["core"]
    if core not in CORE_NAMES:
        raise ValueError(f"{name}: unknown core {core!r}")
    npu = entry.get("npu")
    part = Part(
        name=name,
        vendor=entry["vendor"],
        core=core,
        max_clock_mhz=int(entry["max_clock_mhz"]),
        fpu=Fpu(entry["fpu"]),
        dsp=bool(entry["dsp"]),
        mve=Mve(entry.get("mve", "none")),
        regions=tuple(_region(r, name) for r in entry["regions"]),
        sources=tuple(entry["sources"]),
        flash=_flash_timing(entry, name),
        aliases=tuple(entry.get("aliases", ())),
        npu=_npu(npu) if npu else None,
        icache_bytes=entry.get("icache_bytes"),
        dcache_bytes=entry.get("dcache_bytes"),
        cache_note=entry.get("cache_note", ""),
        notes=entry.get("notes", ""),
    )
    check_regions(name, part.regions)
    if not any(r.kind == RegionKind.FLASH for r in part.regions):
        raise ValueError(f"{name}: no flash region")
    if not any(r.kind in (RegionKind.SRAM, RegionKind.DTCM) for r in part.regions):
        raise ValueError(f"{name}: no on-chip RAM region")
    _check_flash_wait_states(name, part.regions, part.flash)
    return part


def _flash_timing(entry: dict[str, Any], owner: str) -> FlashTiming:
    if "flash" not in entry:
        raise ValueError(f"{owner}: no flash timing (the `flash` table)")
    timing = FlashTiming(**entry["flash"])
    if not timing.source:
        raise ValueError(f"{owner}: flash timing without its source")
    if not timing.cache_on_at_reset and timing.cache and not timing.enabled_by:
        raise ValueError(f"{owner}: flash cache off after reset: say what enables it (enabled_by)")
    if timing.fetch_line_bytes:
        _check_fetch_geometry(timing, entry.get("icache_bytes") or 0, owner)
    elif timing.serves_data_reads or timing.read_cycles:
        raise ValueError(f"{owner}: flash serves_data_reads and read_cycles need the cache's fetch_line_bytes")
    if timing.bus_clock_divider < 1 or (timing.bus_clock_divider > 1 and timing.read_cycles):
        raise ValueError(f"{owner}: flash bus_clock_divider must be at least 1, and 1 with read_cycles (core cycles)")
    return timing


def _check_fetch_geometry(timing: FlashTiming, icache_bytes: int, owner: str) -> None:
    """The instruction cache's lines fill it (icache_bytes) and split into whole flash reads and ways."""
    line, read = timing.fetch_line_bytes, timing.read_bytes
    if not (timing.cache and read and icache_bytes):
        raise ValueError(f"{owner}: flash fetch_line_bytes needs its cache, read_bytes and icache_bytes")
    lines = icache_bytes // line
    if icache_bytes % line or line % read or (timing.fetch_ways and lines % timing.fetch_ways):
        raise ValueError(
            f"{owner}: flash fetch geometry ({line}-byte lines, {read}-byte reads, {timing.fetch_ways} ways) "
            f"does not divide icache_bytes = {icache_bytes}"
        )


def _check_flash_wait_states(owner: str, regions: tuple[MemoryRegion, ...], flash: FlashTiming) -> None:
    """Every flash region states its wait states, unless the part says why it cannot."""
    for region in regions:
        if region.kind == RegionKind.FLASH and region.wait_states is None and not flash.wait_states_note:
            raise ValueError(f"{owner}: flash region {region.name} without wait_states or flash.wait_states_note")


def _npu(entry: dict[str, Any]) -> Npu:
    ports = {key: NpuPort(**entry[key]) if key in entry else None for key in ("arena_port", "weights_port")}
    return Npu(
        type=entry["type"],
        macs_per_cycle=entry.get("macs_per_cycle"),
        note=entry.get("note", ""),
        accelerator=entry.get("accelerator"),
        clock_mhz=entry.get("clock_mhz"),
        source=entry.get("source", ""),
        **ports,
    )


def _region(entry: dict[str, Any], owner: str) -> MemoryRegion:
    size_kib = entry["size_kib"]
    if not isinstance(size_kib, int) or size_kib < 0:
        raise ValueError(f"{owner}: region {entry.get('name')}: size_kib must be a whole number of KiB")
    return MemoryRegion(
        name=entry["name"],
        kind=RegionKind(entry["kind"]),
        base=int(entry["base"]),
        size=size_kib * KIB,
        cacheable=bool(entry.get("cacheable", False)),
        wait_states=entry.get("wait_states"),
        group=entry.get("group"),
        off_chip=bool(entry.get("off_chip", False)),
        note=entry.get("note", ""),
        code_alias=entry.get("code_alias"),
        code_alias_source=entry.get("code_alias_source", ""),
    )


def _board(entry: dict[str, Any], database: Database) -> Board:
    name = entry["name"]
    if entry["part"] not in {p.name for p in database.parts}:
        raise ValueError(f"board {name}: unknown part {entry['part']!r}")
    board = Board(
        name=name,
        part=entry["part"],
        source=entry["source"],
        aliases=tuple(entry.get("aliases", ())),
        regions=tuple(_region(r, name) for r in entry.get("regions", ())),
        notes=entry.get("notes", ""),
    )
    device = database.device(board)
    check_regions(name, device.regions)
    _check_flash_wait_states(name, device.regions, device.part.flash)
    return board


def _machine(entry: dict[str, Any]) -> Machine:
    name = entry["name"]
    if entry["core"] not in CORE_NAMES:
        raise ValueError(f"machine {name}: unknown core {entry['core']!r}")
    machine = Machine(
        name=name,
        core=entry["core"],
        source=entry["source"],
        regions=tuple(_region(r, name) for r in entry["regions"]),
        code_region=entry["code_region"],
        rodata_region=entry["rodata_region"],
        ram_region=entry["ram_region"],
        notes=entry.get("notes", ""),
    )
    check_regions(name, machine.regions)
    for role in ("code", "rodata", "ram"):
        machine.region(role)
    return machine


def check_regions(owner: str, regions: tuple[MemoryRegion, ...]) -> None:
    """No two regions overlap, nor a region and a code alias; regions of a group are back to back and of
    one kind."""
    for region in regions:
        if region.code_alias is not None:
            _check_code_alias(owner, region)
    spans = [(r.base, r.end, r.name) for r in regions]
    spans += [(r.code_alias, r.code_alias + r.size, f"{r.name}'s code alias") for r in regions if r.code_alias]
    for before, after in itertools.pairwise(sorted(spans)):
        if after[0] < before[1]:
            raise ValueError(f"{owner}: {before[2]} and {after[2]} overlap")
    ordered = sorted(regions, key=lambda r: r.base)
    groups: dict[str, list[MemoryRegion]] = {}
    for region in ordered:
        if region.group:
            groups.setdefault(region.group, []).append(region)
    for group, members in groups.items():
        if len({m.kind for m in members}) != 1:
            raise ValueError(f"{owner}: group {group} mixes kinds of memory")
        for before, after in itertools.pairwise(members):
            if after.base != before.end:
                raise ValueError(f"{owner}: group {group}: {after.name} does not follow {before.name}")


def _check_code_alias(owner: str, region: MemoryRegion) -> None:
    """A code alias: of an on-chip SRAM, sourced, word-aligned and whole in the Code area."""
    alias, where = region.code_alias, f"{owner}: region {region.name}: code_alias"
    assert alias is not None
    if region.kind != RegionKind.SRAM or region.off_chip:
        raise ValueError(f"{where} on {region.kind.value} memory: only an on-chip SRAM has one")
    if not region.code_alias_source:
        raise ValueError(f"{where} without its source (code_alias_source)")
    if alias < 0 or alias % 4 or alias + region.size > CODE_AREA_END:
        end = f"0x{CODE_AREA_END:08X}"
        raise ValueError(f"{where} 0x{alias:08X}: must be word-aligned, its {region.size:,} B below {end}")


def _apply_overrides(regions: tuple[MemoryRegion, ...], changes: tuple[MemoryRegion, ...]) -> tuple[MemoryRegion, ...]:
    by_name = {c.name: c for c in changes}
    kept = [by_name.pop(r.name, r) for r in regions]
    return tuple(r for r in (*kept, *by_name.values()) if r.size > 0)


def _check_unique_names(database: Database) -> None:
    seen: dict[str, str] = {}
    for name in database.names():
        key = _key(name)
        if key in seen:
            raise ValueError(f"device name {name!r} clashes with {seen[key]!r}")
        seen[key] = name


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z+]", "", name.lower())


def _suggestion(name: str, names: list[str]) -> str:
    by_key = {_key(n): n for n in names}
    close = difflib.get_close_matches(_key(name), list(by_key), n=4, cutoff=0.6)
    if not close:
        return " (`mcudeploy devices` lists them)"
    return f"; did you mean {', '.join(by_key[k] for k in close)}?"
