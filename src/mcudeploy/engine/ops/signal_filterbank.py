"""TFLM's signal operators over filter bank channels: SignalFilterBank, SignalFilterBankSquareRoot,
SignalFilterBankSpectralSubtraction, SignalFilterBankLog and SignalPCAN (signal/src/filter_bank*.cc,
square_root_*.cc, log.cc, pcan_argc_fixed.cc): unsigned integer arithmetic, bit for bit."""

from __future__ import annotations

import math

import numpy as np

from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.ir import DType
from mcudeploy.ir.shapes import signal_attributes
from mcudeploy.params.signal import LOG_SCALE_LOG2, LOG_SEGMENTS_LOG2, log_table

U32 = 0xFFFFFFFF
U64 = (1 << 64) - 1
PCAN_SNR_BITS = 12
PCAN_OUTPUT_BITS = 6
LOG_COEFF = 45426
"""ln(2) in Q16 (round(0.693147 * 65536) is 45426)."""


@kernel("SignalFilterBank", types=(DType.UINT32,))
def filter_bank(ctx: OpContext) -> np.ndarray:
    """Triangular channels over the spectrum: channel i sums its bins times `weights`, plus the bins
    of channel i-1 times `unweights` (the falling half of the previous triangle). Channel 0 of the
    num_channels + 1 is computed and dropped. Sums wrap at 64 bits."""
    channels = signal_attributes(ctx.op, "num_channels")["num_channels"]
    spectrum = ctx.input(0).tolist()
    weights, unweights, starts, weight_starts, widths = (ctx.input(i).tolist() for i in range(1, 6))
    sums, carried = [], 0
    for channel in range(channels + 1):
        weighted, unweighted = carried, 0
        for j in range(widths[channel]):
            energy = spectrum[starts[channel] + j]
            weighted += (weights[weight_starts[channel] + j] & U64) * energy
            unweighted += (unweights[weight_starts[channel] + j] & U64) * energy
        sums.append(weighted & U64)
        carried = unweighted & U64
    return np.array(sums[1:], dtype=np.uint64)


