"""A CIRCULAR_BUFFER that waits for frames inside a subgraph IF, WHILE or CALL_ONCE runs: TFLM's
InvokeSubgraph returns the buffer's kTfLiteAbort to the calling layer, which returns it too, so the
whole inference ends there. Against the tflite-micro wheel over successive invokes (the state left
by the runs that waited carrying over), then the generated C on the host and on QEMU's M4."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from mcudeploy.analysis.coverage import variable_bytes
from mcudeploy.cli.app import app
from mcudeploy.codegen import render
from mcudeploy.engine.interpreter import Engine
from mcudeploy.estimate.measure import stream_frames
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import Graph, GraphBuilder
from mcudeploy.ir.options import CallOnceOptions, ElementwiseOptions, IfOptions, VarHandleOptions, WhileOptions
from mcudeploy.ir.shapes import can_wait
from mcudeploy.memory import plan_memory
from mcudeploy.memory.checker import check_plan
from mcudeploy.reports.html import validate_page
from test_codegen import assert_invocations_match_engine, build
from test_ops_signal import circular_buffer, signal_op

FRAME = (1, 1, 2, 3)
HISTORY = (1, 4, 2, 3)
QUANT = {"scale": 0.5, "zero_point": -5}
TFLM_ABORT = 15
"""kTfLiteAbort, what the wheel's invoke() returns for an inference that waited."""


def waiting_if() -> Graph:
    """relu(IF cond: history of frames every 2 (subgraph 1) else every 3 (subgraph 2)): each branch's
    buffer counts only the frames of the inferences that chose it."""
    b = GraphBuilder("waiting_if")
    cond = b.tensor((1,), "bool", name="cond")
    frame = b.tensor(FRAME, "int8", name="frame", **QUANT)
    history = b.tensor(HISTORY, "int8", name="history", **QUANT)
    b.op("IF", [cond, frame], [history], IfOptions(1, 2))
    rectified = b.tensor(HISTORY, "int8", name="rectified", **QUANT)
    b.op("RELU", [history], [rectified])
    return b.build([cond, frame], [rectified], [circular_buffer(2), circular_buffer(3)])


def waiting_while(nested: bool = False) -> Graph:
    """while i < n: i += 1; the body's buffer (every 2 frames) takes the frame: with n = 1 the loop
    completes every other inference; with n = 2 its second iteration waits. `nested`: the body's IF
    gives the frame to that buffer on the first iteration, to one every 3 frames on the others (the
    wait passed up through the IF, then the WHILE)."""
    cond = GraphBuilder("cond")
    i, n = cond.tensor((), "int32", name="i"), cond.tensor((), "int32", name="n")
    frame = cond.tensor(FRAME, "int8", name="frame", **QUANT)
    going = cond.tensor((), "bool", name="going")
    cond.op("LESS", [i, n], [going])
    body = GraphBuilder("body")
    i, n = body.tensor((), "int32", name="i"), body.tensor((), "int32", name="n")
    frame = body.tensor(FRAME, "int8", name="frame", **QUANT)
    one = body.tensor((), "int32", data=1, name="one")
    next_i = body.tensor((), "int32", name="next_i")
    body.op("ADD", [i, one], [next_i], ElementwiseOptions())
    history = body.tensor(HISTORY, "int8", name="history", is_variable=not nested, **QUANT)
    if nested:
        first = body.tensor((), "bool", name="first")
        body.op("LESS", [i, one], [first])
        body.op("IF", [first, frame], [history], IfOptions(3, 4))
    else:
        signal_op(body, "CIRCULAR_BUFFER", [frame], [history], cycles_max=2)
    bumped = body.tensor(FRAME, "int8", name="bumped", **QUANT)
    body.op("MAXIMUM", [frame, frame], [bumped])
    main = GraphBuilder("nested_waiting" if nested else "waiting_while")
    i, n = main.tensor((), "int32", name="i"), main.tensor((), "int32", name="n")
    frame = main.tensor(FRAME, "int8", name="frame", **QUANT)
    last_i, last_n = main.tensor((), "int32", name="last_i"), main.tensor((), "int32", name="last_n")
    last_frame = main.tensor(FRAME, "int8", name="last_frame", **QUANT)
    main.op("WHILE", [i, n, frame], [last_i, last_n, last_frame], WhileOptions(cond_subgraph=1, body_subgraph=2))
    subgraphs = [cond.build([i, n, frame], [going]), body.build([i, n, frame], [next_i, n, bumped])]
    if nested:
        subgraphs += [circular_buffer(2), circular_buffer(3)]
    return main.build([i, n, frame], [last_i, last_frame], subgraphs)


