"""`mcudeploy quantize`'s calibration report as a table and a plot."""

from __future__ import annotations

import math
from typing import BinaryIO

from rich.table import Table

from mcudeploy.display import markup_safe
from mcudeploy.quantization.report import TensorReport

WORST_SHOWN = 10


def calibration_table(tensors: list[TensorReport], measured_on: str) -> Table:
    """The tensors that lose most first (the list comes sorted so), at most WORST_SHOWN of them."""
    table = Table(title=f"layers that lose most (on {measured_on} inputs)", title_justify="left")
    for column in ("tensor", "layer", "calibrated range", "quantized range", "clipped", "SQNR dB"):
        table.add_column(column, justify="right" if column in ("clipped", "SQNR dB") else "left")
    for t in tensors[:WORST_SHOWN]:
        table.add_row(
            markup_safe(t.name),
            t.layer,
            f"[{t.calibrated[0]:.4g}, {t.calibrated[1]:.4g}]",
            f"[{t.quantized[0]:.4g}, {t.quantized[1]:.4g}]",
            f"{t.clipped:.2%}",
            f"{t.sqnr_db:.1f}",
        )
    return table


def plot_calibration(tensors: list[TensorReport], stream: BinaryIO, image_format: str) -> None:
    """SQNR against float and share clipped, one bar each per tensor in execution order, written to
    `stream` as `image_format` ("png" or "svg")."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ordered = sorted(tensors, key=lambda t: _layer_number(t.layer))
    labels = [t.layer for t in ordered]
    figure = Figure(figsize=(10, 1.5 + 0.3 * len(ordered)), layout="constrained")
    FigureCanvasAgg(figure)
    sqnr_axes, clipped_axes = figure.subplots(1, 2, sharey=True)
    finite = [t.sqnr_db if math.isfinite(t.sqnr_db) else 0.0 for t in ordered]
    sqnr_axes.barh(labels, finite, color="C0")
    sqnr_axes.set_xlabel("SQNR against float (dB)")
    sqnr_axes.invert_yaxis()
    clipped_axes.barh(labels, [100 * t.clipped for t in ordered], color="C3")
    clipped_axes.set_xlabel("held-out values clipped (%)")
    figure.suptitle("calibration report")
    figure.savefig(stream, format=image_format)


def _layer_number(label: str) -> int:
    """Inputs first, then layers by index ('#12 CONV_2D')."""
    return int(label[1:].split()[0]) if label.startswith("#") else -1
