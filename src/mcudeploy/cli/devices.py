"""`mcudeploy devices [--core cortex-m7]`: the parts mcudeploy knows, with their memories."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer
from rich.table import Table

from mcudeploy.cli.output import console, print_json
from mcudeploy.devices import Database, Part, RegionKind, load_database
from mcudeploy.reports.analyze import part_features, region_summary


def devices(
    core: Annotated[
        str | None, typer.Option("--core", help="Only parts with this core, e.g. cortex-m7 or m55.")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the parts as JSON.")] = False,
) -> None:
    """List the Cortex-M parts in the device database, the boards that carry them and their memories."""
    database = load_database()
    parts = database.parts_with_core(core) if core else list(database.parts)
    if json:
        print_json([_part_summary(part, database) for part in parts])
    else:
        console.print(_parts_table(parts, database, core))


def _part_summary(part: Part, database: Database) -> dict[str, Any]:
    device = database.device(part)
    return {
        "name": part.name,
        "aliases": list(part.aliases),
        "boards": [board.name for board in database.boards_of(part)],
        **part_features(part),
        "flash_bytes": device.flash_bytes(),
        "ram_bytes": device.internal_ram_bytes(),
        "regions": [region_summary(region) for region in part.regions],
        "flash_timing": dataclasses.asdict(part.flash),
        "sources": list(part.sources),
        "notes": part.notes,
    }


def _parts_table(parts: list[Part], database: Database, core: str | None) -> Table:
    title = f"{len(parts)} parts" + (f" with core {core}" if core else "")
    table = Table(title=title, title_justify="left")
    for column in ("part", "core", "MHz", "FPU", "DSP", "Helium", "NPU"):
        table.add_column(column, justify="right" if column == "MHz" else "left")
    table.add_column("flash", justify="right")
    table.add_column("RAM", justify="right")
    table.add_column("TCM", justify="right")
    table.add_column("flash read")
    table.add_column("boards")
    for part in parts:
        device = database.device(part)
        tcm = sum(r.size for r in part.regions if r.kind == RegionKind.DTCM)
        table.add_row(
            part.name,
            part.core.removeprefix("cortex-"),
            str(part.max_clock_mhz),
            part.fpu.value,
            "yes" if part.dsp else "no",
            part.mve.value,
            part.npu.type if part.npu else "",
            _kib(device.flash_bytes()),
            _kib(device.internal_ram_bytes()),
            _kib(tcm) if tcm else "",
            _flash_read(part),
            ", ".join(board.name for board in database.boards_of(part)),
        )
    return table


def _flash_read(part: Part) -> str:
    """Wait states at the maximum clock and what hides them, e.g. "5 WS, prefetch, cache (off at reset)"; "4 WS
    (bus 1/2)" where they are cycles of a flash bus slower than the core (the H74x's AXI)."""
    flash = part.flash
    wait_states = {r.wait_states for r in part.regions if r.kind == RegionKind.FLASH and r.wait_states is not None}
    bus = f" (bus 1/{flash.bus_clock_divider})" if flash.bus_clock_divider > 1 else ""
    items = [f"{max(wait_states)} WS{bus}" if wait_states else "WS not published"]
    if flash.prefetch:
        items.append("prefetch")
    if flash.cache:
        items.append("cache" + ("" if flash.cache_on_at_reset else " (off at reset)"))
    return ", ".join(items)


def _kib(size: int) -> str:
    return f"{size // 1024:,} KiB"
