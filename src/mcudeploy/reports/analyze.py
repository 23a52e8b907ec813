"""`mcudeploy analyze`: per-layer memory, the budget per region, the verdict, the arena picture."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from mcudeploy.analysis.code_size import measured_code
from mcudeploy.analysis.costs import layer_macs
from mcudeploy.analysis.coverage import OperatorGap, uncounted_operators, variable_bytes
from mcudeploy.devices import Database, Device, MemoryRegion, Part, load_database
from mcudeploy.display import markup_safe, printable
from mcudeploy.ir import Graph
from mcudeploy.memory.budget import (
    DEFAULT_STACK_BYTES,
    STACK,
    Memory,
    MemoryBudget,
    Shortfall,
    SpanUse,
    budget_request,
    code_estimate,
    constant_layout,
    fitting_devices,
    memory_budget,
)
from mcudeploy.memory.placement import arena_place
from mcudeploy.memory.plan import MemoryPlan

FITS = "fits"
DOES_NOT_FIT = "does not fit"
CANNOT_VERIFY = "cannot verify"
"""The counted memory fits, but operators whose memory mcudeploy cannot count are left out."""
FITTING_SHOWN = 8


@dataclass(frozen=True)
class Reserves:
    stack_bytes: int = DEFAULT_STACK_BYTES
    reserve_ram: int = 0
    reserve_flash: int = 0
    stack_source: str = "assumed"
    """How stack_bytes was had: estimate.stack's MEASURED, ASSUMED or RESERVED (--stack)."""


def analyze_model(
    graph: Graph, plan: MemoryPlan, device: Device, reserves: Reserves, database: Database | None = None
) -> dict[str, Any]:
    """The analyze report as plain data (what --json prints)."""
    constants = constant_layout(graph, plan.alignment)
    code = measured_code(graph, plan, device.core) or code_estimate(graph)
    request = budget_request(
        plan.arena_bytes,
        constants,
        code,
        reserves.stack_bytes,
        reserves.reserve_ram,
        reserves.reserve_flash,
        variable_bytes(graph),
    )
    budget = memory_budget(request, device)
    peak = _peak_layer(graph, plan)
    uncounted = uncounted_operators(graph)
    status = _verdict(budget.fits, uncounted)
    return {
        "model": graph.name,
        "device": device_summary(device),
        "planner": plan.planner,
        "alignment": plan.alignment,
        "arena_bytes": plan.arena_bytes,
        "weights_bytes": constants.total_bytes,
        "code_bytes": code.total,
        "code_bytes_is_estimate": code.measured_on is None,
        "stack_bytes": reserves.stack_bytes,
        "stack_source": reserves.stack_source,
        "reserve_ram_bytes": reserves.reserve_ram,
        "reserve_flash_bytes": reserves.reserve_flash,
        "flash_bytes": budget.flash_bytes,
        "ram_bytes": budget.ram_bytes,
        "verdict": status,
        "fits": status == FITS,
        "uncounted_operators": [gap.as_dict() for gap in uncounted],
        "peak_layer": peak,
        "regions": [_region_use(use) for use in budget.uses],
        "shortfalls": [_shortfall(s) for s in budget.shortfalls],
        "over_by": {memory.value: _over_by(budget, memory) for memory in Memory},
        "external_room": [span.name for span in budget.external_room()],
        "fitting_devices": [d.name for d in fitting_devices(request, database or load_database())],
        "layers": _layers(graph, plan, constants.layer_bytes),
        "arena_placement": _arena_place(budget, device, plan.arena_bytes),
    }


def _arena_place(budget: MemoryBudget, device: Device, arena_bytes: int) -> dict[str, Any] | None:
    place = arena_place(budget, device, arena_bytes)
    return None if place is None else asdict(place)


def _verdict(counted_fit: bool, uncounted: list[OperatorGap]) -> str:
    if not counted_fit:
        return DOES_NOT_FIT
    return CANNOT_VERIFY if uncounted else FITS


def device_summary(device: Device) -> dict[str, Any]:
    part = device.part
    return {
        "name": device.name,
        "part": part.name,
        "board": device.board.name if device.board else None,
        **part_features(part),
    }


