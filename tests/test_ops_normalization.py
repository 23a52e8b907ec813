"""L2_NORMALIZATION against TFLite Micro: float32 and int8 (rows of zeros, a single value, long rows)."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.ir import GraphBuilder
from single_op import assert_matches_tflm


def _l2_norm(shape, dtype: str, zero_point: int = 0):
    b = GraphBuilder("l2_norm")
    quantization = {} if dtype == "float32" else {"scale": 0.05, "zero_point": zero_point}
    x = b.tensor(shape, dtype, **quantization)
    y = b.tensor(shape, dtype, **({} if dtype == "float32" else {"scale": 1 / 128, "zero_point": 0}))
    b.op("L2_NORMALIZATION", [x], [y])
    return b.build([x], [y])


@pytest.mark.parametrize("shape", [(2, 3, 4, 16), (5, 1), (3, 700)])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_l2_normalization(dtype, shape):
    assert_matches_tflm(_l2_norm(shape, dtype, zero_point=-7))


def test_int8_rows_of_zero_point_and_single_values():
    graph = _l2_norm((4, 6), "int8", zero_point=3)
    x = np.array([[3] * 6, [4, 3, 3, 3, 3, 3], [-128] * 6, [127, -128, 3, 3, 50, 3]], dtype=np.int8)
    assert_matches_tflm(graph, inputs=[x])
