"""CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D and MAX_POOL_2D: the sliding-window kernels."""

from __future__ import annotations

import numpy as np

from mcudeploy.codegen.cformat import float_literal
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits, zero_point
from mcudeploy.engine.activation import float_activation_range, quantized_activation_range
from mcudeploy.engine.fixedpoint import quantize_multipliers
from mcudeploy.engine.ops.conv import Window, conv_real_multipliers, make_window, wide_accumulator
from mcudeploy.ir import Activation, DType, Tensor

FLOAT32_MAX = float(np.finfo(np.float32).max)
DEPTHWISE_CHUNK = 16
"""MD_DEPTHWISE_CHUNK: output channels the streaming depthwise kernel holds before writing them."""


def float_bounds(activation: Activation) -> tuple[str, str]:
    """The float clamp of a fused activation as C literals; no bound is +-FLT_MAX, as TFLite."""
    low, high = float_activation_range(activation)
    return float_literal(max(low, -FLOAT32_MAX)), float_literal(min(high, FLOAT32_MAX))


def requantization(ctx: LayerContext, real_multipliers: np.ndarray) -> dict[str, np.ndarray]:
    """The derived arrays of a weighted layer: QuantizeMultiplier of each real multiplier."""
    multipliers, shifts = quantize_multipliers(np.asarray(real_multipliers, dtype=np.float64))
    return {"multipliers": multipliers.astype(np.int32), "shifts": shifts.astype(np.int32)}


def window_fields(ctx: LayerContext, window: Window, filter_c: int, **extra: object) -> dict[str, object]:
    """The md_window_params of a layer (NHWC input and output)."""
    batches, input_h, input_w, input_c = ctx.input_tensor(0).shape
    output_c = ctx.output_tensor().shape[3]
    fields: dict[str, object] = {
        "batches": batches,
        "input_h": input_h,
        "input_w": input_w,
        "input_c": input_c,
        "filter_h": window.filter_h,
        "filter_w": window.filter_w,
        "filter_c": filter_c,
        "output_h": window.out_h,
        "output_w": window.out_w,
        "output_c": output_c,
        "stride_h": window.stride_h,
        "stride_w": window.stride_w,
        "dilation_h": window.dilation_h,
        "dilation_w": window.dilation_w,
        "pad_top": window.pad_top,
        "pad_left": window.pad_left,
    }
    fields.update(extra)
    return fields


def _check_rank4(ctx: LayerContext) -> None:
    if len(ctx.input_tensor(0).shape) != 4 or len(ctx.output_tensor().shape) != 4:
        raise ctx.unsupported("input and output must be NHWC (rank 4)")


def _integer_fields(ctx: LayerContext, filter_t: Tensor) -> dict[str, object]:
    """Offsets, clamp and accumulator of the integer weighted kernels: int8 kernels add the input's
    -zero point and the output zero point, 16x8 kernels neither."""
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    act_min, act_max = quantized_activation_range(ctx.options.activation, output_t)
    return {
        "input_offset": -zero_point(input_t) if input_t.dtype == DType.INT8 else 0,
        "output_offset": zero_point(output_t) if output_t.dtype == DType.INT8 else 0,
        "act_min": act_min,
        "act_max": act_max,
        "per_channel": int(filter_t.quantization.scale.size > 1),
        "accumulator64": int(wide_accumulator(input_t, ctx.input_tensor(2))),
    }


def check_integer(ctx: LayerContext, allowed_bias: dict[DType, tuple[DType, ...]]) -> None:
    """int8 or int16 activations (same type in and out), int8 filter, a bias of an allowed type."""
    input_t, filter_t, output_t, bias_t = (
        ctx.input_tensor(0),
        ctx.input_tensor(1),
        ctx.output_tensor(),
        ctx.input_tensor(2),
    )
    if input_t.dtype not in allowed_bias or filter_t.dtype != DType.INT8 or output_t.dtype != input_t.dtype:
        raise ctx.unsupported(f"{input_t.dtype} input, {filter_t.dtype} filter, {output_t.dtype} output")
    if bias_t is not None and bias_t.dtype not in allowed_bias[input_t.dtype]:
        raise ctx.unsupported(f"{bias_t.dtype} bias with {input_t.dtype} input")
    if filter_t.quantization is None or input_t.quantization is None or output_t.quantization is None:
        raise ctx.unsupported("quantized kernels need scales on input, filter and output")


