"""The emulated targets: QEMU machine, compiler flags and memory map of each core we validate on."""

from __future__ import annotations

from dataclasses import dataclass

from mcudeploy.errors import McuDeployError

KIB = 1024
MIB = 1024 * KIB
RAM_DATA_HEADROOM = 64 * KIB
"""Room kept in the RAM region beside the arena and the stack for the program's .data and .bss."""


@dataclass(frozen=True)
class MemoryRegion:
    """A range of the machine's address space; `name` becomes the linker-script region (upper-cased)."""

    name: str
    base: int
    size: int
    executable: bool = False

    @property
    def end(self) -> int:
        return self.base + self.size


@dataclass(frozen=True)
class MemoryMap:
    """Where code, read-only data and RAM live. The vector table goes at the start of `code`,
    where the machine's reset vector points."""

    code: MemoryRegion
    rodata: MemoryRegion
    ram: MemoryRegion
    extra_ram: tuple[MemoryRegion, ...] = ()

    def regions(self) -> tuple[MemoryRegion, ...]:
        """Every distinct region once, code first."""
        unique: dict[str, MemoryRegion] = {}
        for region in (self.code, self.rodata, self.ram, *self.extra_ram):
            unique.setdefault(region.name, region)
        return tuple(unique.values())

    def arena_region(self, arena_bytes: int, stack_size: int) -> str:
        """Where an arena of `arena_bytes` goes: RAM (the fastest: DTCM on the M55) when it fits
        there beside the stack and the program's data, else the first larger RAM region holding it."""
        if arena_bytes + stack_size + RAM_DATA_HEADROOM <= self.ram.size:
            return "ram"
        for region in self.extra_ram:
            if arena_bytes <= region.size:
                return region.name
        return "ram"  # nothing holds it: the link reports by how much RAM overflows

    def region(self, name: str) -> MemoryRegion:
        """A region by its name or by its role ("code", "rodata", "ram")."""
        roles = {"code": self.code, "rodata": self.rodata, "ram": self.ram}
        if name in roles:
            return roles[name]
        for region in self.regions():
            if region.name == name:
                return region
        known = ", ".join(region.name for region in self.regions())
        raise McuDeployError(name, f"no such memory region (this target has: {known})")


@dataclass(frozen=True)
class Target:
    """One core we build for. `machine` and `memory` are None for the host targets."""

    name: str
    description: str
    machine: str | None
    cflags: tuple[str, ...]
    memory: MemoryMap | None
    has_fpu: bool = False
    has_dsp: bool = False
    has_mve: bool = False

    @property
    def is_host(self) -> bool:
        return self.machine is None


def _mps2_memory(ram_base: int, extra_ram_base: int, code_base: int = 0) -> MemoryMap:
    """MPS2 FPGA images: 4 MB of code SSRAM, 4 MB of data SSRAM and 16 MB more RAM elsewhere."""
    code = MemoryRegion("code", code_base, 4 * MIB, executable=True)
    return MemoryMap(
        code=code,
        rodata=code,
        ram=MemoryRegion("ram", ram_base, 4 * MIB),
        extra_ram=(MemoryRegion("extra_ram", extra_ram_base, 16 * MIB),),
    )


def _an547_memory() -> MemoryMap:
    """SSE-300 on MPS3: code and stack in the TCMs, large constants in the 8 MB QSPI flash."""
    return MemoryMap(
        code=MemoryRegion("itcm", 0x0000_0000, 512 * KIB, executable=True),
        rodata=MemoryRegion("qspi", 0x2800_0000, 8 * MIB),
        ram=MemoryRegion("dtcm", 0x2000_0000, 512 * KIB),
        extra_ram=(
            MemoryRegion("sram", 0x2100_0000, 4 * MIB),
            MemoryRegion("ddr", 0x6000_0000, 16 * MIB),
        ),
    )


_THUMB = "-mthumb"

SANITIZER_FLAGS = (
    "-g",
    "-fsanitize=address,undefined,float-cast-overflow",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
)
"""AddressSanitizer and UndefinedBehaviorSanitizer (with float-to-integer overflow, which gcc leaves out
of "undefined"); any finding ends the program with a report on stderr."""

TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target("host", "host C compiler (gcc), no emulation", None, (), None),
        Target("host-sanitized", "host gcc with AddressSanitizer and UBSan, no emulation", None, SANITIZER_FLAGS, None),
        Target(
            "m3",
            "Cortex-M3 on QEMU mps2-an385",
            "mps2-an385",
            ("-mcpu=cortex-m3", _THUMB),
            _mps2_memory(ram_base=0x2000_0000, extra_ram_base=0x2100_0000),
        ),
        Target(
            "m4",
            "Cortex-M4F on QEMU mps2-an386",
            "mps2-an386",
            ("-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", _THUMB),
            _mps2_memory(ram_base=0x2000_0000, extra_ram_base=0x2100_0000),
            has_fpu=True,
            has_dsp=True,
        ),
        Target(
            "m7",
            "Cortex-M7 (double-precision FPU) on QEMU mps2-an500",
            "mps2-an500",
            ("-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard", _THUMB),
            _mps2_memory(ram_base=0x2000_0000, extra_ram_base=0x6000_0000),
            has_fpu=True,
            has_dsp=True,
        ),
        Target(
            # an505 rather than an521: QEMU's an521 core has neither FPU nor DSP extension.
            "m33",
            "Cortex-M33 with FPU and DSP on QEMU mps2-an505 (secure state)",
            "mps2-an505",
            ("-mcpu=cortex-m33", "-mfloat-abi=hard", _THUMB),
            _mps2_memory(ram_base=0x3800_0000, extra_ram_base=0x8000_0000, code_base=0x1000_0000),
            has_fpu=True,
            has_dsp=True,
        ),
        Target(
            "m55",
            "Cortex-M55 with MVE (Helium) on QEMU mps3-an547",
            "mps3-an547",
            ("-mcpu=cortex-m55", "-mfloat-abi=hard", _THUMB),
            _an547_memory(),
            has_fpu=True,
            has_dsp=True,
            has_mve=True,
        ),
    )
}

EMULATED_TARGET_NAMES: tuple[str, ...] = tuple(name for name, target in TARGETS.items() if not target.is_host)


def get_target(name: str) -> Target:
    """The target called `name` (host, m3, m4, m7, m33, m55)."""
    try:
        return TARGETS[name]
    except KeyError:
        raise McuDeployError(name, f"unknown target (choose from: {', '.join(TARGETS)})") from None
