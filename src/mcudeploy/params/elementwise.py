"""ADD, SUB, MUL, SQUARED_DIFFERENCE, DIV, FLOOR_DIV and FLOOR_MOD: md_arith_params (integer types) and
md_arith_f32_params (float32); the int8 sums of ADD_N and CUMSUM: md_arith_params, their inputs sharing one
quantization."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import Activation, DType, Graph, Operator
from mcudeploy.ir.shapes import positive_axis
from mcudeploy.params.activation_range import float_activation_range, float_clamp, quantized_activation_range
from mcudeploy.params.quantization import (
    quantize_multiplier,
    quantize_multiplier_smaller_than_one_exp,
    single_scale,
    zero_point,
)

_ARITHMETIC_TYPES = (DType.FLOAT32, DType.INT32, DType.INT8, DType.INT16)
TYPES = {
    **dict.fromkeys(("ADD", "SUB", "MUL", "SQUARED_DIFFERENCE"), _ARITHMETIC_TYPES),
    "DIV": (DType.FLOAT32, DType.INT32, DType.INT8),
    "FLOOR_DIV": (DType.FLOAT32,),
    "FLOOR_MOD": (DType.FLOAT32,),
}
"""The element types TFLite Micro's kernel of each operator takes."""
HEADROOM_BITS = {DType.INT8: 20, DType.INT16: 15}
"""The left shift ADD and SUB give both inputs before rescaling them."""
SQUARED_DIFFERENCE_BITS = {DType.INT8: 7, DType.INT16: 0}
"""SQUARED_DIFFERENCE's: the square of the scaled difference must stay in int32."""
INT32_RANGE = (-(2**31), 2**31 - 1)
DIV_MAX_SHIFT = 22
"""The least headroom of a centred int8 dividend (256): a larger output shift would make TFLM's final
rounding divide take a negative exponent."""
UNCLAMPED = {"FLOOR_DIV", "FLOOR_MOD"}
"""Operators TFLM does not clamp (no fused activation, not even to the finite float range)."""


@dataclass(frozen=True)
class ArithParams:
    """md_arith_params after its op and dtype: offsets, ADD/SUB headroom, the scalings (MUL: the
    output's only; ADD/SUB: both inputs onto twice the larger input scale, the result onto the
    output scale), the clamp. int32 arithmetic reads the clamp only."""

    input1_offset: int | None = None
    input2_offset: int | None = None
    output_offset: int | None = None
    left_shift: int | None = None
    act_min: int | None = None
    act_max: int | None = None
    input1_multiplier: int | None = None
    input1_shift: int | None = None
    input2_multiplier: int | None = None
    input2_shift: int | None = None
    output_multiplier: int | None = None
    output_shift: int | None = None


@dataclass(frozen=True)
class ArithFloatParams:
    """md_arith_f32_params after its op: the fused activation's float32 clamp."""

    act_low: np.float32
    act_high: np.float32


def prepare(op: Operator, graph: Graph) -> ArithParams | ArithFloatParams:
    """The parameters of the output's type: float32, int32 or quantized int8/int16."""
    first, second = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    output = graph.tensors[op.outputs[0]]
    activation = op.options.activation if op.options else Activation.NONE
    if output.dtype == DType.FLOAT32:
        if op.op_type in UNCLAMPED:
            return ArithFloatParams(np.float32(-np.inf), np.float32(np.inf))
        return ArithFloatParams(*float_clamp(activation))
    if output.dtype == DType.INT32:
        act_min, act_max = _int32_clamp(op.op_type, activation)
        return ArithParams(act_min=act_min, act_max=act_max)
    act_min, act_max = quantized_activation_range(activation, output)
    if op.op_type == "DIV":
        return ArithParams(
            input1_offset=-zero_point(first),
            input2_offset=-zero_point(second),
            output_offset=zero_point(output),
            act_min=act_min,
            act_max=act_max,
            **_div_scaling(op, first, second, output),
        )
    left_shift = (SQUARED_DIFFERENCE_BITS if op.op_type == "SQUARED_DIFFERENCE" else HEADROOM_BITS)[output.dtype]
    return ArithParams(
        input1_offset=-zero_point(first),
        input2_offset=-zero_point(second),
        output_offset=zero_point(output),
        left_shift=left_shift,
        act_min=act_min,
        act_max=act_max,
        **_scalings(op, (single_scale(first), single_scale(second), single_scale(output)), left_shift),
    )


def _div_scaling(op: Operator, first, second, output) -> dict[str, int]:
    """DIV's output multiplier: input1 scale / (input2 scale · output scale), in float32 as TFLM."""
    ratio = np.float32(single_scale(first)) / (np.float32(single_scale(second)) * np.float32(single_scale(output)))
    multiplier, shift = quantize_multiplier(float(ratio))
    if shift > DIV_MAX_SHIFT:
        raise UnsupportedOperatorError(
            op.label, f"the scale ratio is 2^{shift - 1} or more, beyond TFLM's rounding (2^{DIV_MAX_SHIFT - 1})"
        )
    return {"output_multiplier": multiplier, "output_shift": shift}


