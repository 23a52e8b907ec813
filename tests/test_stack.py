"""The stack figures: painted per layer on QEMU, bounded by -fstack-usage and the call graph, and in the budget."""

from __future__ import annotations

import json

import pytest

from conftest import MODELS, run_cli
from mcudeploy.analysis import code_size
from mcudeploy.devices import find_device
from mcudeploy.emulation.stack_usage import CallGraph, Frame, read_frames
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate import estimate_model
from mcudeploy.estimate.stack import ASSUMED, MEASURED, RESERVED, STATIC, measure_stack_layers, painted_run, stack_need
from mcudeploy.importers import load_model
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import ElementwiseOptions

HELLO = MODELS / "tflm" / "hello_world_int8.tflite"
KWS = MODELS / "mlperf_tiny" / "kws_ref_model_int8.tflite"


def test_su_frames_and_worst_path():
    graph = CallGraph(
        frames={
            "invoke": Frame(16, True),
            "layer": Frame(40, True),
            "kernel": Frame(100, True),
            "small": Frame(8, True),
        },
        calls={"invoke": {"layer", "small"}, "layer": {"kernel", "memcpy"}, "kernel": set()},
    )
    assert graph.worst("invoke") == (16 + 40 + 100, {"memcpy"})
    graph.calls["kernel"] = {"layer"}
    with pytest.raises(McuDeployError, match="recursive"):
        graph.worst("invoke")


def test_su_lines_keep_the_larger_frame_and_mark_dynamic_ones(tmp_path):
    (tmp_path / "a.elf-x.su").write_text("x.c:3:5:helper\t24\tstatic\nx.c:9:5:vla\t32\tdynamic\n")
    (tmp_path / "a.elf-y.su").write_text("y.c:1:12:helper\t56\tstatic\ny.c:4:5:capped\t8\tdynamic,bounded\n")
    frames = read_frames(tmp_path)
    assert frames == {"helper": Frame(56, True), "vla": Frame(32, False), "capped": Frame(8, True)}


@pytest.mark.parametrize("model, device", [(HELLO, "STM32F446RE"), (KWS, "STM32U575ZI")])
def test_each_layer_measured_within_its_static_bound(model, device, tmp_path):
    """Painted per layer (the hook repaints after each), the deepest layer is the whole inference; the
    static bound from gcc's frames and the call graph (indirect calls: any address-taken function) is
    never below what ran (a layer that uses less than the hook shows the hook's depth)."""
    measure = measure_stack_layers(load_model(model), find_device(device), tmp_path)
    measured = [layer.measured for layer in measure.layers if layer.measured is not None]
    assert measured and max(measured) == measure.used
    for layer in measure.layers:
        assert layer.measured is None or measure.hook_depth <= layer.measured <= max(layer.static, measure.hook_depth)
    assert measure.used <= measure.static
    assert all(not name.startswith(("net_", "md_")) for name in measure.left_out)  # library code only


def test_static_bound_runs_under_a_hardware_stack_limit(tmp_path):
    """Cortex-M33's MSPLIM faults on any push below it: the static bound analyze puts in the budget runs."""
    graph = load_model(HELLO)
    device = find_device("STM32U575ZI")
    bound = stack_need(graph, device).bytes
    static = measure_stack_layers(graph, device, tmp_path).static
    assert bound <= static
    assert painted_run(graph, device, tmp_path / "bound", -(-static // 8) * 8)[0] == 0


def test_analyze_budgets_the_static_bound_or_says_assumed(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(HELLO), "--device", "STM32F446RE", "--json")
    report = json.loads(out)
    assert code == 0 and report["stack_source"] == STATIC and 0 < report["stack_bytes"] < 1024
    code, out, _ = run_cli(
        monkeypatch, capsys, "analyze", str(HELLO), "--device", "STM32F446RE", "--stack", "1000", "--json"
    )
    assert json.loads(out)["stack_bytes"] == 1000 and json.loads(out)["stack_source"] == RESERVED
    monkeypatch.setattr(code_size, "core_target", lambda core: None)
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(HELLO), "--device", "STM32F446RE", "--json")
    assert json.loads(out)["stack_bytes"] == 8192 and json.loads(out)["stack_source"] == ASSUMED


def test_estimate_budgets_the_measured_stack(monkeypatch, capsys):
    """The estimate command paints the stack in a run of its own; estimates made inside other commands
    (doctor, --cores) budget the static bound, which needs no run."""
    code, out, _ = run_cli(monkeypatch, capsys, "estimate", str(HELLO), "-d", "STM32F446RE", "--json")
    stack = json.loads(out)["stack"]
    assert code == 0 and stack["source"] == MEASURED and stack["bytes"] <= stack["static_bound"]
    assert max(layer["measured"] or 0 for layer in stack["layers"]) == stack["bytes"]
    assert stack["bytes"] == stack_need(load_model(HELLO), find_device("STM32F446RE")).bytes
    inner = estimate_model(load_model(HELLO), "STM32F446RE")
    assert inner.stack.source == STATIC and inner.stack.bytes >= stack["bytes"]
    assert stack_need(load_model(HELLO), find_device("STM32F446RE"), 2048).source == RESERVED


def test_add_tables_are_on_the_stack_only_under_the_add(tmp_path):
    """The int8 ADD/SUB tables (2 x 256 int32) live in the table path's own frame: a MUL and a short
    ADD that does not take that path stay far below their 2 KB, a long ADD takes them."""
    b = GraphBuilder("mul_then_add")
    first = b.tensor((1, 8, 8, 16), "int8", scale=0.02, zero_point=3)
    second = b.tensor((1, 8, 8, 16), "int8", scale=0.05, zero_point=-7)
    product = b.tensor((1, 8, 8, 16), "int8", scale=0.1, zero_point=1)
    small = b.tensor((1, 4), "int8", scale=0.03, zero_point=2)
    small_sum = b.tensor((1, 4), "int8", scale=0.04, zero_point=-1)
    total = b.tensor((1, 8, 8, 16), "int8", scale=0.12, zero_point=0)
    b.op("MUL", [first, second], [product], ElementwiseOptions())
    b.op("ADD", [small, small], [small_sum], ElementwiseOptions())
    b.op("ADD", [product, first], [total], ElementwiseOptions())
    graph = b.build([first, second, small], [small_sum, total])
    layers = measure_stack_layers(graph, find_device("STM32F446RE"), tmp_path).layers
    tables = 2 * 256 * 4
    assert layers[0].measured < tables // 2 and layers[1].measured < tables // 2
    assert layers[2].measured > tables
