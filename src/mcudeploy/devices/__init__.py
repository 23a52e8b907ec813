"""Cortex-M cores, parts and boards: clocks, caches, NPUs and memory regions, with their sources;
the QEMU machines generated code runs on."""

from mcudeploy.devices.cores import CORES, Core, Fpu, Mve
from mcudeploy.devices.database import (
    Board,
    Database,
    Device,
    FlashTiming,
    Machine,
    MemoryRegion,
    Npu,
    NpuPort,
    Part,
    RegionKind,
    Span,
    find_core,
    load_database,
    normalize_core,
)


def find_device(name: str) -> Device:
    """The part or board called `name` (case-insensitive; unknown names get suggestions)."""
    return load_database().find(name)


def find_machine(name: str) -> Machine:
    """The QEMU machine called `name` (e.g. "mps2-an386")."""
    return load_database().machine(name)


__all__ = [
    "CORES",
    "Board",
    "Core",
    "Database",
    "Device",
    "FlashTiming",
    "Fpu",
    "Machine",
    "MemoryRegion",
    "Mve",
    "Npu",
    "NpuPort",
    "Part",
    "RegionKind",
    "Span",
    "find_core",
    "find_device",
    "find_machine",
    "load_database",
    "normalize_core",
]
