"""CONV_2D and DEPTHWISE_CONV_2D as TFLite Micro's reference kernels compute them.

Also the pieces the other windowed and weighted operators share: the geometry of
a sliding window (TFLite's padding rule), per-channel requantization parameters
(PopulateConvolutionQuantizationParams) and the requantize-offset-clamp epilogue.

Integer kernels are exact: int8/int16 × int8 dot products are summed as float64
(every partial sum is an integer far below 2^53, so BLAS order does not matter),
then wrapped to int32 where TFLM accumulates in int32. Float kernels add their
float32 products in the reference loops' order, so they match TFLM and LiteRT bit
for bit rather than within a tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mcudeploy.engine.activation import float_activation_range, quantized_activation_range
from mcudeploy.engine.fixedpoint import (
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_int64,
    quantize_multipliers,
    round_half_away_f32,
    wrap_int32,
)
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import Activation, DType, Padding, Tensor
from mcudeploy.ir.options import Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions

# ---------------------------------------------------------------- window geometry


@dataclass(frozen=True)
class Window:
    """Where each output pixel of a sliding-window operator reads its input (NHWC)."""

    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_top: int
    pad_left: int
    out_h: int
    out_w: int

    @property
    def taps(self) -> list[tuple[int, int]]:
        """Kernel positions (row, column) in the order TFLite's loops visit them."""
        return [(fy, fx) for fy in range(self.filter_h) for fx in range(self.filter_w)]


def make_window(
    options: Conv2DOptions | DepthwiseConv2DOptions | Pool2DOptions,
    input_shape: tuple[int, ...],
    filter_hw: tuple[int, int],
    output_shape: tuple[int, ...],
) -> Window:
    """The window of a conv/pool operator: TFLite's ComputePaddingHeightWidth.

    The leading padding is half the total (rounded down), the total being
    derived from the output size the padding rule implies; the loops then run
    over the output tensor's own size.
    """
    dilation_h = getattr(options, "dilation_h", 1)
    dilation_w = getattr(options, "dilation_w", 1)
    return Window(
        filter_h=filter_hw[0],
        filter_w=filter_hw[1],
        stride_h=options.stride_h,
        stride_w=options.stride_w,
        dilation_h=dilation_h,
        dilation_w=dilation_w,
        pad_top=_leading_padding(options.padding, input_shape[1], filter_hw[0], options.stride_h, dilation_h),
        pad_left=_leading_padding(options.padding, input_shape[2], filter_hw[1], options.stride_w, dilation_w),
        out_h=output_shape[1],
        out_w=output_shape[2],
    )


def _leading_padding(padding: Padding, in_size: int, filter_size: int, stride: int, dilation: int) -> int:
    effective_filter = (filter_size - 1) * dilation + 1
    if padding == Padding.SAME:
        out_size = (in_size + stride - 1) // stride
    else:
        out_size = (in_size + stride - effective_filter) // stride
    total = (out_size - 1) * stride + effective_filter - in_size
    return max(total, 0) // 2


def pad_for_window(x: np.ndarray, window: Window, fill) -> np.ndarray:
    """`x` (NHWC) padded with `fill` so that every tap of every output pixel lies inside.

    Padding with a value that adds nothing (0 after the input offset, the lowest
    value for a max) reproduces TFLite skipping the taps outside the image.
    """
    _, height, width, _ = x.shape
    needed_h = (window.out_h - 1) * window.stride_h + (window.filter_h - 1) * window.dilation_h + 1
    needed_w = (window.out_w - 1) * window.stride_w + (window.filter_w - 1) * window.dilation_w + 1
    pad_bottom = max(needed_h - window.pad_top - height, 0)
    pad_right = max(needed_w - window.pad_left - width, 0)
    if window.pad_top == pad_bottom == window.pad_left == pad_right == 0:
        return x
    padded = np.full(
        (x.shape[0], height + window.pad_top + pad_bottom, width + window.pad_left + pad_right, x.shape[3]),
        fill,
        dtype=x.dtype,
    )
    padded[:, window.pad_top : window.pad_top + height, window.pad_left : window.pad_left + width] = x
    return padded


def tap_view(padded: np.ndarray, window: Window, fy: int, fx: int) -> np.ndarray:
    """The input pixels (N, out_h, out_w, C) that kernel position (fy, fx) meets, as a view."""
    top = fy * window.dilation_h
    left = fx * window.dilation_w
    return padded[
        :,
        top : top + (window.out_h - 1) * window.stride_h + 1 : window.stride_h,
        left : left + (window.out_w - 1) * window.stride_w + 1 : window.stride_w,
        :,
    ]


