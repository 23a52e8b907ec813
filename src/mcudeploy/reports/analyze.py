"""`mcudeploy analyze` rendered: per-layer memory, the budget per region, the verdict.

The figures come from the analyze step (`mcudeploy.analysis.model.ModelAnalysis`); this module
only formats them. `part_features` and `region_summary` give the device database's records as
`mcudeploy devices --json` prints them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from mcudeploy.analysis.coverage import OperatorGap
from mcudeploy.analysis.model import DOES_NOT_FIT, FITS, DeviceSummary, ModelAnalysis, RegionUse, percent
from mcudeploy.devices import Device, MemoryRegion, Part
from mcudeploy.display import markup_safe, printable
from mcudeploy.estimate.optimize import VariantChoice, VariantPoint
from mcudeploy.memory.budget import STACK
from mcudeploy.memory.tflm_arena import TflmArena

FITTING_SHOWN = 8


def part_features(part: Part) -> dict[str, Any]:
    """A part's features, as `analyze --json` gives them for its device."""
    summary = asdict(DeviceSummary.of(Device(part.name, part, None, part.regions)))
    return {key: value for key, value in summary.items() if key not in ("name", "part", "board")}


def region_summary(region: MemoryRegion) -> dict[str, Any]:
    return {
        "name": region.name,
        "kind": region.kind.value,
        "base": f"0x{region.base:08X}",
        "size": region.size,
        "wait_states": region.wait_states,
        "cacheable": region.cacheable,
        "off_chip": region.off_chip,
        "code_alias": None if region.code_alias is None else f"0x{region.code_alias:08X}",
        "note": region.note,
    }


