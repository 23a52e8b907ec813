"""Linker scripts for the emulated targets, rendered from the template shipped in `runtime/`."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from string import Template

from mcudeploy.codegen.library import FAST_CODE_SECTION, SRAM_WEIGHTS_SECTION, fast_code_inputs
from mcudeploy.devices import Machine, MemoryRegion
from mcudeploy.emulation.targets import Target
from mcudeploy.errors import McuDeployError

DEFAULT_ARENA_SECTION = ".arena"
DEFAULT_STACK_SIZE = 64 * 1024
VECTOR_SECTION = ".vectors"
"""The exception vector table's section (runtime/startup.c): handlers the core enters, not callbacks."""
CODE_SECTIONS = ("flash", "itcm", "ram")
"""Where the hot code runs: in place from flash (the default), or copied at start-up to ITCM or SRAM."""


def fast_code_region(machine: Machine, code_section: str) -> MemoryRegion:
    """The machine region that runs the hot code: its ITCM for `itcm` where it has one, else its RAM
    region (QEMU models no timings: the copy and the addresses are what an emulated run checks)."""
    itcm = [region for region in machine.regions if region.kind.value == "itcm"]
    return itcm[0] if code_section == "itcm" and itcm else machine.ram


def _fast_code_lines(machine: Machine, code_section: str, fast_functions: Sequence[str] | None = None) -> str:
    """The output section of the hot code (run from ITCM/RAM, loaded in flash), or empty markers."""
    if code_section == "flash":
        return "    __fast_code_start = 0;\n    __fast_code_end = 0;\n    __fast_code_load = 0;\n"
    inputs = "\n".join(f"        {pattern}" for pattern in fast_code_inputs(fast_functions))
    run, load = _region_name(fast_code_region(machine, code_section)), _region_name(machine.rodata)
    return (
        f"    {FAST_CODE_SECTION} : ALIGN(8)\n    {{\n        __fast_code_start = .;\n{inputs}\n"
        f"        . = ALIGN(4);\n        __fast_code_end = .;\n    }} > {run} AT > {load}\n"
        f"    __fast_code_load = LOADADDR({FAST_CODE_SECTION});\n"
    )


def _region_name(region: MemoryRegion) -> str:
    return region.name.upper()


def _memory_lines(machine: Machine) -> str:
    return "\n".join(
        f"    {_region_name(region)} ({'rx' if region == machine.code else 'rw'}) : "
        f"ORIGIN = {region.base:#010x}, LENGTH = {region.size:#x}"
        for region in machine.regions
    )


def _region_symbols(machine: Machine) -> str:
    lines = []
    for region in machine.regions:
        name = _region_name(region)
        lines.append(f"    __{region.name}_start = ORIGIN({name});")
        lines.append(f"    __{region.name}_end = ORIGIN({name}) + LENGTH({name});")
    return "\n".join(lines)


def _check_section_name(section: str) -> None:
    # The name is pasted into the script and must also be a valid C section attribute.
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
    if not section.startswith(".") or len(section) < 2 or not set(section) <= allowed:
        raise McuDeployError(section, "arena section must look like '.name' (letters, digits, '_', '.')")
    if section in {".text", ".rodata", ".data", ".bss", VECTOR_SECTION, ".stack", ".sram_weights"}:
        raise McuDeployError(section, "arena section must not be one of the standard sections")


def render_linker_script(
    target: Target,
    arena_section: str = DEFAULT_ARENA_SECTION,
    arena_region: str = "ram",
    stack_size: int = DEFAULT_STACK_SIZE,
    code_section: str = "flash",
    fast_functions: Sequence[str] | None = None,
    sram_weights_region: str = "ram",
) -> str:
    """The linker script for `target`: vectors and code in its code region, constants in its
    read-only region, data/bss/stack in RAM, and `arena_section` (NOLOAD, zeroed at start-up,
    bounded by `__arena_start`/`__arena_end`) in the region called `arena_region`; with `code_section`
    itcm or ram, the hot code (`HOT_OBJECTS`, or only the functions `fast_functions` names) in
    `FAST_CODE_SECTION`, copied there from flash at start-up;
    the constants read from SRAM (`SRAM_WEIGHTS_SECTION`) in the region called `sram_weights_region`, loaded
    in flash and bounded by `__sram_weights_start` and `__sram_weights_end`."""
    if target.machine is None:
        raise McuDeployError(target.name, "the host target is linked by the host compiler, not by our script")
    _check_section_name(arena_section)
    machine = target.machine
    template = resources.files("mcudeploy.emulation").joinpath("runtime/linker.ld.in").read_text()
    return Template(template).substitute(
        target=target.name,
        machine=machine.name,
        memory=_memory_lines(machine),
        code_region=_region_name(machine.code),
        rodata_region=_region_name(machine.rodata),
        ram_region=_region_name(machine.ram),
        arena_section=arena_section,
        arena_region=_region_name(machine.region(arena_region)),
        stack_size=f"{stack_size:#x}",
        region_symbols=_region_symbols(machine),
        fast_code=_fast_code_lines(machine, code_section, fast_functions),
        sram_weights_section=SRAM_WEIGHTS_SECTION,
        sram_weights_region=_region_name(machine.region(sram_weights_region)),
    )
