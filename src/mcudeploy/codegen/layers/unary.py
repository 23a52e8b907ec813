"""ABS, NEG and the float32 math operators."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.engine.ops.unary import FLOAT_FUNCTIONS
from mcudeploy.ir import DType
from mcudeploy.params.unary import prepare


@emits("ABS", *FLOAT_FUNCTIONS)
def unary(ctx: LayerContext) -> LayerCode:
    input_t = ctx.input_tensor(0)
    count = ctx.output_tensor().size
    if input_t.dtype == DType.FLOAT32:
        call = f"md_unary_f32(MD_UNARY_{ctx.op.op_type}, {ctx.input_ref(0)}, {ctx.output_ref()}, {count})"
        return LayerCode("md_unary.h", ("md_unary_f32.c",), call, uses_libm=True)
    if ctx.op.op_type != "ABS" or input_t.dtype not in (DType.INT8, DType.INT16):
        raise ctx.dtype_error(input_t)
    declarations = [ctx.params("md_abs_params", ctx.prepared(prepare))]
    call = f"md_abs_int(&params, {ctx.input_ref(0)}, {ctx.output_ref()}, {count})"
    return LayerCode("md_unary.h", ("md_unary.c",), call, declarations)
