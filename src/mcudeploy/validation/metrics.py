"""How far an output is from its reference: the figures `validate` reports per output.

Integer outputs are compared in LSB (steps of the quantized type); the real-valued
metrics (RMSE, MAE, L2 relative error, cosine similarity) are computed on the
dequantized values so they read the same for int8 and float models.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from mcudeploy.ir import Tensor


@dataclass(frozen=True)
class OutputMetrics:
    max_abs_diff: float
    """In LSB for integer outputs, in real units for float outputs."""
    differing: int
    elements: int
    rmse: float
    mae: float
    l2_relative: float
    """‖y − ŷ‖ / ‖y‖ (0 when both are zero, infinite when only the reference is)."""
    cosine: float
    top1_agree: bool | None
    """For classifier-shaped outputs ([1, N], N > 1): same arg-max; else None."""

    def as_dict(self) -> dict:
        return asdict(self)


def real_values(array: np.ndarray, tensor: Tensor) -> np.ndarray:
    quant = tensor.quantization
    if tensor.dtype.is_float or quant is None:
        return array.astype(np.float64)
    return (array.astype(np.float64) - quant.single_zero_point) * quant.single_scale


def compare(got: np.ndarray, expected: np.ndarray, tensor: Tensor) -> OutputMetrics:
    """Metrics of `got` against the reference `expected`, both of `tensor`'s type and shape."""
    raw_diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    y, y_hat = real_values(expected, tensor).ravel(), real_values(got, tensor).ravel()
    error = y_hat - y
    norm = float(np.linalg.norm(y))
    error_norm = float(np.linalg.norm(error))
    return OutputMetrics(
        max_abs_diff=float(raw_diff.max(initial=0.0)),
        differing=int(np.count_nonzero(got != expected)),
        elements=int(expected.size),
        rmse=float(np.sqrt(np.mean(error**2))) if error.size else 0.0,
        mae=float(np.mean(np.abs(error))) if error.size else 0.0,
        l2_relative=error_norm / norm if norm else (math.inf if error_norm else 0.0),
        cosine=_cosine(y, y_hat),
        top1_agree=_top1(got, expected),
    )


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norms == 0.0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(np.dot(a, b) / norms)


def _top1(got: np.ndarray, expected: np.ndarray) -> bool | None:
    if expected.ndim != 2 or expected.shape[0] != 1 or expected.shape[1] < 2:
        return None
    return bool(np.argmax(got[0]) == np.argmax(expected[0]))
