"""L2_NORMALIZATION: md_normalization.h, rows along the last axis."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType
from mcudeploy.params.quantization import zero_point


@emits("L2_NORMALIZATION")
def l2_normalization(ctx: LayerContext) -> LayerCode:
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    if input_t.dtype != output_t.dtype or input_t.dtype not in (DType.FLOAT32, DType.INT8):
        raise ctx.dtype_error(input_t)
    depth = input_t.shape[-1] if input_t.shape else 1
    rows = input_t.size // depth
    if input_t.dtype == DType.FLOAT32:
        call = f"md_l2_normalization_f32({rows}, {depth}, {ctx.input_ref(0)}, {ctx.output_ref()})"
    else:
        call = (
            f"md_l2_normalization_s8({rows}, {depth}, {zero_point(input_t)}, {ctx.input_ref(0)}, {ctx.output_ref()})"
        )
    return LayerCode(("md_normalization.c",), call, uses_libm=True)