def window_view(padded: np.ndarray, window: Window) -> np.ndarray:
    """All taps at once, (N, out_h, out_w, filter_h, filter_w, C), as a strided view (im2col without copying)."""
    batch, _, _, channels = padded.shape
    s_batch, s_row, s_col, s_channel = padded.strides
    return np.lib.stride_tricks.as_strided(
        padded,
        shape=(batch, window.out_h, window.out_w, window.filter_h, window.filter_w, channels),
        strides=(
            s_batch,
            s_row * window.stride_h,
            s_col * window.stride_w,
            s_row * window.dilation_h,
            s_col * window.dilation_w,
            s_channel,
        ),
        writeable=False,
    )


# ------------------------------------------------------------ quantization epilogue


@dataclass(frozen=True)
class Requantization:
    """What turns an accumulator into an output value: multiplier, shift, offset and clamp range."""

    multipliers: np.ndarray
    shifts: np.ndarray
    output_offset: int
    act_min: int
    act_max: int


def conv_real_multipliers(input_t: Tensor, filter_t: Tensor, output_t: Tensor, channels: int) -> np.ndarray:
    """PopulateConvolutionQuantizationParams: input_scale · filter_scale / output_scale per
    output channel, in double (a per-tensor filter scale is broadcast to every channel)."""
    filter_scales = np.broadcast_to(filter_t.quantization.scale, (channels,))
    return input_t.quantization.single_scale * filter_scales / output_t.quantization.single_scale


def make_requantization(
    real_multipliers: np.ndarray, activation: Activation, output_t: Tensor, output_offset: int
) -> Requantization:
    """QuantizeMultiplier of each real multiplier, and the clamp range of the fused activation."""
    multipliers, shifts = _quantized_multipliers(np.ascontiguousarray(real_multipliers, dtype=np.float64).tobytes())
    act_min, act_max = quantized_activation_range(activation, output_t)
    return Requantization(multipliers, shifts, output_offset, act_min, act_max)


