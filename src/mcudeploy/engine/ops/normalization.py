"""L2_NORMALIZATION as TFLite Micro's reference kernels compute it (float32, int8), along the last axis.

float32: each value over max(sqrt(Σ squares, in order), 1e-6). int8: the centred values times the
inverse square root of their sum of squares (GetInvSqrtQuantizedMultiplierExp), in units of 2^-7
whatever the output's quantization, saturated.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.fixedpoint import inv_sqrt_multiplier_exp, multiply_by_quantized_multiplier
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import Activation, DType
from mcudeploy.params.quantization import zero_point

EPSILON = np.float32(1e-6)
OUTPUT_BITS = 7
"""int8 outputs are in units of 2^-7."""


@kernel("L2_NORMALIZATION", types=(DType.FLOAT32, DType.INT8))
def l2_normalization(ctx: OpContext) -> np.ndarray:
    input_t, x = ctx.input_tensor(0), ctx.input(0)
    if ctx.options is not None and ctx.options.activation != Activation.NONE:
        raise UnsupportedOperatorError(ctx.op.label, "a fused activation (TFLite Micro refuses it)")
    if input_t.dtype == DType.FLOAT32:
        squares = np.zeros(x.shape[:-1], dtype=np.float32)
        for column in np.moveaxis(x, -1, 0):
            squares += column * column
        return x / np.maximum(np.sqrt(squares), EPSILON)[..., np.newaxis]
    if input_t.dtype != DType.INT8:
        raise UnsupportedOperatorError(ctx.op.label, f"{input_t.dtype} is not supported (TFLite Micro: float32, int8)")
    centred = x.astype(np.int64) - zero_point(input_t)
    rows = centred.reshape(-1, x.shape[-1])
    scales = [inv_sqrt_multiplier_exp(int(total)) for total in (rows * rows).sum(axis=1)]
    multipliers = np.array([m for m, _ in scales], dtype=np.int64)[:, np.newaxis]
    shifts = np.array([s for _, s in scales], dtype=np.int64)[:, np.newaxis] + OUTPUT_BITS
    scaled = multiply_by_quantized_multiplier(rows, multipliers, shifts)
    return np.clip(scaled, -128, 127).astype(np.int8).reshape(x.shape)