def layer_table(report: ModelAnalysis) -> Table:
    table = Table(
        title=f"{markup_safe(report.model)}: arena {report.arena_bytes:,} B ({report.planner} planner, "
        f"{report.alignment}-byte alignment)",
        title_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("op")
    for column in ("MACs", "weights (B)", "scratch (B)", "live (B)"):
        table.add_column(column, justify="right")
    table.add_column("")
    for layer in report.layers:
        live = layer.live_bytes
        table.add_row(
            str(layer.index),
            markup_safe(layer.op),
            f"{layer.macs:,}",
            f"{layer.weight_bytes:,}",
            f"{layer.scratch_bytes:,}" if layer.scratch_bytes else "",
            f"{live:,}" if live is not None else "",
            "[bold red]◀ peak[/]" if layer.peak else "",
            style="bold" if layer.peak else None,
        )
    return table


def budget_tree(report: ModelAnalysis) -> Tree:
    device = report.device
    tree = Tree(
        f"[bold]Memory budget[/] on {_device_label(device)}: {device.core} at {device.max_clock_mhz} MHz",
        guide_style="dim",
    )
    for region in report.regions:
        branch = tree.add(_region_label(region))
        if region.kind == "external":
            branch.label += "  [dim](external: mcudeploy places nothing here on its own)[/]"
            continue
        if not region.items:
            branch.label += "  [dim]unused[/]"
            continue
        for item in region.items:
            line = _amount_line(item.name, item.bytes, region.size)
            if item.name == STACK:
                line += f"  [dim]({report.stack_source})[/]"
            if item.runs_at:
                line += f"  [dim](runs at {item.runs_at})[/]"
            branch.add(line)
        branch.add(_amount_line("free", region.free, region.size, style="green"))
    return tree


def verdict(report: ModelAnalysis) -> Group:
    device = _device_label(report.device)
    lines: list[Text] = []
    if report.verdict != DOES_NOT_FIT:
        if report.verdict == FITS:
            lines.append(Text.from_markup(f"[bold green]✔ fits[/] {device}"))
        else:
            count = len(report.uncounted_operators)
            lines.append(
                Text.from_markup(
                    f"[bold yellow]? cannot verify[/] {device}: the memory of {count} operator"
                    f"{'s' if count > 1 else ''} is not counted"
                )
            )
            lines.extend(_gap_lines(report.uncounted_operators))
            lines.append(Text("  what is counted fits:"))
        lines.append(Text(f"  flash {report.flash_bytes:,} B, RAM {report.ram_bytes:,} B"))
        margins = [f"{r.name} {r.free:,} B" for r in report.regions if r.items]
        lines.append(Text("  margin: " + " · ".join(margins)))
        if (place := report.arena_placement) is not None:
            lines.append(Text(f"  arena in {place.region}: {place.why}"))
        return Group(*lines)
    lines.append(Text.from_markup(f"[bold red]✘ does not fit[/] {device}"))
    peak = report.peak_layer
    if peak is not None:
        lines.append(Text(f"  peak at layer #{peak.index} {printable(peak.op)}: {peak.live_bytes:,} B live"))
    for short in report.shortfalls:
        where = f"{short.best_region} has {short.room:,} B free" if short.best_region else "no such memory"
        item = printable(short.item)
        lines.append(Text(f"  {item}: needs {short.bytes:,} B, {where}: {short.over_by:,} B over"))
    if report.external_room:
        external = ", ".join(report.external_room)
        lines.append(Text(f"  external {external} could hold it; mcudeploy never places buffers there itself"))
    lines.extend(_gap_lines(report.uncounted_operators))
    would = "would hold what is counted" if report.uncounted_operators else "would fit"
    lines.append(Text(f"  {would}: {_fitting_text(report.fitting_devices)}"))
    return Group(*lines)


def _gap_lines(gaps: list[OperatorGap]) -> list[Text]:
    return [Text(f"  layer #{gap.index} {printable(gap.op)}: {gap.reason}") for gap in gaps]


def _fitting_text(names: list[str]) -> str:
    if not names:
        return "no device in the database"
    shown = ", ".join(names[:FITTING_SHOWN])
    more = len(names) - FITTING_SHOWN
    return f"{shown} (and {more} more)" if more > 0 else shown


def _device_label(device: DeviceSummary) -> str:
    return f"{device.board} ({device.part})" if device.board else device.part


def _region_label(region: RegionUse) -> str:
    facts = [region.kind, region.base, _size_text(region.size)]
    if region.wait_states is not None:
        facts.append(f"{region.wait_states} wait states")
    if region.off_chip:
        facts.append("off-chip")
    used = f"  {region.percent_used:.1f} % used" if region.items else ""
    return f"[bold]{region.name}[/] [dim]{' · '.join(facts)}[/]{used}"


def _amount_line(name: str, amount: int, whole: int, style: str = "") -> str:
    text = f"{markup_safe(name):<26} {amount:>12,} B {percent(amount, whole):>6.1f} %"
    return f"[{style}]{text}[/]" if style else text


def _size_text(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB" if size % (1024 * 1024) == 0 else f"{size // 1024} KiB"


def tflm_arena_table(arena: TflmArena, core: str) -> Table:
    """TFLite Micro's whole arena, itemised: the planned head, the persistent tail, the smallest arena."""
    table = Table(title=f"TensorFlow Lite Micro arena ({arena.kernels} kernels on {core}, {arena.abi.name})")
    table.add_column("part")
    table.add_column("bytes", justify="right")
    scratch = sum(b.size for b in arena.plan.buffers if b.scratch_of is not None)
    table.add_row("head: planned tensors and kernel scratch (greedy planner)", f"{arena.head_bytes:,}")
    table.add_row("  of which kernel scratch buffers", f"{scratch:,}", style="dim")
    for item, size in arena.tail_items.items():
        table.add_row(f"tail: {item}", f"{size:,}")
    table.add_row("tail: alignment", f"{arena.alignment_bytes:,}")
    table.add_row("arena_used_bytes() after AllocateTensors()", f"{arena.used_bytes:,}", style="bold")
    table.add_row(f"most needed at any moment of AllocateTensors() (at: {arena.setup_moment})", f"{arena.setup_need:,}")
    table.add_row("smallest arena for AllocateTensors() and Invoke()", f"{arena.smallest_arena:,}", style="bold")
    return table


def variant_table(choice: VariantChoice) -> Table:
    """The Pareto points `--optimize` considered, the chosen one marked."""
    table = Table(
        title=f"--optimize {choice.objective}: Pareto points considered (latency: {markup_safe(choice.latency)})",
        title_justify="left",
    )
    table.add_column("configuration")
    for column in ("flash (B)", "RAM (B)", "arena (B)", "ms"):
        table.add_column(column, justify="right")
    table.add_column("direct layers")
    table.add_column("int16-weight layers")
    table.add_column("plane layers")
    table.add_column("weights in SRAM")
    table.add_column("rolled-loop layers")
    table.add_column("")
    for point in choice.points:
        table.add_row(
            point.name,
            f"{point.flash_bytes:,}",
            f"{point.ram_bytes:,}",
            f"{point.arena_bytes:,}",
            f"{point.milliseconds:.3f}" if point.milliseconds is not None else "-",
            _layer_list(point.direct_layers),
            _layer_list(point.int16_layers),
            _layer_list(point.plane_layers),
            _sram_weights(point),
            _layer_list(point.rolled_layers),
            ("chosen" if point.chosen else "") + ("" if point.fits else " (does not fit)"),
        )
    return table


def _sram_weights(point: VariantPoint) -> str:
    if not point.sram_weight_bytes:
        return "-"
    return f"{point.sram_weight_bytes:,} B: {_layer_list(point.sram_weight_layers)}"


def _layer_list(layers: list[int]) -> str:
    return ", ".join(f"#{index}" for index in layers) or "-"
