"""CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D: the sliding-window kernels."""

from __future__ import annotations

import numpy as np

from mcudeploy.codegen.cformat import float_literal
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType, Loops, WeightLayout
from mcudeploy.kernels.contracts import grouped_planes
from mcudeploy.kernels.depthwise_routines import folded_entry
from mcudeploy.params.conv import WindowParams, prepare

DEPTHWISE_CHUNK = 16
"""MD_DEPTHWISE_CHUNK: output channels the streaming depthwise kernel holds before writing them."""


def float_bounds(clamp: tuple[np.float32, np.float32]) -> tuple[str, str]:
    """A float kernel's clamp as C literals (no bound is +-FLT_MAX, as TFLite)."""
    return float_literal(clamp[0]), float_literal(clamp[1])


def _check_rank4(ctx: LayerContext) -> None:
    if len(ctx.input_tensor(0).shape) != 4 or len(ctx.output_tensor().shape) != 4:
        raise ctx.unsupported("input and output must be NHWC (rank 4)")


def check_integer(ctx: LayerContext, allowed_bias: dict[DType, tuple[DType, ...]]) -> None:
    """int8 or int16 activations (same type in and out), int8 filter (or int4 with int8 activations), a
    bias of an allowed type."""
    input_t, filter_t, output_t, bias_t = (
        ctx.input_tensor(0),
        ctx.input_tensor(1),
        ctx.output_tensor(),
        ctx.input_tensor(2),
    )
    filter_ok = filter_t.dtype == DType.INT8 or (filter_t.dtype == DType.INT4 and input_t.dtype == DType.INT8)
    if input_t.dtype not in allowed_bias or not filter_ok or output_t.dtype != input_t.dtype:
        raise ctx.unsupported(f"{input_t.dtype} input, {filter_t.dtype} filter, {output_t.dtype} output")
    if bias_t is not None and bias_t.dtype not in allowed_bias[input_t.dtype]:
        raise ctx.unsupported(f"{bias_t.dtype} bias with {input_t.dtype} input")
    if filter_t.quantization is None or input_t.quantization is None or output_t.quantization is None:
        raise ctx.unsupported("quantized kernels need scales on input, filter and output")


def int4_call(ctx: LayerContext, kernel: str, *path: int) -> str:
    """The call of an int4-filter kernel (md_*_s4): the int8 kernel's operands, the packed filter, the
    scratch it unpacks into (its contract's size, `kernels.contracts`) and the int8 kernel's path flag."""
    derived = f"{ctx.derived_ref('multipliers')}, {ctx.derived_ref('shifts')}"
    operands = f"{ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, {derived}, {ctx.output_ref()}"
    flags = "".join(f", {flag}" for flag in path)
    return f"{kernel}(&params, {operands}, {ctx.required_scratch('int8_t')}{flags})"


def int4_path(ctx: LayerContext) -> int:
    """The int8 kernel's path behind an int4 convolution: 1, its scratch (im2col columns, channel
    plane) after the unpacked filter, as the contract declares; 0, its scratch-free path, as declared
    or where the plan reserves only the unpacked filter (TFLite Micro's: its output never overlaps
    the input, which the scratch-free path's schedule needs)."""
    contract = ctx.contract
    if ctx.scratch is None:
        raise ctx.unsupported(f"the plan gives no scratch buffer of {contract.least_scratch_bytes} bytes")
    with_scratch = contract.scratch_bytes > contract.least_scratch_bytes
    if with_scratch and ctx.scratch.size >= contract.scratch_bytes:
        return 1
    if with_scratch and ctx.overlapping(0):
        raise ctx.unsupported("the plan gives no scratch for the kernel yet lets the output overlap the input")
    return 0


def _integer_call(ctx: LayerContext, kernel: str, scratch_type: str, suffix: str = "") -> str:
    """The call of an integer kernel; with the layer's live-channel record (`live_records`) or folded
    depthwise record (`fold_records`), its `_live` or `_folded` form, which takes the record after the
    shifts."""
    int16 = ctx.input_tensor(0).dtype == DType.INT16
    kind = next((k for k in ("live", "folds") if k in ctx.derived_names), None)
    form = {None: "", "live": "_live", "folds": "_folded"}[kind]
    record = [] if kind is None else [ctx.derived_ref(kind)]
    return _kernel_call(ctx, f"{kernel}_{'s16' if int16 else 's8'}{suffix}{form}", scratch_type, record)


def _kernel_call(ctx: LayerContext, entry: str, scratch_type: str, extra: list[str]) -> str:
    """The call of an integer kernel entry: input, filter, bias, multipliers, shifts, then `extra`
    (a record, a routine), the output and the scratch."""
    operands = [
        ctx.input_ref(0),
        ctx.input_ref(1),
        ctx.input_ref(2),
        ctx.derived_ref("multipliers"),
        ctx.derived_ref("shifts"),
        *extra,
        ctx.output_ref(),
        ctx.scratch_ref(scratch_type),
    ]
    return f"{entry}(&params, {', '.join(operands)})"