def _integer_call(ctx: LayerContext, kernel: str, scratch_type: str) -> str:
    int16 = ctx.input_tensor(0).dtype == DType.INT16
    bias = ctx.input_ref(2)
    return (
        f"{kernel}_{'s16' if int16 else 's8'}(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {bias}, "
        f"{ctx.derived_ref('multipliers')}, {ctx.derived_ref('shifts')}, {ctx.output_ref()}, "
        f"{ctx.scratch_ref(scratch_type)})"
    )


# ---------------------------------------------------------------------- CONV_2D


@emits("CONV_2D")
def conv_2d(ctx: LayerContext) -> LayerCode:
    _check_rank4(ctx)
    input_t, filter_t, output_t = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    window = make_window(ctx.options, input_t.shape, filter_t.shape[1:3], output_t.shape)
    filter_c = filter_t.shape[3]
    if input_t.dtype == DType.FLOAT32:
        return _float_conv(ctx, window, filter_c)
    check_integer(ctx, {DType.INT8: (DType.INT32,), DType.INT16: (DType.INT64, DType.INT32)})
    real_multipliers = conv_real_multipliers(input_t, filter_t, output_t, filter_t.quantization.scale.size)
    fields = window_fields(ctx, window, filter_c, **_integer_fields(ctx, filter_t))
    return LayerCode(
        header="md_conv.h",
        sources=("md_conv.c",),
        declarations=[ctx.params("md_window_params", fields)],
        call=_integer_call(ctx, "md_conv", "int16_t"),
        derived=requantization(ctx, real_multipliers),
    )


def _float_conv(ctx: LayerContext, window: Window, filter_c: int) -> LayerCode:
    filter_t, output_t = ctx.input_tensor(1), ctx.output_tensor()
    low, high = float_bounds(ctx.options.activation)
    declarations = [ctx.params("md_window_params", window_fields(ctx, window, filter_c))]
    if output_t.dtype != DType.FLOAT32:
        raise ctx.dtype_error(output_t)
    if filter_t.dtype == DType.FLOAT32:
        call = (
            f"md_conv_f32(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, {low}, {high}, "
            f"{ctx.output_ref()}, {ctx.scratch_ref('float')})"
        )
        return LayerCode("md_conv.h", ("md_conv_f32.c",), call, declarations)
    if filter_t.dtype != DType.INT8:
        raise ctx.dtype_error(filter_t)
    return _hybrid_conv(ctx, declarations, low, high, filter_c)


def _hybrid_conv(ctx: LayerContext, declarations: list[str], low: str, high: str, filter_c: int) -> LayerCode:
    """Float input with an int8 filter: LiteRT's symmetric hybrid kernel (one filter scale, no groups,
    batch 1). The asymmetric per-channel variant is not in the C library."""
    input_t, filter_t = ctx.input_tensor(0), ctx.input_tensor(1)
    scales = filter_t.quantization.scale.astype(np.float32)
    if not np.all(scales == scales[0]) or filter_c != input_t.shape[3] or input_t.shape[0] != 1:
        raise ctx.unsupported("hybrid convolution with per-channel scales, groups or batches")
    call = (
        f"md_conv_hybrid_f32(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {float_literal(scales[0])}, "
        f"{ctx.input_ref(2)}, {low}, {high}, {ctx.output_ref()}, {ctx.scratch_ref('int32_t')})"
    )
    return LayerCode("md_conv.h", ("md_conv_f32.c",), call, declarations, uses_libm=True)


