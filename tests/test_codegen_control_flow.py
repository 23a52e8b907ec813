"""IF, WHILE and CALL_ONCE in the generated C: each called subgraph a function, its buffers in a
region of the arena (our plan) or where TFLite Micro's plan puts them, its values copied in and
out; every inference equals the engine's, on the host (sanitized) and on emulated cores."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_cli
from mcudeploy.analysis.model import Reserves, analyze_model
from mcudeploy.devices import find_device
from mcudeploy.emulation.elf import ElfImage
from mcudeploy.estimate.model import control_flow_notes
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import Columns, Graph, GraphBuilder, KernelVariant
from mcudeploy.ir.options import Conv2DOptions, ElementwiseOptions, IfOptions, Padding, WhileOptions
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import constant_layout
from mcudeploy.memory.checker import check_plan
from mcudeploy.validation.runner import Validator
from test_codegen import assert_invocations_match_engine, build
from test_ops_control_flow import (
    QUANT,
    VALUES,
    branched_twice,
    counting_loop,
    if_graph,
    initialised_accumulator,
    nested_loop,
)

X_INT8 = np.arange(-60, 60, 20, dtype=np.int8).reshape(VALUES)
X_FLOAT = np.linspace(-1.5, 2.5, 6, dtype=np.float32).reshape(VALUES) / 4


def loop_inputs(starts: list[int]) -> list[list[np.ndarray]]:
    return [[np.array(start, np.int32), X_FLOAT * (start + 1)] for start in starts]


def test_if_runs_the_chosen_branch_in_c(tmp_path):
    """Two IFs running the same branches: each branch one function, its buffers in one place."""
    program = build(branched_twice(), tmp_path, sanitized=False, invocations=4)
    conditions = [True, False, False, True]
    assert_invocations_match_engine(program, [[np.array([c]), X_INT8 + k] for k, c in enumerate(conditions)])


@pytest.mark.parametrize("planner", ["mcudeploy", "tflm"])
def test_while_with_an_if_inside_loops_in_c(tmp_path, planner):
    """The counting loop whose body chooses between doubling and squaring: 5, 2 and 0 rounds, on our
    plan and on TFLite Micro's (the sanitizers watch it in test_control_flow_between_red_zones)."""
    program = build(nested_loop(), tmp_path, sanitized=False, planner=planner, invocations=3)
    assert_invocations_match_engine(program, loop_inputs([0, 3, 5]))


def test_control_flow_between_red_zones(tmp_path):
    """validate's sanitized run: the guarded plan gives the called subgraphs' buffers bytes of their
    own between poisoned red zones; no access strays, every output agrees."""
    validator = Validator(nested_loop(), workdir=tmp_path, guard_bytes=32)
    assert any(b.subgraph_tensor for b in validator.plan.buffers)
    result = validator.validate_target("host-sanitized", loop_inputs([0, 4]))
    assert [r.divergence for r in result.inputs if not r.agrees] == []


def test_call_once_initialises_the_variable_once_in_c(tmp_path):
    """The variable set to 10 on the first inference only, then accumulating: 8, 6, 4."""
    program = build(initialised_accumulator(), tmp_path, invocations=3)
    x = np.array([[1, -2, 3], [4, 5, -6]], np.int8)
    assert_invocations_match_engine(program, [[x]] * 3)
    assert [int(step.outputs[0][0, 0]) for step in program.run([[x]] * 3).steps] == [8, 6, 4]


def shared_in_a_loop() -> Graph:
    """An IF over subgraphs 1 and 2 (if_graph's branches), then a WHILE (cond 3, body 4) whose body runs
    an IF over the same two: the branches' one place is live over both main steps."""
    branches = list(if_graph().other_subgraphs)
    cond = GraphBuilder("cond")
    i, x = cond.tensor((), "int32", name="i"), cond.tensor(VALUES, "int8", name="x", **QUANT)
    limit, going = cond.tensor((), "int32", data=3, name="limit"), cond.tensor((), "bool", name="going")
    cond.op("LESS", [i, limit], [going])
    body = GraphBuilder("body")
    i, x = body.tensor((), "int32", name="i"), body.tensor(VALUES, "int8", name="x", **QUANT)
    one, odd = body.tensor((), "int32", data=1, name="one"), body.tensor((1,), "bool", data=[True], name="odd")
    next_i, next_x = body.tensor((), "int32", name="next_i"), body.tensor(VALUES, "int8", name="next_x", **QUANT)
    body.op("IF", [odd, x], [next_x], IfOptions(1, 2))
    body.op("ADD", [i, one], [next_i], ElementwiseOptions())
    main = GraphBuilder("shared")
    flag, x = main.tensor((1,), "bool", name="flag"), main.tensor(VALUES, "int8", name="x", **QUANT)
    start, y = main.tensor((), "int32", data=0, name="start"), main.tensor(VALUES, "int8", name="y", **QUANT)
    main.op("IF", [flag, x], [y], IfOptions(1, 2))
    last_i, last_y = main.tensor((), "int32", name="last_i"), main.tensor(VALUES, "int8", name="last_y", **QUANT)
    main.op("WHILE", [start, y], [last_i, last_y], WhileOptions(cond_subgraph=3, body_subgraph=4))
    loop = [cond.build([i, x], [going]), body.build([i, x], [next_i, next_x])]
    return main.build([flag, x], [last_y], [*branches, *loop])


