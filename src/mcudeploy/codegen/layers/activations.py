"""Element-wise activations: RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH.

Parameters are derived as mcudeploy.engine.ops.activations derives them (from the
float32 scales, in double), with its helpers where it has them.
"""

from __future__ import annotations

import math

import numpy as np

from mcudeploy.codegen.cformat import MD_DTYPES, float_literal
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits, single_scale, zero_point
from mcudeploy.engine.activation import quantize_scalar, quantized_activation_range
from mcudeploy.engine.fixedpoint import quantize_multiplier
from mcudeploy.engine.ops.activations import checked_log2, int16_input_rescale, int16_multiplier
from mcudeploy.ir import Activation, DType
from mcudeploy.ir.options import LeakyReluOptions

INT8_INPUT_INTEGER_BITS = 4
FLOAT_FUNCTIONS = {
    "RELU": "MD_RELU_F32",
    "RELU6": "MD_RELU_F32",
    "RELU_N1_TO_1": "MD_RELU_F32",
    "LEAKY_RELU": "MD_LEAKY_RELU_F32",
    "HARD_SWISH": "MD_HARD_SWISH_F32",
    "LOGISTIC": "MD_LOGISTIC_F32",
    "TANH": "MD_TANH_F32",
}
FLOAT_RELU_BOUNDS = {"RELU": (0.0, math.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}


def _integer_code(
    ctx: LayerContext, kernel: str, fields: dict[str, object], source: str = "md_activations.c"
) -> LayerCode:
    input_t = ctx.input_tensor(0)
    base = {
        "count": input_t.size,
        "dtype": MD_DTYPES[input_t.dtype],
        "input_zero_point": zero_point(input_t),
        "output_zero_point": zero_point(ctx.output_tensor()),
    }
    call = f"{kernel}(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
    return LayerCode("md_activations.h", (source,), call, [ctx.params("md_activation_params", {**base, **fields})])


def _float_code(ctx: LayerContext) -> LayerCode:
    fields: dict[str, object] = {"count": ctx.input_tensor(0).size, "function": FLOAT_FUNCTIONS[ctx.op.op_type]}
    if ctx.op.op_type in FLOAT_RELU_BOUNDS:
        low, high = FLOAT_RELU_BOUNDS[ctx.op.op_type]
        fields.update(low=float_literal(low), high=float_literal(high))
    if ctx.op.op_type == "LEAKY_RELU":
        fields["alpha"] = float_literal((ctx.options or LeakyReluOptions()).alpha)
    call = f"md_activation_f32_run(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
    declarations = [ctx.params("md_activation_f32_params", fields)]
    return LayerCode("md_activations.h", ("md_activations_f32.c",), call, declarations, uses_libm=True)


def _check_types(ctx: LayerContext, integer_types: tuple[DType, ...]) -> DType:
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    if input_t.dtype != output_t.dtype or input_t.dtype not in (DType.FLOAT32, *integer_types):
        raise ctx.unsupported(f"{input_t.dtype} input with {output_t.dtype} output")
    return input_t.dtype


@emits("RELU", "RELU6", "RELU_N1_TO_1")
def relu(ctx: LayerContext) -> LayerCode:
    if _check_types(ctx, (DType.INT8, DType.INT16)) == DType.FLOAT32:
        return _float_code(ctx)
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    if ctx.op.op_type == "RELU6":  # clamps in the input's quantization
        info = np.iinfo(input_t.dtype.numpy)
        six = int(np.clip(quantize_scalar(6.0, single_scale(input_t), zero_point(input_t)), info.min, info.max))
        return _integer_code(ctx, "md_relu6_int", {"act_min": zero_point(input_t), "act_max": six})
    activation = Activation.RELU if ctx.op.op_type == "RELU" else Activation.RELU_N1_TO_1
    multiplier, shift = quantize_multiplier(single_scale(input_t) / single_scale(output_t))
    act_min, act_max = quantized_activation_range(activation, output_t)
    fields = {"multiplier": multiplier, "shift": shift, "act_min": act_min, "act_max": act_max}
    return _integer_code(ctx, "md_relu_int", fields)


@emits("LEAKY_RELU")
def leaky_relu(ctx: LayerContext) -> LayerCode:
    if _check_types(ctx, (DType.INT8, DType.INT16)) == DType.FLOAT32:
        return _float_code(ctx)
    alpha = np.float32((ctx.options or LeakyReluOptions()).alpha)
    input_scale, output_scale = single_scale(ctx.input_tensor(0)), single_scale(ctx.output_tensor())
    identity_multiplier, identity_shift = quantize_multiplier(input_scale / output_scale)
    alpha_multiplier, alpha_shift = quantize_multiplier(input_scale * float(alpha) / output_scale)
    fields = {
        "multiplier": identity_multiplier,
        "shift": identity_shift,
        "multiplier2": abs(alpha_multiplier),
        "shift2": alpha_shift,
        "negate": int(alpha_multiplier < 0),
    }
    return _integer_code(ctx, "md_leaky_relu_int", fields)


@emits("HARD_SWISH")
def hard_swish(ctx: LayerContext) -> LayerCode:
    if _check_types(ctx, (DType.INT8,)) == DType.FLOAT32:
        return _float_code(ctx)
    hires_input_scale = single_scale(ctx.input_tensor(0)) / 128
    output_multiplier, output_exponent = int16_multiplier(hires_input_scale / single_scale(ctx.output_tensor()))
    if output_exponent > 0:
        raise ctx.unsupported("output scale below input scale / 128")
    reluish_multiplier, reluish_exponent = int16_multiplier(hires_input_scale / (3 / 32768))
    fields = {
        "multiplier": output_multiplier,
        "shift": output_exponent,
        "multiplier2": reluish_multiplier,
        "shift2": reluish_exponent,
    }
    return _integer_code(ctx, "md_hard_swish_s8", fields)


@emits("LOGISTIC", "TANH")
def sigmoid_like(ctx: LayerContext) -> LayerCode:
    dtype = _check_types(ctx, (DType.INT8, DType.INT16))
    if dtype == DType.FLOAT32:
        return _float_code(ctx)
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    name = "logistic" if ctx.op.op_type == "LOGISTIC" else "tanh"
    if dtype == DType.INT16:
        return _sigmoid_like_int16(ctx, name)
    if name == "logistic" and zero_point(output_t) != -128:
        raise ctx.unsupported("int8 LOGISTIC needs an output zero point of -128")
    # the input to Q4.27 (the multiplier exact: a float32 scale has a 24-bit mantissa)
    mantissa, left_shift = math.frexp(float(single_scale(input_t)) * 2.0 ** (31 - INT8_INPUT_INTEGER_BITS))
    radius = math.floor((2**INT8_INPUT_INTEGER_BITS - 1) * 2.0 ** (31 - INT8_INPUT_INTEGER_BITS) / 2.0**left_shift)
    fields = {
        "multiplier": round(mantissa * 2**31),
        "shift": left_shift,
        "radius": radius,
        "output_shift": 23 if name == "logistic" else 24,
        "output_offset": -128 if name == "logistic" else 0,
    }
    return _integer_code(ctx, f"md_{name}_s8", fields)


def _sigmoid_like_int16(ctx: LayerContext, name: str) -> LayerCode:
    """int16 LOGISTIC/TANH: the input onto the sigmoid table's Q3.12 x 3 domain."""
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    if zero_point(input_t) or zero_point(output_t) or checked_log2(single_scale(output_t)) != (True, -15):
        raise ctx.unsupported(f"int16 {ctx.op.op_type} needs zero points of 0 and an output scale of 2^-15")
    multiplier, shift = int16_input_rescale(input_t, (0,) if name == "logistic" else (0, 1))
    return _integer_code(ctx, f"md_{name}_s16", {"multiplier": multiplier, "shift": shift}, "md_activations_s16.c")
