"""ADD_N and CUMSUM: sums of many values (float32, int8)."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.codegen.layers.movement import pointer_array
from mcudeploy.ir import DType
from mcudeploy.params.elementwise import accumulation_params, cumsum_params

SOURCES = ("md_accumulate.c",)


def _kind(ctx: LayerContext) -> str:
    output = ctx.output_tensor()
    if output.dtype not in (DType.FLOAT32, DType.INT8):
        raise ctx.dtype_error(output)
    return "f32" if output.dtype == DType.FLOAT32 else "s8"


@emits("ADD_N")
def add_n(ctx: LayerContext) -> LayerCode:
    kind, output = _kind(ctx), ctx.output_tensor()
    inputs = [ctx.input_tensor(i) for i in range(len(ctx.op.inputs))]
    ctype = "float" if kind == "f32" else "int8_t"
    declarations = [pointer_array(ctx, inputs, "inputs", const=True, ctype=ctype)]
    operands = f"{len(inputs)}, inputs, {ctx.output_ref()}, {output.size}"
    if kind == "f32":
        return LayerCode(SOURCES, f"md_add_n_f32({operands})", declarations)
    declarations.append(ctx.params("md_arith_params", ctx.prepared(accumulation_params)))
    return LayerCode(SOURCES, f"md_add_n_s8(&params, {operands})", declarations)


@emits("CUMSUM")
def cumsum(ctx: LayerContext) -> LayerCode:
    kind = _kind(ctx)
    declarations = [ctx.params("md_cumsum_params", ctx.prepared(cumsum_params), name="shape")]
    operands = f"&shape, {ctx.input_ref(0)}, {ctx.output_ref()}"
    if kind == "f32":
        return LayerCode(SOURCES, f"md_cumsum_f32({operands})", declarations)
    declarations.append(ctx.params("md_arith_params", ctx.prepared(accumulation_params)))
    return LayerCode(SOURCES, f"md_cumsum_s8(&params, {operands})", declarations)
