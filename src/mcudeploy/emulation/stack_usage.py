"""The stack a call can take at worst, from gcc's `-fstack-usage` frames and the ELF's call graph.

gcc writes one `.su` line per function it compiled (`file:line:col:name<TAB>bytes<TAB>kind`, kind
`static`, `dynamic` or `dynamic,bounded`); objdump's disassembly gives the direct calls (`bl`) and tail
calls (`b` to another function). The worst case from a function is its frame plus the deepest of its
callees'. Functions gcc did not compile here (newlib's hand-written `memmove`/`memset`, libgcc's
helpers) have no `.su` line: their frame is derived from their code, every path from the entry followed
with the bytes it has pushed (`push`/`stmdb sp!`, `vpush`, `str rN, [sp, #-n]!`, `sub sp, #n`, and
back), the deepest point being the frame: a push past the first instructions (memmove's, on its
long-copy path) counts. A function whose stack pointer the walk cannot follow (set from a register, a
computed jump, two paths meeting at different depths) or a `dynamic` gcc frame is not bounded: the
figure names it rather than count it 0. An indirect call (`blx rN`, the kernels' per-channel callbacks)
may reach any function whose address the code loads from a literal pool (a word with the Thumb bit set:
an even one is data, e.g. a linker symbol ending a section where a function starts) or from a table in
the program's data (`ElfImage.functions_in_data`: .rodata's callback tables, from the relocations a
build with CALL_GRAPH_FLAGS keeps, the exception vectors aside), the deepest of those counting; but an
address loaded into an argument register and handed unchanged to the next call (`ldr r2, [pc, #n]` ...
`bl md_window_planes`, nothing else reading or writing r2, no branch between) reaches only the indirect
calls below that callee: a function handed another's address only calls it or hands it on, it does not
give it back to its caller. Every load of a literal holding the address must be handed so: one used any
other way (kept in a register, stored, returned) makes it reachable from every indirect call.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from mcudeploy.emulation.elf import LINK_RELOCATIONS, ElfImage
from mcudeploy.emulation.linker import VECTOR_SECTION
from mcudeploy.emulation.targets import Target
from mcudeploy.emulation.toolchain import find_compiler
from mcudeploy.errors import McuDeployError

CALL_GRAPH_FLAGS = ("-fstack-usage", LINK_RELOCATIONS)
"""What a build whose call graph `call_graph` reads needs: gcc's frames, and the linked data's relocations."""

_FUNCTION = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
_INSTRUCTION = re.compile(r"^\s*([0-9a-f]+):\t(\S+)(?:\t(.*))?$")
_LITERAL = re.compile(r"^\.word\t0x([0-9a-f]+)")
_TARGET = re.compile(r"([0-9a-f]+) <([^>+]+)(?:\+0x[0-9a-f]+)?>")
_CONDITION = "eq|ne|cs|cc|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al"
_MNEMONIC = re.compile(rf"([a-z]+?)({_CONDITION})?(?:\.[nw])?")
_REGISTER_LIST = re.compile(r"\{([^}]*)\}")
_IMMEDIATE = re.compile(r"#(-?\d+)")
_CLONE_SUFFIX = re.compile(r"\.\d+$")
_BRANCHES = {"b", "cbz", "cbnz"}
_CALLS = {"bl", "blx"}


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
    code_frames: dict[str, int | None] = field(default_factory=dict)
    """Bytes each function's code pushes and reserves at its deepest, None where that cannot be followed."""
    address_taken: set[str] = field(default_factory=set)
    """Functions whose address is in a literal pool used some way other than handed to a call, or in a
    table in the program's data: what every indirect call may reach."""
    handed: dict[str, set[str]] = field(default_factory=dict)
    """Functions whose address is only handed to calls, and the functions it is handed to: what the
    indirect calls below those may reach."""

    def frame(self, function: str) -> Frame | None:
        """The larger of gcc's frame and the one derived from the function's code (a naked function's
        asm pushes what gcc does not count), bounded when either is; None for a function neither knows.
        A clone (`f.isra.0`) is named without its number in the `.su` file."""
        gcc = self.frames.get(function) or self.frames.get(_CLONE_SUFFIX.sub("", function))
        derived = self.code_frames.get(function)
        if derived is None:
            return gcc if gcc is not None or function not in self.code_frames else Frame(0, False)
        return Frame(max(derived, gcc.bytes if gcc else 0), True)

    def worst(self, function: str) -> tuple[int, set[str]]:
        """Worst-case bytes from entering `function`, and the functions reached whose frame is not
        bounded (counted 0 in the figure, which then bounds nothing)."""
        return _worst(self, function, frozenset())

    def reached_indirectly(self, chain: frozenset[str]) -> set[str]:
        """What an indirect call made below the functions `chain` may reach."""
        return self.address_taken | {function for function, takers in self.handed.items() if takers & chain}


