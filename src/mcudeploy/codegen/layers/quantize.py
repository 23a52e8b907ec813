"""QUANTIZE (float to integer, and between integer types) and DEQUANTIZE."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType
from mcudeploy.params.quantize import FLOAT_QUANTIZE_TARGETS, SUPPORTED_REQUANTIZATIONS, prepare


@emits("QUANTIZE")
def quantize(ctx: LayerContext) -> LayerCode:
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    if output_t.quantization is None or output_t.quantization.per_channel:
        raise ctx.unsupported("QUANTIZE needs a per-tensor quantized output")
    if input_t.dtype == DType.FLOAT32 and output_t.dtype in FLOAT_QUANTIZE_TARGETS:
        call = f"md_quantize_f32(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
        declarations = [ctx.params("md_quantize_params", ctx.prepared(prepare))]
        return LayerCode(("md_quantize_f32.c",), call, declarations, uses_libm=True)
    if (input_t.dtype, output_t.dtype) not in SUPPORTED_REQUANTIZATIONS:
        raise ctx.unsupported(f"QUANTIZE from {input_t.dtype} to {output_t.dtype}")
    call = f"md_requantize(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
    return LayerCode(("md_quantize.c",), call, [ctx.params("md_quantize_params", ctx.prepared(prepare))])


@emits("DEQUANTIZE")
def dequantize(ctx: LayerContext) -> LayerCode:
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    if output_t.dtype == DType.FLOAT32 and input_t.dtype == DType.FLOAT16:
        call = f"md_dequantize_f16(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
        declarations = [ctx.params("md_quantize_params", {"count": input_t.size})]
        return LayerCode(("md_quantize_f32.c",), call, declarations)
    if output_t.dtype != DType.FLOAT32 or input_t.dtype not in (DType.INT8, DType.UINT8, DType.INT16):
        raise ctx.unsupported(f"DEQUANTIZE from {input_t.dtype} to {output_t.dtype}")
    if input_t.quantization is None:
        raise ctx.unsupported("DEQUANTIZE of an input without quantization")
    call = f"md_dequantize_f32(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
    return LayerCode(("md_quantize_f32.c",), call, [ctx.params("md_quantize_params", ctx.prepared(prepare))])
