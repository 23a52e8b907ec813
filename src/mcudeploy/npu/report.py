"""What `analyze`, `estimate` and `inspect` print for Cortex-M + Ethos-U: plain data (--json) and tables."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from mcudeploy.devices import Device, find_core
from mcudeploy.display import markup_safe
from mcudeploy.memory.budget import MemoryBudget
from mcudeploy.npu.budget import NpuRequirement
from mcudeploy.npu.compiled import EthosUOperator
from mcudeploy.npu.placement import Placement, Segment, Target
from mcudeploy.npu.timeline import SLOW_FALLBACK_SHARE, Timeline
from mcudeploy.npu.vela import VelaCompilation

REASON_WIDTH = 160


# ---------------------------------------------------------------- plain data


def compilation_summary(compilation: VelaCompilation) -> dict[str, Any]:
    target = compilation.target
    return {
        "compiler": f"Vela {compilation.vela_version}",
        "accelerator": target.accelerator,
        "system_config": target.system_config,
        "memory_mode": target.memory_mode,
        "config_source": target.source,
        "npu_clock_mhz": compilation.clock_hz / 1e6,
        "bandwidths_gb_per_s": {name: bps / 1e9 for name, bps in compilation.bandwidths.items()},
        "npu_operators": compilation.npu_operator_count,
        "cpu_operators": len(compilation.operators) - compilation.npu_operator_count,
        "npu_cycles": compilation.total_cycles,
        "npu_ms": compilation.inference_seconds * 1e3,
        "sram_bytes": compilation.sram_bytes,
        "arena_bytes": compilation.arena_bytes,
        "read_only_bytes": compilation.flash_bytes,
        "vela_summary": compilation.summary,
    }


def placement_rows(placements: list[Placement], savings: dict[int, float] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "index": p.index,
            "op": p.op,
            "target": p.target,
            "npu_cycles": p.npu_cycles,
            "macs": p.macs,
            "reasons": list(p.reasons),
            "suggestion": p.suggestion,
            "cpu_ms_saved_if_moved": (savings or {}).get(p.index) if p.target == Target.CPU else None,
        }
        for p in placements
    ]


def segment_rows(segments: list[Segment]) -> list[dict[str, Any]]:
    return [{"target": s.target, "operators": list(s.operators), "handover_bytes": s.handover_bytes} for s in segments]


def budget_data(budget: MemoryBudget, requirement: NpuRequirement) -> dict[str, Any]:
    problem = requirement.problem(budget.device)
    return {
        "fits": budget.fits and problem is None,
        "npu_problem": problem,
        "flash_bytes": budget.flash_bytes,
        "ram_bytes": budget.ram_bytes,
        "regions": [
            {
                "name": use.span.name,
                "kind": use.span.kind.value,
                "size": use.span.size,
                "used": use.used,
                "free": use.free,
                "items": [{"name": item.name, "bytes": item.size} for item in use.items],
            }
            for use in budget.uses
        ],
        "shortfalls": [
            {
                "item": s.item.name,
                "bytes": s.item.size,
                "best_region": s.best_region,
                "room": s.room,
                "over_by": s.over_by,
            }
            for s in budget.shortfalls
        ],
    }


def ethos_u_rows(operators: list[EthosUOperator]) -> list[dict[str, Any]]:
    return [
        {
            "index": op.index,
            "compiled_for": op.compiled_for,
            "command_stream_bytes": op.command_stream_bytes,
            "read_only_bytes": op.read_only_bytes,
            "scratch_bytes": op.scratch_bytes,
            "fast_scratch_bytes": op.fast_scratch_bytes,
            "shram_kib": op.shram_kib,
            "feature_maps": list(op.feature_maps),
        }
        for op in operators
    ]


def timeline_data(line: Timeline) -> dict[str, Any]:
    return {
        "segments": [
            {
                "target": s.target,
                "operators": list(s.operators),
                "cycles": s.cycles,
                "clock_mhz": s.clock_mhz,
                "milliseconds": s.milliseconds,
                "handover_bytes": s.handover_bytes,
            }
            for s in line.segments
        ],
        "npu_ms": line.npu_ms,
        "cpu_ms": line.cpu_ms,
        "total_ms": line.total_ms,
        "cpu_share": line.cpu_share,
        "cpu_only_ms": line.cpu_only_ms,
        "speedup_over_cpu_only": line.cpu_only_ms / line.total_ms if line.total_ms else None,
        "slow_fallback": line.slow_fallback,
    }


# ---------------------------------------------------------------- rendering


def compilation_text(summary: dict[str, Any]) -> Text:
    bandwidths = ", ".join(f"{name} {gbs:.2f} GB/s" for name, gbs in summary["bandwidths_gb_per_s"].items())
    return Text(
        f"{summary['compiler']}: {summary['accelerator']} at {summary['npu_clock_mhz']:g} MHz, "
        f"{summary['system_config']} / {summary['memory_mode']} ({bandwidths})\n"
        f"  figures from {summary['config_source']}\n"
        f"  {summary['npu_operators']} operators on the NPU, {summary['cpu_operators']} on the CPU; "
        f"NPU {summary['npu_cycles']:,} cycles = {summary['npu_ms']:.3f} ms; "
        f"SRAM {summary['sram_bytes']:,} B, read-only {summary['read_only_bytes']:,} B"
    )


def placement_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=markup_safe(title), title_justify="left")
    for column in ("#", "op", "on", "NPU cycles", "why on the CPU (Vela's check)", "rewrite"):
        table.add_column(column, justify="right" if column in ("#", "NPU cycles") else "left")
    for row in rows:
        cpu = row["target"] == Target.CPU
        saved = row.get("cpu_ms_saved_if_moved")
        rewrite = row["suggestion"] or ""
        if rewrite and saved:
            rewrite += f" (frees {saved:.3f} ms of CPU)"
        table.add_row(
            str(row["index"]),
            markup_safe(row["op"]),
            "[bold red]CPU[/]" if cpu else "NPU",
            f"{row['npu_cycles']:,}" if not cpu else "",
            markup_safe("; ".join(_short(r) for r in row["reasons"])),
            rewrite,
        )
    return table


def budget_table(data: dict[str, Any], device: Device) -> Group:
    table = Table(title=f"Memory budget on {device.name}: Cortex-M and Ethos-U parts", title_justify="left")
    for column in ("region", "item", "bytes"):
        table.add_column(column, justify="right" if column == "bytes" else "left")
    for region in data["regions"]:
        if not region["items"]:
            continue
        for number, item in enumerate(region["items"]):
            table.add_row(region["name"] if number == 0 else "", markup_safe(item["name"]), f"{item['bytes']:,}")
        table.add_row("", "[green]free[/]", f"[green]{region['free']:,}[/]", end_section=True)
    return Group(table, verdict_text(data, device))


def verdict_text(data: dict[str, Any], device: Device) -> Text:
    if data["fits"]:
        return Text.from_markup(
            f"[bold green]✔ fits[/] {device.name}: flash {data['flash_bytes']:,} B, RAM {data['ram_bytes']:,} B"
        )
    lines = [f"[bold red]✘ does not fit[/] {device.name}"]
    if data["npu_problem"]:
        lines.append(f"  {data['npu_problem']}")
    for short in data["shortfalls"]:
        where = f"{short['best_region']} has {short['room']:,} B free" if short["best_region"] else "no such memory"
        item = markup_safe(short["item"])
        lines.append(f"  {item}: needs {short['bytes']:,} B, {where}: {short['over_by']:,} B over")
    return Text.from_markup("\n".join(lines))


def ethos_u_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Ethos-U operators (compiled by Vela)", title_justify="left")
    for column in ("#", "compiled for", "command stream (B)", "weights (B)", "scratch (B)", "fast scratch (B)"):
        table.add_column(column, justify="left" if column == "compiled for" else "right")
    for row in rows:
        table.add_row(
            str(row["index"]),
            row["compiled_for"] or "unknown",
            f"{row['command_stream_bytes']:,}",
            f"{row['read_only_bytes']:,}",
            f"{row['scratch_bytes']:,}",
            f"{row['fast_scratch_bytes']:,}",
        )
    return table


def timeline_table(data: dict[str, Any]) -> Group:
    table = Table(title="Timeline: NPU segments at Vela's cycles, CPU segments at ours", title_justify="left")
    for column in ("on", "operators", "cycles", "clock (MHz)", "ms", "hand-over (B)"):
        table.add_column(column, justify="left" if column in ("on", "operators") else "right")
    for s in data["segments"]:
        table.add_row(
            s["target"],
            _ranges(s["operators"]),
            f"{s['cycles']:,.0f}",
            f"{s['clock_mhz']:g}",
            f"{s['milliseconds']:.3f}",
            f"{s['handover_bytes']:,}",
        )
    lines = [
        f"total {data['total_ms']:.3f} ms (NPU {data['npu_ms']:.3f}, CPU {data['cpu_ms']:.3f}: "
        f"{100 * data['cpu_share']:.1f} % on the CPU); the Cortex-M alone: {data['cpu_only_ms']:.3f} ms"
    ]
    if data["slow_fallback"]:
        lines.append(
            f"[bold red]Ethos-U slower than expected[/]: the CPU fallback takes {100 * data['cpu_share']:.0f} % "
            f"of the wall-clock (≥ {100 * SLOW_FALLBACK_SHARE:.0f} %); see the rewrites above"
        )
    lines.append("[dim]hand-over: both sides use the same arena (no copy); the driver's call cost is not modeled[/]")
    return Group(table, *(Text.from_markup(line) for line in lines))


def _short(reason: str) -> str:
    return reason if len(reason) <= REASON_WIDTH else reason[: REASON_WIDTH - 1] + "…"


def _ranges(indices: list[int]) -> str:
    if not indices:
        return ""
    return f"#{indices[0]}" if len(indices) == 1 else f"#{indices[0]}–#{indices[-1]}"


def npu_comparison_table(rows: list[dict[str, Any]], model: str) -> Table:
    table = Table(title=f"{markup_safe(model)}: with the NPU", title_justify="left")
    for column in ("core + NPU", "part", "clocks", "ms", "NPU ms", "CPU ms", "on the CPU", "vs the core alone"):
        table.add_column(column, justify="left" if column in ("core + NPU", "part") else "right")
    for row in rows:
        table.add_row(
            f"{find_core(row['core']).title} + {row['accelerator'].replace('ethos-u', 'Ethos-U')}",
            row["device"],
            f"{row['core_clock_mhz']:g} + {row['npu_clock_mhz']:g} MHz",
            f"{row['total_ms']:.3f}",
            f"{row['npu_ms']:.3f}",
            f"{row['cpu_ms']:.3f}",
            f"{100 * row['cpu_share']:.1f}%",
            f"{row['speedup_over_cpu_only']:.1f}x faster" if row["speedup_over_cpu_only"] else "-",
        )
    return table


def seed_table_table(rows: list[dict[str, Any]], model: str) -> Table:
    title = f"{markup_safe(model)}: the seed's table ({rows[0]['macs']:,} MACs)"
    table = Table(title=title, title_justify="left")
    for column in ("", "part", "ours (ms)", "the seed's (ms)"):
        table.add_column(column, justify="right" if "ms" in column else "left")
    for row in rows:
        table.add_row(row["row"], row["part"], f"{row['ms']:.2f}", f"~{row['seed_ms']:g}")
    return table
