"""The `--plot` pictures' file check and the arena over time (`analyze --plot`), drawn with matplotlib (the
optional `plot` extra; `quantize --plot` draws with it too)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import BinaryIO

from mcudeploy.errors import McuDeployError
from mcudeploy.ir import Graph
from mcudeploy.memory.plan import Buffer, MemoryPlan

PLOT_SUFFIXES = (".png", ".svg")


def check_plot_path(path: Path) -> None:
    """Before any work: a file type we draw, and matplotlib installed (the `plot` extra)."""
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise McuDeployError(str(path), "the plot must be a .png or .svg file")
    if importlib.util.find_spec("matplotlib") is None:
        raise McuDeployError("--plot", "needs matplotlib: pip install 'mcudeploy[plot]'")


def plot_arena(graph: Graph, plan: MemoryPlan, stream: BinaryIO, image_format: str) -> None:
    """The arena over time (x = operator step, y = offset, each buffer a labelled box) written to
    `stream` as `image_format` ("png" or "svg")."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    steps = max(len(graph.operators), 1)
    figure = Figure(figsize=(min(4 + 0.35 * steps, 40), 6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    palette = [f"C{i}" for i in range(10)]
    placed = [b for b in plan.buffers if b.offset >= 0]
    for number, buffer in enumerate(placed):
        scratch = buffer.scratch_of is not None
        aliased = buffer.alias_of is not None
        axes.add_patch(
            Rectangle(
                (buffer.first - 0.45, buffer.offset),
                buffer.last - buffer.first + 0.9,
                buffer.size,
                facecolor="none" if aliased else ("0.75" if scratch else palette[number % len(palette)]),
                edgecolor="black",
                linewidth=0.6,
                linestyle="--" if aliased else "-",
                hatch="//" if scratch else None,
                alpha=0.85,
            )
        )
        if buffer.size >= plan.arena_bytes * 0.04 and not aliased:
            wide = buffer.last - buffer.first >= 2
            axes.text(
                (buffer.first + buffer.last) / 2,
                buffer.offset + buffer.size / 2,
                _box_label(buffer, wide),
                ha="center",
                va="center",
                fontsize=7 if wide else 6,
                rotation=0 if wide else 90,
                clip_on=True,
            )
    axes.axhline(plan.arena_bytes, color="red", linewidth=1, linestyle=":")
    if plan.step_live_bytes:
        axes.axvline(plan.peak_step, color="red", linewidth=0.8, linestyle="--")
    axes.set_xlim(-0.6, steps - 0.4)
    axes.set_ylim(0, max(plan.arena_bytes, 1) * 1.04)
    axes.set_xticks(range(len(graph.operators)))
    axes.set_xticklabels([f"{op.index} {op.op_type}" for op in graph.operators], rotation=90, fontsize=6)
    axes.set_xlabel("operator step")
    axes.set_ylabel("arena offset (bytes)")
    axes.set_title(f"{graph.name}: tensor arena {plan.arena_bytes:,} B ({plan.planner} planner)")
    figure.savefig(stream, format=image_format)


def _box_label(buffer: Buffer, wide: bool) -> str:
    """`t12 Relu6` for a tensor (the last part of its name), `scratch 3` for a kernel's scratch,
    `subgraphs 1` for the region of the subgraphs layer 1 runs; `s2` before those of subgraph 2."""
    where = buffer.subgraph_tensor or buffer.subgraph_scratch_of or buffer.calls_of
    scope = f"s{where[0]} " if where and where[0] else ""
    if buffer.calls_of is not None:
        return f"{scope}subgraphs {buffer.calls_of[1]}"
    if buffer.scratch_of is not None or buffer.subgraph_scratch_of is not None:
        return f"{scope}scratch {buffer.scratch_of if buffer.subgraph_scratch_of is None else where[1]}"
    tensor = f"{scope}t{buffer.tensor if buffer.subgraph_tensor is None else where[1]}"
    tail = buffer.name.split(";")[0].rsplit("/", 1)[-1]
    tail = tail if len(tail) <= 16 else tail[:15] + "…"
    return f"{tensor} {tail}" if wide else tensor
