"""Cortex-M parts and boards: cores, clocks, caches, NPUs and memory regions, with their sources."""

from mcudeploy.devices.database import (
    DATA_CACHE_CORES,
    Board,
    Database,
    Device,
    FlashTiming,
    MemoryRegion,
    Npu,
    NpuPort,
    Part,
    RegionKind,
    Span,
    load_database,
    normalize_core,
)


def find_device(name: str) -> Device:
    """The part or board called `name` (case-insensitive; unknown names get suggestions)."""
    return load_database().find(name)


__all__ = [
    "DATA_CACHE_CORES",
    "Board",
    "Database",
    "Device",
    "FlashTiming",
    "MemoryRegion",
    "Npu",
    "NpuPort",
    "Part",
    "RegionKind",
    "Span",
    "find_device",
    "load_database",
    "normalize_core",
]
