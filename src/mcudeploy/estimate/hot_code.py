"""Which of the hot code's functions run from an SRAM's code alias when the whole does not fit it.

With `--code-section ram` on a part whose SRAM has a code alias (the STM32L4's SRAM2 at 0x1000_0000),
the hot code (`HOT_OBJECTS`) runs there whole where it fits. Where it does not, the program is first run
with all its code in flash, the flash's instruction cache simulated: the functions of the hot objects that
paid fetch misses there are ranked by those cycles per byte of code, and taken greedily, best first, while
they fit the alias; their sections (`.text.<function>`, the code is compiled with -ffunction-sections) go in
`FAST_CODE_SECTION`, the rest stays in `.text` in flash. A function that missed nothing gains nothing.
The choice is cached by content (`split_cache`): estimate, analyze and generate read the one choice.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mcudeploy.codegen.library import FAST_CODE_SECTION, HOT_OBJECTS
from mcudeploy.devices import Device, MemoryRegion
from mcudeploy.emulation import ElfImage, Target
from mcudeploy.emulation.plugin import ExecutionCounts, cache_dir
from mcudeploy.estimate.cycles import fetch_miss_cycles
from mcudeploy.estimate.measure import Stream, build_model, run_cache_key, run_model
from mcudeploy.estimate.memory import MemoryTiming, splits_hot_code
from mcudeploy.files import write_file
from mcudeploy.ir import Graph
from mcudeploy.memory import MemoryPlan
from mcudeploy.memory.budget import CodeEstimate, CodeSection

FUNCTION_ALIGNMENT = 4
"""Bytes each function is counted with, rounded up (gcc aligns Thumb-2 functions to at most 4 at -O2)."""
SECTION_ALIGNMENT = 8
"""The fast-code output section's alignment (`emulation.linker`): the room left in the alias for functions."""


@dataclass(frozen=True)
class FunctionFetch:
    """A hot function, its code bytes and the fetch-miss cycles it paid in flash over one run."""

    name: str
    size: int
    fetch_cycles: float

    @property
    def cycles_per_byte(self) -> float:
        return self.fetch_cycles / self.size


