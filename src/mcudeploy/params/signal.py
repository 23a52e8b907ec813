"""The constant tables of TFLite Micro's signal operators, derived once: the KISS FFT's twiddle
factors (as its fixed-point and float builds store them) and FilterBankLog's correction table. The
engine computes with them and the C emitters write them out, so the two cannot disagree."""

from __future__ import annotations

import math
from functools import cache

import numpy as np

LOG_SEGMENTS_LOG2 = 7
LOG_SCALE_LOG2 = 16


def fft_sample_max(bits: int) -> int:
    """KISS FFT's SAMP_MAX of a `bits`-bit fixed-point build (16 or 32)."""
    return (1 << (bits - 1)) - 1


def _cexp(bits: int, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit complex values at `phase` as KISS FFT stores them: floor(0.5 + SAMP_MAX * cos) in fixed
    point (bits 16 or 32), the double cosine rounded to float32 otherwise (bits 0)."""
    if not bits:
        return np.cos(phase).astype(np.float32), np.sin(phase).astype(np.float32)
    scale = float(fft_sample_max(bits))
    return (
        np.floor(0.5 + scale * np.cos(phase)).astype(np.int64),
        np.floor(0.5 + scale * np.sin(phase)).astype(np.int64),
    )


@cache
def fft_twiddles(bits: int, n: int, inverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """The n twiddle factors of an n-point complex FFT: e^(-2 pi i k / n), conjugated for the inverse."""
    phase = -2 * math.pi * np.arange(n, dtype=np.float64) / n
    return _cexp(bits, -phase if inverse else phase)


@cache
def real_fft_twiddles(bits: int, half: int, inverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """The half / 2 factors that split a half-length complex FFT into a real one (kiss_fftr's
    super twiddles): e^(-i pi (k / half + 1/2)) for k = 1..half/2, conjugated for the inverse."""
    phase = -math.pi * (np.arange(1, half // 2 + 1, dtype=np.float64) / half + 0.5)
    return _cexp(bits, -phase if inverse else phase)


@cache
def log_table() -> tuple[int, ...]:
    """log2(1 + x) - x over x in [0, 1], 128 segments, in Q16, and a closing 0 (TFLite Micro's
    kLogLut, which this formula reproduces entry for entry)."""
    segments = 1 << LOG_SEGMENTS_LOG2
    table = [round((math.log2(1 + i / segments) - i / segments) * (1 << LOG_SCALE_LOG2)) for i in range(segments + 1)]
    return (*table, 0)
