"""What a linked program contains, read from its ELF file with pyelftools."""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from mcudeploy.errors import McuDeployError
from mcudeploy.files import open_regular

R_ARM_ABS32 = 2
"""The relocation that writes a symbol's address as a data word."""
LINK_RELOCATIONS = "-Wl,--emit-relocs"
"""Keeps the relocations in the linked program: `ElfImage.functions_in_data` reads them."""

# Our linker script's stack reservation: free space, not something the program declared.
STACK_SECTION = ".stack"


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int  # for Arm Thumb functions without the Thumb bit
    size: int
    kind: str  # "func", "object", ... (pyelftools' STT_ suffix, lower case)
    defined: bool


@dataclass(frozen=True)
class Section:
    name: str
    address: int
    size: int
    allocated: bool
    writable: bool
    executable: bool
    occupies_file: bool  # False for .bss-like (NOBITS) sections


@dataclass(frozen=True)
class FunctionRange:
    name: str
    start: int
    end: int  # exclusive


@dataclass(frozen=True)
class SectionSizes:
    """Bytes by kind, like GNU size but with read-only data apart from code. `bss` counts every
    zero-initialised RAM section (a named arena section included), not our stack reservation."""

    text: int
    rodata: int
    data: int
    bss: int


def _symbol_kind(symbol_type: str) -> str:
    return symbol_type.removeprefix("STT_").lower()


def _read_symbols(elf: ELFFile, is_arm: bool) -> list[Symbol]:
    symbols = []
    for section in elf.iter_sections():
        if not isinstance(section, SymbolTableSection) or section.name != ".symtab":
            continue
        for entry in section.iter_symbols():
            if not entry.name:
                continue
            kind = _symbol_kind(entry["st_info"]["type"])
            address = entry["st_value"]
            if is_arm and kind == "func":
                address &= ~1  # the Thumb bit marks the instruction set, not the address
            defined = entry["st_shndx"] != "SHN_UNDEF"
            symbols.append(Symbol(entry.name, address, entry["st_size"], kind, defined))
    return symbols


def _read_sections(elf: ELFFile) -> list[Section]:
    sections = []
    for section in elf.iter_sections():
        flags = section["sh_flags"]
        sections.append(
            Section(
                name=section.name,
                address=section["sh_addr"],
                size=section["sh_size"],
                allocated=bool(flags & SH_FLAGS.SHF_ALLOC),
                writable=bool(flags & SH_FLAGS.SHF_WRITE),
                executable=bool(flags & SH_FLAGS.SHF_EXECINSTR),
                occupies_file=section["sh_type"] != "SHT_NOBITS",
            )
        )
    return sections


MAX_ELF_BYTES = 1 << 30
"""1 GiB: far beyond any microcontroller program (its debug information included)."""


class ElfImage:
    """Symbols and sections of one ELF file, read once."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        with self._open() as elf:
            is_arm = elf["e_machine"] == "EM_ARM"
            self.symbols = _read_symbols(elf, is_arm)
            self.sections = _read_sections(elf)

    @contextmanager
    def _open(self) -> Iterator[ELFFile]:
        """The file parsed, a read error one clear line."""
        try:
            with open_regular(self.path, MAX_ELF_BYTES) as stream:
                yield ELFFile(stream)
        except (OSError, ELFError) as error:
            raise McuDeployError(str(self.path), f"cannot read ELF file: {error}") from None

    def symbol(self, name: str) -> Symbol:
        """The defined symbol `name` (address and size)."""
        for symbol in self.symbols:
            if symbol.name == name and symbol.defined:
                return symbol
        raise McuDeployError(name, f"symbol not defined in {self.path.name}")

    def section(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name:
                return section
        raise McuDeployError(name, f"no such section in {self.path.name}")

    def section_sizes(self) -> SectionSizes:
        """Bytes of code, read-only data, initialised data and zero-initialised data."""
        totals = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
        for section in self.sections:
            if not section.allocated or section.name == STACK_SECTION:
                continue
            if section.executable:
                kind = "text"
            elif not section.writable:
                kind = "rodata"
            else:
                kind = "data" if section.occupies_file else "bss"
            totals[kind] += section.size
        return SectionSizes(**totals)

    def function_ranges(self) -> list[FunctionRange]:
        """Address ranges of the defined functions, sorted and without overlaps (of two functions
        at one address, e.g. an alias, the first name in alphabetical order is kept)."""
        functions = sorted(
            (symbol.address, symbol.name, symbol.size)
            for symbol in self.symbols
            if symbol.kind == "func" and symbol.defined and symbol.size > 0
        )
        ranges: list[FunctionRange] = []
        for address, name, size in functions:
            if ranges and address < ranges[-1].end:
                continue
            ranges.append(FunctionRange(name, address, address + size))
        return ranges

    def functions_in_data(self, skip: Collection[str] = ()) -> set[str]:
        """Functions whose address is a word of the program's initialised data (a table of callbacks in
        .rodata or .data, which the disassembly does not show), the sections named in `skip` aside: the
        words an absolute relocation set (the program linked with `--emit-relocs`, `LINK_RELOCATIONS`),
        so that a bias or a weight equal to a function's address by chance is not one."""
        entries = {
            symbol.address | 1: symbol.name for symbol in self.symbols if symbol.kind == "func" and symbol.defined
        }
        found: set[str] = set()
        with self._open() as elf:
            for relocations in elf.iter_sections():
                if not isinstance(relocations, RelocationSection):
                    continue
                data = elf.get_section(relocations["sh_info"])
                flags = data["sh_flags"]
                if not flags & SH_FLAGS.SHF_ALLOC or flags & SH_FLAGS.SHF_EXECINSTR or data.name in skip:
                    continue
                if data["sh_type"] == "SHT_NOBITS":
                    continue
                content, base = data.data(), data["sh_addr"]
                for relocation in relocations.iter_relocations():
                    if relocation["r_info_type"] != R_ARM_ABS32:
                        continue
                    offset = relocation["r_offset"] - base
                    word = int.from_bytes(content[offset : offset + 4], "little")
                    if word in entries:
                        found.add(entries[word])
        return found

    def symbols_matching(self, pattern: str, *, defined: bool | None = None) -> list[str]:
        """Names of symbols matching the shell-style `pattern` (e.g. `__aeabi_f*`); `defined`
        restricts to defined (True) or undefined (False) symbols."""
        names = {
            symbol.name
            for symbol in self.symbols
            if fnmatch.fnmatchcase(symbol.name, pattern) and (defined is None or symbol.defined == defined)
        }
        return sorted(names)
