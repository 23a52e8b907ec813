"""`--html FILE`: one self-contained page per report (inline CSS and SVG, no script, nothing fetched).

Each page is built from the same plain data `--json` prints, so every figure on it is one the
command measured or derived: the layer table, the arena over time, the memory budget, latency per
layer as bars, validation metrics and the doctor's findings. Text from the model (names) is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from mcudeploy.display import waiting_comparison, waiting_text
from mcudeploy.estimate.report import streaming_lines
from mcudeploy.memory.plan import MemoryPlan

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")
CHART_WIDTH = 760
BAR_HEIGHT = 18
LABEL_WIDTH = 220
PEAK_ROW = '<tr class="peak">'

_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto; max-width: 980px;
       color: #222; background: #fff; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 2px solid #4e79a7; padding-bottom: 0.2rem; }
.subtitle { color: #555; margin-top: 0; }
.verdict { display: inline-block; padding: 0.3rem 0.8rem; border-radius: 4px; font-weight: bold; color: #fff; }
.good { background: #3a8a3a; } .bad { background: #c0392b; } .unsure { background: #b8860b; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f0f3f7; } td.text, th.text { text-align: left; }
tr.peak td { background: #fff3d6; font-weight: bold; }
.finding { border-left: 4px solid #c0392b; background: #fdf2f1; padding: 0.5rem 1rem; margin: 0.8rem 0; }
.finding h3 { margin: 0 0 0.3rem 0; font-size: 1rem; }
.note { color: #555; font-size: 0.85rem; }
svg text { font-family: system-ui, sans-serif; font-size: 11px; fill: #222; }
"""


def page(title: str, subtitle: str, sections: Iterable[str]) -> str:
    """The whole document: a title, a subtitle and the sections in order."""
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        f'<h1>{escape(title)}</h1><p class="subtitle">{escape(subtitle)}</p>\n{body}\n</body></html>\n'
    )


def section(heading: str, *parts: str) -> str:
    return f"<section><h2>{escape(heading)}</h2>{''.join(parts)}</section>"


def verdict_badge(text: str, tone: str) -> str:
    """`tone`: good, bad or unsure."""
    return f'<p><span class="verdict {tone}">{escape(text)}</span></p>'


def notes(lines: Iterable[str]) -> str:
    return "".join(f'<p class="note">{escape(line)}</p>' for line in lines)


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], text_columns: int = 2, marked: Iterable[int] = ()
) -> str:
    """Rows of cells; the first `text_columns` are left-aligned; rows at the `marked` positions stand out."""
    marked_rows = set(marked)

    def cell(tag: str, column: int, value: Any) -> str:
        align = ' class="text"' if column < text_columns else ""
        return f"<{tag}{align}>{escape(_number(value))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join(
        (PEAK_ROW if n in marked_rows else "<tr>") + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>"
        for n, row in enumerate(rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bars(labels: Sequence[str], values: Sequence[float], unit: str) -> str:
    """A horizontal bar per label, its value written beside it."""
    if not values:
        return notes(["nothing to draw"])
    top = max(max(values), 1e-12)
    span = CHART_WIDTH - LABEL_WIDTH - 110
    rows = []
    for number, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = number * (BAR_HEIGHT + 4)
        width = max(1.0, span * value / top)
        rows.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end">{escape(label[:36])}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
            f'fill="{PALETTE[number % len(PALETTE)]}"/>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 13}">{escape(_number(value))} {escape(unit)}</text>'
        )
    height = len(values) * (BAR_HEIGHT + 4)
    return _svg(CHART_WIDTH, height, "".join(rows), f"bars in {unit}")


