"""PAD and PADV2 against TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.ir import GraphBuilder
from single_op import assert_matches_tflm, constant

PADDINGS = [
    [[2, 3]],
    [[1, 0], [0, 2]],
    [[0, 0], [1, 1], [2, 0]],
    [[0, 0], [1, 2], [2, 1], [0, 0]],  # the "image style" case TFLM singles out
    [[1, 0], [0, 1], [1, 1], [0, 0]],
    [[0, 1], [1, 0], [0, 0], [2, 1], [1, 0]],
]


def _pad(paddings, dtype: str, scale=None, zero_point=0, pad_value=None):
    shape = [2, 3, 2, 3, 2][: len(paddings)]
    b = GraphBuilder("pad")
    x = b.tensor(shape, dtype, scale=scale, zero_point=zero_point)
    inputs = [x, constant(b, paddings)]
    if pad_value is not None:
        inputs.append(b.tensor([1], dtype, scale=scale, zero_point=zero_point, data=[pad_value]))
    y = b.tensor(np.add(shape, np.sum(paddings, axis=1)), dtype, scale=scale, zero_point=zero_point)
    b.op("PADV2" if pad_value is not None else "PAD", inputs, [y])
    return b.build([x], [y])


@pytest.mark.parametrize("paddings", PADDINGS, ids=str)
@pytest.mark.parametrize(
    ("dtype", "scale", "zero_point"),
    [("int8", 0.05, -17), ("int16", 0.01, 0), ("int32", None, 0), ("float32", None, 0)],
    ids=["int8", "int16", "int32", "float32"],
)
def test_pad(paddings, dtype, scale, zero_point):
    """int8 pads with the output zero point, every other type with 0."""
    assert_matches_tflm(_pad(paddings, dtype, scale, zero_point))


def test_pad_int16_pads_with_zero_whatever_the_zero_point():
    assert_matches_tflm(_pad(PADDINGS[3], "int16", 0.01, 5))


@pytest.mark.parametrize(
    ("dtype", "scale", "zero_point", "pad_value"),
    [("int8", 0.05, -17, 99), ("int16", 0.01, 0, -300), ("int32", None, 0, 7), ("float32", None, 0, -1.5)],
    ids=["int8", "int16", "int32", "float32"],
)
@pytest.mark.parametrize("paddings", [PADDINGS[2], PADDINGS[3]], ids=str)
def test_padv2(paddings, dtype, scale, zero_point, pad_value):
    assert_matches_tflm(_pad(paddings, dtype, scale, zero_point, pad_value))
