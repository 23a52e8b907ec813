"""FULLY_CONNECTED: the input read as [batches, depth] whatever its rank."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits, zero_point
from mcudeploy.codegen.layers.conv import check_integer, float_bounds, requantization
from mcudeploy.engine.activation import quantized_activation_range
from mcudeploy.engine.ops.conv import conv_real_multipliers, wide_accumulator
from mcudeploy.engine.ops.fully_connected import per_tensor_real_multiplier
from mcudeploy.ir import DType


@emits("FULLY_CONNECTED")
def fully_connected(ctx: LayerContext) -> LayerCode:
    input_t, filter_t, output_t = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    output_depth = output_t.shape[-1]
    accum_depth = filter_t.shape[-1]
    shape = {"batches": output_t.size // output_depth, "accum_depth": accum_depth, "output_depth": output_depth}
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.FLOAT32 and output_t.dtype == DType.FLOAT32:
        low, high = float_bounds(ctx.options.activation)
        call = (
            f"md_fully_connected_f32(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, "
            f"{low}, {high}, {ctx.output_ref()})"
        )
        declarations = [ctx.params("md_fully_connected_params", shape)]
        return LayerCode("md_fully_connected.h", ("md_fully_connected_f32.c",), call, declarations)
    check_integer(ctx, {DType.INT8: (DType.INT32,), DType.INT16: (DType.INT32, DType.INT64)})
    per_channel = filter_t.quantization.scale.size > 1
    act_min, act_max = quantized_activation_range(ctx.options.activation, output_t)
    fields = {
        **shape,
        "input_offset": -zero_point(input_t),
        "filter_offset": 0 if per_channel else -zero_point(filter_t),  # per channel: the zero point is ignored
        "output_offset": zero_point(output_t),
        "act_min": act_min,
        "act_max": act_max,
        "per_channel": int(per_channel),
        "accumulator64": int(wide_accumulator(input_t, ctx.input_tensor(2))),
    }
    real_multipliers = (
        conv_real_multipliers(input_t, filter_t, output_t, filter_t.quantization.scale.size)
        if per_channel
        else per_tensor_real_multiplier(input_t, filter_t, output_t)
    )
    kernel = "md_fully_connected_s16" if input_t.dtype == DType.INT16 else "md_fully_connected_s8"
    call = (
        f"{kernel}(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, "
        f"{ctx.derived_ref('multipliers')}, {ctx.derived_ref('shifts')}, {ctx.output_ref()})"
    )
    return LayerCode(
        header="md_fully_connected.h",
        sources=("md_fully_connected.c",),
        call=call,
        declarations=[ctx.params("md_fully_connected_params", fields)],
        derived=requantization(ctx, real_multipliers),
    )
