"""ABS of int8 and int16: md_abs_params, as TFLite Micro's element-wise kernels derive them.

The centred input's absolute value is kept as is when both scales are equal, else
scaled by input scale / output scale (QuantizeMultiplier of the float32 ratio in double).
int16 ABS without quantization is a plain absolute value (rescale 0, offsets 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.params.quantization import quantize_multiplier, round_half_away_f32, zero_point

FLOAT_UNARY_OPS = ("NEG", "SIN", "COS", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "FLOOR", "CEIL", "ROUND", "ELU")
"""The float32 element-wise functions: one md_unary_f32 kernel, the operator naming the function."""


@dataclass(frozen=True)
class AbsParams:
    dtype: DType
    input_offset: int  # the input's zero point, subtracted
    output_offset: int
    rescale: int  # 0: the scales are equal (or there are none)
    multiplier: int = 0
    shift: int = 0
    saturate: int = 1  # 0: no quantization, |-32768| wraps to itself as TFLM's std::abs cast back


def prepare(op: Operator, graph: Graph) -> AbsParams:
    input_t, output_t = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if input_t.quantization is None:
        return AbsParams(input_t.dtype, 0, 0, 0, saturate=0)
    if output_t.quantization is None:
        raise UnsupportedOperatorError(op.label, "quantized ABS needs a quantized output")
    input_offset, output_offset = zero_point(input_t), zero_point(output_t)
    if input_t.dtype == DType.INT16 and (input_offset or output_offset):
        raise UnsupportedOperatorError(op.label, "int16 ABS needs zero points of 0")
    input_scale = np.float32(input_t.quantization.single_scale)
    output_scale = np.float32(output_t.quantization.single_scale)
    if input_scale == output_scale:
        return AbsParams(input_t.dtype, input_offset, output_offset, 0)
    multiplier, shift = quantize_multiplier(float(np.float32(input_scale / output_scale)))
    return AbsParams(input_t.dtype, input_offset, output_offset, 1, multiplier, shift)


@dataclass(frozen=True)
class RsqrtParams:
    """md_rsqrt_s8_params: int8 RSQRT scales 1 / sqrt(centred input) by 1 / (sqrt(input scale) x
    output scale), sqrt and product in float32 as TFLite Micro."""

    input_offset: int  # the input's zero point, subtracted
    output_offset: int
    multiplier: int
    shift: int


def prepare_rsqrt(op: Operator, graph: Graph) -> RsqrtParams:
    input_t, output_t = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if input_t.quantization is None or output_t.quantization is None:
        raise UnsupportedOperatorError(op.label, "int8 RSQRT needs quantized tensors")
    input_scale = np.float32(input_t.quantization.single_scale)
    output_scale = np.float32(output_t.quantization.single_scale)
    multiplier, shift = quantize_multiplier(1.0 / float(np.sqrt(input_scale) * output_scale))
    return RsqrtParams(zero_point(input_t), zero_point(output_t), multiplier, shift)


def elu_table(op: Operator, graph: Graph) -> np.ndarray:
    """int8 ELU's lookup table (TFLM's PopulateLookupTable, in float32): every input dequantized,
    exp(x) - 1 below 0, rescaled by 1 / output scale, rounded half away, offset, clamped; entry at
    the input's bits read as uint8."""
    input_t, output_t = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if input_t.quantization is None or output_t.quantization is None:
        raise UnsupportedOperatorError(op.label, "int8 ELU needs quantized tensors")
    values = np.arange(256, dtype=np.uint8).view(np.int8).astype(np.int32)
    dequantized = np.float32(input_t.quantization.single_scale) * (values - zero_point(input_t)).astype(np.float32)
    with np.errstate(over="ignore"):
        transformed = np.where(dequantized < 0, np.exp(dequantized) - np.float32(1), dequantized).astype(np.float32)
    inverse_scale = np.float32(1) / np.float32(output_t.quantization.single_scale)
    rescaled = round_half_away_f32(transformed * inverse_scale) + np.float32(zero_point(output_t))
    return np.clip(rescaled, -128, 127).astype(np.int8)
