"""How far the int8 graph is from the float one, on given inputs: SQNR and top-1 agreement per output, and
with labels (class indices of the first output) the accuracy of each graph."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from mcudeploy.engine.interpreter import Engine
from mcudeploy.inputs import quantize
from mcudeploy.ir import Graph, Tensor


@dataclass(frozen=True)
class OutputQuality:
    name: str
    sqnr_db: float
    """10·log10(Σ float² / Σ (float - int8)²) over all inputs; inf when identical."""
    top1_agreement: int
    samples: int
    correct_float: int | None = None
    """Inputs whose label the float graph's top-1 gives (first output, labels given); else None."""
    correct_int: int | None = None

    def as_dict(self) -> dict:
        return {
            "output": self.name,
            "sqnr_db": None if math.isinf(self.sqnr_db) else round(self.sqnr_db, 2),
            "top1_agreement": self.top1_agreement,
            "samples": self.samples,
            "correct_float": self.correct_float,
            "correct_int": self.correct_int,
        }


def compare_outputs(
    reference: Graph,
    quantized: Graph,
    input_sets: Sequence[Sequence[np.ndarray]],
    labels: Sequence[int] | None = None,
) -> list[OutputQuality]:
    float_engine, int8_engine = Engine(reference), Engine(quantized)
    int_outputs = quantized.graph_outputs
    signal = np.zeros(len(reference.outputs))
    noise = np.zeros(len(reference.outputs))
    agree = np.zeros(len(reference.outputs), dtype=int)
    correct = np.zeros(2, dtype=int)
    for number, inputs in enumerate(input_sets):
        got_values = int8_engine.run(integer_inputs(quantized, inputs)).outputs
        pairs = zip(float_engine.run(inputs).outputs, got_values, strict=True)
        for i, (want, got) in enumerate(pairs):
            want, got = want.astype(np.float64).reshape(-1), real_values(int_outputs[i], got).reshape(-1)
            signal[i] += np.sum(want**2)
            noise[i] += np.sum((want - got) ** 2)
            agree[i] += int(np.argmax(want) == np.argmax(got))
            if labels is not None and i == 0:
                correct += [int(np.argmax(want) == labels[number]), int(np.argmax(got) == labels[number])]
    qualities = [
        OutputQuality(t.name, _decibels(s, n), int(a), len(input_sets))
        for t, s, n, a in zip(reference.graph_outputs, signal, noise, agree, strict=True)
    ]
    if labels is not None:
        qualities[0] = replace(qualities[0], correct_float=int(correct[0]), correct_int=int(correct[1]))
    return qualities


def integer_inputs(graph: Graph, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Real inputs as `graph` takes them: quantized where its inputs are integers (`integer_io`)."""
    return [x if t.dtype.is_float else quantize(x, t) for x, t in zip(inputs, graph.graph_inputs, strict=True)]


def real_values(tensor: Tensor, values: np.ndarray) -> np.ndarray:
    """A tensor's values as reals (float64): integer values dequantized."""
    if tensor.dtype.is_float or tensor.quantization is None:
        return values.astype(np.float64)
    q = tensor.quantization
    return (values.astype(np.float64) - q.single_zero_point) * q.single_scale


def _decibels(signal: float, noise: float) -> float:
    if noise == 0:
        return math.inf
    return 10 * math.log10(signal / noise) if signal > 0 else -math.inf
