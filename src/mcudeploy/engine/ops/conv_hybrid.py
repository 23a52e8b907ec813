"""CONV_2D with float input and an int8 filter, as LiteRT's hybrid kernels compute it."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import OpContext
from mcudeploy.engine.weighted import clamp_float, exact_dot, float_bias_add
from mcudeploy.engine.windows import conv_sums
from mcudeploy.params.conv import WindowParams
from mcudeploy.params.quantization import round_half_away_f32


def hybrid_conv(ctx: OpContext, params: WindowParams) -> np.ndarray:
    """LiteRT's hybrid convolution (TFLite Micro refuses hybrid models).

    LiteRT does not dequantize the weights: it quantizes each batch of the input
    to int8 at run time, convolves in integers, then scales the int32 sums back
    to float32. One filter scale: symmetric input quantization (EvalHybrid);
    distinct per-channel scales or groups: asymmetric (EvalHybridPerChannel).
    """
    x, weights, bias = ctx.input(0), ctx.input(1), ctx.input(2)
    scales = ctx.input_tensor(1).quantization.scale.astype(np.float32)
    grouped = weights.shape[3] != x.shape[3]
    if np.all(scales == scales[0]) and not grouped:
        quantized, input_scales = _symmetric_quantize_per_batch(x)
        sums = conv_sums(quantized, weights, params.window, exact_dot)
        acc = sums.astype(np.float32) * (input_scales * scales[0])[:, None, None, None]
    else:
        quantized, input_scales, input_offsets = _asymmetric_quantize_per_batch(x)
        centered = quantized - input_offsets[:, None, None, None]  # zero where padding skips a tap
        sums = conv_sums(centered, weights, params.window, exact_dot)
        channel_scales = np.broadcast_to(scales, (weights.shape[0],))
        acc = sums.astype(np.float32) * channel_scales * input_scales[:, None, None, None]
    return clamp_float(float_bias_add(acc, bias), params.float_clamp)


# LiteRT's x86 wheels quantize hybrid inputs with tensor_utils' NEON code (through
# NEON_2_SSE), which differs from the portable code in small ways reproduced here:
# rounding, and the asymmetric range taken in float32.


def _symmetric_quantize_per_batch(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SymmetricQuantizeFloats over each batch: q = round(x · 127 / max|x|) in float32, scale max|x| / 127.
    A NaN product (an infinite input) quantizes to 0, as Arm's float-to-integer conversions give."""
    flat = x.reshape(x.shape[0], -1).astype(np.float32)
    ranges = np.maximum(np.abs(flat.min(axis=1)), np.abs(flat.max(axis=1)))
    nonzero = ranges != 0
    safe = np.where(nonzero, ranges, np.float32(1))
    scales = np.where(nonzero, safe / np.float32(127), np.float32(1)).astype(np.float32)
    inverse = (np.float32(127) / safe).astype(np.float32)
    products = flat * inverse[:, None]
    quantized = np.clip(_neon_round(np.where(np.isnan(products), 0, products)), -127, 127) * nonzero[:, None]
    return quantized.reshape(x.shape), scales


def _asymmetric_quantize_per_batch(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AsymmetricQuantizeFloats over each batch: the range [min(x, 0), max(x, 0)] onto [-128, 127],
    its width taken in float32, the zero point picked (in double) from the end with the smaller error."""
    flat = x.reshape(x.shape[0], -1).astype(np.float32)
    low = np.minimum(flat.min(axis=1), np.float32(0))
    high = np.maximum(flat.max(axis=1), np.float32(0))
    empty = low == high
    scale = np.where(empty, 1.0, (high - low).astype(np.float64) / 255.0)
    low, high = low.astype(np.float64), high.astype(np.float64)
    from_min_error = 128.0 + np.abs(low / scale)
    from_max_error = 127.0 + np.abs(high / scale)
    zero_point = np.where(from_min_error < from_max_error, -128.0 - low / scale, 127.0 - high / scale)
    offsets = np.where(empty, 0, np.clip(_round_half_away_f64(zero_point), -128, 127)).astype(np.int64)
    scales = scale.astype(np.float32)
    inverse = (1.0 / scales.astype(np.float64)).astype(np.float32)  # a double division, then float
    rounded = _neon_round(flat * inverse[:, None]) + offsets[:, None]
    quantized = np.where(empty[:, None], 0, np.clip(rounded, -128, 127)).astype(np.int64)
    return quantized.reshape(x.shape), scales, offsets


def _neon_round(products: np.ndarray) -> np.ndarray:
    """Rounding of each row as the NEON quantizers do it: blocks of 8 add ±0.5 in float32 and
    truncate (so 0.49999997 rounds up); the remaining tail uses C's round()."""
    nudge = np.where(products < 0, np.float32(-0.5), np.float32(0.5))
    blocked = np.trunc(products + nudge)
    in_blocks = np.arange(products.shape[-1]) < (products.shape[-1] & ~7)
    return np.where(in_blocks, blocked, round_half_away_f32(products))


def _round_half_away_f64(values: np.ndarray) -> np.ndarray:
    """C's round() on doubles (floor(x + 0.5) would misround 0.49999999999999994)."""
    magnitude = np.abs(values)
    whole = np.floor(magnitude)
    return np.copysign(np.where(magnitude - whole >= 0.5, whole + 1, whole), values)