def arena_chart(plan: MemoryPlan, steps: int) -> str:
    """The arena over time: x = operator step, y = offset; each buffer a box over the steps it lives
    (scratch hatched grey, aliases dashed), the arena's size as the top line."""
    placed = [b for b in plan.buffers if b.offset >= 0 and b.first >= 0]
    arena = max(plan.arena_bytes, 1)
    steps = max(steps, 1)
    left, width, height = 70, CHART_WIDTH - 90, 320
    step_width = width / steps

    def y(offset: int) -> float:
        return 10 + height * (1 - offset / arena)

    shapes = [
        '<defs><pattern id="scratch" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<path d="M0,6 L6,0" stroke="#888" stroke-width="1"/></pattern></defs>',
        f'<rect x="{left}" y="10" width="{width}" height="{height}" fill="#fafafa" stroke="#999"/>',
    ]
    for number, buffer in enumerate(placed):
        x = left + buffer.first * step_width + 1
        box_width = (buffer.last - buffer.first + 1) * step_width - 2
        top, bottom = y(buffer.offset + buffer.size), y(buffer.offset)
        if buffer.alias_of is not None:
            style = 'fill="none" stroke="#333" stroke-dasharray="4 2"'
        elif buffer.scratch_of is not None:
            style = 'fill="url(#scratch)" stroke="#555"'
        else:
            style = f'fill="{PALETTE[number % len(PALETTE)]}" fill-opacity="0.8" stroke="#333"'
        shapes.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{max(box_width, 1):.1f}" height="{max(bottom - top, 1):.1f}" '
            f"{style}><title>{escape(buffer.name)}: {buffer.size} B at {buffer.offset}, steps "
            f"{buffer.first}-{buffer.last}</title></rect>"
        )
    shapes.append(f'<text x="{left - 6}" y="16" text-anchor="end">{arena} B</text>')
    shapes.append(f'<text x="{left - 6}" y="{height + 10}" text-anchor="end">0</text>')
    ticks = range(0, steps, max(1, steps // 20))
    shapes.extend(
        f'<text x="{left + (s + 0.5) * step_width:.1f}" y="{height + 26}" text-anchor="middle">{s}</text>'
        for s in ticks
    )
    shapes.append(f'<text x="{left + width / 2}" y="{height + 42}" text-anchor="middle">operator step</text>')
    return _svg(CHART_WIDTH, height + 50, "".join(shapes), "arena over time")


def budget_chart(regions: Sequence[dict[str, Any]]) -> str:
    """Each memory region a bar of its size, split into the items placed in it."""
    rows = []
    span = CHART_WIDTH - LABEL_WIDTH - 20
    legend: dict[str, str] = {}
    for number, region in enumerate(regions):
        y = number * (BAR_HEIGHT + 16)
        rows.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end">{escape(region["name"])} '
            f"({region['size']} B)</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{span}" height="{BAR_HEIGHT}" fill="#eee" stroke="#999"/>'
        )
        x = float(LABEL_WIDTH)
        for item in region.get("items", []):
            color = legend.setdefault(item["name"], PALETTE[len(legend) % len(PALETTE)])
            width = span * item["bytes"] / max(region["size"], 1)
            rows.append(
                f'<rect x="{x:.1f}" y="{y}" width="{max(width, 0.5):.1f}" height="{BAR_HEIGHT}" fill="{color}">'
                f"<title>{escape(item['name'])}: {item['bytes']} B</title></rect>"
            )
            x += width
        rows.append(
            f'<text x="{LABEL_WIDTH}" y="{y + BAR_HEIGHT + 11}">{region.get("percent_used", "")} % used, '
            f"{region.get('free', 0)} B free</text>"
        )
    y = len(regions) * (BAR_HEIGHT + 16) + 4
    for number, (name, color) in enumerate(legend.items()):
        x = LABEL_WIDTH + number * 170
        rows.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="{y + 9}">{escape(name[:24])}</text>'
        )
    return _svg(CHART_WIDTH, y + 16, "".join(rows), "memory budget")


