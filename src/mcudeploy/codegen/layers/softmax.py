"""SOFTMAX and LOG_SOFTMAX over the last axis."""

from __future__ import annotations

from mcudeploy.codegen.cformat import float_literal
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType
from mcudeploy.params.quantization import zero_point
from mcudeploy.params.softmax import prepare, prepare_log_softmax

INT8_OUTPUT_ZERO_POINTS = {DType.INT8: -128, DType.INT16: -32768}


@emits("SOFTMAX")
def softmax(ctx: LayerContext) -> LayerCode:
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    if input_t.dtype == DType.FLOAT32 and output_t.dtype == DType.FLOAT32:
        params = ctx.prepared(prepare)
        call = f"md_softmax_f32(&params, {float_literal(params.beta)}, {ctx.input_ref(0)}, {ctx.output_ref()})"
        return LayerCode(("md_softmax_f32.c",), call, [ctx.params("md_softmax_params", params)], uses_libm=True)
    if input_t.dtype == DType.INT8 and output_t.dtype in INT8_OUTPUT_ZERO_POINTS:
        if zero_point(output_t) != INT8_OUTPUT_ZERO_POINTS[output_t.dtype]:
            raise ctx.unsupported(f"{output_t.dtype} output zero point {zero_point(output_t)}")
        output_is16 = int(output_t.dtype == DType.INT16)
        call = f"md_softmax_s8(&params, {ctx.input_ref(0)}, {ctx.output_ref()}, {output_is16})"
        declarations = [ctx.params("md_softmax_params", ctx.prepared(prepare))]
        return LayerCode(("md_softmax.c",), call, declarations)
    if input_t.dtype == DType.INT16 and output_t.dtype == DType.INT16:
        if zero_point(input_t) != 0 or zero_point(output_t) != 0:
            raise ctx.unsupported("int16 softmax needs zero points of 0")
        call = f"md_softmax_s16(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
        return LayerCode(("md_softmax_s16.c",), call, [ctx.params("md_softmax_params", ctx.prepared(prepare))])
    raise ctx.unsupported(f"{input_t.dtype} input with {output_t.dtype} output")


@emits("LOG_SOFTMAX")
def log_softmax(ctx: LayerContext) -> LayerCode:
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    declarations = [ctx.params("md_softmax_params", ctx.prepared(prepare_log_softmax))]
    if input_t.dtype == DType.FLOAT32 and output_t.dtype == DType.FLOAT32:
        call = f"md_log_softmax_f32(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
        return LayerCode(("md_softmax_f32.c",), call, declarations, uses_libm=True)
    if input_t.dtype == DType.INT8 and output_t.dtype == DType.INT8:
        call = f"md_log_softmax_s8(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
        return LayerCode(("md_softmax.c",), call, declarations)
    raise ctx.unsupported(f"{input_t.dtype} input with {output_t.dtype} output")