def _worst(graph: CallGraph, function: str, path: frozenset[str]) -> tuple[int, set[str]]:
    if function in path:
        raise McuDeployError(function, "recursive call: no finite worst-case stack")
    frame = graph.frame(function)
    unbounded = set() if frame is not None and frame.bounded else {function}
    deepest = 0
    callees = set(graph.calls.get(function, ()))
    if function in graph.indirect:
        callees |= graph.reached_indirectly(path | {function}) - path - {function}
    for callee in callees:
        depth, missing = _worst(graph, callee, path | {function})
        deepest = max(deepest, depth)
        unbounded |= missing
    return (frame.bytes if frame is not None else 0) + deepest, unbounded


def read_frames(*folders: Path) -> dict[str, Frame]:
    """Every `.su` line in `folders`; a name compiled twice (static functions) keeps its larger frame."""
    frames: dict[str, Frame] = {}
    for su in sorted(su for folder in folders for su in folder.glob("*.su")):
        for line in su.read_text().splitlines():
            location, size, kind = line.split("\t")
            name = location.rsplit(":", 1)[1]
            frame = Frame(int(size), "dynamic" not in kind or "bounded" in kind)
            old = frames.get(name)
            if old is None or frame.bytes > old.bytes:
                frames[name] = frame
    return frames


@dataclass(frozen=True)
class _Instruction:
    address: int
    operation: str
    """The mnemonic without its condition and width (`pop` for `popeq`, `b` for `bne.n`)."""
    conditional: bool
    operands: str
    target: tuple[int, str] | None
    """A branch's or call's destination: its address and the function it is in."""


