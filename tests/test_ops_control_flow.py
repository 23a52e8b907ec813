"""IF, WHILE and CALL_ONCE over several subgraphs, against TFLite Micro: an IF choosing between two
computations, a WHILE counting loop, a CALL_ONCE initialising the variable of an accumulator."""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pytest

from conftest import run_cli
from mcudeploy.analysis.coverage import variable_bytes
from mcudeploy.analysis.model import Reserves, analyze_model
from mcudeploy.devices import find_device
from mcudeploy.engine.interpreter import Engine
from mcudeploy.errors import ModelError
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import Graph, GraphBuilder
from mcudeploy.ir.options import (
    CallOnceOptions,
    ElementwiseOptions,
    IfOptions,
    VarHandleOptions,
    WhileOptions,
)
from mcudeploy.ir.validate import validate_graph
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import code_estimate, constant_layout
from mcudeploy.memory.checker import check_layout, check_plan
from mcudeploy.memory.planners.guarded import plan_guarded
from mcudeploy.memory.planners.tflm import live_tflm_heads
from single_op import assert_matches_tflm

VALUES = (2, 3)
QUANT = {"scale": 0.05, "zero_point": 3}


def branch(name: str, op_type: str, constant: np.ndarray | None = None) -> Graph:
    """y = x <op> c (or x <op> x without a constant), int8."""
    b = GraphBuilder(name)
    x = b.tensor(VALUES, "int8", name="x", **QUANT)
    other = x if constant is None else b.tensor(VALUES, "int8", data=constant, name="c", **QUANT)
    y = b.tensor(VALUES, "int8", name="y", scale=0.1, zero_point=-2)
    b.op(op_type, [x, other], [y], ElementwiseOptions())
    return b.build([x], [y])


def if_graph(then_subgraph: int = 1, else_subgraph: int = 2) -> Graph:
    b = GraphBuilder("if")
    cond = b.tensor((1,), "bool", name="cond")
    x = b.tensor(VALUES, "int8", name="x", **QUANT)
    y = b.tensor(VALUES, "int8", name="y", scale=0.1, zero_point=-2)
    b.op("IF", [cond, x], [y], IfOptions(then_subgraph, else_subgraph))
    constant = np.arange(-3, 3, dtype=np.int8).reshape(VALUES) * 20
    return b.build([cond, x], [y], [branch("then", "ADD", constant), branch("else", "MUL")])


@pytest.mark.parametrize("cond", [True, False])
def test_if_runs_the_branch_its_condition_chooses(cond):
    x = np.arange(-60, 60, 20, dtype=np.int8).reshape(VALUES)
    assert_matches_tflm(if_graph(), inputs=[np.array([cond]), x])


def counting_loop(start: int | None = None) -> Graph:
    """while i < 5: i += 1; x = x + x (float32): gives (5, x * 2**(5 - i)). With `start`, i starts
    there (a constant), not from an input: TFLM's live head is read after invoking on whatever the
    arena holds, and a loop counting up from garbage may not end."""
    cond = GraphBuilder("cond")
    i, x = cond.tensor((), "int32", name="i"), cond.tensor(VALUES, "float32", name="x")
    limit, going = cond.tensor((), "int32", data=5, name="limit"), cond.tensor((), "bool", name="going")
    cond.op("LESS", [i, limit], [going])
    body = GraphBuilder("body")
    i, x = body.tensor((), "int32", name="i"), body.tensor(VALUES, "float32", name="x")
    one = body.tensor((), "int32", data=1, name="one")
    next_i, next_x = body.tensor((), "int32", name="next_i"), body.tensor(VALUES, "float32", name="next_x")
    body.op("ADD", [i, one], [next_i], ElementwiseOptions())
    body.op("ADD", [x, x], [next_x], ElementwiseOptions())
    main = GraphBuilder("loop")
    i, x = _loop_start(main, start), main.tensor(VALUES, "float32", name="x")
    last_i, last_x = main.tensor((), "int32", name="last_i"), main.tensor(VALUES, "float32", name="last_x")
    main.op("WHILE", [i, x], [last_i, last_x], WhileOptions(cond_subgraph=1, body_subgraph=2))
    inputs = [x] if start is not None else [i, x]
    return main.build(inputs, [last_i, last_x], [cond.build([i, x], [going]), body.build([i, x], [next_i, next_x])])