# ---------------------------------------------------------------------- DEPTHWISE_CONV_2D


@emits("DEPTHWISE_CONV_2D")
def depthwise_conv_2d(ctx: LayerContext) -> LayerCode:
    _check_rank4(ctx)
    input_t, filter_t, output_t = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    window = make_window(ctx.options, input_t.shape, filter_t.shape[1:3], output_t.shape)
    _check_depth_multiplier(ctx, output_t.shape[3] // input_t.shape[3])
    if input_t.dtype == DType.FLOAT32:
        if filter_t.dtype != DType.FLOAT32 or output_t.dtype != DType.FLOAT32:
            raise ctx.unsupported(f"{filter_t.dtype} filter with float32 input")
        low, high = float_bounds(ctx.options.activation)
        call = (
            f"md_depthwise_f32(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, {low}, "
            f"{high}, {ctx.output_ref()}, {ctx.scratch_ref('float')})"
        )
        declarations = [ctx.params("md_window_params", window_fields(ctx, window, 1))]
        return LayerCode("md_depthwise.h", ("md_depthwise_f32.c",), call, declarations)
    check_integer(ctx, {DType.INT8: (DType.INT32,), DType.INT16: (DType.INT64,)})
    real_multipliers = conv_real_multipliers(input_t, filter_t, output_t, filter_t.quantization.scale.size)
    fields = window_fields(ctx, window, 1, **_integer_fields(ctx, filter_t))
    fields["accumulator64"] = int(input_t.dtype == DType.INT16)
    return LayerCode(
        header="md_depthwise.h",
        sources=("md_depthwise.c",),
        declarations=[ctx.params("md_window_params", fields)],
        call=_integer_call(ctx, "md_depthwise", "int8_t" if input_t.dtype == DType.INT8 else "int16_t"),
        derived=requantization(ctx, real_multipliers),
    )


def _check_depth_multiplier(ctx: LayerContext, multiplier: int) -> None:
    """The streaming kernel holds at most DEPTHWISE_CHUNK outputs of one input channel before writing:
    a larger multiplier keeps the contract only when the output does not overlap the input."""
    if ctx.scratch is None and multiplier > DEPTHWISE_CHUNK and ctx.overlapping(0):
        raise ctx.unsupported(f"depth multiplier {multiplier} above {DEPTHWISE_CHUNK} with the output on the input")


# ---------------------------------------------------------------------- pooling


@emits("AVERAGE_POOL_2D", "MAX_POOL_2D")
def pool_2d(ctx: LayerContext) -> LayerCode:
    _check_rank4(ctx)
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    options = ctx.options
    window = make_window(options, input_t.shape, (options.filter_h, options.filter_w), output_t.shape)
    kind = "average" if ctx.op.op_type == "AVERAGE_POOL_2D" else "max"
    if input_t.dtype != output_t.dtype:
        raise ctx.unsupported(f"{input_t.dtype} input with {output_t.dtype} output")
    if input_t.dtype == DType.FLOAT32:
        low, high = float_bounds(options.activation)
        declarations = [ctx.params("md_window_params", window_fields(ctx, window, 1))]
        call = f"md_{kind}_pool_f32(&params, {ctx.input_ref(0)}, {low}, {high}, {ctx.output_ref()})"
        return LayerCode("md_pool.h", ("md_pool_f32.c",), call, declarations)
    if input_t.dtype not in (DType.INT8, DType.INT16):
        raise ctx.dtype_error(input_t)
    act_min, act_max = quantized_activation_range(options.activation, output_t)
    fields = window_fields(ctx, window, 1, act_min=act_min, act_max=act_max)
    call = f"md_{kind}_pool_int(&params, {ctx.input_ref(0)}, {ctx.output_ref()}, {input_t.dtype.itemsize})"
    return LayerCode("md_pool.h", ("md_pool.c",), call, [ctx.params("md_window_params", fields)])
