"""CONV_2D and DEPTHWISE_CONV_2D as TFLite Micro's reference kernels compute them.

Also the pieces the other windowed and weighted operators share: the geometry of
a sliding window (TFLite's padding rule), per-channel requantization parameters
(PopulateConvolutionQuantizationParams) and the requantizer of integer kernels.

Integer kernels are exact and do their per-operator work once (`OpContext.prepared`):
the input offset is folded into the bias, so they sum raw input × filter products,
through BLAS in float32 when every partial sum provably stays below 2^24 and in
float64 otherwise (all partial sums are then exact integers, whatever BLAS's order);
the requantizer models int32 wrap-around wherever bounds do not rule it out. Float
kernels add their float32 products in the reference loops' order, so they match
TFLM and LiteRT bit for bit rather than within a tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mcudeploy.engine.activation import float_activation_range, quantized_activation_range
from mcudeploy.engine.fixedpoint import Requantizer, make_requantizer, round_half_away_f32
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


def prepare_window(ctx: OpContext) -> Window:
    """The window of a convolution (filter size from input 1) or a pooling (from its options)."""
    options = ctx.options
    filter_t = ctx.input_tensor(1)
    filter_hw = filter_t.shape[1:3] if filter_t is not None else (options.filter_h, options.filter_w)
    return make_window(options, ctx.input_tensor(0).shape, filter_hw, ctx.output_tensor().shape)


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


def conv_real_multipliers(input_t: Tensor, filter_t: Tensor, output_t: Tensor, channels: int) -> np.ndarray:
    """PopulateConvolutionQuantizationParams: input_scale · filter_scale / output_scale per
    output channel, in double (a per-tensor filter scale is broadcast to every channel)."""
    filter_scales = np.broadcast_to(filter_t.quantization.scale, (channels,))
    return input_t.quantization.single_scale * filter_scales / output_t.quantization.single_scale


def integer_requantizer(
    ctx: OpContext,
    weights: np.ndarray,
    bias: np.ndarray | None,
    input_offset: int,
    real_multipliers: np.ndarray,
    output_offset: int,
) -> Requantizer:
    """The requantizer of an integer kernel that sums raw inputs x against `weights` (terms, channels).

    TFLite adds `input_offset` to every input: Σ (x + offset) · w + bias is computed as
    Σ x · w + (bias + offset · Σ w), so the kernel multiplies the raw input and the offset joins
    the bias.
    """
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    bias_values = 0 if bias is None else bias.astype(np.int64)
    return make_requantizer(
        real_multipliers,
        bias_values + input_offset * weights.astype(np.int64).sum(axis=0),
        output_offset,
        quantized_activation_range(ctx.options.activation, output_t),
        output_t.dtype.numpy,
        wide=wide_accumulator(input_t, ctx.input_tensor(2)),
        sum_bound=sum_bound(input_t, weights),
    )


def sum_bound(input_t: Tensor, weights: np.ndarray) -> np.ndarray:
    """Per channel, the largest |Σ x · w| of raw inputs x against `weights` (terms, channels)
    and of any partial sum: the largest |x| times Σ |w|."""
    return -int(np.iinfo(input_t.dtype.numpy).min) * np.abs(weights.astype(np.int64)).sum(axis=0)


def exact_float_type(bound: np.ndarray) -> type[np.floating]:
    """The float type in which BLAS sums integer products exactly, whatever its order: float32
    when every partial sum stays below 2^24 (all are integers then, each exactly representable),
    float64 (below 2^53) otherwise."""
    return np.float32 if bound.size and bound.max() < 1 << 24 else np.float64


def wide_accumulator(input_t: Tensor, bias_t: Tensor | None) -> bool:
    """16x8 kernels accumulate in int64 unless their bias is int32."""
    return input_t.dtype == DType.INT16 and (bias_t is None or bias_t.dtype != DType.INT32)


def runtime_parameters(ctx: OpContext) -> bool:
    """Whether the filter or the bias is computed at run time, so it cannot be prepared once."""
    return ctx.input(1) is None or (ctx.input(2) is None and ctx.input_tensor(2) is not None)


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


# ---------------------------------------------------------------------- CONV_2D


@kernel("CONV_2D")
def conv_2d(ctx: OpContext) -> np.ndarray:
    input_t, filter_t = ctx.input_tensor(0), ctx.input_tensor(1)
    window = ctx.prepared(prepare_window)
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.FLOAT32:
        acc = _conv_sums(ctx.input(0), ctx.input(1), window, ordered_float32_dot)
        return clamp_float(float_bias_add(acc, ctx.input(2)), ctx.options.activation)
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.INT8:
        return _hybrid_conv(ctx, window)
    return ctx.prepared(_prepare_integer_conv)(ctx.input(0), window)


@dataclass(frozen=True)
class _IntegerConv:
    """An integer convolution with what it derives from its constants: the raw input padded with
    the value that adds nothing, the sums of raw input times filter, the requantizer (into which
    the input offset is folded)."""

    padding_value: int
    sums: Callable[[np.ndarray, Window], np.ndarray]
    requantize: Requantizer

    def __call__(self, x: np.ndarray, window: Window) -> np.ndarray:
        return self.requantize(self.sums(pad_for_window(x, window, self.padding_value), window))


def _prepare_integer_conv(ctx: OpContext) -> _IntegerConv | None:
    if runtime_parameters(ctx):
        return None
    check_integer_types(ctx, "CONV_2D")
    weights = ctx.input(1)
    groups = ctx.input_tensor(0).shape[3] // weights.shape[3]
    return _integer_conv(ctx, weights.reshape(weights.shape[0], -1).T, _MatmulSums.of(ctx, weights, groups))


def _integer_conv(
    ctx: OpContext, weights: np.ndarray, sums: Callable[[np.ndarray, Window], np.ndarray]
) -> _IntegerConv:
    """`weights`: (terms, channels), the filter each output channel's sum runs over."""
    input_t, filter_t, output_t = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    padding_value = _input_zero_point(input_t)
    real_multipliers = conv_real_multipliers(input_t, filter_t, output_t, weights.shape[1])
    requantize = integer_requantizer(
        ctx, weights, ctx.input(2), -padding_value, real_multipliers, _output_offset(output_t)
    )
    return _IntegerConv(padding_value, sums, requantize)