def _loop_start(main: GraphBuilder, start: int | None) -> int:
    return main.tensor((), "int32", name="i", data=start)


@pytest.mark.parametrize("start", [0, 3, 7])
def test_while_counts_as_tflm(start):
    x = np.linspace(-1.5, 2.5, 6, dtype=np.float32).reshape(VALUES)
    assert_matches_tflm(counting_loop(), inputs=[np.array(start, np.int32), x], float_exact=True)
    last_i, last_x = Engine(counting_loop()).run([np.array(start, np.int32), x]).outputs
    assert int(last_i) == max(start, 5)
    np.testing.assert_array_equal(last_x, x * 2.0 ** max(0, 5 - start))


def doubled_or_squared(name: str, op_type: str) -> Graph:
    b = GraphBuilder(name)
    x, y = b.tensor(VALUES, "float32", name="x"), b.tensor(VALUES, "float32", name="y")
    b.op(op_type, [x, x], [y], ElementwiseOptions())
    return b.build([x], [y])


def nested_loop(start: int | None = None) -> Graph:
    """out = x * (the loop over 2x: while i < 5: x = x + x if i < 2 else x * x; i += 1): an IF
    (subgraphs 3 and 4) inside the WHILE's body (subgraph 2), between operators of the main graph."""
    loop = counting_loop()
    body = GraphBuilder("body")
    i, x = body.tensor((), "int32", name="i"), body.tensor(VALUES, "float32", name="x")
    one, two = body.tensor((), "int32", data=1, name="one"), body.tensor((), "int32", data=2, name="two")
    early = body.tensor((), "bool", name="early")
    body.op("LESS", [i, two], [early])
    next_x = body.tensor(VALUES, "float32", name="next_x")
    body.op("IF", [early, x], [next_x], IfOptions(3, 4))
    next_i = body.tensor((), "int32", name="next_i")
    body.op("ADD", [i, one], [next_i], ElementwiseOptions())
    main = GraphBuilder("nested")
    i, x = _loop_start(main, start), main.tensor(VALUES, "float32", name="x")
    doubled = main.tensor(VALUES, "float32", name="doubled")
    main.op("ADD", [x, x], [doubled], ElementwiseOptions())
    last_i, last_x = main.tensor((), "int32", name="last_i"), main.tensor(VALUES, "float32", name="last_x")
    main.op("WHILE", [i, doubled], [last_i, last_x], WhileOptions(cond_subgraph=1, body_subgraph=2))
    out = main.tensor(VALUES, "float32", name="out")
    main.op("MUL", [last_x, x], [out], ElementwiseOptions())
    branches = [doubled_or_squared("then", "ADD"), doubled_or_squared("else", "MUL")]
    subgraphs = [loop.other_subgraphs[0], body.build([i, x], [next_i, next_x]), *branches]
    return main.build([x] if start is not None else [i, x], [out], subgraphs)


@pytest.mark.parametrize("start", [0, 3])
def test_an_if_inside_a_loop_runs_as_in_tflm(start):
    x = np.linspace(-1.5, 2.5, 6, dtype=np.float32).reshape(VALUES) / 4
    assert_matches_tflm(nested_loop(), inputs=[np.array(start, np.int32), x], float_exact=True)