def read_calls(elf: Path, target: Target) -> CallGraph:
    """Direct and tail calls between the ELF's functions, the functions making indirect calls, the
    bytes each function's code pushes and reserves, and the functions whose address is taken, with
    the calls it is handed to where it is only handed (gcc's frames are left to `read_frames`)."""
    listing = subprocess.run(
        [_objdump(target), "-d", "--no-show-raw-insn", str(elf)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise McuDeployError(str(elf), f"objdump failed: {listing.stderr.strip()}")
    return read_listing(listing.stdout)


def read_listing(listing: str) -> CallGraph:
    """`read_calls` from objdump's disassembly. A branch's destination is the function whose code holds
    its address, not the symbol objdump labels it with: that can be any symbol at or below the address
    (an assembler constant leaked into the symbol table), never a function the call graph knows."""
    bodies: dict[str, list[_Instruction]] = {}
    starts: dict[int, str] = {}
    literals: dict[int, int] = {}
    """A literal pool word holding a code address: that address (without the Thumb bit)."""
    current = ""
    for line in listing.splitlines():
        if heading := _FUNCTION.match(line):
            current = heading.group(2)
            starts[int(heading.group(1), 16)] = current
            bodies.setdefault(current, [])
        elif current and (instruction := _INSTRUCTION.match(line)):
            mnemonic, operands = instruction.group(2), instruction.group(3) or ""
            if literal := _LITERAL.match(f"{mnemonic}\t{operands}"):
                value = int(literal.group(1), 16)
                if value & 1:  # a Thumb function's address; an even word is data (a section's end may be a start)
                    literals[int(instruction.group(1), 16)] = value & ~1
            elif not mnemonic.startswith("."):  # .short, .byte: data (a jump table), not code
                bodies[current].append(_parse(int(instruction.group(1), 16), mnemonic, operands))
    ordered = sorted(starts)
    bodies = {name: [_in_function(i, ordered, starts) for i in body] for name, body in bodies.items()}
    graph = CallGraph({}, {name: set() for name in bodies})
    for name, body in bodies.items():
        for instruction in body:
            if instruction.target and instruction.target[1] != name and instruction.operation in _BRANCHES | _CALLS:
                graph.calls[name].add(instruction.target[1])
            elif instruction.operation in ("blx", "bx") and instruction.operands != "lr":
                graph.indirect.add(name)  # a call or tail call through a register
        graph.code_frames[name] = _code_frame(body)
    _take_addresses(graph, bodies, literals, starts)
    return graph


def _in_function(instruction: _Instruction, ordered: list[int], starts: dict[int, str]) -> _Instruction:
    """`instruction` with its destination named after the function whose code holds it (the last of the
    `ordered` starts at or below it); as objdump labels it below the first function."""
    if instruction.target is None:
        return instruction
    address = instruction.target[0]
    index = bisect.bisect_right(ordered, address) - 1
    name = starts[ordered[index]] if index >= 0 else instruction.target[1]
    return dataclasses.replace(instruction, target=(address, name))


def _take_addresses(
    graph: CallGraph, bodies: dict[str, list[_Instruction]], literals: dict[int, int], starts: dict[int, str]
) -> None:
    """`graph.address_taken` and `graph.handed` from the literals holding a function's address and
    the instructions naming them (a literal no instruction names is read some other way)."""
    takers: dict[int, list[str | None]] = {address: [] for address in literals}
    for name, body in bodies.items():
        for position, instruction in enumerate(body):
            if instruction.target and instruction.target[0] in takers:
                takers[instruction.target[0]].append(_handed_to(body, position, name))
    for address, value in literals.items():
        if value not in starts:
            continue
        if None in takers[address] or not takers[address]:
            graph.address_taken.add(starts[value])
        else:
            graph.handed.setdefault(starts[value], set()).update(takers[address])


_ARGUMENT_REGISTERS = frozenset(("r0", "r1", "r2", "r3"))
_STOPS = _BRANCHES | _CALLS | {"bx", "tbb", "tbh", "svc"}


def _handed_to(body: list[_Instruction], position: int, function: str) -> str | None:
    """The function the literal load at `position` hands its value to unchanged: an argument
    register loaded, then straight code that neither reads nor writes it up to an unconditional call
    or tail call of another function; None for any other use."""
    load = body[position]
    register = load.operands.split(",")[0]
    if load.operation != "ldr" or register not in _ARGUMENT_REGISTERS:
        return None
    for instruction in body[position + 1 :]:
        target = instruction.target
        if instruction.operation in ("bl", "b") and target and target[1] != function:
            return None if instruction.conditional else target[1]
        if instruction.operation in _STOPS or instruction.operation.startswith("it") or _returns(instruction):
            return None
        if re.search(rf"\b{register}\b|\{{", instruction.operands) or re.match(r"pc\b", instruction.operands):
            return None  # reads or writes the register (a register list may name it in a range), or jumps
    return None


def _parse(address: int, mnemonic: str, operands: str) -> _Instruction:
    parts = _MNEMONIC.fullmatch(mnemonic)
    operation, condition = (parts.group(1), parts.group(2)) if parts else (mnemonic, None)
    destination = _TARGET.search(operands)
    target = (int(destination.group(1), 16), destination.group(2)) if destination else None
    return _Instruction(address, operation, condition not in (None, "al"), operands.split("\t@")[0].strip(), target)


def _code_frame(body: list[_Instruction]) -> int | None:
    """The most bytes below its entry the function's stack pointer goes, every path from the entry
    followed; None where it cannot be followed."""
    at = {instruction.address: position for position, instruction in enumerate(body)}
    depth_at: dict[int, int] = {}
    todo = [(0, 0)] if body else []
    deepest = 0
    while todo:
        position, depth = todo.pop()
        if position >= len(body):
            continue  # ran off the end: nothing more to push
        if position in depth_at:
            if depth_at[position] != depth:
                return None  # two paths meet at different depths, or a loop moves the stack pointer
            continue
        depth_at[position] = depth
        step = _stack_step(body[position])
        successors = _successors(body[position], position, at)
        if step is None or None in successors:
            return None
        deepest = max(deepest, depth + step)
        todo += [(successor, depth + step) for successor in successors if successor is not None]
    return deepest


def _successors(instruction: _Instruction, position: int, at: dict[int, int]) -> list[int | None]:
    """Where control goes next inside the function; None for a computed jump the listing does not
    follow. A branch to another function is a tail call: its stack is the call graph's."""
    operation, operands = instruction.operation, instruction.operands
    if _returns(instruction):
        return [position + 1] if instruction.conditional else []
    if operation in ("tbb", "tbh"):  # a switch's jump table: any instruction of the function may follow
        return [index for index in range(len(at)) if index != position]
    if re.match(r"pc\b", operands):
        return [None]
    if operation in _BRANCHES and instruction.target is not None:
        inside = at.get(instruction.target[0])
        taken = [] if inside is None else [inside]
        return taken + ([position + 1] if instruction.conditional or operation != "b" else [])
    return [position + 1]


def _returns(instruction: _Instruction) -> bool:
    """`pop {.., pc}`, `ldr pc, [sp], #4`, `bx lr`, or a tail call through a register (an indirect call)."""
    operation, operands = instruction.operation, instruction.operands
    register_list = _REGISTER_LIST.search(operands)
    return (
        (operation in ("pop", "ldmia", "ldm") and register_list is not None and "pc" in register_list.group(1))
        or (operation == "ldr" and operands.startswith("pc, [sp], #"))
        or operation == "bx"
    )


_READS_SP = frozenset(("cmp", "cmn", "tst", "str", "strd", "stmia", "stm", "ldmia", "ldm"))
"""Operations whose first operand may be sp without moving it (the multiples without writeback)."""


def _stack_step(instruction: _Instruction) -> int | None:
    """Bytes the instruction moves the stack pointer down (negative: up); None where it sets it in a way
    the walk cannot follow (from a register, or only on a condition)."""
    operation, operands = instruction.operation, instruction.operands
    registers = _REGISTER_LIST.search(operands)
    pushes = operation in ("push", "vpush") or (operation in ("stmdb", "vstmdb") and operands.startswith("sp!"))
    pops = operation in ("pop", "vpop") or (operation in ("ldmia", "ldm", "vldmia") and operands.startswith("sp!"))
    if (pushes or pops) and registers:
        size = _list_bytes(registers.group(1))
        step = size if pushes else -size
    elif operation in ("sub", "subw", "add", "addw") and re.fullmatch(r"sp, (?:sp, )?#\d+", operands):
        size = int(_IMMEDIATE.search(operands).group(1))
        step = size if operation.startswith("sub") else -size
    elif re.search(r"\[sp, #-\d+\]!$|\[sp\], #\d+$", operands):
        # str.w lr, [sp, #-4]! and ldr.w pc, [sp], #4: a one-register push and pop
        step = -int(_IMMEDIATE.search(operands).group(1))
    elif re.match(r"sp\b", operands) and operation not in _READS_SP:
        return None  # sp set from a register, or some other way
    else:
        return 0
    if step and instruction.conditional:  # a return taken on a condition: the path that goes on keeps its depth
        return 0 if _returns(instruction) else None
    return step


def _list_bytes(registers: str) -> int:
    """Bytes a register list takes on the stack: 4 a core or s register, 8 a d register."""
    total = 0
    for item in registers.split(","):
        first, _, last = item.strip().partition("-")
        count = int(last[1:]) - int(first[1:]) + 1 if last else 1
        total += count * (8 if first.startswith("d") else 4)
    return total


def call_graph(elf: Path, target: Target) -> CallGraph:
    """The call graph of an ELF built with `-fstack-usage`; the `.su` files are beside it (and in its
    objects' folder when the build compiled objects first: `toolchain.build` with a code section)."""
    graph = read_calls(elf, target)
    graph.address_taken |= ElfImage(elf).functions_in_data(skip={VECTOR_SECTION})
    graph.frames = read_frames(elf.parent, elf.with_suffix(".objects"))
    return graph


def _objdump(target: Target) -> str:
    compiler = find_compiler(target)
    return str(compiler.with_name(compiler.name.replace("gcc", "objdump")))
