"""SOFTMAX over the last axis."""

from __future__ import annotations

import math

import numpy as np

from mcudeploy.codegen.cformat import float_literal
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits, single_scale, zero_point
from mcudeploy.engine.fixedpoint import quantize_multiplier
from mcudeploy.ir import DType
from mcudeploy.ir.options import SoftmaxOptions

DIFF_INTEGER_BITS = 5
INT8_OUTPUT_ZERO_POINTS = {DType.INT8: -128, DType.INT16: -32768}


@emits("SOFTMAX")
def softmax(ctx: LayerContext) -> LayerCode:
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    beta = np.float32((ctx.options or SoftmaxOptions()).beta)
    depth = input_t.shape[-1]
    fields: dict[str, object] = {"rows": input_t.size // depth if depth else 0, "depth": depth}
    if input_t.dtype == DType.FLOAT32 and output_t.dtype == DType.FLOAT32:
        call = f"md_softmax_f32(&params, {float_literal(beta)}, {ctx.input_ref(0)}, {ctx.output_ref()})"
        return LayerCode(
            "md_softmax.h", ("md_softmax_f32.c",), call, [ctx.params("md_softmax_params", fields)], uses_libm=True
        )
    if input_t.dtype == DType.INT8 and output_t.dtype in INT8_OUTPUT_ZERO_POINTS:
        if zero_point(output_t) != INT8_OUTPUT_ZERO_POINTS[output_t.dtype]:
            raise ctx.unsupported(f"{output_t.dtype} output zero point {zero_point(output_t)}")
        fields.update(_int8_input_scaling(ctx, float(beta) * single_scale(input_t)))
        output_is16 = int(output_t.dtype == DType.INT16)
        call = f"md_softmax_s8(&params, {ctx.input_ref(0)}, {ctx.output_ref()}, {output_is16})"
        return LayerCode(
            "md_softmax.h", ("md_softmax.c",), call, [ctx.params("md_softmax_params", fields)], returns_status=True
        )
    if input_t.dtype == DType.INT16 and output_t.dtype == DType.INT16:
        if zero_point(input_t) != 0 or zero_point(output_t) != 0:
            raise ctx.unsupported("int16 softmax needs zero points of 0")
        multiplier, shift = quantize_multiplier(single_scale(input_t) * float(beta) / (10.0 / 65535.0))
        fields.update(input_multiplier=multiplier, input_shift=shift)
        call = f"md_softmax_s16(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
        return LayerCode("md_softmax.h", ("md_softmax_s16.c",), call, [ctx.params("md_softmax_params", fields)])
    raise ctx.unsupported(f"{input_t.dtype} input with {output_t.dtype} output")


def _int8_input_scaling(ctx: LayerContext, beta_times_scale: float) -> dict[str, int]:
    """beta * input scale onto Q5.26 differences, and the smallest difference that still counts."""
    real_multiplier = min(beta_times_scale * 2.0 ** (31 - DIFF_INTEGER_BITS), 2.0**31 - 1)
    if real_multiplier <= 1.0:
        raise ctx.unsupported("input scale times beta is below 2^-26")
    multiplier, left_shift = quantize_multiplier(real_multiplier)
    diff_min = -math.floor((2**DIFF_INTEGER_BITS - 1) * 2.0 ** (31 - DIFF_INTEGER_BITS) / 2.0**left_shift)
    return {"input_multiplier": multiplier, "input_shift": left_shift, "diff_min": diff_min}
