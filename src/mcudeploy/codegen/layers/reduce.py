"""MEAN, SUM, REDUCE_MAX, REDUCE_MIN and REDUCE_ALL over the axes of a constant input; ARG_MAX and ARG_MIN."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType
from mcudeploy.params.reduce import ReduceParams, arg_params, prepare
from mcudeploy.params.shapes import MAX_DIMS


def _reduce_params(ctx: LayerContext) -> ReduceParams:
    rank = len(ctx.input_tensor(0).shape or (1,))
    if rank > MAX_DIMS:
        raise ctx.unsupported(f"rank {rank} above {MAX_DIMS}")
    ctx.require_constants(1)
    return ctx.prepared(prepare)


def _check_types(ctx: LayerContext, supported: tuple[DType, ...]) -> DType:
    dtype = ctx.input_tensor(0).dtype
    if dtype not in supported or ctx.output_tensor().dtype != dtype:
        raise ctx.dtype_error(ctx.input_tensor(0))
    return dtype


@emits("MEAN", "SUM")
def mean_or_sum(ctx: LayerContext) -> LayerCode:
    dtype = _check_types(ctx, (DType.FLOAT32, DType.INT8, DType.INT16))
    params = _reduce_params(ctx)
    declarations = [ctx.params("md_reduce_params", params)]
    if dtype == DType.FLOAT32:
        call = f"md_sum_f32(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"  # sums in the output
        return LayerCode(("md_reduce_f32.c",), call, declarations)
    call = f"md_sum_int(&params, {ctx.input_ref(0)}, {ctx.output_ref()}, {ctx.required_scratch('int32_t')})"
    return LayerCode(("md_reduce.c",), call, declarations)


@emits("REDUCE_MAX", "REDUCE_MIN")
def reduce_extreme(ctx: LayerContext) -> LayerCode:
    dtype = _check_types(ctx, (DType.FLOAT32, DType.INT8))
    if dtype == DType.INT8 and ctx.input_tensor(0).quantization != ctx.output_tensor().quantization:
        raise ctx.unsupported("int8 input and output quantized differently")
    maximum = int(ctx.op.op_type == "REDUCE_MAX")
    kind = "f32" if dtype == DType.FLOAT32 else "int8"
    source = "md_reduce_f32.c" if dtype == DType.FLOAT32 else "md_reduce.c"
    call = f"md_extreme_{kind}(&params, {ctx.input_ref(0)}, {ctx.output_ref()}, {maximum})"
    return LayerCode((source,), call, [ctx.params("md_reduce_params", _reduce_params(ctx))])


@emits("ARG_MAX", "ARG_MIN")
def arg_min_max(ctx: LayerContext) -> LayerCode:
    dtype = ctx.input_tensor(0).dtype
    if dtype not in (DType.FLOAT32, DType.INT8) or ctx.output_tensor().dtype != DType.INT32:
        raise ctx.dtype_error(ctx.input_tensor(0))
    kind = "f32" if dtype == DType.FLOAT32 else "s8"
    call = f"md_arg_{kind}(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
    return LayerCode(("md_arg.c",), call, [ctx.params("md_arg_params", ctx.prepared(arg_params))])
@emits("REDUCE_ALL")
def reduce_all(ctx: LayerContext) -> LayerCode:
    _check_types(ctx, (DType.BOOL,))
    call = f"md_all_bool(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
    return LayerCode(("md_reduce.c",), call, [ctx.params("md_reduce_params", _reduce_params(ctx))])