def findings_list(findings: Sequence[dict[str, Any]]) -> str:
    if not findings:
        return verdict_badge("no findings", "good")
    return "".join(
        f'<div class="finding"><h3>{number}. [{escape(f["check"])}] {escape(f["what"])}</h3>'
        + "".join(f"<p><b>evidence:</b> {escape(line)}</p>" for line in f["evidence"] if line)
        + f"<p><b>cost:</b> {escape(f['cost'])}</p><p><b>fix:</b> {escape(f['fix'])}</p></div>"
        for number, f in enumerate(findings, 1)
    )


def _svg(width: float, height: float, content: str, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" role="img" aria-label="{escape(label)}">{content}</svg>'
    )


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


# ---------------------------------------------------------------- the four pages


def analyze_page(report: dict[str, Any], plan: MemoryPlan) -> str:
    device = report["device"]
    tone = {"fits": "good", "does not fit": "bad"}.get(report["verdict"], "unsure")
    layers = report["layers"]
    peak = [n for n, layer in enumerate(layers) if layer["peak"]]
    summary = table(
        ("figure", "bytes"),
        [
            ("tensor arena", report["arena_bytes"]),
            ("weights and constants", report["weights_bytes"]),
            ("code" + (" (estimated)" if report["code_bytes_is_estimate"] else " (measured)"), report["code_bytes"]),
            (f"stack ({report['stack_source']})", report["stack_bytes"]),
            ("flash in all", report["flash_bytes"]),
            ("RAM in all", report["ram_bytes"]),
        ],
        text_columns=1,
    )
    return page(
        f"{report['model']} on {device['name']}",
        f"mcudeploy analyze: {device['core']} at {device['max_clock_mhz']} MHz, planner {report['planner']}",
        [
            section(
                "Verdict",
                verdict_badge(f"{report['verdict']} {device['name']}", tone),
                summary,
                notes([f"arena in {p['region']}: {p['why']}"] if (p := report.get("arena_placement")) else []),
            ),
            section("Memory budget", budget_chart(report["regions"])),
            section("Arena over time", arena_chart(plan, len(layers))),
            section(
                "Layers",
                table(
                    ("#", "operator", "MACs", "weights B", "scratch B", "live B"),
                    [
                        (x["index"], x["op"], x["macs"], x["weight_bytes"], x["scratch_bytes"], x["live_bytes"])
                        for x in layers
                    ],
                    marked=peak,
                ),
            ),
        ],
    )


def estimate_page(report: dict[str, Any], notes_: Sequence[str] = ()) -> str:
    layers = report["layers"]
    total = report["total"]
    lines = [
        f"{total['cycles']:,.0f} cycles, {total['ms']} ms per inference at {report['clock_mhz']:g} MHz, "
        f"{total['instructions']:,} instructions, {total['macs']:,} MACs",
        *streaming_lines(report),
    ]
    return page(
        f"{report['model']} on {report['device']}",
        f"mcudeploy estimate: {report['core']} at {report['clock_mhz']:g} MHz (timings: {report['timing_source']})",
        [
            section("Inference", notes([*lines, *notes_])),
            section(
                "Latency per layer", bars([f"#{x['index']} {x['op']}" for x in layers], [x["ms"] for x in layers], "ms")
            ),
            *_placement_section(report.get("arena_placements") or []),
            section(
                "Layers",
                table(
                    ("#", "operator", "MACs", "instructions", "cycles", "ms", "MACs/cycle"),
                    [
                        (x["index"], x["op"], x["macs"], x["instructions"], x["cycles"], x["ms"], x["macs_per_cycle"])
                        for x in layers
                    ],
                ),
            ),
        ],
    )


