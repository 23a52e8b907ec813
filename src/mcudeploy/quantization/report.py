"""The calibration report: per activation, what calibration saw, what int8 holds, and what it costs.

Measured on inputs held out of calibration: the share of each tensor's float
values outside its quantized range (clipped by int8), and the SQNR of the int8
graph's tensor (dequantized) against the float graph's. Layers are listed worst
SQNR first, so the one that loses most comes first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mcudeploy.engine.interpreter import Engine
from mcudeploy.ir import Graph, Tensor
from mcudeploy.quantization.quality import integer_inputs
from mcudeploy.quantization.rebuild import Quantized

PREPROCESSING_RATIO = (100.0, 400.0)
"""Held-out inputs this many times wider than calibrated: [0, 1] against [0, 255] (ratio 255)."""
CLIPPED_WARNING = 0.01
FEW_SETS = 100
"""Fewer calibration sets than this rarely cover what a model meets (TFLite's guidance: 100 to 500)."""
MIN_SETS_TO_HOLD_OUT = 4
"""With this many input sets or more, a quarter is held out of calibration to measure it."""


def split_held_out(input_sets: list) -> tuple[list, list]:
    """(calibration sets, held-out sets): the last quarter held out when there are enough."""
    held = len(input_sets) // 4 if len(input_sets) >= MIN_SETS_TO_HOLD_OUT else 0
    return input_sets[: len(input_sets) - held], input_sets[len(input_sets) - held :]


@dataclass(frozen=True)
class TensorReport:
    name: str
    layer: str
    calibrated: tuple[float, float]
    """The range calibration chose (min-max: the observed range, with 0)."""
    quantized: tuple[float, float]
    clipped: float
    """Share of held-out float values outside the quantized range."""
    sqnr_db: float

    def as_dict(self) -> dict:
        return {
            "tensor": self.name,
            "layer": self.layer,
            "calibrated": list(self.calibrated),
            "quantized": list(self.quantized),
            "clipped": self.clipped,
            "sqnr_db": None if math.isinf(self.sqnr_db) else round(self.sqnr_db, 2),
        }


def representable(tensor: Tensor) -> tuple[float, float]:
    """The real range of an integer tensor: its type's whole range (int8; int16 for 16x8 activations
    and an LSTM's cell state) through its scale and zero point."""
    scale, zero_point = tensor.quantization.single_scale, tensor.quantization.single_zero_point
    info = np.iinfo(tensor.dtype.numpy)
    return (info.min - zero_point) * scale, (info.max - zero_point) * scale


def calibration_report(
    graph: Graph,
    quantized: Quantized,
    inputs_sets: Sequence[Sequence[np.ndarray]],
    held_out: bool,
    calibration_sets: int = FEW_SETS,
) -> tuple[list[TensorReport], list[str]]:
    """(per-tensor reports, worst SQNR first; warnings) on `input_sets`, inputs held out of calibration
    unless `held_out` is False (too few to spare any). `calibration_sets`: how many calibrated the ranges."""
    float_engine, int8_engine = Engine(graph), Engine(quantized.graph)
    sums: dict[int, list[float]] = {index: [0.0, 0.0, 0, 0] for index in quantized.tensors}
    widest: dict[int, float] = {}
    for inputs in inputs_sets:
        reals = float_engine.run(inputs).tensors
        ints = int8_engine.run(integer_inputs(quantized.graph, inputs)).tensors
        for index, new in quantized.tensors.items():
            quantization = quantized.graph.tensors[new].quantization
            real = reals[index].astype(np.float64)
            low, high = representable(quantized.graph.tensors[new])
            approx = (ints[new].astype(np.float64) - quantization.single_zero_point) * quantization.single_scale
            total = sums[index]
            total[0] += float(np.sum(real**2))
            total[1] += float(np.sum((real - approx) ** 2))
            total[2] += int(np.count_nonzero((real < low) | (real > high)))
            total[3] += real.size
            widest[index] = max(widest.get(index, 0.0), float(np.max(np.abs(real), initial=0.0)))
    reports = [_tensor_report(graph, quantized, index, sums[index]) for index in quantized.tensors]
    reports.sort(key=lambda r: r.sqnr_db)
    few = (
        [f"only {calibration_sets} calibration input sets: so few rarely cover a model's inputs (use {FEW_SETS}+)"]
        if calibration_sets < FEW_SETS
        else []
    )
    return reports, few + _warnings(graph, reports, widest, held_out)


def _tensor_report(graph: Graph, quantized: Quantized, index: int, total: list[float]) -> TensorReport:
    producer = graph.producer(index)
    signal, noise, clipped, count = total
    sqnr = math.inf if noise == 0 else (10 * math.log10(signal / noise) if signal > 0 else -math.inf)
    return TensorReport(
        name=graph.tensors[index].name,
        layer=producer.label if producer else "input",
        calibrated=quantized.ranges[index],
        quantized=representable(quantized.graph.tensors[quantized.tensors[index]]),
        clipped=clipped / count if count else 0.0,
        sqnr_db=sqnr,
    )


def _warnings(graph: Graph, reports: list[TensorReport], widest: dict[int, float], held_out: bool) -> list[str]:
    if not held_out:
        return [
            f"fewer than {MIN_SETS_TO_HOLD_OUT} input sets: none held out of calibration, so clipping and SQNR "
            f"are measured on the calibration inputs themselves"
        ]
    warnings = []
    by_name = {r.name: r for r in reports}
    for tensor in graph.graph_inputs:
        report = by_name[tensor.name]
        calibrated = max(abs(report.calibrated[0]), abs(report.calibrated[1]))
        ratio = widest[tensor.index] / calibrated if calibrated > 0 else math.inf
        if PREPROCESSING_RATIO[0] <= ratio <= PREPROCESSING_RATIO[1]:
            warnings.append(
                f"input '{tensor.name}': held-out values reach {widest[tensor.index]:g}, {ratio:.0f}x the calibrated "
                f"range {list(report.calibrated)}: a [0, 1] against [0, 255] preprocessing mismatch?"
            )
        elif report.clipped > CLIPPED_WARNING:
            warnings.append(
                f"input '{tensor.name}': {report.clipped:.1%} of held-out values fall outside the calibrated range "
                f"{list(report.calibrated)}: the calibration set does not cover the inputs"
            )
    return warnings
