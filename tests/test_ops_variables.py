"""Resource variables against TFLite Micro over several invocations: a running sum kept in a
variable (READ_VARIABLE, ADD, ASSIGN_VARIABLE), two handles of one shared name, float and int8."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.analysis.coverage import variable_bytes
from mcudeploy.engine.interpreter import Engine
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import random_array
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import ElementwiseOptions, VarHandleOptions
from mcudeploy.memory import plan_memory
from mcudeploy.memory.planners.tflm import live_tflm_heads
from single_op import assert_matches_tflm

INVOCATIONS = 5


def accumulator_graph(dtype: str = "int8", second_handle: bool = True):
    """sum = read(v) + x; assign(v, sum); outputs sum (and, through a second handle of the same
    name, what the variable holds after the assignment)."""
    b = GraphBuilder("accumulator")
    quant = {"scale": 0.05, "zero_point": 3} if dtype == "int8" else {}
    x = b.tensor((2, 3), dtype, name="x", **quant)
    handle = b.tensor((), "resource", name="handle")
    b.op("VAR_HANDLE", [], [handle], VarHandleOptions(shared_name="running_sum"))
    previous = b.tensor((2, 3), dtype, name="previous", **quant)
    b.op("READ_VARIABLE", [handle], [previous])
    total = b.tensor((2, 3), dtype, name="sum", **quant)
    b.op("ADD", [previous, x], [total], ElementwiseOptions())
    b.op("ASSIGN_VARIABLE", [handle, total], [])
    outputs = [total]
    if second_handle:
        again = b.tensor((), "resource", name="same_handle")
        b.op("VAR_HANDLE", [], [again], VarHandleOptions(container="", shared_name="running_sum"))
        held = b.tensor((2, 3), dtype, name="held", **quant)
        b.op("READ_VARIABLE", [again], [held])
        outputs.append(held)
    return b.build([x], outputs)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_running_sum_matches_tflm(dtype):
    assert_matches_tflm(accumulator_graph(dtype), seed=1, invocations=INVOCATIONS)


def test_a_fresh_engine_and_reset_start_from_the_zero_point():
    graph = accumulator_graph(second_handle=False)
    x = random_array(graph.graph_inputs[0], np.random.default_rng(0))
    engine = Engine(graph)
    first = engine.run([x]).outputs[0]
    assert not np.array_equal(engine.run([x]).outputs[0], first)
    engine.reset()
    assert np.array_equal(engine.run([x]).outputs[0], first)


def test_a_read_of_a_variable_never_assigned_is_refused():
    b = GraphBuilder("unassigned")
    handle, value = b.tensor((), "resource"), b.tensor((4,), "float32")
    unused = b.tensor((4,), "float32")  # a graph needs an input (import checks)
    b.op("VAR_HANDLE", [], [handle], VarHandleOptions(shared_name="never"))
    b.op("READ_VARIABLE", [handle], [value])
    with pytest.raises(UnsupportedOperatorError, match="no ASSIGN_VARIABLE"):
        Engine(b.build([unused], [value])).run([np.zeros(4, np.float32)])


def test_tflm_planner_and_state_bytes(tmp_path):
    """The tflm planner replica places the handles as the live interpreter does; analyze counts
    each variable's buffer once (two handles of one name share it) beside the arena."""
    graphs = [accumulator_graph("int8"), accumulator_graph("float32")]
    paths = [tmp_path / f"accumulator_{n}.tflite" for n in range(len(graphs))]
    for path, graph in zip(paths, graphs, strict=True):
        path.write_bytes(write_tflite(graph))
    assert [plan_memory(read_tflite(path), "tflm").arena_bytes for path in paths] == live_tflm_heads(paths)
    assert [variable_bytes(graph) for graph in graphs] == [6, 24]
