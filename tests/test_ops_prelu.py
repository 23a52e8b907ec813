"""PRELU against TFLite Micro: float32, int8, int16 with an int8 alpha; alpha per channel (broadcast)
or of the input's shape."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.ir import GraphBuilder
from single_op import assert_matches_tflm

QUANTIZATION = {
    "int8": ({"scale": 0.05, "zero_point": 5}, {"scale": 0.01, "zero_point": -3}, {"scale": 0.04, "zero_point": -9}),
    "int16": ({"scale": 0.001, "zero_point": 0}, {"scale": 0.01, "zero_point": 2}, {"scale": 0.0008, "zero_point": 0}),
    "float32": ({}, {}, {}),
}


@pytest.mark.parametrize("alpha_shape", [(1, 1, 6), (4, 5, 6), (6,)])
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_prelu(dtype, alpha_shape):
    input_q, alpha_q, output_q = QUANTIZATION[dtype]
    rng = np.random.default_rng(len(alpha_shape))
    b = GraphBuilder("prelu")
    x = b.tensor((2, 4, 5, 6), dtype, **input_q)
    values = rng.integers(-128, 128, alpha_shape)
    if dtype == "float32":
        values = (values / 128).astype(np.float32)
    alpha = b.tensor(alpha_shape, "float32" if dtype == "float32" else "int8", data=values, **alpha_q)
    y = b.tensor((2, 4, 5, 6), dtype, **output_q)
    b.op("PRELU", [x, alpha], [y])
    assert_matches_tflm(b.build([x], [y]), float_exact=True)
