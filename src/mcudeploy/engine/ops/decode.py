"""TFLM_DECODE: constant tensors stored compressed (LUT, Huffman or pruning, params.decode), decoded
once from the constants; TFLM decodes them again on every inference, to the same values."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.ir import DType
from mcudeploy.ir.shapes import DECODE
from mcudeploy.params.decode import DecodeParams, prepare


@kernel(DECODE, types=(DType.BOOL, DType.FLOAT32, DType.INT8, DType.INT16, DType.INT32, DType.INT64))
def decode(ctx: OpContext) -> tuple[np.ndarray, ...]:
    return tuple(record.values.copy() for record in ctx.prepared(_records))


def _records(ctx: OpContext) -> list[DecodeParams]:
    return prepare(ctx.op, ctx.graph)
