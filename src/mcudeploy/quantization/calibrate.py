"""Calibration: the range of every float activation over the calibration inputs (min-max)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mcudeploy.engine.interpreter import Engine
from mcudeploy.errors import McuDeployError
from mcudeploy.ir import DType, Graph


def observe_ranges(graph: Graph, input_sets: Sequence[Sequence[np.ndarray]]) -> dict[int, tuple[float, float]]:
    """(min, max) of every non-constant float32 tensor, over all calibration input sets."""
    if not input_sets:
        raise McuDeployError(graph.subject, "no calibration inputs")
    engine = Engine(graph)
    ranges: dict[int, tuple[float, float]] = {}
    floats = [t.index for t in graph.tensors if t.dtype == DType.FLOAT32 and not t.is_constant]
    for inputs in input_sets:
        values = engine.run(inputs).tensors
        for index in floats:
            if index not in values:
                continue
            finite = values[index][np.isfinite(values[index])]
            if finite.size == 0:
                continue
            low, high = float(finite.min()), float(finite.max())
            if index in ranges:
                low, high = min(low, ranges[index][0]), max(high, ranges[index][1])
            ranges[index] = (low, high)
    return ranges