def _grouped_folded_layer(ctx: LayerContext, params: WindowParams) -> LayerCode:
    """md_depthwise_s8_grouped_folded's call, or the entry of a routine made for the layer's shape
    (`folded_entry`) with that routine's source: only the layers that take one name and ship it, so
    other models neither link nor compile it."""
    variant = ctx.contract.variant
    entry, routine, source = folded_entry(params, variant.loops if variant is not None else Loops.UNROLLED)
    call = _kernel_call(ctx, entry, "int8_t", [ctx.derived_ref("folds"), *([routine] if routine else [])])
    sources = ("md_depthwise.c", *([source] if source else []))
    return LayerCode(sources, call, [ctx.params("md_window_params", params)])


# ---------------------------------------------------------------------- CONV_2D


@emits("CONV_2D")
def conv_2d(ctx: LayerContext) -> LayerCode:
    _check_rank4(ctx)
    if ctx.input_tensor(0).dtype == DType.FLOAT32:
        return _float_conv(ctx, ctx.prepared(prepare))
    check_integer(ctx, {DType.INT8: (DType.INT32,), DType.INT16: (DType.INT64, DType.INT32)})
    params = ctx.prepared(prepare)
    declarations = [ctx.params("md_window_params", params)]
    variant = ctx.contract.variant
    if variant is not None and variant.weights == WeightLayout.INT16_PAIRS:
        return _widened_conv(ctx, declarations)
    if ctx.input_tensor(1).dtype == DType.INT4:
        return LayerCode(("md_conv_s4.c",), int4_call(ctx, "md_conv_s4", int4_path(ctx)), declarations)
    folded = _folded_bias(ctx, params)
    call = _integer_call(ctx, "md_conv", "int16_t", "" if folded is None else "_folded")
    source = "md_conv_s16.c" if ctx.input_tensor(0).dtype == DType.INT16 else "md_conv.c"
    return LayerCode((source,), call, declarations, folded_bias=folded)


def _folded_bias(ctx: LayerContext, params: WindowParams) -> tuple[int, np.ndarray] | None:
    """The bias with the input offset folded in, bias + input_offset * sum(channel's weights) wrapped
    to int32 (TFLite's int32 sum((x + offset) * w) + bias is the same modulo 2^32), for an int8 layer
    the MVE kernel runs (md_conv_s8_folded: ungrouped, with scratch or 1x1 unpadded) whose bias
    tensor no other layer reads; None otherwise (md_conv_s8 folds it at run time)."""
    bias_t, filter_t = ctx.input_tensor(2), ctx.input_tensor(1)
    pointwise = params.filter_h == params.filter_w == 1 and params.pad_top == params.pad_left == 0
    if (
        ctx.input_tensor(0).dtype != DType.INT8
        or bias_t is None
        or bias_t.data is None
        or filter_t.data is None
        or params.filter_c != params.input_c
        or (ctx.scratch is None and not pointwise)
        or sum(bias_t.index in op.inputs for op in ctx.graph.operators) != 1
    ):
        return None
    sums = filter_t.data.reshape(params.output_c, -1).astype(np.int64).sum(axis=1)
    folded = bias_t.data.astype(np.int64) + int(params.input_offset) * sums
    return bias_t.index, folded.astype(np.uint32).view(np.int32)


def _widened_conv(ctx: LayerContext, declarations: list[str]) -> LayerCode:
    """The filter pre-expanded to int16 in flash (the weights block stores it so): the im2col path,
    int8, not grouped (a depthwise layer: of one input channel, then the convolution it is, its
    params those of that convolution), a 32-bit accumulator, as `estimate.optimize` chooses it."""
    input_c = ctx.input_tensor(0).shape[3]
    depthwise = ctx.op.op_type == "DEPTHWISE_CONV_2D"
    ungrouped = input_c == 1 if depthwise else ctx.input_tensor(1).shape[3] == input_c
    if ctx.input_tensor(0).dtype != DType.INT8 or not ungrouped:
        raise ctx.unsupported("int16 weights need an int8, ungrouped convolution (a depthwise one of one channel)")
    rolled = ctx.contract.variant is not None and ctx.contract.variant.loops == Loops.ROLLED
    entry = "md_conv_s8_w16_rolled" if rolled else "md_conv_s8_w16"  # kernels.loops: where it differs
    call = (
        f"{entry}(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, "
        f"{ctx.derived_ref('multipliers')}, {ctx.derived_ref('shifts')}, {ctx.derived_names.get('walk', 'NULL')}, "
        f"{ctx.output_ref()}, {ctx.required_scratch('int16_t')})"
    )
    return LayerCode(sources=("md_conv_w16.c",), call=call, declarations=declarations)


