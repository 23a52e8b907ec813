"""EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL: md_compare_params.

TFLite Micro compares int8 values after rescaling each onto the real line: the
centred value, shifted left by 8 bits, times the input's own scale (as a
multiplier below one). Other types compare their raw values.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.params.quantization import quantize_multiplier_smaller_than_one_exp, single_scale, zero_point

COMPARE_LEFT_SHIFT = 8
"""The left shift TFLite Micro gives both int8 inputs of a comparison before scaling them."""
EQUALITY_TYPES = (DType.BOOL, DType.FLOAT32, DType.INT8, DType.INT32, DType.INT64)
ORDER_TYPES = (DType.FLOAT32, DType.INT8, DType.INT32, DType.INT64)
COMPARISON_TYPES = {
    "EQUAL": EQUALITY_TYPES,
    "NOT_EQUAL": EQUALITY_TYPES,
    **dict.fromkeys(("LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"), ORDER_TYPES),
}
"""The input types TFLite Micro's comparison kernels take."""
UNPREPARED_IN_TFLM = {("GREATER", DType.INT16)}
"""Types TFLM's Eval accepts but its Prepare never prepares: int16 GREATER runs the scaled
comparison on parameters Prepare computes for int8 only, so they are whatever its persistent
buffer held (zero on a fresh arena: every element then compares 0 > 0, false). Refused rather
than mimicked, since TFLM's answer does not depend on the model."""


@dataclass(frozen=True)
class CompareParams:
    """md_compare_params: int8 offsets (-zero points), the left shift, each input's scale as a
    multiplier and shift; all zero for raw comparisons."""

    input1_offset: int = 0
    input2_offset: int = 0
    left_shift: int = 0
    input1_multiplier: int = 0
    input1_shift: int = 0
    input2_multiplier: int = 0
    input2_shift: int = 0


def check_input_type(op: Operator, dtype: DType) -> None:
    """Refuse a comparison of a type TFLite Micro refuses or leaves unprepared."""
    if (op.op_type, dtype) in UNPREPARED_IN_TFLM:
        raise UnsupportedOperatorError(
            op.label,
            f"{op.op_type} of {dtype}: TFLite Micro never sets its {dtype} scaling "
            "(false everywhere on a fresh arena, whatever the inputs)",
        )
    if dtype not in COMPARISON_TYPES[op.op_type]:
        raise UnsupportedOperatorError(op.label, f"{op.op_type} of {dtype} is not supported by TFLite Micro")


def prepare(op: Operator, graph: Graph) -> CompareParams:
    first, second = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    check_input_type(op, first.dtype)
    if first.dtype != DType.INT8:
        return CompareParams()
    fields: dict[str, int] = {}
    for name, tensor in (("input1", first), ("input2", second)):
        scale = single_scale(tensor)
        if not 0.0 < scale < 1.0:
            raise UnsupportedOperatorError(
                op.label, f"int8 {op.op_type} takes input scales in (0, 1) in TFLite Micro, not {scale:g}"
            )
        fields[f"{name}_multiplier"], fields[f"{name}_shift"] = quantize_multiplier_smaller_than_one_exp(scale)
    return CompareParams(
        input1_offset=-zero_point(first),
        input2_offset=-zero_point(second),
        left_shift=COMPARE_LEFT_SHIFT,
        **fields,
    )
