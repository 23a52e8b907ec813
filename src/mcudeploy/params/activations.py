"""RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH, LOGISTIC and TANH: md_activation_params.

Quantized parameters are derived, as TFLite Micro's interpreter derives them, from the
float32 scales in double.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import Activation, DType, Graph, Operator, Tensor
from mcudeploy.ir.options import LeakyReluOptions
from mcudeploy.params.activation_range import quantized_activation_range
from mcudeploy.params.quantization import (
    checked_log2,
    int16_multiplier,
    quantize_multiplier,
    quantize_scalar,
    single_scale,
    zero_point,
)

FLOAT_RELU_BOUNDS = {"RELU": (0.0, math.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
INT8_INPUT_INTEGER_BITS = 4
"""int8 LOGISTIC and TANH take their input in Q4.27."""
_RELU_ACTIVATIONS = {"RELU": Activation.RELU, "RELU_N1_TO_1": Activation.RELU_N1_TO_1}


@dataclass(frozen=True)
class ActivationParams:
    """md_activation_params of an int8 or int16 activation (None: a field the kernel does not read)."""

    count: int
    dtype: DType
    input_zero_point: int
    output_zero_point: int
    multiplier: int | None = None
    shift: int | None = None
    multiplier2: int | None = None
    shift2: int | None = None
    negate: int | None = None
    act_min: int | None = None
    act_max: int | None = None
    radius: int | None = None
    output_shift: int | None = None
    output_offset: int | None = None


def prepare(op: Operator, graph: Graph) -> ActivationParams:
    """The parameters of an integer activation (its input and output of one type)."""
    source, output = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    base = ActivationParams(source.size, source.dtype, zero_point(source), zero_point(output))
    return replace(base, **_DERIVATIONS[op.op_type](op, source, output))


def _relu(op: Operator, source: Tensor, output: Tensor) -> dict[str, int]:
    """Rescale to the output's quantization, then clamp to the activation's range there."""
    multiplier, shift = quantize_multiplier(single_scale(source) / single_scale(output))
    act_min, act_max = quantized_activation_range(_RELU_ACTIVATIONS[op.op_type], output)
    return {"multiplier": multiplier, "shift": shift, "act_min": act_min, "act_max": act_max}


def _relu6(op: Operator, source: Tensor, output: Tensor) -> dict[str, int]:
    """TFLM's RELU6 clamps in the input's quantization (it assumes the output shares it)."""
    info = np.iinfo(source.dtype.numpy)
    zero = zero_point(source)
    six = int(np.clip(quantize_scalar(6.0, single_scale(source), zero), info.min, info.max))
    return {"act_min": zero, "act_max": six}


def _leaky_relu(op: Operator, source: Tensor, output: Tensor) -> dict[str, int]:
    """The identity and alpha each as a quantized multiplier; a negative alpha is applied as a
    positive multiplier and a negation afterwards."""
    alpha = np.float32((op.options or LeakyReluOptions()).alpha)
    input_scale, output_scale = single_scale(source), single_scale(output)
    identity_multiplier, identity_shift = quantize_multiplier(input_scale / output_scale)
    alpha_multiplier, alpha_shift = quantize_multiplier(input_scale * float(alpha) / output_scale)
    return {
        "multiplier": identity_multiplier,
        "shift": identity_shift,
        "multiplier2": abs(alpha_multiplier),
        "shift2": alpha_shift,
        "negate": int(alpha_multiplier < 0),
    }


def _hard_swish(op: Operator, source: Tensor, output: Tensor) -> dict[str, int]:
    """The input on a 2^7 finer scale onto the output (multiplier, shift), and onto the 'reluish'
    factor relu6(x + 3) / 6 in Q0.15 (multiplier2, shift2), both 16-bit multipliers."""
    hires_input_scale = single_scale(source) / 128
    output_multiplier, output_exponent = int16_multiplier(hires_input_scale / single_scale(output))
    if output_exponent > 0:
        raise UnsupportedOperatorError(op.label, "HARD_SWISH output scale below input scale / 128 (TFLM refuses it)")
    reluish_multiplier, reluish_exponent = int16_multiplier(hires_input_scale / (3 / 32768))
    return {
        "multiplier": output_multiplier,
        "shift": output_exponent,
        "multiplier2": reluish_multiplier,
        "shift2": reluish_exponent,
    }


def _sigmoid_like(op: Operator, source: Tensor, output: Tensor) -> dict[str, int]:
    logistic = op.op_type == "LOGISTIC"
    if source.dtype == DType.INT16:
        multiplier, shift = int16_input_rescale(source, (0,) if logistic else (0, 1))
        return {"multiplier": multiplier, "shift": shift}
    if logistic and zero_point(output) != -128:
        raise UnsupportedOperatorError(op.label, "int8 LOGISTIC needs an output zero point of -128")
    # The input to Q4.27; the multiplier is exact: a float32 scale has a 24-bit mantissa. Inputs
    # beyond the radius saturate the result.
    mantissa, left_shift = math.frexp(float(single_scale(source)) * 2.0 ** (31 - INT8_INPUT_INTEGER_BITS))
    radius = math.floor((2**INT8_INPUT_INTEGER_BITS - 1) * 2.0 ** (31 - INT8_INPUT_INTEGER_BITS) / 2.0**left_shift)
    return {
        "multiplier": round(mantissa * 2**31),
        "shift": left_shift,
        "radius": radius,
        "output_shift": 23 if logistic else 24,
        "output_offset": -128 if logistic else 0,
    }


def int16_input_rescale(source: Tensor, pot_left_shifts: tuple[int, ...]) -> tuple[int, int]:
    """(multiplier, right shift) taking int16 input to the Q3.12 · 3 domain the sigmoid table is
    indexed in. A power-of-two scale with a small shift gets the exact multiplier 3 << shift."""
    is_pot, log2 = checked_log2(single_scale(source))
    left_shift = 12 + log2
    if is_pot and left_shift in pot_left_shifts:
        return 3 << left_shift, 0
    multiplier = float(single_scale(source)) * 4096.0 * 3.0
    shift = 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    return int(multiplier), shift


_DERIVATIONS = {
    "RELU": _relu,
    "RELU_N1_TO_1": _relu,
    "RELU6": _relu6,
    "LEAKY_RELU": _leaky_relu,
    "HARD_SWISH": _hard_swish,
    "LOGISTIC": _sigmoid_like,
    "TANH": _sigmoid_like,
}