def test_branches_run_from_main_and_from_a_loop_body_in_c(tmp_path):
    graph = shared_in_a_loop()
    plan = plan_memory(graph)
    then_x = next(b for b in plan.buffers if b.subgraph_tensor == (1, 0))
    assert (then_x.first, then_x.last) == (0, 1)  # outside the WHILE's region, which holds cond and body only
    program = build(graph, tmp_path, sanitized=False, invocations=2)
    assert_invocations_match_engine(program, [[np.array([True]), X_INT8], [np.array([False]), X_INT8 // 3]])


def test_validate_runs_call_once_in_each_fresh_program(monkeypatch, capsys, tmp_path):
    """validate runs each input in a program of its own: CALL_ONCE initialises the variable each time,
    in the C and in the engine's reference (reset as a new program), and TFLite Micro agrees (its
    outputs read, not its resource handles, which crash its reader)."""
    model = tmp_path / "once.tflite"
    model.write_bytes(write_tflite(initialised_accumulator()))
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for k in range(3):
        np.save(inputs / f"x{k}.npy", X_INT8 // (k + 2))
    code, out, _ = run_cli(monkeypatch, capsys, "validate", str(model), "--target", "host", "--inputs", str(inputs))
    assert code == 0 and "bit-exact" in out and "agrees with TensorFlow Lite Micro on every input" in out


def test_control_flow_on_a_core(tmp_path):
    """On QEMU's Cortex-M4: the loop (float values, int32 counter) and the if (int8, a constant in a
    branch), whose linked arena and weights are the figures analyze reports."""
    core = "m4"
    loop = build(counting_loop(), tmp_path / "loop", invocations=2, target_name=core)
    assert_invocations_match_engine(loop, loop_inputs([1, 6]))
    graph = if_graph()
    program = build(graph, tmp_path / "if", invocations=2, target_name=core)
    assert_invocations_match_engine(program, [[np.array([True]), X_INT8], [np.array([False]), X_INT8]])
    report = analyze_model(graph, plan_memory(graph), find_device("STM32F446RE"), Reserves())
    elf = ElfImage(program.elf)
    assert elf.symbol("net_arena").size == report.arena_bytes == 64
    assert elf.symbol("net_weights").size == constant_layout(graph).total_bytes == 16  # then/c, 6 bytes


def test_estimate_says_what_the_measured_inference_ran():
    """A WHILE's figures are per iteration count: the note counts its body's runs on the measured
    inputs (the constant start 3: 2 runs); CALL_ONCE's include the one run of its subgraph."""
    assert control_flow_notes(counting_loop(start=3)) == [
        "layer #0 WHILE: its figures are for the 2 runs of its body (subgraph 2) on the measured inputs; "
        "a loop's time depends on how often it runs, which other inputs change"
    ]
    assert control_flow_notes(initialised_accumulator()) == [
        "layer #0 CALL_ONCE: its figures include subgraph 1, which runs on the first inference after init() only "
        "(the one measured); later inferences skip it"
    ]
    assert control_flow_notes(if_graph()) == []


def convolution(name: str, window: int) -> Graph:
    """A window x window convolution, 96 channels to 16 over 3x3 pixels (int8)."""
    b = GraphBuilder(name)
    x = b.tensor((1, 3, 3, 96), "int8", name="x", scale=0.1)
    shape = (16, window, window, 96)
    weights = np.random.default_rng(window).integers(-20, 20, shape, dtype=np.int8)
    w = b.tensor(shape, "int8", data=weights, name="w", scale=0.01)
    y = b.tensor((1, 3, 3, 16), "int8", name="y", scale=0.5)
    b.op("CONV_2D", [x, w], [y], Conv2DOptions(Padding.SAME, 1, 1))
    return b.build([x], [y])


def branched_convolutions() -> Graph:
    b = GraphBuilder("branched convolutions")
    cond = b.tensor((1,), "bool", name="cond")
    x = b.tensor((1, 3, 3, 96), "int8", name="x", scale=0.1)
    y = b.tensor((1, 3, 3, 16), "int8", name="y", scale=0.5)
    b.op("IF", [cond, x], [y], IfOptions(1, 2))
    return b.build([cond, x], [y], [convolution("wide", 3), convolution("pointwise", 1)])


def test_a_branch_convolution_gets_the_columns_the_model_needs(tmp_path):
    """The 3x3 branch's im2col columns would set the arena: the same rule as in the main graph
    chooses its direct path, and the C (which follows it) links the arena analyze reports."""
    graph = branched_convolutions()
    plan = plan_memory(graph)
    assert graph.other_subgraphs[0].operators[0].variant == KernelVariant(Columns.DIRECT)
    assert check_plan(graph, plan) == []
    forced = branched_convolutions()
    forced.other_subgraphs[0].operators[0].variant = KernelVariant(Columns.IM2COL)
    assert plan.arena_bytes < plan_memory(forced).arena_bytes
    program = build(graph, tmp_path, sanitized=False, invocations=2)
    x = np.random.default_rng(0).integers(-128, 128, (1, 3, 3, 96), dtype=np.int8)
    assert_invocations_match_engine(program, [[np.array([True]), x], [np.array([False]), x]])
    report = analyze_model(graph, plan, find_device("STM32F446RE"), Reserves())
    assert ElfImage(program.elf).symbol("net_arena").size == report.arena_bytes == plan.arena_bytes
