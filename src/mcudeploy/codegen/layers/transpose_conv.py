"""TRANSPOSE_CONV: the gathered kernels of md_nn.h."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.codegen.layers.conv import float_bounds
from mcudeploy.ir import DType
from mcudeploy.params.transpose_conv import BIAS, DATA, FILTER, prepare

_INTEGER_BIAS = {DType.INT8: (DType.INT32,), DType.INT16: (DType.INT64, DType.INT16)}
"""The bias types of each integer kernel: the 16x8 one reads int64, an int16 bias is stored widened
(`params.constant_inputs.stored_dtype`), as TFLM widens it before each run."""


@emits("TRANSPOSE_CONV")
def transpose_conv(ctx: LayerContext) -> LayerCode:
    input_t, filter_t, bias_t, output_t = (
        ctx.input_tensor(DATA), ctx.input_tensor(FILTER), ctx.input_tensor(BIAS), ctx.output_tensor()
    )  # fmt: skip
    if output_t.dtype != input_t.dtype:
        raise ctx.unsupported(f"{input_t.dtype} input with {output_t.dtype} output")
    params = ctx.prepared(prepare)
    declarations = [ctx.params("md_window_params", params)]
    operands = f"&params, {ctx.input_ref(DATA)}, {ctx.input_ref(FILTER)}, {ctx.input_ref(BIAS)}"
    if input_t.dtype == DType.FLOAT32:
        low, high = float_bounds(params.float_clamp)
        call = f"md_transpose_conv_f32({operands}, {low}, {high}, {ctx.output_ref()})"
        return LayerCode(("md_transpose_conv.c",), call, declarations)
    if filter_t.dtype != DType.INT8 or input_t.dtype not in _INTEGER_BIAS:
        raise ctx.dtype_error(input_t)
    if bias_t is not None and bias_t.dtype not in _INTEGER_BIAS[input_t.dtype]:
        raise ctx.unsupported(f"{bias_t.dtype} bias with {input_t.dtype} input")
    kernel = "md_transpose_conv_s8" if input_t.dtype == DType.INT8 else "md_transpose_conv_s16"
    call = (
        f"{kernel}({operands}, {ctx.derived_ref('multipliers')}, {ctx.derived_ref('shifts')}, {ctx.output_ref()})"
    )
    return LayerCode(("md_transpose_conv.c",), call, declarations)