@lru_cache(maxsize=1024)
def _quantized_multipliers(real_multipliers: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Cached: the same layer asks again on every run."""
    return quantize_multipliers(np.frombuffer(real_multipliers, dtype=np.float64))


def requantize(acc: np.ndarray, params: Requantization, dtype: np.dtype, wide: bool = False) -> np.ndarray:
    """MultiplyByQuantizedMultiplier per channel (last axis), add the output offset, clamp.

    `wide` selects the int64-accumulator variant of the 16x8 kernels (int64 bias).
    """
    scale = multiply_by_quantized_multiplier_int64 if wide else multiply_by_quantized_multiplier
    scaled = wrap_int32(scale(acc, params.multipliers, params.shifts) + params.output_offset)
    return np.clip(scaled, params.act_min, params.act_max).astype(dtype)


def add_bias(acc: np.ndarray, bias: np.ndarray | None, wide: bool) -> np.ndarray:
    """acc + bias in the accumulator's C type: int64 when `wide`, else int32 with wrap-around."""
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    return acc if wide else wrap_int32(acc)


def clamp_float(values: np.ndarray, activation: Activation) -> np.ndarray:
    """Fused activation of a float kernel, in float32. Without a bound TFLite still clamps to
    the finite float range, so ±inf become ±FLT_MAX (NaN stays NaN)."""
    low, high = float_activation_range(activation)
    finite = np.finfo(np.float32)
    return np.clip(values, max(np.float32(low), finite.min), min(np.float32(high), finite.max)).astype(np.float32)


def float_bias_add(acc: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """The bias added to the finished float32 sum, as the reference does (not as its first term)."""
    return acc if bias is None else acc + bias.astype(np.float32)


def exact_dot(lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Integer matrix product through float64 BLAS; exact while sums stay below 2^53."""
    product = np.matmul(lhs.astype(np.float64, copy=False), rhs.astype(np.float64, copy=False))
    return np.rint(product).astype(np.int64)


def ordered_float32_dot(lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """lhs (..., P, K) @ rhs (..., K, F) as the float reference loops compute it: term k = 0, 1, ...
    added one at a time in float32, rounding after each product and each sum (BLAS orders differ)."""
    lhs_by_term = np.moveaxis(lhs.astype(np.float32, copy=False), -1, 0)[..., None]
    rhs_by_term = np.moveaxis(rhs.astype(np.float32, copy=False), -2, 0)[..., None, :]
    out_shape = lhs.shape[:-1] + rhs.shape[-1:]
    outputs, terms = math.prod(out_shape), lhs.shape[-1]
    if outputs <= _FEW_OUTPUTS and outputs * terms <= _PRODUCTS_AT_ONCE:
        # Few outputs (a fully connected layer): a loop would be all overhead. accumulate is
        # sequential by definition; adding +0 turns an all -0.0 sum into the +0.0 the reference,
        # which starts from +0.0, returns.
        return np.add.accumulate(lhs_by_term * rhs_by_term, axis=0)[-1] + np.float32(0)
    acc = np.zeros(out_shape, dtype=np.float32)
    product = np.empty_like(acc)
    for lhs_term, rhs_term in zip(np.ascontiguousarray(lhs_by_term), np.ascontiguousarray(rhs_by_term), strict=True):
        np.multiply(lhs_term, rhs_term, out=product)
        acc += product
    return acc


_FEW_OUTPUTS = 2048
_PRODUCTS_AT_ONCE = 1 << 22


def wide_accumulator(input_t: Tensor, bias_t: Tensor | None) -> bool:
    """16x8 kernels accumulate in int64 unless their bias is int32."""
    return input_t.dtype == DType.INT16 and (bias_t is None or bias_t.dtype != DType.INT32)


# ---------------------------------------------------------------------- CONV_2D


@kernel("CONV_2D")
def conv_2d(ctx: OpContext) -> np.ndarray:
    input_t, filter_t, output_t = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    x, weights, bias = ctx.input(0), ctx.input(1), ctx.input(2)
    window = make_window(ctx.options, x.shape, weights.shape[1:3], output_t.shape)
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.FLOAT32:
        acc = _conv_sums(x, weights, window, ordered_float32_dot)
        return clamp_float(float_bias_add(acc, bias), ctx.options.activation)
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.INT8:
        return _hybrid_conv(ctx, window)
    check_integer_types(ctx, "CONV_2D")
    wide = wide_accumulator(input_t, ctx.input_tensor(2))
    acc = _conv_sums(_offset_input(x, input_t), weights, window, exact_dot)
    real_multipliers = conv_real_multipliers(input_t, filter_t, output_t, weights.shape[0])
    params = make_requantization(real_multipliers, ctx.options.activation, output_t, _output_offset(output_t))
    return requantize(add_bias(acc, bias, wide), params, output_t.dtype.numpy, wide)


def _conv_sums(x: np.ndarray, weights: np.ndarray, window: Window, dot) -> np.ndarray:
    """Σ input · filter per output pixel and channel, summed by `dot` over (filter row, column, channel)
    in that order (grouped when the filter is shallower than the input). Zeros pad the outside."""
    out_channels, filter_h, filter_w, group_depth = weights.shape
    batch, channels = x.shape[0], x.shape[3]
    groups = channels // group_depth
    padded = pad_for_window(x, window, 0)
    pixels = batch * window.out_h * window.out_w
    if filter_h == filter_w == window.stride_h == window.stride_w == 1:
        columns = padded[:, : window.out_h, : window.out_w, :].reshape(pixels, 1, groups, group_depth)
    else:
        columns = window_view(padded, window).reshape(pixels, filter_h * filter_w, groups, group_depth)
    # (groups, pixels, taps·depth) @ (groups, taps·depth, filters per group)
    lhs = columns.transpose(2, 0, 1, 3).reshape(groups, pixels, -1)
    rhs = weights.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1)
    sums = dot(lhs, rhs)  # (groups, pixels, filters per group)
    return sums.transpose(1, 0, 2).reshape(batch, window.out_h, window.out_w, out_channels)


def _offset_input(x: np.ndarray, input_t: Tensor) -> np.ndarray:
    """Input (as float64, the matmul's type) with TFLM's input offset applied: int8 kernels add
    -zero_point, 16x8 kernels none."""
    values = x.astype(np.float64)
    if input_t.dtype == DType.INT8:
        values -= input_t.quantization.single_zero_point
    return values


def _output_offset(output_t: Tensor) -> int:
    """The int8 conv kernels add the output zero point; the 16x8 ones do not."""
    return output_t.quantization.single_zero_point if output_t.dtype == DType.INT8 else 0


def check_integer_types(ctx: OpContext, op_name: str) -> None:
    """TFLM's integer kernels: int8 or int16 activations with int8 weights."""
    input_t, filter_t = ctx.input_tensor(0), ctx.input_tensor(1)
    if input_t.dtype not in (DType.INT8, DType.INT16) or filter_t.dtype != DType.INT8:
        raise UnsupportedOperatorError(
            op_name, f"{input_t.dtype} input with {filter_t.dtype} filter is not supported (TFLite Micro refuses it)"
        )


# ---------------------------------------------- CONV_2D hybrid (float input, int8 filter)


def _hybrid_conv(ctx: OpContext, window: Window) -> np.ndarray:
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
        sums = _conv_sums(quantized, weights, window, exact_dot)
        acc = sums.astype(np.float32) * (input_scales * scales[0])[:, None, None, None]
    else:
        quantized, input_scales, input_offsets = _asymmetric_quantize_per_batch(x)
        centered = quantized - input_offsets[:, None, None, None]  # zero where padding skips a tap
        sums = _conv_sums(centered, weights, window, exact_dot)
        channel_scales = np.broadcast_to(scales, (weights.shape[0],))
        acc = sums.astype(np.float32) * channel_scales * input_scales[:, None, None, None]
    return clamp_float(float_bias_add(acc, bias), ctx.options.activation)


# LiteRT's x86 wheels quantize hybrid inputs with tensor_utils' NEON code (through
# NEON_2_SSE), which differs from the portable code in small ways reproduced here:
# rounding, and the asymmetric range taken in float32.


def _symmetric_quantize_per_batch(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SymmetricQuantizeFloats over each batch: q = round(x · 127 / max|x|) in float32, scale max|x| / 127."""
    flat = x.reshape(x.shape[0], -1).astype(np.float32)
    ranges = np.maximum(np.abs(flat.min(axis=1)), np.abs(flat.max(axis=1)))
    nonzero = ranges != 0
    safe = np.where(nonzero, ranges, np.float32(1))
    scales = np.where(nonzero, safe / np.float32(127), np.float32(1)).astype(np.float32)
    inverse = (np.float32(127) / safe).astype(np.float32)
    quantized = np.clip(_neon_round(flat * inverse[:, None]), -127, 127) * nonzero[:, None]
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


# ------------------------------------------------------------ DEPTHWISE_CONV_2D


@kernel("DEPTHWISE_CONV_2D")
def depthwise_conv_2d(ctx: OpContext) -> np.ndarray:
    input_t, filter_t, output_t = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    x, weights, bias = ctx.input(0), ctx.input(1), ctx.input(2)
    window = make_window(ctx.options, x.shape, weights.shape[1:3], output_t.shape)
    out_channels = weights.shape[3]
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.FLOAT32:
        acc = _depthwise_sums(x, weights, window, np.float32)
        return clamp_float(float_bias_add(acc, bias), ctx.options.activation)
    check_integer_types(ctx, "DEPTHWISE_CONV_2D")
    bias_t = ctx.input_tensor(2)
    if input_t.dtype == DType.INT16 and bias_t is not None and bias_t.dtype != DType.INT64:
        raise UnsupportedOperatorError("DEPTHWISE_CONV_2D", "16x8 depthwise convolution needs an int64 bias")
    wide = input_t.dtype == DType.INT16
    offset_x = x.astype(np.int64 if wide else np.int32)
    if not wide:
        offset_x -= np.int32(input_t.quantization.single_zero_point)
    acc = _depthwise_sums(offset_x, weights, window, np.int64 if wide else np.int32)
    real_multipliers = conv_real_multipliers(input_t, filter_t, output_t, out_channels)
    params = make_requantization(real_multipliers, ctx.options.activation, output_t, _output_offset(output_t))
    return requantize(add_bias(acc.astype(np.int64), bias, wide), params, output_t.dtype.numpy, wide)


def _depthwise_sums(x: np.ndarray, weights: np.ndarray, window: Window, acc_type) -> np.ndarray:
    """Σ over kernel taps, in TFLite's tap order, of input channel c · filter channel c·M + m.

    Accumulating tap by tap in the kernel's own type reproduces its arithmetic
    exactly: int32 wraps as C does, float32 rounds after each product and sum.
    """
    batch, _, _, channels = x.shape
    multiplier = weights.shape[3] // channels
    padded = pad_for_window(x.astype(acc_type, copy=False), window, 0)
    per_tap = weights.reshape(window.filter_h, window.filter_w, channels, multiplier).astype(acc_type)
    acc = np.zeros((batch, window.out_h, window.out_w, channels, multiplier), dtype=acc_type)
    for fy, fx in window.taps:
        acc += tap_view(padded, window, fy, fx)[..., None] * per_tap[fy, fx]
    return acc.reshape(batch, window.out_h, window.out_w, channels * multiplier)