def initialised_accumulator() -> Graph:
    """CALL_ONCE sets the variable to 10 (int8 values); then each inference adds x to it."""
    init = GraphBuilder("init")
    handle = init.tensor((), "resource", name="handle")
    init.op("VAR_HANDLE", [], [handle], VarHandleOptions(shared_name="total"))
    start = init.tensor(VALUES, "int8", data=np.full(VALUES, 10), name="start", **QUANT)
    init.op("ASSIGN_VARIABLE", [handle, start], [])
    b = GraphBuilder("accumulator")
    x = b.tensor(VALUES, "int8", name="x", **QUANT)
    b.op("CALL_ONCE", [], [], CallOnceOptions(init_subgraph=1))
    handle = b.tensor((), "resource", name="handle")
    b.op("VAR_HANDLE", [], [handle], VarHandleOptions(shared_name="total"))
    previous = b.tensor(VALUES, "int8", name="previous", **QUANT)
    b.op("READ_VARIABLE", [handle], [previous])
    total = b.tensor(VALUES, "int8", name="sum", **QUANT)
    b.op("ADD", [previous, x], [total], ElementwiseOptions())
    b.op("ASSIGN_VARIABLE", [handle, total], [])
    return b.build([x], [total], [init.build([], [])])


def test_call_once_initialises_the_accumulator_once():
    x = np.array([[1, -2, 3], [4, 5, -6]], np.int8)
    assert_matches_tflm(initialised_accumulator(), inputs=[x], invocations=3)
    engine = Engine(initialised_accumulator())
    sums = [engine.run([x]).outputs[0] for _ in range(3)]
    # 10 (real 0.35) once, then x = 1 (real -0.1) added on each inference: 8, 6, 4 (not 8, 8, 8)
    assert [int(s[0, 0]) for s in sums] == [8, 6, 4]


def test_subgraphs_survive_a_round_trip():
    graph = counting_loop()
    again = read_tflite(write_tflite(graph))
    assert [s.name for s in again.other_subgraphs] == ["cond", "body"]
    assert again.operators[0].options == WhileOptions(1, 2)
    assert [[op.op_type for op in s.operators] for s in again.subgraphs] == [["WHILE"], ["LESS"], ["ADD", "ADD"]]
    again.name = graph.name  # a file names its main graph after itself
    assert write_tflite(again) == write_tflite(graph)


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (if_graph(then_subgraph=3), "calls subgraph 3, the model has subgraphs 1 to 2"),
        (if_graph(else_subgraph=0), "calls subgraph 0, the model has subgraphs 1 to 2"),
        (if_graph(then_subgraph=2, else_subgraph=1), None),
    ],
)
def test_bad_subgraph_indices_are_one_line_errors(graph, message):
    if message is None:
        validate_graph(graph)
        return
    with pytest.raises(ModelError, match=message):
        validate_graph(graph)


def test_a_branch_that_disagrees_with_the_operator_is_refused():
    graph = if_graph()
    graph.other_subgraphs[1].tensors[0].shape = (3, 2)
    with pytest.raises(ModelError, match=r"input 0 is int8\[2, 3\], subgraph 2 takes 'x' int8\[3, 2\]"):
        validate_graph(graph)


def test_a_loop_condition_must_give_one_bool():
    graph = counting_loop()
    graph.other_subgraphs[0].tensors[3].dtype = "int32"
    with pytest.raises(
        ModelError, match=r"operator #0 WHILE: subgraph 1's output 'going' must be one bool, is int32\[\]"
    ):
        validate_graph(graph)


def test_subgraphs_calling_each_other_are_refused():
    """A then-branch that is itself an IF over subgraphs 1 and 2: subgraph 1 calls itself."""
    b = GraphBuilder("again")
    cond = b.tensor((1,), "bool", data=[True], name="cond")
    x = b.tensor(VALUES, "int8", name="x", **QUANT)
    y = b.tensor(VALUES, "int8", name="y", scale=0.1, zero_point=-2)
    b.op("IF", [cond, x], [y], IfOptions(1, 2))
    graph = if_graph()
    graph.other_subgraphs = (b.build([x], [y]), graph.other_subgraphs[1])
    with pytest.raises(ModelError, match=r"in a cycle \(1 -> 1\)"):
        validate_graph(graph)


