"""TRANSPOSE against TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import ModelError
from mcudeploy.ir import GraphBuilder
from single_op import assert_matches_tflm, constant


def _transpose(shape, perm, dtype: str):
    b = GraphBuilder("transpose")
    x = b.tensor(shape, dtype)
    p = constant(b, perm)
    y = b.tensor([shape[i] for i in perm], dtype)
    b.op("TRANSPOSE", [x, p], [y])
    return b.build([x], [y])


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
@pytest.mark.parametrize(
    ("shape", "perm"),
    [
        ((7,), (0,)),
        ((3, 5), (1, 0)),
        ((2, 3, 4), (2, 0, 1)),
        ((1, 4, 5, 3), (0, 3, 1, 2)),
        ((2, 3, 4, 5), (3, 2, 1, 0)),
        ((2, 1, 3, 2, 4), (4, 0, 3, 1, 2)),
    ],
)
def test_transpose(shape, perm, dtype):
    assert_matches_tflm(_transpose(shape, perm, dtype))


def test_transpose_refuses_a_perm_that_is_not_a_permutation():
    graph = _transpose((2, 3), (0, 0), "int8")
    with pytest.raises(ModelError, match="permutation"):
        run(graph, [np.zeros((2, 3), np.int8)])