@dataclass(frozen=True)
class _MatmulSums:
    """Σ raw input · filter as one BLAS matmul per group over im2col columns, in a float type
    that keeps the integer sums exact."""

    groups: int
    filters: np.ndarray
    """(groups, taps · group depth, filters per group)"""

    @classmethod
    def of(cls, ctx: OpContext, weights: np.ndarray, groups: int) -> _MatmulSums:
        """From OHWI filters."""
        filters = _grouped_filters(weights, groups)
        float_type = exact_float_type(sum_bound(ctx.input_tensor(0), weights.reshape(weights.shape[0], -1).T))
        return cls(groups, filters.astype(float_type))

    def __call__(self, padded: np.ndarray, window: Window) -> np.ndarray:
        columns = _im2col(padded, window, self.groups).astype(self.filters.dtype)
        return _ungrouped(np.matmul(columns, self.filters), window, padded.shape[0])


def _im2col(padded: np.ndarray, window: Window, groups: int) -> np.ndarray:
    """im2col of a padded NHWC input: (groups, pixels, taps · group depth), the terms of each
    sum in TFLite's order (filter row, column, channel)."""
    pixels = padded.shape[0] * window.out_h * window.out_w
    if window.filter_h == window.filter_w == window.stride_h == window.stride_w == 1:
        columns = padded[:, : window.out_h, : window.out_w, :].reshape(pixels, 1, groups, -1)
    else:
        columns = window_view(padded, window).reshape(pixels, window.filter_h * window.filter_w, groups, -1)
    return columns.transpose(2, 0, 1, 3).reshape(groups, pixels, -1)


