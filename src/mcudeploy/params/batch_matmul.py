"""BATCH_MATMUL: md_batch_matmul_params (TFLite Micro's OpDataBatchMatmul with FullyConnectedParams).

output[..., i, j] = Σ_k lhs'[..., i, k] · rhs'[..., k, j], lhs' and rhs' the operands or, with
adj_x / adj_y, their last two axes swapped; batch axes broadcast. Quantized kernels add each
operand's offset before multiplying (both may have zero points for int8), requantize by
lhs scale · rhs scale / output scale (GetQuantizedConvolutionMultipler) and clamp to the type's
whole range (the operator has no fused activation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.params.quantization import quantize_multiplier, zero_point
from mcudeploy.params.requantization import per_tensor_real_multiplier

TYPES = (DType.FLOAT32, DType.INT8, DType.INT16)


@dataclass(frozen=True)
class BatchMatMulParams:
    """md_batch_matmul_params: the matrix sizes after the adjoints, where element (i, k) of lhs' and
    (k, j) of rhs' lie in their matrices (element steps), then the integer kernels' arithmetic."""

    rows: int
    cols: int
    depth: int
    lhs_row_step: int
    lhs_depth_step: int
    rhs_depth_step: int
    rhs_col_step: int
    lhs_offset: int | None = None
    rhs_offset: int | None = None
    output_offset: int | None = None
    multiplier: int | None = None
    shift: int | None = None
    act_min: int | None = None
    act_max: int | None = None


def prepare(op: Operator, graph: Graph) -> BatchMatMulParams:
    lhs, rhs, output = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    if lhs.dtype not in TYPES or rhs.dtype != lhs.dtype or output.dtype != lhs.dtype:
        raise UnsupportedOperatorError(
            op.label, f"{lhs.dtype} x {rhs.dtype} -> {output.dtype} is not supported (TFLite Micro refuses it)"
        )
    options = op.options
    lhs_rows, lhs_cols = lhs.shape[-2:]
    rhs_rows, rhs_cols = rhs.shape[-2:]
    rows, depth = (lhs_cols, lhs_rows) if options.adj_x else (lhs_rows, lhs_cols)
    cols = rhs_rows if options.adj_y else rhs_cols
    geometry = {
        "rows": rows,
        "cols": cols,
        "depth": depth,
        "lhs_row_step": 1 if options.adj_x else depth,
        "lhs_depth_step": rows if options.adj_x else 1,
        "rhs_depth_step": 1 if options.adj_y else cols,
        "rhs_col_step": depth if options.adj_y else 1,
    }
    if lhs.dtype == DType.FLOAT32:
        return BatchMatMulParams(**geometry)
    if lhs.dtype == DType.INT16 and any(zero_point(t) for t in (lhs, rhs, output)):
        raise UnsupportedOperatorError(op.label, "int16 BATCH_MATMUL needs zero points of 0 (TFLite Micro)")
    multiplier, shift = quantize_multiplier(float(per_tensor_real_multiplier(lhs, rhs, output)[0]))
    info = np.iinfo(output.dtype.numpy)
    return BatchMatMulParams(
        **geometry,
        lhs_offset=-zero_point(lhs),
        rhs_offset=-zero_point(rhs),
        output_offset=zero_point(output),
        multiplier=multiplier,
        shift=shift,
        act_min=int(info.min),
        act_max=int(info.max),
    )