def waiting_call_once() -> Graph:
    """CALL_ONCE's init shifts a constant frame into its buffer (every 3 frames) and only then sets
    the variable: it waits twice and, not counted as run, runs again; afterwards never again."""
    init = GraphBuilder("init")
    handle = init.tensor((), "resource", name="handle")
    init.op("VAR_HANDLE", [], [handle], VarHandleOptions(shared_name="total"))
    frame = init.tensor(FRAME, "int8", data=np.arange(6).reshape(FRAME) * 7, name="frame", **QUANT)
    history = init.tensor(HISTORY, "int8", name="history", is_variable=True, **QUANT)
    signal_op(init, "CIRCULAR_BUFFER", [frame], [history], cycles_max=3)
    init.op("ASSIGN_VARIABLE", [handle, history], [])
    b = GraphBuilder("waiting_call_once")
    x = b.tensor(HISTORY, "int8", name="x", **QUANT)
    b.op("CALL_ONCE", [], [], CallOnceOptions(init_subgraph=1))
    handle = b.tensor((), "resource", name="handle")
    b.op("VAR_HANDLE", [], [handle], VarHandleOptions(shared_name="total"))
    previous = b.tensor(HISTORY, "int8", name="previous", **QUANT)
    b.op("READ_VARIABLE", [handle], [previous])
    total = b.tensor(HISTORY, "int8", name="sum", **QUANT)
    b.op("ADD", [previous, x], [total], ElementwiseOptions())
    b.op("ASSIGN_VARIABLE", [handle, total], [])
    return b.build([x], [total], [init.build([], [])])


