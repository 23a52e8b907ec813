"""TFLM's signal operators from samples to a power spectrum: SignalWindow, SignalFftAutoScale,
SignalRfft, SignalIrfft and SignalEnergy (signal/src/window.cc, fft_auto_scale.cc, rfft*.cc,
energy.cc). Attributes come from the operator's FlexBuffer options."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine import kissfft
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.ir.shapes import signal_attributes

_ARITHMETIC = {DType.INT16: kissfft.INT16, DType.INT32: kissfft.INT32, DType.FLOAT32: kissfft.FLOAT32}


def saturate_int16(values: np.ndarray) -> np.ndarray:
    return np.clip(values, -32768, 32767).astype(np.int16)


@kernel("SignalWindow", types=(DType.INT16,))
def window(ctx: OpContext) -> np.ndarray:
    """Each run of len(weights) samples times the weights, shifted right, saturated to int16."""
    shift = signal_attributes(ctx.op, "shift")["shift"]
    samples, weights = ctx.input(0), ctx.input(1)
    tiled = samples.reshape(-1, weights.size).astype(np.int32) * weights.astype(np.int32)
    return saturate_int16(tiled >> shift).reshape(samples.shape)


@kernel("SignalFftAutoScale", types=(DType.INT16,))
def fft_auto_scale(ctx: OpContext) -> tuple[np.ndarray, np.ndarray]:
    """Samples shifted left so the largest magnitude reaches bit 14, and the shift."""
    samples = ctx.input(0).astype(np.int32)
    largest = _max_abs16(samples)
    # MostSignificantBit32 of the int16 as uint32; __builtin_clz makes it 32 for 0
    msb = 32 if largest <= 0 else largest.bit_length()
    shift = max(16 - msb - 1, 0)
    scaled = (samples << shift).astype(np.int16)  # C's int -> int16 conversion wraps
    return scaled, np.array(shift, dtype=np.int32)


def _max_abs16(samples: np.ndarray) -> int:
    """MaxAbs16: a running int16 maximum of the magnitudes. The magnitude of -32768 wraps to
    -32768, which a later larger sample replaces: only then does the order of samples matter."""
    if not (samples == -32768).any():
        return int(np.max(np.abs(samples), initial=0))
    largest = 0
    for value in samples.tolist():
        if value > largest:
            largest = value
        elif -value > largest:
            largest = -value if value != -32768 else -32768
    return largest


def _fft_arithmetic(ctx: OpContext) -> kissfft.Arithmetic:
    dtype = ctx.output_tensor().dtype
    if dtype not in _ARITHMETIC:
        raise UnsupportedOperatorError(ctx.op.label, f"{ctx.op.op_type} of {dtype} is not supported by TFLite Micro")
    return _ARITHMETIC[dtype]


@kernel("SignalRfft", types=tuple(_ARITHMETIC))
def rfft(ctx: OpContext) -> np.ndarray:
    """Each frame (the last axis) zero-padded to fft_length, its n/2 + 1 bins as interleaved
    (real, imaginary) pairs."""
    fft_length = signal_attributes(ctx.op, "fft_length")["fft_length"]
    samples = ctx.input(0)
    frames = np.zeros((samples.size // samples.shape[-1], fft_length), dtype=samples.dtype)
    frames[:, : samples.shape[-1]] = samples.reshape(-1, samples.shape[-1])
    real, imag = kissfft.real_fft(_fft_arithmetic(ctx), frames)
    spectrum = np.stack([real, imag], axis=-1).astype(samples.dtype)
    return spectrum.reshape(ctx.output_tensor().shape)


@kernel("SignalIrfft", types=tuple(_ARITHMETIC))
def irfft(ctx: OpContext) -> np.ndarray:
    """Each frame's n/2 + 1 (real, imaginary) bins back to fft_length samples; float32 divided by
    fft_length (TFLM's float kernel does, the fixed-point ones keep KISS FFT's per-stage scaling)."""
    fft_length = signal_attributes(ctx.op, "fft_length")["fft_length"]
    bins = ctx.input(0)
    pairs = bins.reshape(-1, bins.shape[-1] // 2, 2)
    arith = _fft_arithmetic(ctx)
    frames = kissfft.inverse_real_fft(arith, (pairs[..., 0], pairs[..., 1]))
    if not arith.fixed:
        frames = (frames / np.float32(fft_length)).astype(np.float32)
    return frames.astype(bins.dtype).reshape(ctx.output_tensor().shape)


@kernel("SignalEnergy", types=(DType.INT16,))
def energy(ctx: OpContext) -> np.ndarray:
    """real² + imag² of the bins start_index..end_index (others are left 0: TFLM does not write them)."""
    span = signal_attributes(ctx.op, "start_index", "end_index")
    pairs = ctx.input(0).reshape(-1, 2).astype(np.int64)
    power = np.zeros(pairs.shape[0], dtype=np.uint32)
    chosen = slice(span["start_index"], span["end_index"])
    power[chosen] = ((pairs[chosen] ** 2).sum(axis=1) & 0xFFFFFFFF).astype(np.uint32)
    return power
