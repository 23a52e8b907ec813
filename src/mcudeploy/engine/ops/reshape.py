"""RESHAPE, SQUEEZE and EXPAND_DIMS: the data is unchanged, only the shape is new.

TFLite Micro copies the bytes and takes the shape from the output tensor, so
the shape input of RESHAPE (or its options) and the axis of EXPAND_DIMS only
matter to the converter that sized the output tensor.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import ANY_TYPE, OpContext, kernel


@kernel("RESHAPE", "SQUEEZE", "EXPAND_DIMS", types=ANY_TYPE)
def reshape_to_output(ctx: OpContext) -> np.ndarray:
    return ctx.input(0).reshape(ctx.output_tensor().shape)  # the same element count: checked at import
