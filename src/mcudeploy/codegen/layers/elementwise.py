"""ADD, SUB, MUL, SQUARED_DIFFERENCE, DIV, FLOOR_DIV and FLOOR_MOD with broadcasting."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType
from mcudeploy.params.elementwise import TYPES, UNCLAMPED, ArithFloatParams, prepare
from mcudeploy.params.quantization import zero_point
from mcudeploy.params.record import struct_fields
from mcudeploy.params.shapes import MAX_DIMS, contiguous_strides, dims


def broadcast_fields(ctx: LayerContext, shapes: list[tuple[int, ...]], output_shape: tuple[int, ...]) -> dict:
    """md_broadcast of the output shape: each input's element strides along the output's dimensions
    (0 where broadcast), with dimensions that walk memory alike merged and size-1 ones dropped."""
    strides = [_strides_in_output(shape, output_shape) for shape in shapes]
    merged_dims: list[int] = []
    merged_strides: list[list[int]] = [[] for _ in shapes]
    for axis, size in enumerate(output_shape):
        if size == 1:
            continue
        mergeable = merged_dims and all(
            own[-1] == stride[axis] * size for own, stride in zip(merged_strides, strides, strict=True)
        )
        if mergeable:
            merged_dims[-1] *= size
            for own, stride in zip(merged_strides, strides, strict=True):
                own[-1] = stride[axis]
        else:
            merged_dims.append(size)
            for own, stride in zip(merged_strides, strides, strict=True):
                own.append(stride[axis])
    if not merged_dims:
        merged_dims, merged_strides = [1], [[0] for _ in shapes]
    if len(merged_dims) > MAX_DIMS:
        raise ctx.unsupported(f"broadcasting over {len(merged_dims)} dimensions (the C library takes {MAX_DIMS})")
    fields: dict[str, object] = {"rank": len(merged_dims), "shape": dims(merged_dims, 1)}
    for position, own in enumerate(merged_strides, start=1):
        fields[f"strides{position}"] = dims(own)
    return fields


def _strides_in_output(shape: tuple[int, ...], output_shape: tuple[int, ...]) -> list[int]:
    """Element strides of an input, right-aligned with the output's dimensions; 0 where it broadcasts."""
    aligned = (1,) * (len(output_shape) - len(shape)) + tuple(shape)
    return [0 if size == 1 else stride for size, stride in zip(aligned, contiguous_strides(aligned), strict=True)]


@emits(*TYPES)
def binary_arithmetic(ctx: LayerContext) -> LayerCode:
    first, second, output = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    if first.dtype != output.dtype or second.dtype != output.dtype:
        raise ctx.unsupported("inputs and output of different types")
    op = f"MD_OP_{ctx.op.op_type}"
    shape = broadcast_fields(ctx, [first.shape, second.shape], output.shape)
    declarations = [ctx.params("md_broadcast", shape, name="shape")]
    operands = f"{ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.output_ref()}"
    if output.dtype not in TYPES[ctx.op.op_type]:
        raise ctx.dtype_error(output)
    if output.dtype == DType.INT16 and any(zero_point(t) for t in (first, second, output)):
        raise ctx.unsupported(f"int16 {ctx.op.op_type} needs zero points of 0")
    params = ctx.prepared(prepare)
    if isinstance(params, ArithFloatParams):
        declarations.append(ctx.params("md_arith_f32_params", {"op": op, **struct_fields(params)}))
        call = f"md_arith_f32(&params, &shape, {operands})"
        return LayerCode(("md_elementwise_f32.c",), call, declarations, uses_libm=ctx.op.op_type in UNCLAMPED)
    declarations.append(ctx.params("md_arith_params", {"op": op, "dtype": output.dtype, **struct_fields(params)}))
    call = f"md_arith_int(&params, &shape, {operands})"
    return LayerCode(("md_elementwise.c",), call, declarations)
