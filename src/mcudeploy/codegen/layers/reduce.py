"""MEAN, SUM, REDUCE_MAX and REDUCE_MIN over the axes of a constant input."""

from __future__ import annotations

import math

import numpy as np

from mcudeploy.codegen.cformat import MD_DTYPES, padded
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits, single_scale, zero_point
from mcudeploy.codegen.layers.elementwise import MAX_DIMS
from mcudeploy.engine.fixedpoint import quantize_multiplier
from mcudeploy.engine.ops.reduce import fold_in_division
from mcudeploy.engine.ops.slicing import positive_axis
from mcudeploy.ir import DType


def _reduce_fields(ctx: LayerContext) -> dict[str, object]:
    """The input walked in order, each element sent to its output (kept axes, row-major)."""
    shape = ctx.input_tensor(0).shape or (1,)
    if len(shape) > MAX_DIMS:
        raise ctx.unsupported(f"rank {len(shape)} above {MAX_DIMS}")
    axes = {positive_axis(int(a), len(shape), ctx.label) for a in np.ravel(ctx.constant_values(1))}
    strides = [0] * len(shape)
    stride = 1
    for axis in reversed(range(len(shape))):
        if axis not in axes:
            strides[axis] = stride
            stride *= shape[axis]
    return {
        "rank": len(shape),
        "input_shape": padded(shape, MAX_DIMS, 1),
        "output_strides": padded(strides, MAX_DIMS),
        "output_count": stride,
        "reduced_count": math.prod(shape[a] for a in axes),
    }


def _check_types(ctx: LayerContext, supported: tuple[DType, ...]) -> DType:
    dtype = ctx.input_tensor(0).dtype
    if dtype not in supported or ctx.output_tensor().dtype != dtype:
        raise ctx.dtype_error(ctx.input_tensor(0))
    return dtype


@emits("MEAN", "SUM")
def mean_or_sum(ctx: LayerContext) -> LayerCode:
    dtype = _check_types(ctx, (DType.FLOAT32, DType.INT8, DType.INT16))
    fields = _reduce_fields(ctx)
    mean = ctx.op.op_type == "MEAN"
    if dtype == DType.FLOAT32:
        fields["mean"] = int(mean)
        call = f"md_sum_f32(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"  # sums in the output
        return LayerCode("md_reduce.h", ("md_reduce_f32.c",), call, [ctx.params("md_reduce_params", fields)])
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    if input_t.quantization is None or output_t.quantization is None:
        raise ctx.unsupported("quantized input and output need scales")
    multiplier, shift = quantize_multiplier(single_scale(input_t) / single_scale(output_t))
    if mean and fields["reduced_count"] > 0:
        multiplier, shift = fold_in_division(multiplier, shift, fields["reduced_count"])
    fields.update(
        dtype=MD_DTYPES[dtype],
        input_zero_point=zero_point(input_t),
        output_zero_point=zero_point(output_t),
        multiplier=multiplier,
        shift=shift,
    )
    call = f"md_sum_int(&params, {ctx.input_ref(0)}, {ctx.output_ref()}, {ctx.required_scratch('int32_t')})"
    return LayerCode("md_reduce.h", ("md_reduce.c",), call, [ctx.params("md_reduce_params", fields)])


@emits("REDUCE_MAX", "REDUCE_MIN")
def reduce_extreme(ctx: LayerContext) -> LayerCode:
    dtype = _check_types(ctx, (DType.FLOAT32, DType.INT8))
    if dtype == DType.INT8 and ctx.input_tensor(0).quantization != ctx.output_tensor().quantization:
        raise ctx.unsupported("int8 input and output quantized differently")
    maximum = int(ctx.op.op_type == "REDUCE_MAX")
    kind = "f32" if dtype == DType.FLOAT32 else "int8"
    source = "md_reduce_f32.c" if dtype == DType.FLOAT32 else "md_reduce.c"
    call = f"md_extreme_{kind}(&params, {ctx.input_ref(0)}, {ctx.output_ref()}, {maximum})"
    return LayerCode("md_reduce.h", (source,), call, [ctx.params("md_reduce_params", _reduce_fields(ctx))])