def _grouped_filters(weights: np.ndarray, groups: int) -> np.ndarray:
    """OHWI filters as (groups, taps · group depth, filters per group), the right side of the matmul."""
    return weights.reshape(groups, weights.shape[0] // groups, -1).transpose(0, 2, 1)


def _ungrouped(sums: np.ndarray, window: Window, batch: int) -> np.ndarray:
    """(groups, pixels, filters per group) back to NHWC."""
    return sums.transpose(1, 0, 2).reshape(batch, window.out_h, window.out_w, -1)


def _conv_sums(x: np.ndarray, weights: np.ndarray, window: Window, dot) -> np.ndarray:
    """Σ input · filter per output pixel and channel, summed by `dot` over (filter row, column, channel)
    in that order (grouped when the filter is shallower than the input). Zeros pad the outside."""
    groups = x.shape[3] // weights.shape[3]
    columns = _im2col(pad_for_window(x, window, 0), window, groups)
    return _ungrouped(dot(columns, _grouped_filters(weights, groups)), window, x.shape[0])


def _input_zero_point(input_t: Tensor) -> int:
    """int8 kernels add -zero_point to every input value, 16x8 kernels nothing."""
    return input_t.quantization.single_zero_point if input_t.dtype == DType.INT8 else 0


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
    input_t, filter_t = ctx.input_tensor(0), ctx.input_tensor(1)
    window = ctx.prepared(prepare_window)
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.FLOAT32:
        x, weights = ctx.input(0), ctx.input(1)
        per_tap = _per_tap_filters(weights, x.shape[3]).astype(np.float32)
        acc = _sum_over_taps(pad_for_window(x, window, 0), per_tap, window)
        return clamp_float(float_bias_add(acc, ctx.input(2)), ctx.options.activation)
    return ctx.prepared(_prepare_integer_depthwise)(ctx.input(0), window)


def _prepare_integer_depthwise(ctx: OpContext) -> _IntegerConv | None:
    if runtime_parameters(ctx):
        return None
    check_integer_types(ctx, "DEPTHWISE_CONV_2D")
    input_t, bias_t = ctx.input_tensor(0), ctx.input_tensor(2)
    if input_t.dtype == DType.INT16 and bias_t is not None and bias_t.dtype != DType.INT64:
        raise UnsupportedOperatorError("DEPTHWISE_CONV_2D", "16x8 depthwise convolution needs an int64 bias")
    weights = ctx.input(1)
    channels = input_t.shape[3]
    if channels == 1:  # then an ordinary convolution, and one matmul
        sums = _MatmulSums.of(ctx, weights.reshape(-1, weights.shape[3]).T[..., None], channels)
    else:
        accumulator = np.int64 if input_t.dtype == DType.INT16 else np.int32
        all_at_once = ctx.output_tensor().size <= _FEW_DEPTHWISE_OUTPUTS
        sums = _DepthwiseSums(_per_tap_filters(weights, channels).astype(accumulator), all_at_once)
    return _integer_conv(ctx, weights.reshape(-1, weights.shape[3]), sums)


_FEW_DEPTHWISE_OUTPUTS = 4096
"""Up to this many output values, one product of the whole window view and one sum beat a pass
per tap, whose fixed cost dominates on small images."""


@dataclass(frozen=True)
class _DepthwiseSums:
    """Σ raw input · filter in the kernel's accumulator type, where int32 wraps as in C (the
    requantizer then sees the sums modulo 2^32, as TFLite Micro's are, whatever the order)."""

    filters: np.ndarray
    """(filter height, width, input channels, depth multiplier)"""
    all_at_once: bool
    """Every tap in one product, else one pass per tap."""

    def __call__(self, padded: np.ndarray, window: Window) -> np.ndarray:
        if not self.all_at_once:
            return _sum_over_taps(padded, self.filters, window)
        products = window_view(padded, window)[..., None] * self.filters
        sums = products.sum(axis=(3, 4), dtype=self.filters.dtype)
        return sums.reshape(padded.shape[0], window.out_h, window.out_w, -1)


def _per_tap_filters(weights: np.ndarray, channels: int) -> np.ndarray:
    """(1, H, W, C·M) depthwise filters as (H, W, C, M)."""
    return weights.reshape(weights.shape[1], weights.shape[2], channels, -1)


def _sum_over_taps(padded: np.ndarray, per_tap: np.ndarray, window: Window) -> np.ndarray:
    """Σ over kernel taps, in TFLite's tap order, of input channel c · filter channel c·M + m, in
    per_tap's type: int32 wraps as C does, float32 rounds after each product and sum."""
    batch, channels, multiplier = padded.shape[0], padded.shape[3], per_tap.shape[3]
    acc = np.zeros((batch, window.out_h, window.out_w, channels, multiplier), dtype=per_tap.dtype)
    product = np.empty_like(acc)
    for fy, fx in window.taps:
        np.multiply(tap_view(padded, window, fy, fx)[..., None], per_tap[fy, fx], out=product)
        acc += product
    return acc.reshape(batch, window.out_h, window.out_w, channels * multiplier)
