"""Calibration: the range each float activation is quantized over, from the calibration inputs.

- `minmax`: the observed minimum and maximum;
- `percentile`: the observed values with the rarest tails cut (`percentile` of them kept, half the
  rest cut at each end), from a histogram of each tensor over its min-max range;
- `mse`: the range, shrunk from min-max by a factor, whose int8 rounding and clipping give the least
  squared error over that histogram.

Ranges always contain 0 (an int8 tensor must represent 0 exactly).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np

from mcudeploy.engine.interpreter import Engine
from mcudeploy.errors import McuDeployError
from mcudeploy.ir import DType, Graph

BINS = 2048
SHRINK_FACTORS = np.linspace(1.0, 0.2, 81)
"""Candidate ranges for `mse`: min-max scaled by each factor."""


class Method(StrEnum):
    MINMAX = "minmax"
    PERCENTILE = "percentile"
    MSE = "mse"


Ranges = dict[int, tuple[float, float]]


def observe_ranges(
    graph: Graph,
    input_sets: Sequence[Sequence[np.ndarray]],
    method: Method = Method.MINMAX,
    percentile: float = 99.99,
) -> Ranges:
    """(low, high) of every non-constant float32 tensor over the calibration input sets."""
    if not input_sets:
        raise McuDeployError(graph.subject, "no calibration inputs")
    engine = Engine(graph)
    floats = [t.index for t in graph.tensors if t.dtype == DType.FLOAT32 and not t.is_constant]
    ranges: Ranges = {}
    for values in _runs(engine, input_sets):
        for index in floats:
            finite = _finite(values, index)
            if finite.size:
                low, high = min(0.0, float(finite.min())), max(0.0, float(finite.max()))
                old = ranges.get(index, (low, high))
                ranges[index] = (min(low, old[0]), max(high, old[1]))
    if method == Method.MINMAX:
        return ranges
    histograms = {index: np.zeros(BINS, dtype=np.int64) for index in ranges}
    for values in _runs(engine, input_sets):
        for index, counts in histograms.items():
            counts += np.histogram(_finite(values, index), bins=BINS, range=ranges[index])[0]
    choose = _percentile_range if method == Method.PERCENTILE else _least_error_range
    return {index: choose(histograms[index], ranges[index], percentile) for index in ranges}


def _runs(engine: Engine, input_sets):
    for inputs in input_sets:
        yield engine.run(inputs).tensors


def _finite(values: dict[int, np.ndarray], index: int) -> np.ndarray:
    array = values.get(index)
    return np.empty(0) if array is None else array[np.isfinite(array)]


def _bin_edges(bounds: tuple[float, float]) -> np.ndarray:
    return np.linspace(bounds[0], bounds[1], BINS + 1)


def _percentile_range(counts: np.ndarray, bounds: tuple[float, float], percentile: float) -> tuple[float, float]:
    if bounds[0] == bounds[1] or counts.sum() == 0:
        return bounds
    cut = counts.sum() * (100.0 - percentile) / 200.0
    edges = _bin_edges(bounds)
    cumulative = np.cumsum(counts)
    low = edges[np.searchsorted(cumulative, cut, side="right")]
    high = edges[np.searchsorted(cumulative, cumulative[-1] - cut, side="left") + 1]
    return min(0.0, float(low)), max(0.0, float(high))


def _least_error_range(counts: np.ndarray, bounds: tuple[float, float], _: float) -> tuple[float, float]:
    if bounds[0] == bounds[1] or counts.sum() == 0:
        return bounds
    edges = _bin_edges(bounds)
    centers = (edges[:-1] + edges[1:]) / 2
    errors = [_int8_error(centers, counts, bounds[0] * f, bounds[1] * f) for f in SHRINK_FACTORS]
    best = SHRINK_FACTORS[int(np.argmin(errors))]
    return bounds[0] * best, bounds[1] * best


def _int8_error(values: np.ndarray, counts: np.ndarray, low: float, high: float) -> float:
    """Σ count · (value - its int8 round trip)² over [low, high] quantized in 256 steps."""
    scale = (high - low) / 255
    levels = np.clip(np.round((values - low) / scale), 0, 255)
    return float(np.sum(counts * (values - (low + levels * scale)) ** 2))
