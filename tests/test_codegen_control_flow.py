"""IF, WHILE and CALL_ONCE in the generated C: each called subgraph a function, its buffers in a
region of the arena (our plan) or where TFLite Micro's plan puts them, its values copied in and
out; every inference equals the engine's, on the host (sanitized) and on emulated cores."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine import Engine
from test_codegen import assert_invocations_match_engine, build
from test_ops_control_flow import VALUES, counting_loop, if_graph, initialised_accumulator, nested_loop

X_INT8 = np.arange(-60, 60, 20, dtype=np.int8).reshape(VALUES)
X_FLOAT = np.linspace(-1.5, 2.5, 6, dtype=np.float32).reshape(VALUES) / 4


def loop_inputs(starts: list[int]) -> list[list[np.ndarray]]:
    return [[np.array(start, np.int32), X_FLOAT * (start + 1)] for start in starts]


def test_if_runs_the_chosen_branch_in_c(tmp_path):
    program = build(if_graph(), tmp_path, invocations=4)
    conditions = [True, False, False, True]
    assert_invocations_match_engine(program, [[np.array([c]), X_INT8 + k] for k, c in enumerate(conditions)])


@pytest.mark.parametrize("planner", ["mcudeploy", "tflm"])
def test_while_with_an_if_inside_loops_in_c(tmp_path, planner):
    """The counting loop whose body chooses between doubling and squaring: 5, 2 and 0 rounds."""
    program = build(nested_loop(), tmp_path, planner=planner, invocations=3)
    assert_invocations_match_engine(program, loop_inputs([0, 3, 5]))


def test_call_once_initialises_the_variable_once_in_c(tmp_path):
    """The variable set to 10 on the first inference only, then accumulating: 8, 6, 4."""
    program = build(initialised_accumulator(), tmp_path, invocations=3)
    x = np.array([[1, -2, 3], [4, 5, -6]], np.int8)
    assert_invocations_match_engine(program, [[x]] * 3)
    assert [int(step.outputs[0][0, 0]) for step in program.run([[x]] * 3).steps] == [8, 6, 4]


@pytest.mark.parametrize("core", ["m4", "m55"])
def test_control_flow_on_cores(tmp_path, core):
    """The loop (float values, int32 counter) and the accumulator (int8, a resource variable)."""
    loop = build(counting_loop(), tmp_path / "loop", invocations=2, target_name=core)
    assert_invocations_match_engine(loop, loop_inputs([1, 6]))
    once = build(initialised_accumulator(), tmp_path / "once", invocations=2, target_name=core)
    assert_invocations_match_engine(once, [[X_INT8 // 8]] * 2)
    assert Engine(initialised_accumulator()).run([X_INT8 // 8]).outputs[0].any()
