"""ABS, NEG, CAST and the float32 math operators."""

from __future__ import annotations

from mcudeploy.codegen.cformat import MD_DTYPES
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType
from mcudeploy.params.unary import FLOAT_UNARY_OPS, elu_table, prepare, prepare_rsqrt


@emits("ABS", *FLOAT_UNARY_OPS)
def unary(ctx: LayerContext) -> LayerCode:
    input_t = ctx.input_tensor(0)
    count = ctx.output_tensor().size
    if input_t.dtype == DType.FLOAT32:
        call = f"md_unary_f32(MD_UNARY_{ctx.op.op_type}, {ctx.input_ref(0)}, {ctx.output_ref()}, {count})"
        return LayerCode(("md_unary_f32.c",), call, uses_libm=True)
    if ctx.op.op_type == "ELU" and input_t.dtype == DType.INT8:
        table = ", ".join(str(int(v)) for v in ctx.prepared(elu_table))
        declarations = [f"static const int8_t table[256] = {{{table}}};"]
        call = f"md_lookup_s8(table, {ctx.input_ref(0)}, {ctx.output_ref()}, {count})"
        return LayerCode(("md_unary.c",), call, declarations)
    if ctx.op.op_type == "RSQRT" and input_t.dtype == DType.INT8:
        declarations = [ctx.params("md_rsqrt_s8_params", ctx.prepared(prepare_rsqrt))]
        call = f"md_rsqrt_s8(&params, {ctx.input_ref(0)}, {ctx.output_ref()}, {count})"
        return LayerCode(("md_unary.c",), call, declarations)
    if ctx.op.op_type != "ABS" or input_t.dtype not in (DType.INT8, DType.INT16):
        raise ctx.dtype_error(input_t)
    declarations = [ctx.params("md_abs_params", ctx.prepared(prepare))]
    call = f"md_abs_int(&params, {ctx.input_ref(0)}, {ctx.output_ref()}, {count})"
    return LayerCode(("md_unary.c",), call, declarations)


CAST_C_TYPES = (DType.INT8, DType.INT16, DType.INT32, DType.FLOAT32)
"""What md_cast converts (from also bool, and uint32 to or from float32). uint32 to or from an
integer type is int32's bit pattern (the audio front end's casts)."""


@emits("CAST")
def cast(ctx: LayerContext) -> LayerCode:
    source, target = ctx.input_tensor(0), ctx.output_tensor()
    source_type, target_type = source.dtype, target.dtype
    if DType.FLOAT32 not in (source_type, target_type):
        source_type, target_type = (DType.INT32 if t == DType.UINT32 else t for t in (source_type, target_type))
    if source_type not in (*CAST_C_TYPES, DType.BOOL, DType.UINT32):
        raise ctx.dtype_error(source)
    if target_type not in (*CAST_C_TYPES, DType.UINT32):
        raise ctx.dtype_error(target)
    from_type = MD_DTYPES[DType.UINT8 if source_type == DType.BOOL else source_type]
    call = f"md_cast({from_type}, {MD_DTYPES[target_type]}, {ctx.input_ref(0)}, {ctx.output_ref()}, {target.size})"
    return LayerCode(("md_unary.c",), call)
