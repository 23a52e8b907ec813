"""Calibration: the range each float activation is quantized over, from the calibration inputs.

- `minmax`: the observed minimum and maximum;
- `percentile`: the observed values with the rarest tails cut (`percentile` of them kept, half the
  rest cut at each end), from a histogram of each tensor over its min-max range;
- `mse`: the range, shrunk from min-max by a factor, whose int8 rounding and clipping give the least
  squared error over that histogram;
- `entropy`: the range, shrunk likewise but never inside the `percentile` range, whose int8 version of
  the histogram (the clipped tails piled on the edge bins, each of the 256 levels spreading its count
  evenly over its non-empty bins) is closest to the histogram in Kullback-Leibler divergence: TensorRT's
  entropy calibration, both ends of an asymmetric range shrunk together. The floor is what makes it
  usable here: without it every ReLU output of kws and ic_resnet8 was cut to the smallest candidate
  (0.2 of its min-max range), the divergence falling as levels get narrower, which on the few thousand
  values of a calibration set is most likely the sparse bins' sampling noise being matched. Exact zeros
  (a ReLU's spike; exact in any range) are left out of its histogram, so the floor is the percentile of
  the values a range must resolve (measured better than with them: README, quantize).

Ranges always contain 0 (an int8 tensor must represent 0 exactly). An LSTM's cell state is a variable
the run leaves at its last step's value: its range is the min-max over every time step of every run
(`_cell_state_ranges`), whatever the method, as TensorFlow's calibrator logs it; its int16 scale is then
the power of two that covers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np

from mcudeploy.engine.interpreter import Engine
from mcudeploy.engine.ops.lstm import float_cell_states
from mcudeploy.engine.registry import OpContext
from mcudeploy.errors import McuDeployError
from mcudeploy.ir import NO_TENSOR, DType, Graph
from mcudeploy.ir.options import CELL_STATE, HIDDEN_STATE

BINS = 2048
SHRINK_FACTORS = np.linspace(1.0, 0.2, 81)
"""Candidate ranges for `mse`: min-max scaled by each factor."""


class Method(StrEnum):
    MINMAX = "minmax"
    PERCENTILE = "percentile"
    MSE = "mse"
    ENTROPY = "entropy"


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
            _widen(ranges, index, _finite(values, index))
    cell_states = _cell_state_ranges(graph, input_sets)
    if method == Method.MINMAX:
        return ranges | cell_states
    histograms = {index: np.zeros(BINS, dtype=np.int64) for index in ranges}
    for values in _runs(engine, input_sets):
        for index, counts in histograms.items():
            finite = _finite(values, index)
            if method == Method.ENTROPY:  # exact zeros stay exact whatever the range: left out (see _int8_divergence)
                finite = finite[finite != 0]
            counts += np.histogram(finite, bins=BINS, range=ranges[index])[0]
    choose = {
        Method.PERCENTILE: _percentile_range,
        Method.MSE: _least_error_range,
        Method.ENTROPY: _least_divergence_range,
    }[method]
    chosen = {index: choose(histograms[index], ranges[index], percentile) for index in ranges}
    return chosen | cell_states


def _widen(ranges: Ranges, index: int, finite: np.ndarray) -> None:
    """Widen `ranges[index]` (made on first sight, with 0 in it) to cover the finite values."""
    if finite.size:
        low, high = min(0.0, float(finite.min())), max(0.0, float(finite.max()))
        old = ranges.get(index, (low, high))
        ranges[index] = (min(low, old[0]), max(high, old[1]))


def _cell_state_ranges(graph: Graph, input_sets: Sequence[Sequence[np.ndarray]]) -> Ranges:
    """Each float LSTM's cell state range over all its steps: every run's LSTMs run again from the
    states the run started from (the previous run's last ones; zeros first), step by step."""
    lstms = [op for op in graph.operators if op.op_type == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    if not lstms:
        return {}
    states = {t.index: np.full(t.shape, t.reset_value, t.dtype.numpy) for t in graph.tensors if t.is_variable}
    ranges: Ranges = {}
    for values in _runs(Engine(graph), input_sets):
        for op in lstms:
            cell = op.inputs[CELL_STATE]
            if graph.tensors[cell].dtype != DType.FLOAT32:
                continue
            inputs = [None if i == NO_TENSOR else values[i] for i in op.inputs]
            inputs[HIDDEN_STATE], inputs[CELL_STATE] = states[op.inputs[HIDDEN_STATE]].copy(), states[cell].copy()
            _widen(ranges, cell, _finite({cell: float_cell_states(OpContext(op, graph, inputs))}, cell))
        states = {index: values[index] for index in states}
    return ranges


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
    return _best_shrink(counts, bounds, _int8_error, SHRINK_FACTORS)


def _least_divergence_range(counts: np.ndarray, bounds: tuple[float, float], percentile: float) -> tuple[float, float]:
    kept = _percentile_range(counts, bounds, percentile)
    floor = max(kept[0] / bounds[0] if bounds[0] else 0.0, kept[1] / bounds[1] if bounds[1] else 0.0)
    return _best_shrink(counts, bounds, _int8_divergence, SHRINK_FACTORS[floor - 1e-12 <= SHRINK_FACTORS])


def _best_shrink(counts: np.ndarray, bounds: tuple[float, float], cost, factors: np.ndarray) -> tuple[float, float]:
    """min-max shrunk by the one of `factors` whose `cost(bin centers, counts, low, high)` is least."""
    if bounds[0] == bounds[1] or counts.sum() == 0 or factors.size == 0:
        return bounds
    edges = _bin_edges(bounds)
    centers = (edges[:-1] + edges[1:]) / 2
    costs = [cost(centers, counts, bounds[0] * f, bounds[1] * f) for f in factors]
    best = factors[int(np.argmin(costs))]
    return bounds[0] * best, bounds[1] * best


def _int8_error(values: np.ndarray, counts: np.ndarray, low: float, high: float) -> float:
    """Σ count · (value - its int8 round trip)² over [low, high] quantized in 256 steps."""
    scale = (high - low) / 255
    levels = np.clip(np.round((values - low) / scale), 0, 255)
    return float(np.sum(counts * (values - (low + levels * scale)) ** 2))


def _int8_divergence(values: np.ndarray, counts: np.ndarray, low: float, high: float) -> float:
    """KL(P || Q): P the histogram over [low, high] with the tails outside piled on its edge bins, Q its
    int8 version (each of the 256 levels' count spread evenly over the level's non-empty bins)."""
    inside = (values >= low) & (values <= high)
    p = counts[inside].astype(np.float64)
    p[0] += counts[values < low].sum()
    p[-1] += counts[values > high].sum()
    levels = np.clip(np.round((values[inside] - low) / ((high - low) / 255)), 0, 255).astype(np.int64)
    totals = np.bincount(levels, weights=p, minlength=256)
    occupied = np.bincount(levels, weights=(p > 0).astype(np.float64), minlength=256)
    q = np.where(p > 0, totals[levels] / np.maximum(occupied[levels], 1), 0.0)
    present = p > 0
    p, q = p[present] / p.sum(), q[present] / q.sum()
    return float(np.sum(p * np.log(p / q)))
