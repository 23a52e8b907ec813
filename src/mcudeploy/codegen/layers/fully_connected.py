"""FULLY_CONNECTED: the input read as [batches, depth] whatever its rank."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.codegen.layers.conv import check_integer, float_bounds, int4_call
from mcudeploy.ir import DType, WeightLayout
from mcudeploy.params.fully_connected import prepare


@emits("FULLY_CONNECTED")
def fully_connected(ctx: LayerContext) -> LayerCode:
    input_t, filter_t, output_t = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.FLOAT32 and output_t.dtype == DType.FLOAT32:
        params = ctx.prepared(prepare)
        low, high = float_bounds(params.float_clamp)
        call = (
            f"md_fully_connected_f32(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, "
            f"{low}, {high}, {ctx.output_ref()})"
        )
        declarations = [ctx.params("md_fully_connected_params", params)]
        return LayerCode(("md_fully_connected_f32.c",), call, declarations)
    check_integer(ctx, {DType.INT8: (DType.INT32,), DType.INT16: (DType.INT32, DType.INT64)})
    declarations = [ctx.params("md_fully_connected_params", ctx.prepared(prepare))]
    if filter_t.dtype == DType.INT4:
        return LayerCode(("md_fully_connected_s4.c",), int4_call(ctx, "md_fully_connected_s4"), declarations)
    variant = ctx.contract.variant
    if variant is not None and variant.weights == WeightLayout.INT16_PAIRS:
        return _widened_fully_connected(ctx, declarations)
    kernel = "md_fully_connected_s16" if input_t.dtype == DType.INT16 else "md_fully_connected_s8"
    call = (
        f"{kernel}(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, "
        f"{ctx.derived_ref('multipliers')}, {ctx.derived_ref('shifts')}, {ctx.output_ref()})"
    )
    return LayerCode(sources=("md_fully_connected.c",), call=call, declarations=declarations)


def _widened_fully_connected(ctx: LayerContext, declarations: list[str]) -> LayerCode:
    """The filter pre-expanded to int16 in blocks of 4 rows (the weights block stores it so:
    `params.constant_inputs.stored_values`): int8, a symmetric filter, as `estimate.optimize` chooses it."""
    params = ctx.prepared(prepare)
    if ctx.input_tensor(0).dtype != DType.INT8 or params.filter_offset != 0:
        raise ctx.unsupported("int16 weights need an int8 layer with a symmetric filter")
    call = (
        f"md_fully_connected_s8_w16(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, "
        f"{ctx.derived_ref('multipliers')}, {ctx.derived_ref('shifts')}, {ctx.output_ref()})"
    )
    return LayerCode(sources=("md_fully_connected_w16.c",), call=call, declarations=declarations)
