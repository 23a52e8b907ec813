"""PRELU as TFLite Micro's reference kernels compute it (float32, int8, 16x8), alpha broadcast."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.fixedpoint import multiply_by_quantized_multiplier
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.params.prelu import TYPES, PreluParams, prepare


@kernel("PRELU", types=TYPES)
def prelu(ctx: OpContext) -> np.ndarray:
    params = ctx.prepared(_params)
    x, alpha = ctx.input(0), ctx.input(1)
    output = ctx.output_tensor()
    if params.input_offset is None:
        return np.where(x >= 0, x, x * alpha).astype(np.float32).reshape(output.shape)
    centred = x.astype(np.int64) + params.input_offset
    x_times_alpha = centred * (alpha.astype(np.int64) + params.alpha_offset)
    positive = multiply_by_quantized_multiplier(centred, params.positive_multiplier, params.positive_shift)
    negative = multiply_by_quantized_multiplier(x_times_alpha, params.negative_multiplier, params.negative_shift)
    info = np.iinfo(output.dtype.numpy)
    result = np.clip(np.where(centred >= 0, positive, negative) + params.output_offset, info.min, info.max)
    return result.astype(output.dtype.numpy).reshape(output.shape)


def _params(ctx: OpContext) -> PreluParams:
    return prepare(ctx.op, ctx.graph)
