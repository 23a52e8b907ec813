"""SHAPE and FILL against TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import GraphBuilder
from single_op import assert_matches_tflm, constant


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
@pytest.mark.parametrize("in_shape", [(1, 49, 10, 1), (3, 5), (7,)])
def test_shape(in_shape, dtype):
    b = GraphBuilder("shape")
    x = b.tensor(in_shape, dtype, scale=0.1 if dtype != "float32" else None)
    y = b.tensor((len(in_shape),), "int32")
    b.op("SHAPE", [x], [y])
    assert_matches_tflm(b.build([x], [y]))


def test_shape_to_int64_is_refused_as_tflite_micro_does():
    b = GraphBuilder("shape int64")
    x = b.tensor((2, 3), "int8", scale=0.1)
    y = b.tensor((2,), "int64")
    b.op("SHAPE", [x], [y])
    with pytest.raises(UnsupportedOperatorError, match="not supported by TFLite Micro"):
        run(b.build([x], [y]), [np.zeros((2, 3), np.int8)])


@pytest.mark.parametrize("dims_type", ["int32", "int64"])
@pytest.mark.parametrize("dtype", ["int8", "int32", "float32"])
@pytest.mark.parametrize("out_shape", [(2, 3, 4), (5,)])
def test_fill(out_shape, dtype, dims_type):
    b = GraphBuilder("fill")
    value = b.tensor((), dtype, scale=0.1 if dtype == "int8" else None)
    y = b.tensor(out_shape, dtype, scale=0.1 if dtype == "int8" else None)
    b.op("FILL", [constant(b, list(out_shape), dims_type), value], [y])
    assert_matches_tflm(b.build([value], [y]))
