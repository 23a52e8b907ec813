"""SVDF: layers with state kept across invocations (a variable tensor, a static array)."""

from __future__ import annotations

from mcudeploy.codegen.cformat import float_literal
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType
from mcudeploy.params.svdf import STATE_INPUT, prepare


@emits("SVDF")
def svdf(ctx: LayerContext) -> LayerCode:
    params = ctx.prepared(prepare)
    ctx.require_constants(1, 2, 3)
    weights = f"{ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, {ctx.input_ref(3)}"
    state = ctx.input_ref(STATE_INPUT)
    declarations = [ctx.params("md_svdf_params", params)]
    if ctx.input_tensor(0).dtype == DType.FLOAT32:
        low, high = (float_literal(bound) for bound in params.float_range)
        call = f"md_svdf_f32(&params, {low}, {high}, {weights}, {state}, {ctx.output_ref()})"
        return LayerCode("md_svdf.h", ("md_svdf_f32.c",), call, declarations)
    state_is16 = int(ctx.input_tensor(STATE_INPUT).dtype == DType.INT16)
    call = f"md_svdf_s8(&params, {weights}, {state}, {state_is16}, {ctx.output_ref()})"
    return LayerCode("md_svdf.h", ("md_svdf.c",), call, declarations)
