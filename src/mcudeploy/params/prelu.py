"""PRELU: md_prelu_params (TFLite Micro's PreluParams).

output = input where input >= 0, else input · alpha, alpha broadcast against the input. Quantized:
the centred input scaled by input scale / output scale, or its product with the centred alpha by
input scale · alpha scale / output scale (in double), offset, clamped to the type's range. TFLM
takes float32, int8 and int16 (with an int8 alpha).
"""

from __future__ import annotations

from dataclasses import dataclass

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.params.quantization import quantize_multiplier, single_scale, zero_point

TYPES = (DType.FLOAT32, DType.INT8, DType.INT16)


@dataclass(frozen=True)
class PreluParams:
    """md_prelu_params: the element types, then the integer kernels' arithmetic (None for float32)."""

    dtype: DType
    alpha_dtype: DType
    input_offset: int | None = None
    alpha_offset: int | None = None
    output_offset: int | None = None
    positive_multiplier: int | None = None
    positive_shift: int | None = None
    negative_multiplier: int | None = None
    negative_shift: int | None = None


def prepare(op: Operator, graph: Graph) -> PreluParams:
    input_t, alpha, output = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    expected_alpha = DType.INT8 if input_t.dtype == DType.INT16 else input_t.dtype
    if input_t.dtype not in TYPES or output.dtype != input_t.dtype or alpha.dtype != expected_alpha:
        raise UnsupportedOperatorError(
            op.label, f"{input_t.dtype} input with {alpha.dtype} alpha is not supported (TFLite Micro refuses it)"
        )
    if input_t.dtype == DType.FLOAT32:
        return PreluParams(input_t.dtype, alpha.dtype)
    scale = single_scale(input_t)
    positive = quantize_multiplier(scale / single_scale(output))
    negative = quantize_multiplier(scale * single_scale(alpha) / single_scale(output))
    return PreluParams(
        input_t.dtype,
        alpha.dtype,
        input_offset=-zero_point(input_t),
        alpha_offset=-zero_point(alpha),
        output_offset=zero_point(output),
        positive_multiplier=positive[0],
        positive_shift=positive[1],
        negative_multiplier=negative[0],
        negative_shift=negative[1],
    )
