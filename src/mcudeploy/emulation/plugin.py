"""Our QEMU instruction-counting plugin: built with host gcc on first use, cached, and its output parsed.

The plugin counts every executed instruction by kind (`KIND_CLASSES` groups the kinds into
the classes reports show), counts pipeline events, and optionally data accesses per memory
range; per function, per call of chosen "scope" functions, and at checkpoint marks.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mcudeploy.emulation.elf import ElfImage, FunctionRange
from mcudeploy.errors import McuDeployError

PLUGIN_DIR = Path(__file__).resolve().parent / "plugin"
PLUGIN_SOURCES = (PLUGIN_DIR / "insn_count.c", PLUGIN_DIR / "thumb_decode.c")
PLUGIN_HEADERS = (PLUGIN_DIR / "thumb_decode.h",)
CACHE_DIR_VARIABLE = "MCUDEPLOY_CACHE_DIR"
PLUGIN_CFLAGS: tuple[str, ...] = ("-shared", "-fPIC", "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror")
MARK_SYMBOL = "mcu_count_mark"
ELSEWHERE = "elsewhere"
"""Memory label of accesses outside every range a run asked about."""
FETCH_MISS_BRANCH = "fetch_miss_branch"
FETCH_MISS_SEQUENTIAL = "fetch_miss_sequential"
"""Events of the instruction-fetch cache (`InstructionCounting.fetch_cache`): a line missed as the first of a
block entered by a branch, call, return or exception, and one missed in sequence."""

KIND_CLASSES: dict[str, str] = {
    "alu": "alu",
    "it": "alu",
    "loop_setup": "alu",
    "load": "load",
    "load_double": "load",
    "store": "store",
    "store_double": "store",
    "load_multiple": "load_multiple",
    "store_multiple": "store_multiple",
    "multiply": "multiply",
    "multiply_accumulate": "multiply",
    "multiply_long": "multiply",
    "multiply_long_accumulate": "multiply",
    "dsp_mac": "dsp",
    "dsp_simd": "dsp",
    "divide": "divide",
    "branch": "branch_taken",
    "call": "branch_taken",
    "branch_indirect": "branch_taken",
    "branch_load": "branch_taken",
    "branch_table": "branch_taken",
    "loop_end": "branch_taken",
    "branch_untaken": "branch_untaken",
    "fpu_alu": "fpu",
    "fpu_mac": "fpu",
    "fpu_divide": "fpu",
    "fpu_load": "fpu",
    "fpu_store": "fpu",
    "fpu_load_multiple": "fpu",
    "fpu_store_multiple": "fpu",
    "fpu_move": "fpu",
    "mve_load": "mve",
    "mve_store": "mve",
    "mve_mac": "mve",
    "mve_alu": "mve",
    "system": "system",
    "other": "system",
}
"""Instruction class of each kind the plugin decodes: single loads and stores, multiple loads
and stores, ALU, multiply, DSP (MAC and SIMD), divide, taken and untaken branches, FPU, MVE, system."""

CLASSES: tuple[str, ...] = tuple(dict.fromkeys(KIND_CLASSES.values()))


def cache_dir() -> Path:
    """$MCUDEPLOY_CACHE_DIR, else $XDG_CACHE_HOME/mcudeploy, else ~/.cache/mcudeploy."""
    explicit = os.environ.get(CACHE_DIR_VARIABLE)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mcudeploy"


def plugin_library() -> Path:
    """The compiled plugin, rebuilt whenever its sources change (the file name holds their hash)."""
    digest = hashlib.sha256(" ".join(PLUGIN_CFLAGS).encode())
    for path in (*PLUGIN_SOURCES, *PLUGIN_HEADERS):
        digest.update(path.read_bytes())
    library = cache_dir() / f"insn_count-{digest.hexdigest()[:16]}.so"
    if not library.exists():
        _compile_plugin(library)
    return library


def _compile_plugin(library: Path) -> None:
    library.parent.mkdir(parents=True, exist_ok=True)
    # Compile under a temporary name and rename: concurrent first uses never see half a file.
    handle, temporary = tempfile.mkstemp(suffix=".so", dir=library.parent)
    os.close(handle)
    command = ["gcc", *PLUGIN_CFLAGS, "-o", temporary, *(str(source) for source in PLUGIN_SOURCES)]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        os.unlink(temporary)
        raise McuDeployError("gcc", "host compiler not found; it builds the QEMU instruction-count plugin") from None
    if completed.returncode != 0:
        os.unlink(temporary)
        raise McuDeployError("instruction-count plugin", f"build failed:\n{completed.stderr.strip()}")
    os.replace(temporary, library)


@dataclass(frozen=True)
class MemoryRange:
    """An address range whose data accesses are counted under `label`; reads of a `cached`
    range go through the run's cache model."""

    label: str
    start: int
    end: int
    cached: bool = False


@dataclass(frozen=True)
class CacheGeometry:
    line_bytes: int
    sets: int
    ways: int

    @property
    def size_bytes(self) -> int:
        return self.line_bytes * self.sets * self.ways