@dataclass(frozen=True)
class FastCode:
    """The functions placed in an SRAM's code alias, the rest of the hot code left in flash."""

    region: MemoryRegion
    functions: tuple[FunctionFetch, ...]
    placed_bytes: int
    """`FAST_CODE_SECTION`'s size in the linked program (what the budget counts in the SRAM)."""
    hot_bytes: int
    """The whole hot code's run image, which did not fit."""
    left: tuple[FunctionFetch, ...] = ()
    """The functions that missed in flash too but found no room, best first."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(function.name for function in self.functions)

    def note(self) -> str:
        which = "those with the most flash fetch-miss cycles per byte" if self.left else "all that paid fetch misses"
        return (
            f"{len(self.functions)} functions, {self.placed_bytes:,} B in {self.region.via_code_alias} (of the "
            f"{self.hot_bytes:,} B of hot code; {which} in a run with all code in flash); the rest in flash"
            f"{self._left_note()}"
        )

    def _left_note(self) -> str:
        if not self.left:
            return ""
        cycles = sum(item.fetch_cycles for item in self.left)
        return f" ({len(self.left)} functions that missed there too, {cycles:,.0f} fetch-miss cycles, did not fit)"

    def report(self) -> dict[str, Any]:
        return {
            "runs_from": self.region.via_code_alias,
            "section": FAST_CODE_SECTION,
            "placed_bytes": self.placed_bytes,
            "hot_code_bytes": self.hot_bytes,
            "functions": [_function_report(item) for item in self.functions],
            "left_in_flash": [_function_report(item) for item in self.left],
        }


def _function_report(item: FunctionFetch) -> dict[str, Any]:
    return {"name": item.name, "bytes": item.size, "flash_fetch_miss_cycles": round(item.fetch_cycles)}


def split_bound(code: CodeEstimate, device: Device, code_section: CodeSection) -> CodeEstimate:
    """The hot code as a budget made before its functions are chosen counts it: where `--code-section ram`
    splits it (too big for the device's code alias), at most the alias's bytes, held there; else as is."""
    if code_section != CodeSection.RAM or code.hot_bytes is None or not splits_hot_code(device):
        return code
    largest = max(region.size for region in device.regions if region.code_alias is not None)
    return replace(code, hot_bytes=min(code.hot_bytes, largest))


def aligned_size(size: int) -> int:
    return -(-size // FUNCTION_ALIGNMENT) * FUNCTION_ALIGNMENT


def ranked(candidates: Iterable[FunctionFetch]) -> list[FunctionFetch]:
    """The functions with fetch misses, most cycles per byte first (then by name: deterministic)."""
    missed = (item for item in candidates if item.fetch_cycles > 0 and item.size > 0)
    return sorted(missed, key=lambda item: (-item.cycles_per_byte, item.name))


def choose_functions(candidates: Iterable[FunctionFetch], room: int) -> tuple[FunctionFetch, ...]:
    """The functions with fetch misses, `ranked`, each taken while it fits what `room` has left (a larger one
    skipped leaves room for smaller ones after it)."""
    chosen, used = [], 0
    for item in ranked(candidates):
        if used + aligned_size(item.size) <= room:
            chosen.append(item)
            used += aligned_size(item.size)
    return tuple(chosen)


def hot_function_sizes(objects: Path) -> dict[str, int]:
    """The code bytes of each function defined in the hot objects (`HOT_OBJECTS`) compiled into `objects`
    (a static function defined in two of them: both, as `*(.text.<name>)` moves both)."""
    sizes: dict[str, int] = {}
    for path in sorted(objects.glob("*.o")):
        if any(fnmatch.fnmatch(path.name, pattern) for pattern in HOT_OBJECTS):
            for symbol in ElfImage(path).symbols:
                if symbol.kind == "func" and symbol.defined and symbol.size:
                    sizes[symbol.name] = sizes.get(symbol.name, 0) + symbol.size
    return sizes


def fetch_candidates(
    sizes: Mapping[str, int], functions: Mapping[str, ExecutionCounts], memory: MemoryTiming
) -> list[FunctionFetch]:
    """The hot functions with the fetch-miss cycles each paid in the run `functions` counts (self counts)."""
    empty = ExecutionCounts({}, {})
    return [
        FunctionFetch(name, size, fetch_miss_cycles(functions.get(name, empty), memory))
        for name, size in sorted(sizes.items())
    ]


def fast_code_room(region: MemoryRegion) -> int:
    """The bytes of functions the region's code alias takes: its size less the section's alignment."""
    return region.size - SECTION_ALIGNMENT


def flash_fetch_candidates(
    graph: Graph, plan: MemoryPlan, portable: bool, target: Target, folder: Path, stream: Stream, in_flash: MemoryTiming
) -> list[FunctionFetch]:
    """The hot functions and the fetch misses each paid in a run of the model built with all its code in flash
    (priced with `in_flash`, its instruction cache simulated)."""
    elf = build_model(graph, plan, portable, target, folder, len(stream.frames), "ram", fast_functions=())
    run = run_model(graph, elf, target, in_flash, folder, stream)
    return fetch_candidates(hot_function_sizes(elf.with_suffix(".objects")), run.functions, in_flash)


def split_hot_code(
    graph: Graph,
    plan: MemoryPlan,
    portable: bool,
    target: Target,
    folder: Path,
    stream: Stream,
    in_flash: MemoryTiming,
    region: MemoryRegion,
    hot_bytes: int,
) -> tuple[FastCode, Path]:
    """The model built with its hottest functions (`choose_functions`) in `region`'s code alias, and which.
    Calls between the alias and flash are out of a BL's reach: the linker adds a veneer beside each caller,
    which the choice does not count; where they overflow the region, the room shrinks by as much and the
    choice is made again."""
    cached = split_cache(graph, plan, portable, target, in_flash, region)
    known = read_split(cached, region)
    if known is not None:
        return known, build_model(graph, plan, portable, target, folder, len(stream.frames), "ram", known.names)
    candidates = flash_fetch_candidates(graph, plan, portable, target, folder / "all-in-flash", stream, in_flash)
    room = fast_code_room(region)
    while True:
        chosen = choose_functions(candidates, room)
        names = [item.name for item in chosen]
        elf = build_model(graph, plan, portable, target, folder, len(stream.frames), "ram", fast_functions=names)
        placed = sum(section.size for section in ElfImage(elf).sections if section.name == FAST_CODE_SECTION)
        if placed <= region.size:
            left = tuple(item for item in ranked(candidates) if item not in chosen)
            fast = FastCode(region, chosen, placed, hot_bytes, left)
            _write_split(cached, fast)
            return fast, elf
        room = sum(aligned_size(item.size) for item in chosen) - (placed - region.size)  # never the same choice


def split_cache(
    graph: Graph, plan: MemoryPlan, portable: bool, target: Target, in_flash: MemoryTiming, region: MemoryRegion
) -> Path:
    """The file keeping `split_hot_code`'s choice for this project, core, region and all-in-flash timing (what
    the ranking run is priced with: the same for any stack or clock that leaves the placement and wait states)."""
    label = f"fast code in {region!r} on {target.name}, portable {portable}, all in flash: {in_flash!r}"
    return cache_dir() / f"fast-code-{run_cache_key(graph, plan, label)}.json"


def read_split(cached: Path, region: MemoryRegion) -> FastCode | None:
    """The choice `split_hot_code` kept in `cached`, None when it has not been made."""
    if not cached.exists():
        return None
    figures = json.loads(cached.read_text())
    functions, left = ((FunctionFetch(*item) for item in figures[name]) for name in ("functions", "left"))
    return FastCode(region, tuple(functions), figures["placed_bytes"], figures["hot_bytes"], tuple(left))


def _write_split(cached: Path, fast: FastCode) -> None:
    rows = {name: [[item.name, item.size, item.fetch_cycles] for item in items]
            for name, items in (("functions", fast.functions), ("left", fast.left))}  # fmt: skip
    cached.parent.mkdir(parents=True, exist_ok=True)
    figures = {**rows, "placed_bytes": fast.placed_bytes, "hot_bytes": fast.hot_bytes}
    write_file(cached, json.dumps(figures).encode(), replace=True)
