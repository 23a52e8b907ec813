"""What `estimate` and `profile` print: plain dicts for --json, rich tables otherwise."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from mcudeploy.display import markup_safe, printable, waiting_text
from mcudeploy.estimate.cycles import CycleBreakdown
from mcudeploy.estimate.model import ModelEstimate
from mcudeploy.estimate.optimize import VariantChoice
from mcudeploy.estimate.placement import PLACEMENT_APPROXIMATION
from mcudeploy.estimate.profile import ElfProfile

TOP_CLASSES = 3


def _cycles_dict(cycles: CycleBreakdown) -> dict[str, Any]:
    return {
        "instructions": cycles.instructions,
        "cycles": round(cycles.total),
        "instruction_cycles_by_class": {name: round(value) for name, value in cycles.by_class.items() if value},
        "pipeline_cycles": round(cycles.pipeline_cycles),
        "memory_cycles": round(cycles.memory_cycles),
        "memory_cycles_by_kind": {name: round(value) for name, value in cycles.memory_by_label.items() if value},
    }


def _ratio(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def estimate_report(estimate: ModelEstimate) -> dict[str, Any]:
    bottleneck = estimate.bottleneck
    timing = estimate.timing
    return {
        "model": estimate.model,
        "device": estimate.device.name,
        "core": estimate.device.core,
        "clock_mhz": estimate.clock_mhz,
        "machine": timing.core.target,
        "timing_source": timing.source,
        "peak_int8_macs_per_cycle": timing.int8_macs_per_cycle,
        "peak_source": timing.peak_source,
        "fits": estimate.fits,
        "code_section": str(estimate.code_section),
        "fast_code": estimate.fast_code.report() if estimate.fast_code else None,
        "stack": _stack(estimate),
        "arena_placements": [
            {
                "region": p.region,
                "kind": p.kind,
                "cached": p.cached,
                "wait_states": p.wait_states,
                "cold_cycles": round(p.cold_cycles),
                "steady_cycles": round(p.steady_cycles),
                "cold_ms": round(p.cold_ms, 4),
                "steady_ms": round(p.steady_ms, 4),
                "variation": round(p.variation, 4),
            }
            for p in estimate.placements
        ],
        "layers": [
            {
                "index": layer.index,
                "op": layer.op,
                "macs": layer.macs,
                **_cycles_dict(layer.cycles),
                "ms": round(layer.milliseconds, 4),
                "macs_per_cycle": _ratio(layer.macs_per_cycle),
                "peak_fraction": _ratio(layer.peak_fraction),
            }
            for layer in estimate.layers
        ],
        "total": {
            "macs": estimate.macs,
            **_cycles_dict(estimate.inference),
            "ms": round(estimate.milliseconds, 4),
            "macs_per_cycle": _ratio(estimate.macs_per_cycle),
            "peak_fraction": _ratio(estimate.macs_per_cycle / timing.int8_macs_per_cycle),
        },
        "streaming": _streaming(estimate),
        "bottleneck": None
        if bottleneck is None
        else {
            "index": bottleneck.index,
            "op": bottleneck.op,
            "share": _ratio(bottleneck.cycles.total / estimate.inference.total),
        },
        "memory": {
            label: {
                "placed_in": cost.placed_in,
                "wait_states": cost.wait_states,
                "cached": cost.cached,
                "miss_cycles": cost.miss_cycles,
            }
            for label, cost in estimate.memory.regions.items()
        },
        "cache": estimate.memory.cache_name or None,
        "approximations": [*timing.approximations, *estimate.memory.approximations],
        "notes": estimate.notes,
    }


def _streaming(estimate: ModelEstimate) -> dict[str, Any] | None:
    """A streaming model's period: the inferences that waited for frames (`total` is the complete one),
    and what a frame costs on average."""
    if not estimate.waiting:
        return None
    clock = estimate.clock_mhz
    return {
        "frames_per_inference": estimate.frames_per_inference,
        "waiting": [
            {
                "frame": item.frame,
                "layer": item.layer,
                "op": item.op,
                "instructions": item.cycles.instructions,
                "cycles": round(item.cycles.total),
                "ms": round(item.cycles.milliseconds(clock), 4),
            }
            for item in estimate.waiting
        ],
        "per_frame": {
            "instructions": round(estimate.instructions_per_frame),
            "cycles": round(estimate.cycles_per_frame),
            "ms": round(estimate.cycles_per_frame / (clock * 1e3), 4),
        },
    }


def comparison_report(estimates: list[ModelEstimate]) -> dict[str, Any]:
    return {
        "model": estimates[0].model if estimates else None,
        "cores": [estimate_report(estimate) for estimate in estimates],
    }


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def estimate_table(estimate: ModelEstimate) -> Group:
    timing = estimate.timing
    title = (
        f"{markup_safe(estimate.model)} on {estimate.device.name} ({timing.title} @ {estimate.clock_mhz:g} MHz): "
        "generated code, cycles per layer"
    )
    table = Table(title=title, title_justify="left")
    for column in ("#", "layer", "MACs", "instructions", "cycles", "ms", "MACs/cycle", "of peak"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for layer in estimate.layers:
        table.add_row(
            str(layer.index),
            markup_safe(layer.op),
            f"{layer.macs:,}",
            f"{layer.cycles.instructions:,}",
            f"{layer.cycles.total:,.0f}",
            f"{layer.milliseconds:.3f}",
            "-" if layer.macs_per_cycle is None else f"{layer.macs_per_cycle:.3f}",
            _percent(layer.peak_fraction),
        )
    return Group(table, *_estimate_summary(estimate))


def _estimate_summary(estimate: ModelEstimate) -> list[Text]:
    timing = estimate.timing
    inference = estimate.inference
    lines = [
        Text(
            f"total: {inference.total:,.0f} cycles, {estimate.milliseconds:.2f} ms at {estimate.clock_mhz:g} MHz, "
            f"{inference.instructions:,} instructions, {estimate.macs_per_cycle:.3f} MACs/cycle "
            f"({_percent(estimate.macs_per_cycle / timing.int8_macs_per_cycle)} of the {timing.title}'s "
            f"{timing.int8_macs_per_cycle:g} int8 MACs/cycle peak)"
        )
    ]
    lines += [Text(line) for line in streaming_lines(estimate_report(estimate))]
    if (bottleneck := estimate.bottleneck) is not None:
        share = bottleneck.cycles.total / inference.total
        where = f"layer #{bottleneck.index} {printable(bottleneck.op)}"
        lines.append(Text(f"bottleneck: {where}, {_percent(share)} of the time"))
    memory_share = inference.memory_cycles / inference.total if inference.total else 0.0
    lines.append(Text(f"memory wait states and cache misses: {_percent(memory_share)} of the cycles"))
    lines.append(Text(f"timings: {timing.source}", style="dim"))
    approximations = (*timing.approximations, *estimate.memory.approximations)
    lines += [Text(f"approximation: {item}", style="dim") for item in approximations]
    lines += [Text(f"note: {note}", style="yellow") for note in estimate.notes]
    lines += _placement_lines(estimate)
    return lines


def code_choice_line(choice: VariantChoice) -> str | None:
    """Where `--optimize speed` placed the hot code when none was named, against the other places tried
    (each with the variants chosen for it); None when it tried none."""
    if not choice.code_sections:
        return None
    others = "; ".join(
        f"{section} {'did not fit' if ms is None else f'{ms:.3f} ms'}"
        for section, ms in choice.code_sections.items()
        if section != choice.code_section
    )
    chosen = choice.code_sections[choice.code_section]
    timed = "" if chosen is None else f" ({chosen:.3f} ms)"
    return (
        f"--optimize {choice.objective} chose --code-section {choice.code_section}{timed}: the fastest place tried "
        f"for the hot code, each with the variants chosen for it ({others}); --code-section names one instead"
    )


def code_section_comparison(
    placed: ModelEstimate, in_flash: ModelEstimate, timed_by: str | None = None
) -> dict[str, Any]:
    """The model with its hot code run from ITCM/SRAM beside the same model with its code in flash:
    both measured and priced (each its own build and run). `timed_by`: the `--optimize` objective that
    chose the variants timing them with the code where `placed` runs it (the line says the flash figure
    is for those variants, not for those it would choose for flash)."""
    where = placed.memory.regions["code"].placed_in
    fast = placed.fast_code
    hot = (
        f"hot code in {where}"
        if fast is None
        else f"hottest {fast.placed_bytes:,} B of hot code in {where}, the rest in flash"
    )
    change = placed.inference.total / in_flash.inference.total - 1 if in_flash.inference.total else 0.0
    saved = in_flash.inference.total - placed.inference.total
    verdict = f"{abs(saved):,.0f} cycles {'faster' if saved > 0 else 'slower'}" if saved else "no change"
    line = (
        f"{hot} (--code-section {placed.code_section}): {placed.inference.total:,.0f} cycles, "
        f"{placed.milliseconds:.3f} ms; in flash: {in_flash.inference.total:,.0f} cycles, "
        f"{in_flash.milliseconds:.3f} ms ({change:+.3%}: {verdict}; each its own build and QEMU run)"
    )
    if timed_by is not None:
        line += (
            f"; both with the variants --optimize {timed_by} chose for --code-section {placed.code_section} "
            "(--code-section flash chooses them for flash)"
        )
    cold = _cold_fetch_bound(placed, in_flash)
    if cold is not None:
        line += (
            f"; not priced in flash: the first pass over the cached code, on the first inference from reset at most "
            f"{cold:,.0f} cycles more ({placed.hot_code_bytes:,} B of hot code, a line fill each)"
        )
    return {
        "code_section": str(placed.code_section),
        "variants_timed_by": timed_by,
        "flash_cold_fetch_bound_cycles": None if cold is None else round(cold),
        "runs_from": where,
        "cycles": round(placed.inference.total),
        "milliseconds": round(placed.milliseconds, 4),
        "flash_cycles": round(in_flash.inference.total),
        "flash_milliseconds": round(in_flash.milliseconds, 4),
        "change": round(change, 5),
        "line": line,
    }


def _cold_fetch_bound(placed: ModelEstimate, in_flash: ModelEstimate) -> float | None:
    """What the estimate leaves out for code in cached flash: each line of the hot code filled once,
    at the cache's miss cost (an upper bound for the first inference; a steady state whose code
    outgrows the cache misses again, which neither figure prices)."""
    code = in_flash.memory.regions["code"]
    cache = in_flash.memory.cache
    if not code.cached or cache is None or placed.hot_code_bytes is None or in_flash.memory.fetch_cache is not None:
        return None  # (with a simulated instruction cache, its misses are in the estimate)
    return -(-placed.hot_code_bytes // cache.line_bytes) * code.miss_cycles


def streaming_lines(report: dict[str, Any]) -> list[str]:
    """A streaming model's `estimate_report`, said: the total is its complete inference, then the ones
    that wait and the average per frame (the text report's lines and the HTML page's)."""
    streaming = report["streaming"]
    if streaming is None:
        return []
    frames = streaming["frames_per_inference"]
    per_frame = streaming["per_frame"]
    return [
        f"streaming: one inference runs every layer (the total) every {frames} frames, the others wait:",
        *(
            f"  frame {item['frame']} of {frames}: {waiting_text(item['op'], item['layer'])}, {item['cycles']:,} "
            f"cycles, {item['ms']:.3f} ms, {item['instructions']:,} instructions"
            for item in streaming["waiting"]
        ),
        f"average per frame: {per_frame['cycles']:,} cycles, {per_frame['ms']:.3f} ms at {report['clock_mhz']:g} MHz",
    ]


def _stack(estimate: ModelEstimate) -> dict[str, Any] | None:
    stack = estimate.stack
    if stack is None:
        return None
    measure = stack.measure
    return {
        "bytes": stack.bytes,
        "source": stack.source,
        "static_bound": None if measure is None else measure.static,
        "static_not_derived": [] if measure is None else list(measure.left_out),
        "layers": [] if measure is None else [asdict(layer) for layer in measure.layers],
    }


def _placement_lines(estimate: ModelEstimate) -> list[Text]:
    if not estimate.placements:
        return []
    lines = [Text("arena placement (first inference from reset / steady state):", style="bold")]
    for p in estimate.placements:
        how = "cached" if p.cached else "not cached"
        waits = "wait states not in the database, 0 taken" if p.wait_states is None else f"{p.wait_states} wait states"
        lines.append(
            Text(
                f"  {p.region:<12} {p.kind:<8} {how:<10} {p.cold_ms:9.3f} ms / {p.steady_ms:9.3f} ms  "
                f"first inference {100 * p.variation:+.1f}%  ({waits})"
            )
        )
    lines.append(Text(f"approximation: {PLACEMENT_APPROXIMATION}", style="dim"))
    return lines


def comparison_table(estimates: list[ModelEstimate]) -> Table:
    model = estimates[0].model if estimates else ""
    table = Table(title=f"{model}: generated code on each core", title_justify="left")
    for column in ("core", "part", "clock", "cycles", "ms", "instructions", "MACs/cycle", "of peak", "bottleneck"):
        table.add_column(column, justify="left" if column in ("core", "part", "bottleneck") else "right")
    for estimate in estimates:
        bottleneck = estimate.bottleneck
        peak = estimate.macs_per_cycle / estimate.timing.int8_macs_per_cycle
        table.add_row(
            estimate.timing.title,
            estimate.device.name + (" (NPU not used)" if estimate.device.part.npu else ""),
            f"{estimate.clock_mhz:g} MHz",
            f"{estimate.inference.total:,.0f}",
            f"{estimate.milliseconds:.2f}",
            f"{estimate.inference.instructions:,}",
            f"{estimate.macs_per_cycle:.3f}",
            _percent(peak),
            "-" if bottleneck is None else f"#{bottleneck.index} {markup_safe(bottleneck.op)}",
        )
    if estimates and estimates[0].waiting:
        table.caption = (
            f"streaming: the inference that runs every layer, one every {estimates[0].frames_per_inference} frames "
            "(--json 'streaming' per core: the inferences that wait and the average per frame)"
        )
    return table


def _top_classes(cycles: CycleBreakdown) -> str:
    ranked = sorted(cycles.by_class.items(), key=lambda item: item[1], reverse=True)
    total = sum(cycles.by_class.values()) or 1.0
    return ", ".join(f"{name} {100 * value / total:.0f}%" for name, value in ranked[:TOP_CLASSES] if value)


def _profile_cycles(profile: ElfProfile, cycles: CycleBreakdown) -> dict[str, Any]:
    clock = profile.memory.clock_mhz
    return {**_cycles_dict(cycles), **({"milliseconds": round(cycles.milliseconds(clock), 6)} if clock else {})}


def profile_report(profile: ElfProfile) -> dict[str, Any]:
    return {
        "elf": str(profile.elf),
        "machine": profile.machine,
        "core": profile.timing.core.name,
        "timing_source": profile.timing.source,
        "device": profile.device.name if profile.device else None,
        "clock_mhz": profile.memory.clock_mhz or None,
        "memory": list(profile.memory.notes),
        "exit_code": profile.run.exit_code,
        "faulted": profile.run.faulted,
        "total": _profile_cycles(profile, profile.total),
        "functions": [
            {"name": item.name, "instruction_classes": item.counts.classes(), **_profile_cycles(profile, item.cycles)}
            for item in profile.functions
        ],
        "mark_intervals": [_profile_cycles(profile, interval) for interval in profile.mark_intervals],
        "notes": profile.notes,
        "approximations": [*profile.timing.approximations, *profile.memory.approximations],
    }


def _profile_memory(profile: ElfProfile) -> str:
    if profile.device is None:
        return "zero wait states"
    return f"{profile.device.name} memory at {profile.memory.clock_mhz:g} MHz"


def _cycles_text(profile: ElfProfile, cycles: CycleBreakdown) -> str:
    clock = profile.memory.clock_mhz
    time = f" = {cycles.milliseconds(clock):.3f} ms at {clock:g} MHz" if clock else ""
    return f"{cycles.instructions:,} instructions, {cycles.total:,.0f} cycles{time}"


def profile_table(profile: ElfProfile, limit: int) -> Group:
    timing = profile.timing
    memory = _profile_memory(profile)
    title = f"{markup_safe(profile.elf.name)} on {profile.machine}, priced as {timing.title} ({memory}): per function"
    table = Table(title=title, title_justify="left")
    for column in ("function", "instructions", "cycles", "share", "cycles/instr", "main classes"):
        table.add_column(column, justify="left" if column in ("function", "main classes") else "right")
    total = profile.total.total or 1.0
    for item in profile.functions[:limit]:
        cycles = item.cycles
        table.add_row(
            markup_safe(item.name),
            f"{cycles.instructions:,}",
            f"{cycles.total:,.0f}",
            _percent(cycles.total / total),
            f"{cycles.total / cycles.instructions:.2f}" if cycles.instructions else "-",
            _top_classes(cycles),
        )
    lines = [
        Text(f"total: {_cycles_text(profile, profile.total)}"),
        *(
            Text(f"between marks {n + 1} and {n + 2}: {_cycles_text(profile, interval)}")
            for n, interval in enumerate(profile.mark_intervals)
        ),
        Text(f"timings: {timing.source}", style="dim"),
        *(Text(f"memory: {note}", style="dim") for note in profile.memory.notes),
        *(Text(f"approximation: {item}", style="dim") for item in profile.memory.approximations),
        *(Text(f"note: {note}", style="yellow") for note in profile.notes),
    ]
    if len(profile.functions) > limit:
        lines.insert(0, Text(f"({len(profile.functions) - limit} more functions: --top to show them)", style="dim"))
    if not profile.succeeded:
        lines.append(Text(f"the program failed: exit code {profile.run.exit_code}", style="red"))
    return Group(table, *lines)
