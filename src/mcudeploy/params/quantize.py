"""QUANTIZE and DEQUANTIZE: md_quantize_params."""

from __future__ import annotations

from dataclasses import dataclass

from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.params.quantization import quantize_multiplier, single_scale, zero_point

SUPPORTED_REQUANTIZATIONS = {
    (DType.INT8, DType.INT8),
    (DType.INT8, DType.UINT8),
    (DType.INT8, DType.INT16),
    (DType.INT8, DType.INT32),
    (DType.UINT8, DType.INT8),
    (DType.INT16, DType.INT8),
    (DType.INT16, DType.INT16),
    (DType.INT16, DType.INT32),
    (DType.INT32, DType.INT8),
    (DType.INT32, DType.INT16),
}
"""The integer conversions TFLite Micro's QUANTIZE implements (input type, output type)."""
FLOAT_QUANTIZE_TARGETS = (DType.INT8, DType.UINT8, DType.INT16)


@dataclass(frozen=True)
class QuantizeParams:
    """md_quantize_params: a conversion between integer types (multiplier, shift) or between an
    integer type and float32 (scale: the quantized side's)."""

    count: int
    input_dtype: DType
    output_dtype: DType
    input_zero_point: int
    output_zero_point: int
    multiplier: int | None = None
    shift: int | None = None
    scale: float | None = None


def prepare(op: Operator, graph: Graph) -> QuantizeParams:
    source, output = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    base = {
        "count": source.size,
        "input_dtype": source.dtype,
        "output_dtype": output.dtype,
        "input_zero_point": zero_point(source),
        "output_zero_point": zero_point(output),
    }
    if op.op_type == "DEQUANTIZE":
        return QuantizeParams(**base, scale=single_scale(source))
    if source.dtype == DType.FLOAT32:
        return QuantizeParams(**base, scale=single_scale(output))
    multiplier, shift = quantize_multiplier(single_scale(source) / single_scale(output))
    return QuantizeParams(**base, multiplier=multiplier, shift=shift)