def _scalings(op: Operator, scales: tuple[float, float, float], left_shift: int) -> dict[str, int]:
    """The ratios are taken in double, from the float32 scales; ADD and SUB take ratios below 1 only
    (TFLite refuses the others at Prepare)."""
    first_scale, second_scale, output_scale = scales
    if op.op_type == "MUL":
        multiplier, shift = quantize_multiplier(first_scale * second_scale / output_scale)
        return {"output_multiplier": multiplier, "output_shift": shift}
    twice_max = 2.0 * max(first_scale, second_scale)
    if op.op_type == "SQUARED_DIFFERENCE":  # the output scale in float32, as TFLM's (1 << 2 shift) * scale
        output_scale = float(np.float32(2 ** (2 * left_shift)) * np.float32(output_scale))
        multiplier, shift = quantize_multiplier(twice_max * twice_max / output_scale)
        fields = {"output_multiplier": multiplier, "output_shift": shift}
        for name, scale in (("input1", first_scale), ("input2", second_scale)):
            fields[f"{name}_multiplier"], fields[f"{name}_shift"] = quantize_multiplier_smaller_than_one_exp(
                scale / twice_max
            )
        return fields
    ratios = (first_scale / twice_max, second_scale / twice_max, twice_max / (2**left_shift * output_scale))
    fields = {}
    if not all(0.0 < ratio < 1.0 for ratio in ratios):
        raise UnsupportedOperatorError(
            op.label, f"output scale {output_scale:g} is below 2^-{left_shift} x twice the larger input scale"
        )
    for name, ratio in zip(("input1", "input2", "output"), ratios, strict=True):
        fields[f"{name}_multiplier"], fields[f"{name}_shift"] = quantize_multiplier_smaller_than_one_exp(ratio)
    return fields


def _int32_clamp(op_type: str, activation: Activation) -> tuple[int, int]:
    """int32 ADD ignores its fused activation (as TFLite Micro); SUB and MUL clamp to its real bounds;
    SQUARED_DIFFERENCE has none."""
    if op_type in ("ADD", "SQUARED_DIFFERENCE"):
        return INT32_RANGE
    low, high = float_activation_range(activation)
    return int(max(low, INT32_RANGE[0])), int(min(high, INT32_RANGE[1]))


def accumulation_params(op: Operator, graph: Graph) -> ArithParams:
    """int8 ADD_N and CUMSUM as TFLite Micro scales them: each input value, centred and shifted left
    by ADD's 20 bits, times its scale over twice that scale; the int32 sum onto the output's scale.
    ADD_N's inputs must share one quantization (TFLite Micro checks it)."""
    inputs = [graph.tensors[i] for i in (op.inputs if op.op_type == "ADD_N" else op.inputs[:1])]
    output = graph.tensors[op.outputs[0]]
    first = inputs[0]
    if any(t.quantization != first.quantization for t in inputs[1:]):
        raise UnsupportedOperatorError(op.label, "int8 inputs quantized differently (TFLite Micro refuses them)")
    left_shift = HEADROOM_BITS[DType.INT8]
    twice_scale = 2.0 * single_scale(first)
    ratio = twice_scale / (2**left_shift * single_scale(output))
    if not ratio < 1.0:
        raise UnsupportedOperatorError(op.label, f"output scale {single_scale(output):g} below 2^-19 x the input's")
    input_multiplier, input_shift = quantize_multiplier_smaller_than_one_exp(single_scale(first) / twice_scale)
    output_multiplier, output_shift = quantize_multiplier_smaller_than_one_exp(ratio)
    act_min, act_max = quantized_activation_range(Activation.NONE, output)
    return ArithParams(
        input1_offset=-zero_point(first),
        output_offset=zero_point(output),
        left_shift=left_shift,
        act_min=act_min,
        act_max=act_max,
        input1_multiplier=input_multiplier,
        input1_shift=input_shift,
        output_multiplier=output_multiplier,
        output_shift=output_shift,
    )


@dataclass(frozen=True)
class CumsumParams:
    """md_cumsum_params: the input as (outer, depth, inner) around the summed axis."""

    outer: int
    depth: int
    inner: int
    exclusive: int
    reverse: int


def cumsum_params(op: Operator, graph: Graph) -> CumsumParams:
    shape = graph.tensors[op.inputs[0]].shape
    axis = positive_axis(int(np.ravel(graph.tensors[op.inputs[1]].data)[0]), len(shape), op.label)
    outer, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1 :])
    return CumsumParams(outer, shape[axis], inner, int(op.options.exclusive), int(op.options.reverse))