def part_features(part: Part) -> dict[str, Any]:
    return {
        "vendor": part.vendor,
        "core": part.core,
        "max_clock_mhz": part.max_clock_mhz,
        "fpu": part.fpu.value,
        "dsp": part.dsp,
        "mve": part.mve.value,
        "npu": {"type": part.npu.type, "macs_per_cycle": part.npu.macs_per_cycle} if part.npu else None,
        "icache_bytes": part.icache_bytes,
        "dcache_bytes": part.dcache_bytes,
    }


def region_summary(region: MemoryRegion) -> dict[str, Any]:
    return {
        "name": region.name,
        "kind": region.kind.value,
        "base": f"0x{region.base:08X}",
        "size": region.size,
        "wait_states": region.wait_states,
        "cacheable": region.cacheable,
        "off_chip": region.off_chip,
        "note": region.note,
    }


def _peak_layer(graph: Graph, plan: MemoryPlan) -> dict[str, Any] | None:
    if not graph.operators or not plan.step_live_bytes:
        return None
    op = graph.operators[plan.peak_step]
    return {"index": op.index, "op": op.op_type, "live_bytes": plan.step_live_bytes[op.index]}


def _layers(graph: Graph, plan: MemoryPlan, weight_bytes: Callable[[int], int]) -> list[dict[str, Any]]:
    scratch: dict[int, int] = {}
    for buffer in plan.buffers:
        if buffer.scratch_of is not None:
            scratch[buffer.scratch_of] = scratch.get(buffer.scratch_of, 0) + buffer.size
    peak = plan.peak_step if plan.step_live_bytes else None
    return [
        {
            "index": op.index,
            "op": op.op_type,
            "macs": layer_macs(graph, op),
            "weight_bytes": weight_bytes(op.index),
            "scratch_bytes": scratch.get(op.index, 0),
            "live_bytes": plan.step_live_bytes[op.index] if op.index < len(plan.step_live_bytes) else None,
            "peak": op.index == peak,
        }
        for op in graph.operators
    ]


def _region_use(use: SpanUse) -> dict[str, Any]:
    span = use.span
    return {
        "name": span.name,
        "kind": span.kind.value,
        "base": f"0x{span.base:08X}",
        "size": span.size,
        "used": use.used,
        "free": use.free,
        "percent_used": _percent(use.used, span.size),
        "off_chip": span.off_chip,
        "wait_states": _wait_states(span.regions),
        "items": [{"name": item.name, "bytes": item.size} for item in use.items],
    }


def _wait_states(regions: tuple[MemoryRegion, ...]) -> int | None:
    known = {r.wait_states for r in regions}
    return known.pop() if len(known) == 1 else None


def _shortfall(shortfall: Shortfall) -> dict[str, Any]:
    return {
        "item": shortfall.item.name,
        "memory": shortfall.item.memory.value,
        "bytes": shortfall.item.size,
        "best_region": shortfall.best_region,
        "room": shortfall.room,
        "over_by": shortfall.over_by,
    }


def _over_by(budget: MemoryBudget, memory: Memory) -> int:
    return sum(s.over_by for s in budget.shortfalls if s.item.memory == memory)


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


# ---------------------------------------------------------------- rendering