def _float_conv(ctx: LayerContext, params: WindowParams) -> LayerCode:
    filter_t, output_t = ctx.input_tensor(1), ctx.output_tensor()
    low, high = float_bounds(params.float_clamp)
    declarations = [ctx.params("md_window_params", params)]
    if output_t.dtype != DType.FLOAT32:
        raise ctx.dtype_error(output_t)
    if filter_t.dtype == DType.FLOAT32:
        call = (
            f"md_conv_f32(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, {low}, {high}, "
            f"{ctx.output_ref()}, {ctx.scratch_ref('float')})"
        )
        return LayerCode(("md_conv_f32.c",), call, declarations)
    if filter_t.dtype != DType.INT8:
        raise ctx.dtype_error(filter_t)
    return _hybrid_conv(ctx, declarations, low, high, params.filter_c)


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
    return LayerCode(("md_conv_f32.c",), call, declarations, uses_libm=True)


# ---------------------------------------------------------------------- DEPTHWISE_CONV_2D


@emits("DEPTHWISE_CONV_2D")
def depthwise_conv_2d(ctx: LayerContext) -> LayerCode:
    _check_rank4(ctx)
    input_t, filter_t, output_t = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    _check_depth_multiplier(ctx, output_t.shape[3] // input_t.shape[3])
    if input_t.dtype == DType.FLOAT32:
        if filter_t.dtype != DType.FLOAT32 or output_t.dtype != DType.FLOAT32:
            raise ctx.unsupported(f"{filter_t.dtype} filter with float32 input")
        params = ctx.prepared(prepare)
        declarations = [ctx.params("md_window_params", params)]
        low, high = float_bounds(params.float_clamp)
        call = (
            f"md_depthwise_f32(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, {low}, "
            f"{high}, {ctx.output_ref()}, {ctx.scratch_ref('float')})"
        )
        return LayerCode(("md_depthwise_f32.c",), call, declarations)
    check_integer(ctx, {DType.INT8: (DType.INT32,), DType.INT16: (DType.INT64,)})
    variant = ctx.contract.variant
    if variant is not None and variant.weights == WeightLayout.INT16_PAIRS:
        return _widened_conv(ctx, [ctx.params("md_window_params", ctx.prepared(prepare))])
    if filter_t.dtype == DType.INT4:
        declarations = [ctx.params("md_window_params", ctx.prepared(prepare))]
        return LayerCode(("md_depthwise_s4.c",), int4_call(ctx, "md_depthwise_s4", int4_path(ctx)), declarations)
    params = ctx.prepared(prepare)
    grouped = grouped_planes(ctx.graph, ctx.op)
    if grouped and "folds" in ctx.derived_names:
        return _grouped_folded_layer(ctx, params)
    return LayerCode(
        sources=("md_depthwise_s16.c" if input_t.dtype == DType.INT16 else "md_depthwise.c",),
        declarations=[ctx.params("md_window_params", params)],
        # grouped planes (the variant's): md_depthwise_s8_grouped, whose scratch holds several planes
        call=_integer_call(
            ctx,
            "md_depthwise",
            "int8_t" if input_t.dtype == DType.INT8 else "int16_t",
            "_grouped" if grouped else "",
        ),
    )


def _check_depth_multiplier(ctx: LayerContext, multiplier: int) -> None:
    """The streaming kernel holds at most DEPTHWISE_CHUNK outputs of one input channel before writing:
    a larger multiplier keeps the contract only when the output does not overlap the input."""
    if ctx.scratch is None and multiplier > DEPTHWISE_CHUNK and ctx.overlapping(0):
        raise ctx.unsupported(f"depth multiplier {multiplier} above {DEPTHWISE_CHUNK} with the output on the input")


# ---------------------------------------------------------------------- pooling


@emits("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D")
def pool_2d(ctx: LayerContext) -> LayerCode:
    _check_rank4(ctx)
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    kind = ctx.op.op_type.removesuffix("_POOL_2D").lower()
    if kind == "l2" and input_t.dtype != DType.FLOAT32:
        raise ctx.dtype_error(input_t)
    if input_t.dtype != output_t.dtype:
        raise ctx.unsupported(f"{input_t.dtype} input with {output_t.dtype} output")
    if input_t.dtype not in (DType.FLOAT32, DType.INT8, DType.INT16):
        raise ctx.dtype_error(input_t)
    params = ctx.prepared(prepare)
    declarations = [ctx.params("md_window_params", params)]
    if input_t.dtype == DType.FLOAT32:
        low, high = float_bounds(params.float_clamp)
        call = f"md_{kind}_pool_f32(&params, {ctx.input_ref(0)}, {low}, {high}, {ctx.output_ref()})"
        return LayerCode(("md_pool_f32.c",), call, declarations, uses_libm=kind == "l2")
    call = f"md_{kind}_pool_int(&params, {ctx.input_ref(0)}, {ctx.output_ref()}, {input_t.dtype.itemsize})"
    return LayerCode(("md_pool.c",), call, declarations)
