"""Our QEMU instruction-counting plugin: built with host gcc on first use, cached, and its output parsed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mcudeploy.emulation.elf import ElfImage, FunctionRange
from mcudeploy.errors import McuDeployError

PLUGIN_SOURCE = Path(__file__).resolve().parent / "plugin" / "insn_count.c"
CACHE_DIR_VARIABLE = "MCUDEPLOY_CACHE_DIR"
PLUGIN_CFLAGS: tuple[str, ...] = ("-shared", "-fPIC", "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror")
MARK_SYMBOL = "mcu_count_mark"


def cache_dir() -> Path:
    """$MCUDEPLOY_CACHE_DIR, else $XDG_CACHE_HOME/mcudeploy, else ~/.cache/mcudeploy."""
    explicit = os.environ.get(CACHE_DIR_VARIABLE)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mcudeploy"


def plugin_library() -> Path:
    """The compiled plugin, rebuilt whenever its source changes (the file name holds the source hash)."""
    source = PLUGIN_SOURCE.read_bytes()
    digest = hashlib.sha256(source + " ".join(PLUGIN_CFLAGS).encode()).hexdigest()[:16]
    library = cache_dir() / f"insn_count-{digest}.so"
    if not library.exists():
        _compile_plugin(library)
    return library


def _compile_plugin(library: Path) -> None:
    library.parent.mkdir(parents=True, exist_ok=True)
    # Compile under a temporary name and rename: concurrent first uses never see half a file.
    handle, temporary = tempfile.mkstemp(suffix=".so", dir=library.parent)
    os.close(handle)
    command = ["gcc", *PLUGIN_CFLAGS, "-o", temporary, str(PLUGIN_SOURCE)]
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
class InstructionCounting:
    """What the plugin should count besides the total: instructions inside each function of the
    ELF (`per_function`, self counts, callees excluded) and the running total at every call of
    the functions named in `marks` (inclusive counts between checkpoints)."""

    per_function: bool = True
    marks: tuple[str, ...] = (MARK_SYMBOL,)


@dataclass
class InstructionCounts:
    total: int
    outside_functions: int
    per_function: dict[str, int] = field(default_factory=dict)
    # (mark function name, instructions executed before that call), in execution order
    marks: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class PluginRequest:
    """Files handed to one QEMU run, and what is needed to read the answer back."""

    argument: str
    output: Path
    ranges: list[FunctionRange]
    mark_names: dict[int, str]


def prepare_request(elf: Path, counting: InstructionCounting, directory: Path) -> PluginRequest:
    """Writes the range and mark files for `elf` into `directory`; returns the `-plugin` argument."""
    image = ElfImage(elf)
    ranges = image.function_ranges() if counting.per_function else []
    mark_names = {}
    for name in counting.marks:
        defined = [symbol for symbol in image.symbols if symbol.name == name and symbol.defined]
        if defined:
            mark_names[defined[0].address] = name
    output = directory / "insn_counts.txt"
    parts = [str(plugin_library()), f"out={output}"]
    if ranges:
        ranges_file = directory / "insn_ranges.txt"
        ranges_file.write_text("".join(f"{item.start:x} {item.end:x}\n" for item in ranges))
        parts.append(f"ranges={ranges_file}")
    if mark_names:
        marks_file = directory / "insn_marks.txt"
        marks_file.write_text("".join(f"{address:x}\n" for address in mark_names))
        parts.append(f"marks={marks_file}")
    return PluginRequest(",".join(parts), output, ranges, mark_names)


def read_counts(request: PluginRequest) -> InstructionCounts:
    """Parses the plugin's output file."""
    if not request.output.exists():
        raise McuDeployError("instruction-count plugin", "QEMU exited without writing the counts")
    counts = InstructionCounts(total=0, outside_functions=0)
    by_start = {item.start: item.name for item in request.ranges}
    for line in request.output.read_text().splitlines():
        kind, *values = line.split()
        if kind == "total":
            counts.total = int(values[0])
        elif kind == "other":
            counts.outside_functions = int(values[0])
        elif kind == "range" and int(values[2]):
            counts.per_function[by_start[int(values[0], 16)]] = int(values[2])
        elif kind == "mark":
            counts.marks.append((request.mark_names[int(values[0], 16)], int(values[1])))
        elif kind == "marks_dropped" and int(values[0]):
            raise McuDeployError("instruction-count plugin", f"too many mark calls ({values[0]} not recorded)")
    return counts
