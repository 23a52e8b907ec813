"""ADD, SUB and MUL with broadcasting."""

from __future__ import annotations

from mcudeploy.codegen.cformat import MD_DTYPES, padded
from mcudeploy.codegen.layers.base import (
    LayerCode,
    LayerContext,
    contiguous_strides,
    emits,
    single_scale,
    zero_point,
)
from mcudeploy.codegen.layers.conv import float_bounds
from mcudeploy.engine.activation import float_activation_range, quantized_activation_range
from mcudeploy.engine.fixedpoint import quantize_multiplier, quantize_multiplier_smaller_than_one_exp
from mcudeploy.ir import Activation, DType

MAX_DIMS = 6
"""MD_MAX_DIMS of the kernel library."""
INT32_RANGE = (-(2**31), 2**31 - 1)
HEADROOM_BITS = {DType.INT8: 20, DType.INT16: 15}


def broadcast_fields(ctx: LayerContext, shapes: list[tuple[int, ...]], output_shape: tuple[int, ...]) -> dict:
    """md_broadcast of the output shape: each input's element strides along the output's dimensions
    (0 where broadcast), with dimensions that walk memory alike merged and size-1 ones dropped."""
    dims = list(output_shape)
    strides = [_strides_in_output(shape, output_shape) for shape in shapes]
    merged_dims: list[int] = []
    merged_strides: list[list[int]] = [[] for _ in shapes]
    for axis, size in enumerate(dims):
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
    fields: dict[str, object] = {"rank": len(merged_dims), "shape": padded(merged_dims, MAX_DIMS, 1)}
    for position, own in enumerate(merged_strides, start=1):
        fields[f"strides{position}"] = padded(own, MAX_DIMS)
    return fields


def _strides_in_output(shape: tuple[int, ...], output_shape: tuple[int, ...]) -> list[int]:
    """Element strides of an input, right-aligned with the output's dimensions; 0 where it broadcasts."""
    aligned = (1,) * (len(output_shape) - len(shape)) + tuple(shape)
    return [0 if size == 1 else stride for size, stride in zip(aligned, contiguous_strides(aligned), strict=True)]


@emits("ADD", "SUB", "MUL")
def binary_arithmetic(ctx: LayerContext) -> LayerCode:
    first, second, output = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    if first.dtype != output.dtype or second.dtype != output.dtype:
        raise ctx.unsupported("inputs and output of different types")
    activation = ctx.options.activation if ctx.options else Activation.NONE
    op = {"ADD": "MD_OP_ADD", "SUB": "MD_OP_SUB", "MUL": "MD_OP_MUL"}[ctx.op.op_type]
    shape = broadcast_fields(ctx, [first.shape, second.shape], output.shape)
    declarations = [ctx.params("md_broadcast", shape, name="shape")]
    operands = f"{ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.output_ref()}"
    if output.dtype == DType.FLOAT32:
        low, high = float_bounds(activation)
        declarations.append(ctx.params("md_arith_f32_params", {"op": op, "act_low": low, "act_high": high}))
        call = f"md_arith_f32(&params, &shape, {operands})"
        return LayerCode("md_elementwise.h", ("md_elementwise_f32.c",), call, declarations)
    if output.dtype not in (DType.INT8, DType.INT16, DType.INT32):
        raise ctx.dtype_error(output)
    fields = {"op": op, "dtype": MD_DTYPES[output.dtype], **_arith_fields(ctx, activation)}
    declarations.append(ctx.params("md_arith_params", fields))
    call = f"md_arith_int(&params, &shape, {operands})"
    return LayerCode("md_elementwise.h", ("md_elementwise.c",), call, declarations)


def _arith_fields(ctx: LayerContext, activation: Activation) -> dict[str, int]:
    output = ctx.output_tensor()
    if output.dtype == DType.INT32:
        return dict(zip(("act_min", "act_max"), _int32_clamp(ctx.op.op_type, activation), strict=True))
    tensors = (ctx.input_tensor(0), ctx.input_tensor(1), output)
    if output.dtype == DType.INT16 and any(zero_point(t) for t in tensors):
        raise ctx.unsupported(f"int16 {ctx.op.op_type} needs zero points of 0")
    act_min, act_max = quantized_activation_range(activation, output)
    fields = {
        "input1_offset": -zero_point(tensors[0]),
        "input2_offset": -zero_point(tensors[1]),
        "output_offset": zero_point(output),
        "left_shift": HEADROOM_BITS[output.dtype],
        "act_min": act_min,
        "act_max": act_max,
    }
    fields.update(_scalings(ctx.op.op_type, [single_scale(t) for t in tensors], HEADROOM_BITS[output.dtype]))
    return fields


def _scalings(op_type: str, scales: list[float], left_shift: int) -> dict[str, int]:
    """MUL: the product of the input scales onto the output scale. ADD/SUB: both inputs onto twice
    the larger input scale, the result onto the output scale (ratios in double)."""
    first_scale, second_scale, output_scale = scales
    if op_type == "MUL":
        multiplier, shift = quantize_multiplier(first_scale * second_scale / output_scale)
        return {"output_multiplier": multiplier, "output_shift": shift}
    twice_max = 2.0 * max(first_scale, second_scale)
    ratios = (first_scale / twice_max, second_scale / twice_max, twice_max / (2**left_shift * output_scale))
    fields = {}
    for name, ratio in zip(("input1", "input2", "output"), ratios, strict=True):
        multiplier, shift = quantize_multiplier_smaller_than_one_exp(ratio)
        fields[f"{name}_multiplier"], fields[f"{name}_shift"] = multiplier, shift
    return fields


def _int32_clamp(op_type: str, activation: Activation) -> tuple[int, int]:
    """int32 ADD ignores its fused activation (as TFLite Micro); SUB and MUL clamp to its real bounds."""
    if op_type == "ADD":
        return INT32_RANGE
    low, high = float_activation_range(activation)
    return int(max(low, INT32_RANGE[0])), int(min(high, INT32_RANGE[1]))
