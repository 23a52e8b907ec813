"""MAXIMUM, MINIMUM, the comparisons, LOGICAL_AND/OR/NOT and SELECT_V2 with broadcasting."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.codegen.layers.elementwise import broadcast_fields
from mcudeploy.ir import DType
from mcudeploy.params.comparison import CompareParams, prepare
from mcudeploy.params.record import struct_fields

C_TYPES = (DType.INT8, DType.INT16, DType.INT32, DType.INT64, DType.FLOAT32, DType.BOOL)
"""The value types of the C kernels."""
COMPARISONS = ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")


@emits(
    "MAXIMUM", "MINIMUM", "EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL",
    "LOGICAL_AND", "LOGICAL_OR",
)  # fmt: skip
def compare(ctx: LayerContext) -> LayerCode:
    first, second = ctx.input_tensor(0), ctx.input_tensor(1)
    if first.dtype not in C_TYPES:
        raise ctx.dtype_error(first)
    shape = broadcast_fields(ctx, [first.shape, second.shape], ctx.output_tensor().shape)
    dtype = DType.UINT8 if first.dtype == DType.BOOL else first.dtype
    params = ctx.prepared(prepare) if ctx.op.op_type in COMPARISONS else CompareParams()
    fields = {"op": f"MD_CMP_{ctx.op.op_type}", "dtype": dtype, **struct_fields(params)}
    declarations = [ctx.params("md_broadcast", shape, name="shape"), ctx.params("md_compare_params", fields)]
    call = f"md_compare(&params, &shape, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.output_ref()})"
    return LayerCode(("md_compare.c",), call, declarations)


@emits("LOGICAL_NOT")
def logical_not(ctx: LayerContext) -> LayerCode:
    call = f"md_logical_not({ctx.input_ref(0)}, {ctx.output_ref()}, {ctx.output_tensor().size})"
    return LayerCode(("md_compare.c",), call)


@emits("SELECT_V2")
def select(ctx: LayerContext) -> LayerCode:
    tensors = [ctx.input_tensor(i) for i in range(3)]
    output = ctx.output_tensor()
    if output.dtype not in C_TYPES:
        raise ctx.dtype_error(output)
    shape = broadcast_fields(ctx, [t.shape for t in tensors], output.shape)
    declarations = [ctx.params("md_broadcast3", shape, name="shape")]
    operands = ", ".join([ctx.input_ref(0), ctx.input_ref(1), ctx.input_ref(2), ctx.output_ref()])
    call = f"md_select(&shape, {output.dtype.itemsize}, {operands})"
    return LayerCode(("md_compare.c",), call, declarations)
