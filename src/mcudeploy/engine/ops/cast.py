"""CAST as TFLite Micro's kernel: C++ static_cast of every element.

Integers wrap to a narrower type, bool gives 0 or 1, integers round to the nearest
float32. float32 to an integer truncates; beyond the range (undefined in C++) it does
what Cortex-M's VCVT does: saturate to int32 (uint32 for uint32), NaN to 0, then wrap.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType

CAST_FROM = (DType.INT8, DType.INT16, DType.INT32, DType.UINT32, DType.FLOAT32, DType.BOOL)
CAST_TO = (DType.INT8, DType.INT16, DType.INT32, DType.UINT32, DType.FLOAT32)


@kernel("CAST", types=CAST_FROM)
def cast(ctx: OpContext) -> np.ndarray:
    source, target = ctx.input_tensor(0).dtype, ctx.output_tensor().dtype
    if source not in CAST_FROM or target not in CAST_TO:
        raise UnsupportedOperatorError(ctx.op.label, f"CAST of {source} to {target} is not supported by TFLite Micro")
    values = ctx.input(0)
    if source == DType.FLOAT32 and target != DType.FLOAT32:
        low, high = (0, 2**32 - 1) if target == DType.UINT32 else (-(2**31), 2**31 - 1)
        values = np.clip(np.nan_to_num(np.trunc(values.astype(np.float64)), nan=0.0), low, high).astype(np.int64)
    elif target != DType.FLOAT32:
        values = values.astype(np.int64)
    return values.astype(target.numpy).reshape(ctx.output_tensor().shape)
