"""Where the arena and the stack end up: cacheable or external memory on cores with a data cache,
and a stack that does not fit beside the arena. Shared by the placement and stack checks."""

from __future__ import annotations

from mcudeploy.devices import MemoryRegion
from mcudeploy.doctor.findings import Context
from mcudeploy.emulation.elf import ElfImage, Symbol
from mcudeploy.errors import McuDeployError
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import (
    DEFAULT_STACK_BYTES,
    MemoryBudget,
    budget_request,
    code_estimate,
    constant_layout,
    memory_budget,
)
from mcudeploy.memory.planners.tflm import plan_tflm


def arena_bytes(context: Context) -> tuple[int, str]:
    """The arena to place: the user's declared size, else TFLM's head where it can be replayed, else ours."""
    if context.arena_size is not None:
        return context.arena_size, "--arena-size"
    try:
        return plan_tflm(context.graph).arena_bytes, "TFLM's planned head"
    except McuDeployError:  # a model the TFLM replica does not handle: our plan stands in
        return plan_memory(context.graph).arena_bytes, "mcudeploy's plan"


def model_budget(context: Context, stack_bytes: int = DEFAULT_STACK_BYTES) -> MemoryBudget:
    arena, _ = arena_bytes(context)
    graph = context.graph
    request = budget_request(arena, constant_layout(graph), code_estimate(graph), stack_bytes)
    return memory_budget(request, context.device)


def arena_symbol(elf: ElfImage) -> Symbol | None:
    """The firmware's tensor arena: the largest data object with "arena" in its name."""
    candidates = [s for s in elf.symbols if s.defined and s.kind == "object" and "arena" in s.name.lower()]
    return max(candidates, key=lambda s: s.size, default=None)


def region_at(context: Context, address: int) -> MemoryRegion | None:
    return next((r for r in context.device.regions if r.base <= address < r.end), None)


STACK_SIZE_SYMBOLS = ("_Min_Stack_Size", "__STACK_SIZE", "__stack_size__", "_stack_size", "STACK_SIZE")
"""Linker-script symbols whose value is the stack size (STM32Cube, CMSIS, NXP MCUXpresso scripts)."""
STACK_SECTIONS = (".stack", ".stack_dummy")


def declared_stack(elf: ElfImage) -> tuple[int, str] | None:
    """The stack the firmware reserves, and where that was read."""
    by_name = {s.name: s for s in elf.symbols if s.defined}
    for name in STACK_SIZE_SYMBOLS:
        if name in by_name and by_name[name].address > 0:
            return by_name[name].address, f"symbol {name}"
    if "__StackTop" in by_name and "__StackLimit" in by_name:
        size = by_name["__StackTop"].address - by_name["__StackLimit"].address
        if size > 0:
            return size, "__StackTop - __StackLimit"
    for section in elf.sections:
        if section.name in STACK_SECTIONS and section.size > 0:
            return section.size, f"section {section.name}"
    return None