def branched_twice() -> Graph:
    """Two IFs running the same two branches, one after the other."""
    b = GraphBuilder("twice")
    cond = b.tensor((1,), "bool", name="cond")
    x = b.tensor(VALUES, "int8", name="x", **QUANT)
    y = b.tensor(VALUES, "int8", name="y", scale=0.1, zero_point=-2)
    z = b.tensor(VALUES, "int8", name="z", scale=0.1, zero_point=-2)
    b.op("IF", [cond, x], [y], IfOptions(1, 2))
    b.op("IF", [cond, y], [z], IfOptions(1, 2))
    return b.build([cond, x], [z], list(if_graph().other_subgraphs))


def test_analyze_counts_the_called_subgraphs(monkeypatch, capsys, tmp_path):
    """Our plan holds the subgraphs' tensors: the verdict covers them; the variable CALL_ONCE sets and
    its flag are counted as state; the generated code's stack is bounded."""
    graph = initialised_accumulator()
    report = asdict(analyze_model(graph, plan_memory(graph), find_device("STM32F446RE"), Reserves()))
    assert report["verdict"] == "fits" and report["uncounted_operators"] == []
    assert variable_bytes(graph) == 6 + 1
    model = tmp_path / "loop.tflite"
    model.write_bytes(write_tflite(counting_loop()))
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(model))
    assert code == 0 and "✔ fits" in out
    assert "(static bound)" in out  # the stack over the subgraphs' functions too (-fstack-usage, call graph)


def test_a_subgraph_run_twice_has_one_place(monkeypatch, capsys, tmp_path):
    """Its code is one function: our planner gives it a block of the main graph's, live over both
    calling steps, outside both layers' regions (none: the branches are all they run). Only one
    branch runs at a time: the then and else blocks start at the same offset (64 B, not 80)."""
    graph = branched_twice()
    plan = plan_memory(graph)
    assert plan.subgraphs_planned and not any(b.calls_of for b in plan.buffers)
    then_x = next(b for b in plan.buffers if b.subgraph_tensor == (1, 0))
    assert (then_x.first, then_x.last) == (0, 1)
    else_x = next(b for b in plan.buffers if b.subgraph_tensor == (2, 0))
    assert else_x.offset == then_x.offset and plan.arena_bytes == 64 and plan.lower_bound <= 64
    live = [b for b in plan.buffers if b.tensor is not None]
    assert all(b.end <= then_x.offset or then_x.end <= b.offset for b in live)
    model = tmp_path / "twice.tflite"
    model.write_bytes(write_tflite(graph))
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(model))
    assert code == 0 and "✔ fits" in out


def test_the_tflm_planner_plans_every_subgraph_as_tflm(monkeypatch, capsys, tmp_path):
    """TFLM plans the called subgraphs' tensors in the same arena, their lifetimes nested in the
    calling operator's: the replica's head is the live interpreter's, and the verdict covers it."""
    graphs = {"if": if_graph(), "loop": counting_loop(0), "once": initialised_accumulator(), "nested": nested_loop(0)}
    paths = [tmp_path / f"{name}.tflite" for name in graphs]
    for path, graph in zip(paths, graphs.values(), strict=True):
        path.write_bytes(write_tflite(graph))
    plans = [plan_memory(read_tflite(path), "tflm") for path in paths]
    assert [plan.arena_bytes for plan in plans] == live_tflm_heads(paths) == [80, 160, 48, 272]
    assert all(max(plan.step_live_bytes) == plan.lower_bound == plan.arena_bytes for plan in plans)
    assert any(buffer.name == "body/next_x" for buffer in plans[1].buffers)
    constants = constant_layout(graphs["if"])  # the branches' constants and kernels count in flash too
    assert [(a.name, a.layer, a.nbytes) for a in constants.arrays] == [("then/c", 0, 6)]
    assert set(code_estimate(graphs["if"]).kernels) == {"IF", "ADD", "MUL"}
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(paths[1]), "--planner", "tflm")
    assert code == 0 and "✔ fits" in out


