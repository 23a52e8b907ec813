"""RESHAPE, SQUEEZE and EXPAND_DIMS against TFLite Micro."""

from __future__ import annotations

import pytest

from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import ReshapeOptions, SqueezeOptions
from single_op import assert_matches_tflm, constant

DTYPES = ["int8", "int16", "float32"]


def _one_op(op_type: str, in_shape, out_shape, dtype: str, options=None, extra_inputs=()):
    b = GraphBuilder(op_type.lower())
    x = b.tensor(in_shape, dtype)
    params = [constant(b, values) for values in extra_inputs]
    y = b.tensor(out_shape, dtype)
    b.op(op_type, [x, *params], [y], options)
    return b.build([x], [y])


@pytest.mark.parametrize("dtype", [*DTYPES, "int32"])
@pytest.mark.parametrize(
    ("in_shape", "out_shape"), [((2, 3, 4), (6, 4)), ((1, 4, 4, 3), (1, 48)), ((24,), (2, 3, 2, 2)), ((1, 1, 5), (5,))]
)
def test_reshape_with_shape_tensor(in_shape, out_shape, dtype):
    assert_matches_tflm(_one_op("RESHAPE", in_shape, out_shape, dtype, ReshapeOptions(), [list(out_shape)]))


@pytest.mark.parametrize("new_shape", [(3, -1), (3, 8)])
def test_reshape_with_options_only(new_shape):
    graph = _one_op("RESHAPE", (2, 3, 4), (3, 8), "int8", ReshapeOptions(new_shape=new_shape))
    assert_matches_tflm(graph)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("in_shape", "squeeze_dims", "out_shape"),
    [
        ((1, 3, 1, 4), (), (3, 4)),
        ((1, 3, 1, 4), (0,), (3, 1, 4)),
        ((1, 3, 1, 4), (-2,), (1, 3, 4)),
        ((2, 1), (-1,), (2,)),
    ],
)
def test_squeeze(in_shape, squeeze_dims, out_shape, dtype):
    graph = _one_op("SQUEEZE", in_shape, out_shape, dtype, SqueezeOptions(squeeze_dims=squeeze_dims))
    assert_matches_tflm(graph)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("axis", "out_shape"), [(0, (1, 3, 4)), (2, (3, 4, 1)), (-1, (3, 4, 1)), (-2, (3, 1, 4))])
def test_expand_dims(axis, out_shape, dtype):
    assert_matches_tflm(_one_op("EXPAND_DIMS", (3, 4), out_shape, dtype, extra_inputs=[[axis]]))