def _placement_section(placements: Sequence[dict[str, Any]]) -> list[str]:
    if not placements:
        return []
    rows = [
        (p["region"], p["kind"], "yes" if p["cached"] else "no", p["cold_ms"], p["steady_ms"],
         f"{100 * p['variation']:+.2f} %")
        for p in placements
    ]  # fmt: skip
    labels = [f"{p['region']} {kind}" for p in placements for kind in ("first", "steady")]
    values = [p[key] for p in placements for key in ("cold_ms", "steady_ms")]
    return [
        section(
            "Arena placement (Cortex-M7 cache)",
            table(("region", "kind", "cached", "first inference ms", "steady ms", "first vs steady"), rows, 3),
            bars(labels, values, "ms"),
            notes(["QEMU models no caches: the L1 data cache is simulated over the counted access stream."]),
        )
    ]


def _waiting_case(item: dict[str, Any]) -> str | None:
    """A run the C or the engine ended waiting for frames (validate --json's `waiting`, `engine_waiting`)."""
    ours, engine = (
        None if at is None else waiting_text(at["op"], at["layer"]) for at in (item["waiting"], item["engine_waiting"])
    )
    return None if ours is None and engine is None else waiting_comparison(ours, engine)


def _agreement(report: dict[str, Any]) -> str:
    """The verdict's words: bit for bit only when no element differs (float outputs pass within tolerance)."""
    if not report["passed"]:
        return "a target differs"
    outputs = [m for r in report["targets"].values() for item in r["inputs"] for m in item["outputs"] if m]
    if any(m["differing"] for m in outputs):
        return "every target agrees (floats within the stated tolerance)"
    return "every target agrees bit for bit"


def validate_page(report: dict[str, Any]) -> str:
    rows = []
    for target, result in report["targets"].items():
        count = len(result["inputs"])
        for number, item in enumerate(result["inputs"]):
            run = f"run {number + 1} of {count}" if report.get("streaming") else f"input {number}"
            if (waiting := _waiting_case(item)) is not None:
                agrees = "yes" if item["agrees"] else "NO"
                rows.append((target, f"{run}: {waiting}", agrees, *"-----", item["instructions"]))
            for output, metrics in enumerate(item["outputs"]):
                if metrics is None:  # not produced: the run waited for frames before its layer (the row above)
                    continue
                rows.append(
                    (
                        target,
                        f"{run} output {output}",
                        "yes" if item["agrees"] else "NO",
                        metrics["max_abs_diff"],
                        metrics["differing"],
                        metrics["rmse"],
                        metrics["cosine"],
                        metrics["top1_agree"],
                        item["instructions"],
                    )
                )
    errors = [f"{target}: {r['error']}" for target, r in report["targets"].items() if r["error"]]
    return page(
        f"{report['model']}: generated C against the reference engine",
        f"mcudeploy validate: planner {report['planner']}, targets {', '.join(report['targets'])}",
        [
            section(
                "Verdict",
                verdict_badge(
                    _agreement(report),
                    "good" if report["passed"] else "bad",
                ),
                notes(errors),
            ),
            section(
                "Validation metrics",
                table(
                    (
                        "target",
                        "case",
                        "bit-exact",
                        "max |diff|",
                        "differing",
                        "RMSE",
                        "cosine",
                        "top-1",
                        "instructions",
                    ),
                    rows,
                ),
            ),
            section(
                "Instructions per inference",
                bars(
                    list(report["targets"]),
                    [float(r["instructions_per_inference"] or 0) for r in report["targets"].values()],
                    "instructions",
                ),
            ),
        ],
    )


def doctor_page(report: dict[str, Any]) -> str:
    count = len(report["findings"])
    checks = [
        (c["check"], "skipped" if not c["ran"] else ("FOUND" if c["findings"] else "ok"), "; ".join(c["notes"]))
        for c in report["checks"]
    ]
    return page(
        f"{report['model']} on {report['device']}",
        f"mcudeploy doctor: {report['core']}" + (f", firmware {report['elf']}" if report["elf"] else ""),
        [
            section(
                "Findings",
                verdict_badge(f"{count} finding{'s' if count != 1 else ''}", "bad") if count else "",
                findings_list(report["findings"]),
            ),
            section("Checks", table(("check", "state", "notes"), checks, text_columns=3)),
        ],
    )
