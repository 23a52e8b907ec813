"""The stack a call can take at worst, from gcc's `-fstack-usage` frames and the ELF's call graph.

gcc writes one `.su` line per function it compiled (`file:line:col:name<TAB>bytes<TAB>kind`, kind
`static`, `dynamic` or `dynamic,bounded`); objdump's disassembly gives the direct calls (`bl`) and
tail calls (`b` to another function). The worst case from a function is its frame plus the deepest of
its callees'. Functions gcc did not compile here (newlib, libgcc's helpers) have no `.su` line: their
frame is read from their prologue (`push`/`stmdb sp!`, `vpush`, `sub sp`), and they are named, so the
figure says what it took from code rather than from gcc. An indirect call (`blx rN`, the kernels'
per-channel callbacks) may reach any function whose address the code loads from a literal pool: the
deepest of those counts.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from mcudeploy.emulation.targets import Target
from mcudeploy.emulation.toolchain import find_compiler
from mcudeploy.errors import McuDeployError

_FUNCTION = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
_LITERAL = re.compile(r"\t\.word\t0x([0-9a-f]+)")
_BRANCH = re.compile(r"\t(b[a-z]*(?:\.[nw])?)\t[0-9a-f]+ <([^>+]+)(\+0x[0-9a-f]+)?>")
_INDIRECT = re.compile(r"\tblx\tr\d+")
_PUSH = re.compile(r"\t(?:push(?:\.w)?|stmdb(?:\.w)?\tsp!,|vpush)\t?\s*\{([^}]*)\}")
_SUB_SP = re.compile(r"\tsub(?:\.w|w)?\tsp,\s*(?:sp,\s*)?#(\d+)")
_CLONE_SUFFIX = re.compile(r"\.\d+$")
PROLOGUE_INSTRUCTIONS = 8
"""How far into a function without a `.su` frame its prologue is looked for."""


@dataclass(frozen=True)
class Frame:
    bytes: int
    bounded: bool
    """False for a `dynamic` frame (alloca, variable-length array): its size is not known."""


@dataclass
class CallGraph:
    frames: dict[str, Frame]
    calls: dict[str, set[str]]
    indirect: set[str] = field(default_factory=set)
    prologues: dict[str, int] = field(default_factory=dict)
    """Bytes each function's prologue pushes and reserves, read from its code."""
    address_taken: set[str] = field(default_factory=set)
    """Functions whose address is in a literal pool: what an indirect call may reach."""

    def frame(self, function: str) -> Frame | None:
        """gcc's frame; a clone (`f.isra.0`) is named without its number in the `.su` file."""
        return self.frames.get(function) or self.frames.get(_CLONE_SUFFIX.sub("", function))

    def worst(self, function: str) -> tuple[int, set[str]]:
        """Worst-case bytes from entering `function`, and the functions without a `.su` frame (their
        prologue counted instead)."""
        return _worst(self, function, frozenset())

    def unbounded(self, function: str) -> list[str]:
        """Functions reachable from `function` whose stack is not known: dynamic frames, indirect calls."""
        seen = _reachable(self, function)
        return sorted(f for f in seen if not getattr(self.frame(f), "bounded", True))


def _worst(graph: CallGraph, function: str, path: frozenset[str]) -> tuple[int, set[str]]:
    if function in path:
        raise McuDeployError(function, "recursive call: no finite worst-case stack")
    frame = graph.frame(function)
    unknown = set() if frame is not None else {function}
    deepest = 0
    callees = set(graph.calls.get(function, ()))
    if function in graph.indirect:
        callees |= graph.address_taken - path - {function}
    for callee in callees:
        depth, missing = _worst(graph, callee, path | {function})
        deepest = max(deepest, depth)
        unknown |= missing
    own = frame.bytes if frame is not None else graph.prologues.get(function, 0)
    return own + deepest, unknown


def _reachable(graph: CallGraph, function: str) -> set[str]:
    seen, todo = set(), [function]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.calls.get(name, ()))
            if name in graph.indirect:
                todo.extend(graph.address_taken)
    return seen


def read_frames(folder: Path) -> dict[str, Frame]:
    """Every `.su` line under `folder`; a name compiled twice (static functions) keeps its larger frame."""
    frames: dict[str, Frame] = {}
    for su in sorted(folder.glob("*.su")):
        for line in su.read_text().splitlines():
            location, size, kind = line.split("\t")
            name = location.rsplit(":", 1)[1]
            frame = Frame(int(size), "dynamic" not in kind or "bounded" in kind)
            old = frames.get(name)
            if old is None or frame.bytes > old.bytes:
                frames[name] = frame
    return frames


def read_calls(elf: Path, target: Target) -> CallGraph:
    """Direct and tail calls between the ELF's functions, the functions making indirect calls, the
    bytes each function's prologue pushes and reserves, and the functions whose address is taken
    (frames are left to `read_frames`)."""
    listing = subprocess.run(
        [_objdump(target), "-d", "--no-show-raw-insn", str(elf)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise McuDeployError(str(elf), f"objdump failed: {listing.stderr.strip()}")
    calls: dict[str, set[str]] = {}
    indirect: set[str] = set()
    prologues: dict[str, int] = {}
    starts: dict[int, str] = {}
    literals: set[int] = set()
    current, position = "", 0
    for line in listing.stdout.splitlines():
        if heading := _FUNCTION.match(line):
            current, position = heading.group(2), 0
            starts[int(heading.group(1), 16)] = current
            calls.setdefault(current, set())
            prologues[current] = 0
            continue
        position += 1
        if position <= PROLOGUE_INSTRUCTIONS:
            prologues[current] = prologues.get(current, 0) + _prologue_bytes(line)
        if (branch := _BRANCH.search(line)) and branch.group(2) != current:
            calls[current].add(branch.group(2))
        elif _INDIRECT.search(line):
            indirect.add(current)
        elif literal := _LITERAL.search(line):
            literals.add(int(literal.group(1), 16) & ~1)  # Thumb addresses carry bit 0
    taken = {starts[address] for address in literals if address in starts}
    return CallGraph({}, calls, indirect, prologues, taken)


def _prologue_bytes(line: str) -> int:
    """Bytes one instruction takes off the stack pointer: a register push (d registers: 8 bytes each)
    or a `sub sp` by an immediate."""
    if push := _PUSH.search(line):
        total = 0
        for item in push.group(1).split(","):
            first, _, last = item.strip().partition("-")
            count = int(last[1:]) - int(first[1:]) + 1 if last else 1
            total += count * (8 if first.startswith("d") else 4)
        return total
    if sub := _SUB_SP.search(line):
        return int(sub.group(1))
    return 0


def call_graph(elf: Path, target: Target) -> CallGraph:
    """The call graph of an ELF built with `-fstack-usage`; the `.su` files are beside it."""
    graph = read_calls(elf, target)
    graph.frames = read_frames(elf.parent)
    return graph


def _objdump(target: Target) -> str:
    compiler = find_compiler(target)
    return str(compiler.with_name(compiler.name.replace("gcc", "objdump")))
