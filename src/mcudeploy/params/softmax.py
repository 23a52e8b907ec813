"""SOFTMAX and LOG_SOFTMAX over the last axis: md_softmax_params."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.ir.options import SoftmaxOptions
from mcudeploy.params.quantization import quantize_multiplier, quantize_multiplier_smaller_than_one_exp, single_scale
from mcudeploy.params.record import BESIDE_STRUCT

DIFF_INTEGER_BITS = 5
"""int8 input: the differences to the row maximum in Q5.26."""
INT16_EXP_INPUT_RANGE = 10.0 / 65535.0
"""int16: the exp table's input step, [-10, 0] over the int16 range."""
LOG_SOFTMAX_OUTPUT_SCALE = np.float32(16 / 256)
LOG_SOFTMAX_OUTPUT_ZERO_POINT = 127
"""TFLite Micro's int8 LOG_SOFTMAX writes steps of 16/256 from 127, nothing else."""


@dataclass(frozen=True)
class SoftmaxParams:
    rows: int
    depth: int
    input_multiplier: int | None = None
    """int8: beta · input scale onto Q5.26 differences; int16: onto the exp table's input range."""
    input_shift: int | None = None
    diff_min: int | None = None
    """int8: the smallest difference to the row maximum whose exp still counts."""
    reverse_multiplier: int | None = None
    """int8 LOG_SOFTMAX: Q5.26 back to input steps (TFLite's PreprocessLogSoftmaxScalingExp),
    a multiplier below one and a right shift."""
    reverse_right_shift: int | None = None
    beta: np.float32 = field(default=None, metadata=BESIDE_STRUCT)


def prepare(op: Operator, graph: Graph) -> SoftmaxParams:
    input_t = graph.tensors[op.inputs[0]]
    beta = np.float32((op.options or SoftmaxOptions()).beta)
    depth = input_t.shape[-1] if input_t.shape else 1
    shape = {"rows": input_t.size // depth if depth else 0, "depth": depth, "beta": beta}
    if input_t.dtype == DType.INT8:
        return SoftmaxParams(**shape, **_int8_input_scaling(op, float(beta) * single_scale(input_t)))
    if input_t.dtype == DType.INT16:
        multiplier, shift = quantize_multiplier(single_scale(input_t) * float(beta) / INT16_EXP_INPUT_RANGE)
        return SoftmaxParams(**shape, input_multiplier=multiplier, input_shift=shift)
    return SoftmaxParams(**shape)


def prepare_log_softmax(op: Operator, graph: Graph) -> SoftmaxParams:
    """LOG_SOFTMAX (beta 1): SOFTMAX's input scaling, and for int8 its inverse."""
    input_t = graph.tensors[op.inputs[0]]
    depth = input_t.shape[-1] if input_t.shape else 1
    shape = {"rows": input_t.size // depth if depth else 0, "depth": depth, "beta": np.float32(1.0)}
    if input_t.dtype != DType.INT8:
        return SoftmaxParams(**shape)
    output = graph.tensors[op.outputs[0]].quantization
    if (
        output is None
        or np.float32(output.single_scale) != LOG_SOFTMAX_OUTPUT_SCALE
        or output.single_zero_point != LOG_SOFTMAX_OUTPUT_ZERO_POINT
    ):
        raise UnsupportedOperatorError(op.label, "int8 LOG_SOFTMAX output needs scale 16/256, zero point 127")
    scaling = _int8_input_scaling(op, single_scale(input_t))
    reverse, reverse_shift = quantize_multiplier_smaller_than_one_exp(
        2.0 ** (31 - scaling["input_shift"]) / scaling["input_multiplier"]
    )
    return SoftmaxParams(**shape, **scaling, reverse_multiplier=reverse, reverse_right_shift=-reverse_shift)


def _int8_input_scaling(op: Operator, beta_times_scale: float) -> dict[str, int]:
    real_multiplier = min(beta_times_scale * 2.0 ** (31 - DIFF_INTEGER_BITS), 2.0**31 - 1)
    if real_multiplier <= 1.0:
        raise UnsupportedOperatorError(op.label, f"{op.op_type} input scale times beta is below 2^-26 (TFLM aborts)")
    multiplier, left_shift = quantize_multiplier(real_multiplier)
    diff_min = -math.floor((2**DIFF_INTEGER_BITS - 1) * 2.0 ** (31 - DIFF_INTEGER_BITS) / 2.0**left_shift)
    return {"input_multiplier": multiplier, "input_shift": left_shift, "diff_min": diff_min}