@dataclass(frozen=True)
class InstructionCounting:
    """What the plugin should count besides the total: instructions inside each function of the
    ELF (`per_function`, self counts, callees excluded), the running counts at every call of the
    functions named in `marks`, the counts of every call of the `scopes` functions with their
    callees (a call ends when execution reaches one of the `scope_closers` functions, their
    caller), and data accesses per `memory` range (first match wins) with `cache` modelling
    reads of cached ranges and `fetch_cache` instruction fetch from them (the events
    fetch_miss_branch and fetch_miss_sequential); with `shared_cache`, data reads of cached ranges go
    through `fetch_cache` too (one cache on the code bus for both) and `cache` is not simulated."""

    per_function: bool = True
    marks: tuple[str, ...] = (MARK_SYMBOL,)
    scopes: tuple[str, ...] = ()
    scope_closers: tuple[str, ...] = ()
    memory: tuple[MemoryRange, ...] = ()
    cache: CacheGeometry | None = None
    fetch_cache: CacheGeometry | None = None
    shared_cache: bool = False


@dataclass(frozen=True)
class ExecutionCounts:
    """What one stretch of execution did: instructions per kind, pipeline events, and data
    reads, writes and cache read misses per memory label."""

    kinds: Mapping[str, int]
    events: Mapping[str, int]
    reads: Mapping[str, int] = field(default_factory=dict)
    writes: Mapping[str, int] = field(default_factory=dict)
    misses: Mapping[str, int] = field(default_factory=dict)

    @property
    def instructions(self) -> int:
        return sum(self.kinds.values())

    def classes(self) -> dict[str, int]:
        """Instructions per class (`CLASSES`), every class present."""
        totals = dict.fromkeys(CLASSES, 0)
        for kind, count in self.kinds.items():
            totals[KIND_CLASSES.get(kind, "system")] += count
        return totals

    def __add__(self, other: ExecutionCounts) -> ExecutionCounts:
        return self._combine(other, 1)

    def __sub__(self, other: ExecutionCounts) -> ExecutionCounts:
        return self._combine(other, -1)

    def _combine(self, other: ExecutionCounts, sign: int) -> ExecutionCounts:
        def merge(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
            return {key: a.get(key, 0) + sign * b.get(key, 0) for key in dict.fromkeys([*a, *b])}

        return ExecutionCounts(
            merge(self.kinds, other.kinds),
            merge(self.events, other.events),
            merge(self.reads, other.reads),
            merge(self.writes, other.writes),
            merge(self.misses, other.misses),
        )

    @staticmethod
    def total(items: Iterable[ExecutionCounts]) -> ExecutionCounts:
        result = ExecutionCounts({}, {})
        for item in items:
            result = result + item
        return result


@dataclass(frozen=True)
class ScopeCounts:
    calls: int
    counts: ExecutionCounts


@dataclass
class InstructionCounts:
    total: int
    outside_functions: int
    per_function: dict[str, int] = field(default_factory=dict)
    # (mark function name, instructions executed before that call), in execution order
    marks: list[tuple[str, int]] = field(default_factory=list)
    function_counts: dict[str, ExecutionCounts] = field(default_factory=dict)
    """By kind, event and memory, per function that ran (self counts)."""
    outside_counts: ExecutionCounts | None = None
    mark_counts: list[tuple[str, ExecutionCounts]] = field(default_factory=list)
    """Counts of the whole run so far at each mark call, in execution order."""
    scope_counts: dict[str, ScopeCounts] = field(default_factory=dict)
    mark_scope_counts: list[dict[str, ExecutionCounts]] = field(default_factory=list)
    """Each scope's counts so far (its calls ended) at each mark call, in execution order."""

    def mark_intervals(self) -> list[ExecutionCounts]:
        """What ran between consecutive mark calls."""
        counts = [item for _, item in self.mark_counts]
        return [later - earlier for earlier, later in itertools.pairwise(counts)]

    def scope_intervals(self) -> list[dict[str, ExecutionCounts]]:
        """What each scope's calls ran between consecutive mark calls (e.g. each layer of one inference)."""
        return [
            {name: later[name] - earlier[name] for name in later}
            for earlier, later in itertools.pairwise(self.mark_scope_counts)
        ]


@dataclass(frozen=True)
class PluginRequest:
    """Files handed to one QEMU run, and what is needed to read the answer back."""

    argument: str
    output: Path
    ranges: list[FunctionRange]
    mark_names: dict[int, str]
    scope_names: dict[int, str] = field(default_factory=dict)
    memory_labels: tuple[str, ...] = ()


def _write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def _defined_addresses(image: ElfImage, names: Iterable[str]) -> dict[int, str]:
    addresses = {}
    for name in names:
        defined = [symbol for symbol in image.symbols if symbol.name == name and symbol.defined]
        if defined:
            addresses[defined[0].address] = name
    return addresses


def _scope_files(image: ElfImage, counting: InstructionCounting, directory: Path) -> tuple[list[str], dict[int, str]]:
    if not counting.scopes:
        return [], {}
    entries = {image.symbol(name).address: name for name in counting.scopes}
    closers = [image.symbol(name) for name in counting.scope_closers]
    scopes = _write_lines(directory / "insn_scopes.txt", (f"{address:x}" for address in entries))
    closer_lines = (f"{symbol.address:x} {symbol.address + symbol.size:x}" for symbol in closers)
    closer_file = _write_lines(directory / "insn_closers.txt", closer_lines)
    return [f"scopes={scopes}", f"closers={closer_file}"], entries


def _memory_arguments(counting: InstructionCounting, directory: Path) -> list[str]:
    if not counting.memory:
        return []
    lines = (f"{item.start:x} {item.end:x} {int(item.cached)}" for item in counting.memory)
    arguments = [f"regions={_write_lines(directory / 'insn_regions.txt', lines)}"]
    data_cache = None if counting.shared_cache else counting.cache
    for key, geometry in (("cache", data_cache), ("icache", counting.fetch_cache)):
        if geometry is not None:
            arguments.append(f"{key}={geometry.line_bytes}:{geometry.sets}:{geometry.ways}")
    if counting.shared_cache and counting.fetch_cache is not None:
        arguments.append("unified=1")
    return arguments


def prepare_request(elf: Path, counting: InstructionCounting, directory: Path) -> PluginRequest:
    """Writes the range, mark, scope and memory files for `elf` into `directory`; returns the
    `-plugin` argument."""
    image = ElfImage(elf)
    ranges = image.function_ranges() if counting.per_function else []
    mark_names = _defined_addresses(image, counting.marks)
    output = directory / "insn_counts.txt"
    parts = [str(plugin_library()), f"out={output}"]
    if ranges:
        lines = (f"{item.start:x} {item.end:x}" for item in ranges)
        parts.append(f"ranges={_write_lines(directory / 'insn_ranges.txt', lines)}")
    if mark_names:
        parts.append(f"marks={_write_lines(directory / 'insn_marks.txt', (f'{a:x}' for a in mark_names))}")
    scope_arguments, scope_names = _scope_files(image, counting, directory)
    parts += scope_arguments + _memory_arguments(counting, directory)
    labels = (*(item.label for item in counting.memory), ELSEWHERE)
    return PluginRequest(",".join(parts), output, ranges, mark_names, scope_names, labels)


@dataclass(frozen=True)
class _Layout:
    kinds: tuple[str, ...]
    events: tuple[str, ...]
    memory_labels: tuple[str, ...]

    def counts(self, values: list[str]) -> ExecutionCounts:
        numbers = [int(value) for value in values]
        kinds, rest = numbers[: len(self.kinds)], numbers[len(self.kinds) :]
        events, memory = rest[: len(self.events)], rest[len(self.events) :]
        by_label: dict[str, dict[str, int]] = {"reads": {}, "writes": {}, "misses": {}}
        for position, label in enumerate(self.memory_labels):
            for offset, what in enumerate(by_label):
                by_label[what][label] = by_label[what].get(label, 0) + memory[3 * position + offset]
        return ExecutionCounts(
            dict(zip(self.kinds, kinds, strict=True)), dict(zip(self.events, events, strict=True)), **by_label
        )


def read_counts(request: PluginRequest) -> InstructionCounts:
    """Parses the plugin's output file."""
    if not request.output.exists():
        raise McuDeployError("instruction-count plugin", "QEMU exited without writing the counts")
    lines = [line.split() for line in request.output.read_text().splitlines() if line.strip()]
    header = {line[0]: line[1:] for line in lines if line[0] in ("kinds", "events")}
    layout = _Layout(tuple(header["kinds"]), tuple(header["events"]), request.memory_labels)
    counts = InstructionCounts(total=0, outside_functions=0)
    by_start = {item.start: item.name for item in request.ranges}
    for kind, *values in lines:
        if kind == "total":
            counts.total = int(values[0])
        elif kind == "other":
            counts.outside_counts = layout.counts(values)
            counts.outside_functions = counts.outside_counts.instructions
        elif kind == "range":
            name = by_start[int(values[0], 16)]
            counts.function_counts[name] = layout.counts(values[2:])
            counts.per_function[name] = counts.function_counts[name].instructions
        elif kind == "scope":
            name = request.scope_names[int(values[0], 16)]
            counts.scope_counts[name] = ScopeCounts(int(values[1]), layout.counts(values[2:]))
        elif kind == "mark":
            name = request.mark_names[int(values[0], 16)]
            counts.marks.append((name, int(values[1])))
            counts.mark_counts.append((name, layout.counts(values[2:])))
            counts.mark_scope_counts.append({})
        elif kind == "mark_scope":
            counts.mark_scope_counts[-1][request.scope_names[int(values[0], 16)]] = layout.counts(values[1:])
        elif kind == "marks_dropped" and int(values[0]):
            raise McuDeployError("instruction-count plugin", f"too many mark calls ({values[0]} not recorded)")
    return counts