def layer_table(report: dict[str, Any]) -> Table:
    table = Table(
        title=f"{markup_safe(report['model'])}: arena {report['arena_bytes']:,} B ({report['planner']} planner, "
        f"{report['alignment']}-byte alignment)",
        title_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("op")
    for column in ("MACs", "weights (B)", "scratch (B)", "live (B)"):
        table.add_column(column, justify="right")
    table.add_column("")
    for layer in report["layers"]:
        live = layer["live_bytes"]
        table.add_row(
            str(layer["index"]),
            markup_safe(layer["op"]),
            f"{layer['macs']:,}",
            f"{layer['weight_bytes']:,}",
            f"{layer['scratch_bytes']:,}" if layer["scratch_bytes"] else "",
            f"{live:,}" if live is not None else "",
            "[bold red]◀ peak[/]" if layer["peak"] else "",
            style="bold" if layer["peak"] else None,
        )
    return table


def budget_tree(report: dict[str, Any]) -> Tree:
    device = report["device"]
    tree = Tree(
        f"[bold]Memory budget[/] on {_device_label(device)}: {device['core']} at {device['max_clock_mhz']} MHz",
        guide_style="dim",
    )
    for region in report["regions"]:
        branch = tree.add(_region_label(region))
        if region["kind"] == "external":
            branch.label += "  [dim](external: mcudeploy places nothing here on its own)[/]"
            continue
        if not region["items"]:
            branch.label += "  [dim]unused[/]"
            continue
        for item in region["items"]:
            line = _amount_line(item["name"], item["bytes"], region["size"])
            if item["name"] == STACK:
                line += f"  [dim]({report['stack_source']})[/]"
            branch.add(line)
        branch.add(_amount_line("free", region["free"], region["size"], style="green"))
    return tree


def verdict(report: dict[str, Any]) -> Group:
    device = _device_label(report["device"])
    lines: list[Text] = []
    if report["verdict"] != DOES_NOT_FIT:
        if report["verdict"] == FITS:
            lines.append(Text.from_markup(f"[bold green]✔ fits[/] {device}"))
        else:
            count = len(report["uncounted_operators"])
            lines.append(
                Text.from_markup(
                    f"[bold yellow]? cannot verify[/] {device}: the memory of {count} operator"
                    f"{'s' if count > 1 else ''} is not counted"
                )
            )
            lines.extend(_gap_lines(report["uncounted_operators"]))
            lines.append(Text("  what is counted fits:"))
        lines.append(Text(f"  flash {report['flash_bytes']:,} B, RAM {report['ram_bytes']:,} B"))
        margins = [f"{r['name']} {r['free']:,} B" for r in report["regions"] if r["items"]]
        lines.append(Text("  margin: " + " · ".join(margins)))
        if (place := report.get("arena_placement")) is not None:
            lines.append(Text(f"  arena in {place['region']}: {place['why']}"))
        return Group(*lines)
    lines.append(Text.from_markup(f"[bold red]✘ does not fit[/] {device}"))
    peak = report["peak_layer"]
    if peak is not None:
        lines.append(Text(f"  peak at layer #{peak['index']} {printable(peak['op'])}: {peak['live_bytes']:,} B live"))
    for short in report["shortfalls"]:
        where = f"{short['best_region']} has {short['room']:,} B free" if short["best_region"] else "no such memory"
        item = printable(short["item"])
        lines.append(Text(f"  {item}: needs {short['bytes']:,} B, {where}: {short['over_by']:,} B over"))
    if report["external_room"]:
        external = ", ".join(report["external_room"])
        lines.append(Text(f"  external {external} could hold it; mcudeploy never places buffers there itself"))
    lines.extend(_gap_lines(report["uncounted_operators"]))
    would = "would hold what is counted" if report["uncounted_operators"] else "would fit"
    lines.append(Text(f"  {would}: {_fitting_text(report['fitting_devices'])}"))
    return Group(*lines)


def _gap_lines(gaps: list[dict[str, Any]]) -> list[Text]:
    return [Text(f"  layer #{gap['index']} {printable(gap['op'])}: {gap['reason']}") for gap in gaps]


def _fitting_text(names: list[str]) -> str:
    if not names:
        return "no device in the database"
    shown = ", ".join(names[:FITTING_SHOWN])
    more = len(names) - FITTING_SHOWN
    return f"{shown} (and {more} more)" if more > 0 else shown


def _device_label(device: dict[str, Any]) -> str:
    return f"{device['board']} ({device['part']})" if device["board"] else device["part"]


def _region_label(region: dict[str, Any]) -> str:
    facts = [region["kind"], region["base"], _size_text(region["size"])]
    if region["wait_states"] is not None:
        facts.append(f"{region['wait_states']} wait states")
    if region["off_chip"]:
        facts.append("off-chip")
    percent = f"  {region['percent_used']:.1f} % used" if region["items"] else ""
    return f"[bold]{region['name']}[/] [dim]{' · '.join(facts)}[/]{percent}"


def _amount_line(name: str, amount: int, whole: int, style: str = "") -> str:
    text = f"{markup_safe(name):<26} {amount:>12,} B {_percent(amount, whole):>6.1f} %"
    return f"[{style}]{text}[/]" if style else text


def _size_text(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB" if size % (1024 * 1024) == 0 else f"{size // 1024} KiB"
