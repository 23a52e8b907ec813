"""The comparison metrics of `validate`, on hand-checked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mcudeploy.ir import DType, Quantization, Tensor
from mcudeploy.validation.metrics import compare


def tensor(shape: tuple[int, ...], dtype: DType, scale: float | None = None, zero_point: int = 0) -> Tensor:
    quant = Quantization.per_tensor(scale, zero_point) if scale is not None else None
    return Tensor(index=0, name="y", shape=shape, dtype=dtype, quantization=quant)


def test_identical_int8_outputs() -> None:
    y = np.array([[-128, 5, 127]], dtype=np.int8)
    metrics = compare(y, y, tensor((1, 3), DType.INT8, 0.5, -1))
    assert (metrics.max_abs_diff, metrics.differing, metrics.rmse, metrics.mae) == (0, 0, 0, 0)
    assert metrics.l2_relative == 0 and metrics.cosine == pytest.approx(1.0) and metrics.top1_agree


def test_int8_difference_in_lsb_and_real_units() -> None:
    expected = np.array([[10, 20, 30, 40]], dtype=np.int8)
    got = np.array([[10, 21, 30, 37]], dtype=np.int8)  # +1 and -3 LSB
    metrics = compare(got, expected, tensor((1, 4), DType.INT8, 0.25, 0))
    assert metrics.max_abs_diff == 3 and metrics.differing == 2 and metrics.elements == 4
    assert metrics.mae == pytest.approx((0.25 + 0.75) / 4)
    assert metrics.rmse == pytest.approx(math.sqrt((0.25**2 + 0.75**2) / 4))
    real = expected.astype(float) * 0.25
    assert metrics.l2_relative == pytest.approx(math.sqrt(0.25**2 + 0.75**2) / np.linalg.norm(real))
    assert metrics.top1_agree is True  # arg-max stays at index 3


def test_top1_disagreement_and_non_classifier_shapes() -> None:
    expected = np.array([[0, 9, 1]], dtype=np.int8)
    got = np.array([[9, 0, 1]], dtype=np.int8)
    assert compare(got, expected, tensor((1, 3), DType.INT8, 1.0)).top1_agree is False
    assert compare(got.reshape(3), expected.reshape(3), tensor((3,), DType.INT8, 1.0)).top1_agree is None


def test_float_outputs_and_all_zero_reference() -> None:
    zeros = np.zeros((1, 2), dtype=np.float32)
    metrics = compare(zeros, zeros, tensor((1, 2), DType.FLOAT32))
    assert metrics.cosine == 1.0 and metrics.l2_relative == 0.0
    got = np.array([[0.5, -0.5]], dtype=np.float32)
    metrics = compare(got, zeros, tensor((1, 2), DType.FLOAT32))
    assert metrics.max_abs_diff == 0.5 and metrics.cosine == 0.0 and metrics.l2_relative == math.inf
