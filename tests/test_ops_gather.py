"""GATHER, GATHER_ND, EMBEDDING_LOOKUP, ARG_MAX and ARG_MIN against TFLite Micro, in every element
type its kernels take."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import McuDeployError, UnsupportedOperatorError
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import ArgOptions, GatherOptions
from single_op import assert_matches_tflm, constant


def _quant(dtype: str) -> dict:
    return {"scale": 0.05, "zero_point": -4} if dtype == "int8" else {}


def _gather(op_type, shape, index_values, out_shape, dtype, options=None):
    """Values as a graph input, indices as a second one (given values)."""
    b = GraphBuilder(op_type.lower())
    x = b.tensor(shape, dtype, **_quant(dtype))
    indices = np.asarray(index_values, dtype=np.int32)
    i = b.tensor(indices.shape, "int32")
    y = b.tensor(out_shape, dtype, **_quant(dtype))
    b.op(op_type, [x, i], [y], options)
    graph = b.build([x, i], [y])
    return graph, [random_inputs(graph, 0)[0], indices]


GATHER_CASES = [  # shape, indices, axis, batch_dims, output shape
    ((5, 3), [4, 0, 0, 2], 0, 0, (4, 3)),
    ((2, 6, 3), [[1, 5], [0, 3]], 1, 0, (2, 2, 2, 3)),
    ((2, 6, 3), [[1, 5, 2], [0, 3, 3]], -2, 1, (2, 3, 3)),
    ((3, 4), [3, 1], -1, 0, (3, 2)),
]


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_gather(dtype):
    for shape, indices, axis, batch_dims, out_shape in GATHER_CASES:
        graph, inputs = _gather("GATHER", shape, indices, out_shape, dtype, GatherOptions(axis, batch_dims))
        assert_matches_tflm(graph, inputs=inputs)


def test_gather_index_outside_is_an_error():
    graph, inputs = _gather("GATHER", (5, 3), [5], (1, 3), "int8", GatherOptions())
    with pytest.raises(McuDeployError, match=r"outside \[0, 5\)"):
        run(graph, inputs)


GATHER_ND_CASES = [  # shape, indices, output shape
    ((4, 3), [[2], [0], [3]], (3, 3)),
    ((4, 3, 2), [[1, 2], [3, 0]], (2, 2)),
    ((2, 3, 4), [[[1, 2, 3]], [[0, 1, 0]]], (2, 1)),
    ((3, 2, 2), [[1, 1], [2, 0], [0, 1]], (3, 2)),
]


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_gather_nd(dtype):
    for shape, indices, out_shape in GATHER_ND_CASES:
        graph, inputs = _gather("GATHER_ND", shape, indices, out_shape, dtype)
        assert_matches_tflm(graph, inputs=inputs)


def test_gather_nd_index_outside_is_an_error():
    graph, inputs = _gather("GATHER_ND", (4, 3), [[4]], (1, 3), "float32")
    with pytest.raises(McuDeployError, match="outside the input"):
        run(graph, inputs)


def test_gather_of_int16_is_refused():
    graph, inputs = _gather("GATHER", (5, 3), [1], (1, 3), "int16", GatherOptions())
    with pytest.raises(UnsupportedOperatorError, match="not supported by TFLite Micro"):
        run(graph, inputs)


def _arg(op_type, shape, axis, dtype, axis_type="int32"):
    b = GraphBuilder(op_type.lower())
    x = b.tensor(shape, dtype, **_quant(dtype))
    out_shape = tuple(s for i, s in enumerate(shape) if i != axis % len(shape))
    y = b.tensor(out_shape, "int32")
    b.op(op_type, [x, constant(b, [axis], axis_type)], [y], ArgOptions())
    return b.build([x], [y])


@pytest.mark.parametrize("op_type", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_arg_min_max(op_type, dtype):
    for seed, (shape, axis) in enumerate((((7,), 0), ((3, 5, 4), 1), ((2, 3, 6), -1), ((4, 3), 0))):
        assert_matches_tflm(_arg(op_type, shape, axis, dtype), seed=seed)


@pytest.mark.parametrize("op_type", ["ARG_MAX", "ARG_MIN"])
def test_arg_min_max_ties_and_nan(op_type):
    """Equal values: the first wins; NaN as TFLite Micro's comparison treats it."""
    ties = np.array([[3, 7, 7, -2, 7, -2]], np.int8)
    assert_matches_tflm(_arg(op_type, (1, 6), 1, "int8"), inputs=[ties])
    nans = np.array([[np.nan, 1.0, 5.0], [2.0, np.nan, -1.0], [np.nan, np.nan, np.nan]], np.float32)
    assert_matches_tflm(_arg(op_type, (3, 3), 1, "float32"), inputs=[nans])


@pytest.mark.parametrize(("value_type", "out_type"), [("float32", "float32"), ("int8", "int8"), ("int8", "float32")])
def test_embedding_lookup(value_type, out_type):
    b = GraphBuilder("embedding_lookup")
    lookup = b.tensor((4,), "int32")
    quant = {"scale": 0.037, "zero_point": 0} if value_type == "int8" else {}
    values = b.tensor((6, 3, 2), value_type, **quant)
    y = b.tensor((4, 3, 2), out_type, **(quant if out_type == "int8" else {}))
    b.op("EMBEDDING_LOOKUP", [lookup, values], [y])
    graph = b.build([lookup, values], [y])
    inputs = [np.array([5, 0, 2, 5], np.int32), random_inputs(graph, 1)[1]]
    assert_matches_tflm(graph, inputs=inputs, float_exact=True)
    with pytest.raises(McuDeployError, match=r"outside \[0, 6\)"):
        run(graph, [np.array([6, 0, 0, 0], np.int32), inputs[1]])
