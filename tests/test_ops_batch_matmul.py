"""BATCH_MATMUL against TFLite Micro: float32, int8 (zero points on both operands), int16; adjoints,
broadcast batch axes, ranks 2 to 5, a constant right operand."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.errors import ModelError
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import BatchMatMulOptions
from mcudeploy.ir.validate import validate_graph
from single_op import assert_matches_tflm

QUANTIZATION = {
    "int8": ({"scale": 0.05, "zero_point": -7}, {"scale": 0.03, "zero_point": 4}, {"scale": 0.4, "zero_point": 2}),
    "int16": ({"scale": 0.001, "zero_point": 0}, {"scale": 0.002, "zero_point": 0}, {"scale": 0.01, "zero_point": 0}),
    "float32": ({}, {}, {}),
}


def batch_matmul_graph(dtype: str, lhs_shape, rhs_shape, out_shape, adj_x=False, adj_y=False, constant_rhs=False):
    lhs_q, rhs_q, out_q = QUANTIZATION[dtype]
    b = GraphBuilder("batch_matmul")
    lhs = b.tensor(lhs_shape, dtype, **lhs_q)
    if constant_rhs:
        values = np.random.default_rng(3).integers(-100, 100, rhs_shape)
        data = (values / 50).astype(np.float32) if dtype == "float32" else values
        rhs = b.tensor(rhs_shape, dtype, data=data, **rhs_q)
    else:
        rhs = b.tensor(rhs_shape, dtype, **rhs_q)
    y = b.tensor(out_shape, dtype, **out_q)
    b.op("BATCH_MATMUL", [lhs, rhs], [y], BatchMatMulOptions(adj_x=adj_x, adj_y=adj_y))
    return b.build([lhs] if constant_rhs else [lhs, rhs], [y])


CASES = [
    ((3, 5), (5, 4), (3, 4), False, False),
    ((2, 3, 5), (2, 4, 5), (2, 3, 4), False, True),
    ((2, 5, 3), (5, 4), (2, 3, 4), True, False),
    ((3, 1, 5, 3), (1, 4, 6, 5), (3, 4, 3, 6), True, True),
    ((1, 2, 1, 3, 7), (2, 2, 7, 2), (1, 2, 2, 3, 2), False, False),
]


@pytest.mark.parametrize(("lhs", "rhs", "out", "adj_x", "adj_y"), CASES)
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_batch_matmul(dtype, lhs, rhs, out, adj_x, adj_y):
    assert_matches_tflm(batch_matmul_graph(dtype, lhs, rhs, out, adj_x, adj_y), float_exact=True)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_batch_matmul_constant_rhs(dtype):
    assert_matches_tflm(batch_matmul_graph(dtype, (2, 3, 8), (8, 5), (2, 3, 5), constant_rhs=True), float_exact=True)


def test_mismatched_depth_is_refused():
    with pytest.raises(ModelError, match="sums over 4 values, the left operand over 5"):
        validate_graph(batch_matmul_graph("float32", (3, 5), (4, 4), (3, 4)))


def test_macs_are_depth_per_output_value():
    from mcudeploy.analysis.costs import layer_macs

    graph = batch_matmul_graph("float32", (3, 1, 5, 3), (1, 4, 6, 5), (3, 4, 3, 6), adj_x=True, adj_y=True)
    assert layer_macs(graph, graph.operators[0]) == 3 * 4 * 3 * 6 * 5
