"""BATCH_MATMUL: md_batch_matmul.h, the batch axes broadcast as md_broadcast (one element a matrix)."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.codegen.layers.elementwise import broadcast_fields
from mcudeploy.ir import DType
from mcudeploy.params.batch_matmul import prepare

_KERNELS = {DType.INT8: "md_batch_matmul_s8", DType.INT16: "md_batch_matmul_s16", DType.FLOAT32: "md_batch_matmul_f32"}


@emits("BATCH_MATMUL")
def batch_matmul(ctx: LayerContext) -> LayerCode:
    lhs, rhs, output = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    params = ctx.prepared(prepare)
    batches = broadcast_fields(ctx, [lhs.shape[:-2], rhs.shape[:-2]], output.shape[:-2])
    declarations = [ctx.params("md_batch_matmul_params", params), ctx.params("md_broadcast", batches, name="batches")]
    call = f"{_KERNELS[output.dtype]}(&params, &batches, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.output_ref()})"
    return LayerCode(("md_batch_matmul.c",), call, declarations)