def frames(graph: Graph, count: int, seed: int = 0) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    sets = []
    for step in range(count):
        values = []
        for tensor in graph.graph_inputs:
            if tensor.dtype.numpy == np.bool_:
                values.append(np.array([step % 3 != 1]))
            elif tensor.name == "i":
                values.append(np.array(0, np.int32))
            elif tensor.name == "n":
                values.append(np.array(1 + (step // 4) % 2, np.int32))
            else:
                values.append(rng.integers(-128, 128, tensor.shape, dtype=np.int8))
        sets.append(values)
    return sets


MODELS = {
    "if": waiting_if,
    "while": waiting_while,
    "call_once": waiting_call_once,
    "nested": lambda: waiting_while(nested=True),
}


@pytest.mark.parametrize("name", MODELS)
def test_a_wait_in_a_subgraph_ends_the_inference_as_in_tflm(name):
    from tflite_micro.python.tflite_micro import runtime

    graph = MODELS[name]()
    assert can_wait(graph, graph.operators[0])
    interpreter = runtime.Interpreter.from_bytes(bytes(write_tflite(graph)))
    engine = Engine(graph)
    for step, inputs in enumerate(frames(graph, 9)):
        for position, array in enumerate(inputs):
            interpreter.set_input(array, position)
        status = interpreter.invoke()
        ours = engine.run(inputs)
        assert (status == TFLM_ABORT) == ours.aborted, f"invocation {step}: TFLM returned {status}"
        for position, index in enumerate(graph.outputs):
            if ours.produced(graph, index):
                theirs = interpreter.get_output(position)
                np.testing.assert_array_equal(ours.outputs[position], theirs, err_msg=f"invocation {step}")


@pytest.mark.parametrize(
    ("name", "target_name"), [*((name, None) for name in MODELS), ("if", "m4"), ("while", "m4"), ("call_once", "m4")]
)
def test_a_wait_in_a_subgraph_ends_the_generated_inference_as_the_engine(tmp_path, name, target_name):
    """The subgraph function's MD_WAITING returned by the calling layer and net_invoke(), net_waiting_layer()
    naming that layer; the state (histories, CALL_ONCE's flag, variables) bit-exact over the invocations.
    The IF on the host with the sanitizers: its branches' outputs are histories copied out of their state."""
    graph = MODELS[name]()
    input_sets = frames(graph, 9)
    sanitized = name == "if" and target_name is None
    program = build(graph, tmp_path, sanitized, invocations=len(input_sets), target_name=target_name)
    assert_invocations_match_engine(program, input_sets)


def test_run_and_validate_name_the_layer_whose_subgraph_waited(tmp_path):
    """`run` and `validate` (text, --json, HTML) report a run an IF's branch ended as waiting at the IF,
    as they report a CIRCULAR_BUFFER of the main graph; validate feeds the frames to one program."""
    graph = waiting_if()
    model = tmp_path / "waiting_if.tflite"
    model.write_bytes(write_tflite(graph))
    sets = frames(graph, 4)
    inputs = tmp_path / "frames.npz"
    np.savez(inputs, **{t.name: np.stack([s[k] for s in sets]) for k, t in enumerate(graph.graph_inputs)})
    result = CliRunner().invoke(app, ["run", str(model), "--input", str(inputs)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "run 1 of 4: waiting for frames (IF #0)"
    result = CliRunner().invoke(app, ["run", str(model), "--input", str(inputs), "--json"])
    waiting = {"layer": 0, "op": "IF"}
    expected = [waiting, waiting, None, waiting]  # then, else, then (its 2nd frame: complete), then
    assert [r["waiting"] for r in json.loads(result.output)["runs"]] == expected
    result = CliRunner().invoke(app, ["validate", str(model), "-t", "host", "--inputs", str(inputs), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    items = report["targets"]["host"]["inputs"]
    assert report["streaming"] and all(item["agrees"] for item in items)
    assert [item["waiting"] for item in items] == [item["engine_waiting"] for item in items] == expected
    assert '<td class="text">host</td><td class="text">run 1 of 4: waiting for frames (IF #0)' in validate_page(report)


@pytest.mark.parametrize("name", MODELS)
def test_plans_and_state_of_models_that_wait_in_a_subgraph(name):
    """Both planners' plans run safely over a stream of frames on the simulated arena (each inference
    ending where the engine's does); the state analyze counts is the generated header's, with each
    subgraph's buffer (its 4 B count and 24 B history) and CALL_ONCE's flag."""
    graph = MODELS[name]()
    for planner in ("mcudeploy", "tflm"):
        assert check_plan(graph, plan_memory(graph, planner=planner)) == []
    header = render(graph, plan_memory(graph)).files["network.h"]
    assert f"next: {variable_bytes(graph)} bytes outside the arena" in header
    histories = {"if": 2, "while": 1, "call_once": 1, "nested": 2}[name]
    resources = 24 if name == "call_once" else 0
    flags = 1 if name == "call_once" else 0
    assert variable_bytes(graph) == histories * (24 + 4 + 24) + resources + flags


def test_estimate_prices_the_period_after_the_first_complete_inference(tmp_path):
    """A buffer in a subgraph need not be back at reset's count after an inference that ran every
    layer: the period priced is the frames after the first one up to the next. CALL_ONCE's init waits
    twice, then runs once: its steady state is one complete inference without it. The IF's period on
    the measured inputs: one inference waiting at the IF, one running every layer."""
    stream = stream_frames(waiting_call_once())
    assert (stream.waiting, stream.start) == ([0, 0, None, None], 3)
    model = tmp_path / "waiting_if.tflite"
    model.write_bytes(write_tflite(waiting_if()))
    result = CliRunner().invoke(app, ["estimate", str(model), "--device", "STM32F446RE", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    streaming = report["streaming"]
    assert streaming["frames_per_inference"] == 2
    assert [(item["frame"], item["layer"], item["op"]) for item in streaming["waiting"]] == [(1, 0, "IF")]
    period = [streaming["waiting"][0]["cycles"], report["total"]["cycles"]]
    assert streaming["per_frame"]["cycles"] == round(sum(period) / 2)
    assert any("the period priced is frames 4 to 5 from reset" in note for note in report["notes"])