def test_our_planner_gives_each_calling_layer_a_region_for_its_subgraphs():
    """Each called subgraph planned on its own, inside a region live at its caller's step only, which
    no buffer of the caller live then touches: smaller arenas than TFLM's nested scopes give."""
    graphs = [if_graph(), counting_loop(0), initialised_accumulator(), nested_loop(0)]
    plans = [plan_memory(graph) for graph in graphs]
    assert [plan.arena_bytes for plan in plans] == [64, 128, 32, 240]  # TFLM: 80, 160, 48, 272
    assert all(plan.subgraphs_planned for plan in plans)
    for plan in plans:  # one calling layer in each main graph: every called buffer is in its region
        regions = [b for b in plan.buffers if b.calls_of and b.calls_of[0] == 0]
        called = [b for b in plan.buffers if (b.subgraph_tensor or b.subgraph_scratch_of or b.calls_of)]
        called = [b for b in called if b not in regions]
        callers = [b for b in plan.buffers if b.tensor is not None]
        for region in regions:
            assert all(b.first == b.last == region.first == region.last for b in called)
            assert all(region.offset <= b.offset and b.end <= region.end for b in called)
            live = [b for b in callers if b.live_at(region.first)]
            assert live and all(b.end <= region.offset or region.end <= b.offset for b in live)
    # the loop's region holds the condition's and the body's plans, from the region's start both
    loop = {b.name: b for b in plans[1].buffers}
    assert loop["subgraphs run by #0 WHILE"].size == 48 and loop["body/next_x"].subgraph_tensor == (2, 4)


def test_a_file_calling_a_missing_subgraph_exits_2_in_one_line(monkeypatch, capsys, tmp_path):
    model = tmp_path / "bad.tflite"
    model.write_bytes(write_tflite(if_graph(then_subgraph=7)))
    code, _, err = run_cli(monkeypatch, capsys, "inspect", str(model))
    assert code == 2 and err.strip() == (
        f"mcudeploy: error: {model}: operator #0 IF: calls subgraph 7, the model has subgraphs 1 to 2"
    )


def test_control_flow_plans_pass_the_checker():
    """Ours, TFLM's and the guarded plan, the called subgraphs' buffers checked in their own steps; a
    branch's buffer moved onto the caller's input, or onto another buffer of its branch, is caught."""
    graphs = [if_graph(), counting_loop(0), initialised_accumulator(), nested_loop(0), branched_twice()]
    for graph in graphs:
        for plan in (plan_memory(graph), plan_memory(graph, "tflm"), plan_guarded(graph)):
            assert check_plan(graph, plan) == [], (graph.name, plan.planner)
    graph = if_graph()
    plan = plan_memory(graph)
    x = next(b for b in plan.buffers if b.tensor == 1)
    then_y = next(b for b in plan.buffers if b.subgraph_tensor == (1, 2))
    moved = replace(plan, buffers=[replace(b, offset=x.offset) if b is then_y else b for b in plan.buffers])
    assert any("'then/y'" in problem and "'x'" in problem for problem in check_layout(graph, moved))
    graph = nested_loop(0)  # the body's 'early' (step 0) onto its 'x' (read at step 1; the counter intact)
    plan = plan_memory(graph)
    x, early = (next(b for b in plan.buffers if b.name == f"body/{name}") for name in ("x", "early"))
    moved = replace(plan, buffers=[replace(b, offset=x.offset) if b is early else b for b in plan.buffers])
    assert check_layout(graph, moved) == [
        f"'body/x' [{x.offset}, {x.end}) and 'body/early' [{x.offset}, {x.offset + 1}) "
        "share bytes while both hold values"
    ]
    assert "subgraph 2 #1 IF reads 'body/x' corrupted in the arena" in check_plan(graph, moved)
