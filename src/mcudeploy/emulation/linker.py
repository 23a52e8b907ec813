"""Linker scripts for the emulated targets, rendered from the template shipped in `runtime/`."""

from __future__ import annotations

from importlib import resources
from string import Template

from mcudeploy.devices import Machine, MemoryRegion
from mcudeploy.emulation.targets import Target
from mcudeploy.errors import McuDeployError

DEFAULT_ARENA_SECTION = ".arena"
DEFAULT_STACK_SIZE = 64 * 1024


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
    if section in {".text", ".rodata", ".data", ".bss", ".vectors", ".stack"}:
        raise McuDeployError(section, "arena section must not be one of the standard sections")


def render_linker_script(
    target: Target,
    arena_section: str = DEFAULT_ARENA_SECTION,
    arena_region: str = "ram",
    stack_size: int = DEFAULT_STACK_SIZE,
) -> str:
    """The linker script for `target`: vectors and code in its code region, constants in its
    read-only region, data/bss/stack in RAM, and `arena_section` (NOLOAD, zeroed at start-up,
    bounded by `__arena_start`/`__arena_end`) in the region called `arena_region`."""
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
    )
