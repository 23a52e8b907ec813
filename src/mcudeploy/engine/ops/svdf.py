"""SVDF as TFLite Micro's reference kernels compute it: int8 input with int8 or int16 state
and time weights, and float32.

The activation state (input 4) is a variable tensor the kernel updates in place: each
filter's `memory` past values move one step left and the newest feature value (input times
feature weights) takes the last place; the output is the time weights' dot product with
the state, summed over each unit's `rank` filters, plus the bias.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.ir import DType
from mcudeploy.params.svdf import STATE_INPUT, SvdfParams, prepare

F32 = np.float32


@kernel("SVDF", types=(DType.INT8, DType.FLOAT32))
def svdf(ctx: OpContext) -> np.ndarray:
    params = ctx.prepared(_params)
    source, features, time_weights, bias = (ctx.input(i) for i in range(4))
    state = ctx.input(STATE_INPUT)
    history = state.reshape(params.batches, params.filters, params.memory)
    history[:, :, :-1] = history[:, :, 1:].copy()  # TFLM shifts the whole buffer by one: the same per row
    if source.dtype == np.float32:
        history[:, :, -1] = source.astype(F32) @ features.T.astype(F32)
        return _float_output(params, history, time_weights, bias)
    newest = multiply_by_quantized_multiplier(
        wrap_int32((source.astype(np.int64) - params.input_zero_point) @ features.T.astype(np.int64)),
        params.feature_multiplier,
        params.feature_shift,
    )
    # the clamp is to the state type's range, then the zero point is added (and wraps, as in C)
    history[:, :, -1] = (np.clip(newest, params.state_min, params.state_max) + params.state_zero_point).astype(
        state.dtype
    )
    per_filter = wrap_int32(
        ((history.astype(np.int64) - params.state_zero_point) * time_weights.astype(np.int64)).sum(axis=-1)
    )
    summed = wrap_int32(per_filter.reshape(params.batches, params.units, params.rank).sum(axis=-1))
    if bias is not None:
        summed = wrap_int32(summed + bias.astype(np.int64))
    scaled = multiply_by_quantized_multiplier(summed, params.output_multiplier, params.output_shift)
    return np.clip(scaled + params.output_zero_point, -128, 127).astype(np.int8)


def _params(ctx: OpContext) -> SvdfParams:
    return prepare(ctx.op, ctx.graph)


def _float_output(
    params: SvdfParams, history: np.ndarray, time_weights: np.ndarray, bias: np.ndarray | None
) -> np.ndarray:
    per_filter = (history * time_weights).sum(axis=-1, dtype=F32)
    summed = per_filter.reshape(params.batches, params.units, params.rank).sum(axis=-1, dtype=F32)
    if bias is not None:
        summed = summed + bias.astype(F32)
    low, high = params.float_range
    return np.clip(summed, F32(low), F32(high)).astype(F32)