def _sqrt(value: int, bits: int) -> int:
    """Sqrt32 / Sqrt64: the integer square root, then one up when the remainder exceeds the root
    (rounding to nearest), except at the largest root."""
    if value == 0:
        return 0
    root = math.isqrt(value)
    largest = (1 << (bits // 2)) - 1
    return root + 1 if value - root * root > root and root != largest else root


@kernel("SignalFilterBankSquareRoot", types=(DType.UINT64,))
def filter_bank_square_root(ctx: OpContext) -> np.ndarray:
    shift = int(ctx.input(1))
    roots = [_sqrt(v, 64 if v >> 32 else 32) >> shift for v in ctx.input(0).tolist()]
    return np.array(roots, dtype=np.uint32)


@kernel("SignalFilterBankSpectralSubtraction", types=(DType.UINT32,))
def spectral_subtraction(ctx: OpContext) -> tuple[np.ndarray, np.ndarray]:
    """Each channel less a running estimate of its noise (kept across runs, reset to zero), never
    below min_signal_remaining of the channel. Odd channels use the alternate smoothing."""
    names = ("num_channels", "smoothing", "one_minus_smoothing", "alternate_smoothing")
    names += ("alternate_one_minus_smoothing", "smoothing_bits", "min_signal_remaining", "spectral_subtraction_bits")
    a = signal_attributes(ctx.op, *names, "clamping")
    noise = ctx.states.setdefault(spectral_subtraction, [0] * a["num_channels"])
    bits, smoothing_bits = a["spectral_subtraction_bits"], a["smoothing_bits"]
    output = []
    for i, signal in enumerate(ctx.input(0).tolist()):
        odd = i & 1
        smoothing = a["alternate_smoothing" if odd else "smoothing"] & U32
        keep = a["alternate_one_minus_smoothing" if odd else "one_minus_smoothing"] & U32
        scaled = (signal << smoothing_bits) & U32
        noise[i] = (((scaled * smoothing + noise[i] * keep) & U64) >> bits) & U32
        estimate = min(noise[i], scaled)
        if a["clamping"]:
            noise[i] = estimate
        floor = ((signal * (a["min_signal_remaining"] & U32)) >> bits) & U32
        output.append(max((scaled - estimate) >> smoothing_bits, floor))
    return np.array(output, dtype=np.uint32), np.array(noise, dtype=np.uint32)


def _log32(x: int, out_scale: int) -> int:
    """Log32: ln(x) * out_scale / 65536 by the integer part of log2 and a segment-interpolated fraction."""
    integer = x.bit_length() - 1
    frac = x - (1 << integer)
    frac = frac << (LOG_SCALE_LOG2 - integer) if integer < LOG_SCALE_LOG2 else frac >> (integer - LOG_SCALE_LOG2)
    segment = frac >> (LOG_SCALE_LOG2 - LOG_SEGMENTS_LOG2)
    table = log_table()
    c0, c1 = table[segment], table[segment + 1]
    relative = ((c1 - c0) * (frac - (segment << (LOG_SCALE_LOG2 - LOG_SEGMENTS_LOG2)))) >> LOG_SCALE_LOG2
    log2 = ((integer << LOG_SCALE_LOG2) + frac + c0 + relative) & U32
    round_half = 1 << (LOG_SCALE_LOG2 - 1)
    loge = ((LOG_COEFF * log2 + round_half) >> LOG_SCALE_LOG2) & U32
    return (((out_scale * loge) & U32) + round_half & U32) >> LOG_SCALE_LOG2


@kernel("SignalFilterBankLog", types=(DType.UINT32,))
def filter_bank_log(ctx: OpContext) -> np.ndarray:
    a = signal_attributes(ctx.op, "input_correction_bits", "output_scale")
    out_scale = a["output_scale"] & U32
    logs = []
    for value in ctx.input(0).tolist():
        scaled = (value << a["input_correction_bits"]) & U32
        logs.append(min(_log32(scaled, out_scale), 32767) if scaled > 1 else 0)
    return np.array(logs, dtype=np.int16)


def _wide_dynamic_gain(x: int, lut: list[int]) -> int:
    """WideDynamicFunction: the gain for noise estimate x, a quadratic per power of two of x from
    the table (int16 arithmetic as the C code's casts make it)."""
    if x <= 2:
        return lut[x]
    interval = x.bit_length()
    base = 4 * interval - 6
    frac = ((x << (11 - interval)) if interval < 11 else (x >> (interval - 11))) & 0x3FF
    result = (lut[base + 2] * frac) >> 5
    result = _int32(result + _int32((lut[base + 1] & U32) << 5))
    result = _int32(result * frac)
    result = _int32(result + (1 << 14)) >> 15
    result += lut[base]
    return _int16(result)


def _int32(value: int) -> int:
    return ((value + (1 << 31)) & U32) - (1 << 31)


def _int16(value: int) -> int:
    return ((value + (1 << 15)) & 0xFFFF) - (1 << 15)


def _pcan_shrink(snr: int) -> int:
    if snr < (2 << PCAN_SNR_BITS):
        return ((snr * snr) & U32) >> (2 + 2 * PCAN_SNR_BITS - PCAN_OUTPUT_BITS)
    return ((snr >> (PCAN_SNR_BITS - PCAN_OUTPUT_BITS)) - (1 << PCAN_OUTPUT_BITS)) & U32


@kernel("SignalPCAN", types=(DType.UINT32,))
def pcan(ctx: OpContext) -> np.ndarray:
    """Per-channel automatic gain control: each channel times a gain read from its noise estimate,
    then compressed (PcanShrink)."""
    snr_shift = signal_attributes(ctx.op, "snr_shift")["snr_shift"]
    lut = ctx.input(2).tolist()
    output = []
    for value, noise in zip(ctx.input(0).tolist(), ctx.input(1).tolist(), strict=True):
        gain = _wide_dynamic_gain(noise, lut) & U32  # int16 to uint32: negative gains wrap
        output.append(_pcan_shrink(((value * gain) & U64) >> snr_shift & U32))
    return np.array(output, dtype=np.uint32)
