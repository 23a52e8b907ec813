"""`mcudeploy analyze` and `mcudeploy devices` as users run them: exit codes, JSON, the plot, suggestions."""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import asdict

import numpy as np
import pytest

from conftest import MODELS, run_cli, streaming_graph
from mcudeploy.analysis.model import Reserves, analyze_model
from mcudeploy.cli.devices import _flash_read
from mcudeploy.codegen import render
from mcudeploy.devices import find_device
from mcudeploy.ir import NO_TENSOR, GraphBuilder
from mcudeploy.memory import plan_memory

KWS = str(MODELS / "mlperf_tiny/kws_ref_model_int8.tflite")
VWW = str(MODELS / "mlperf_tiny/vww_96_int8.tflite")
REPORT_KEYS = {"arena_bytes", "weights_bytes", "flash_bytes", "ram_bytes", "fits", "peak_layer", "regions"}


def test_a_model_that_fits_exits_0_with_the_table_tree_and_verdict(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", KWS)
    assert code == 0
    assert "◀ peak" in out and "Memory budget" in out and "tensor arena" in out and "✔ fits STM32F446RE" in out


def test_json_holds_the_budget(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", KWS, "--json", "--planner", "tflm")
    report = json.loads(out)
    assert code == 0 and set(report) >= REPORT_KEYS
    assert report["arena_bytes"] == 16_000  # TFLite Micro's head for kws (shared/models/README.md)
    assert report["fits"] is True and report["peak_layer"]["op"]
    assert report["ram_bytes"] == report["arena_bytes"] + report["stack_bytes"]  # the static stack bound
    assert sum(r["used"] for r in report["regions"]) == report["ram_bytes"] + report["flash_bytes"]


def test_a_model_that_does_not_fit_exits_1_and_says_what_would(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", VWW, "--device", "Blue Pill")
    assert code == 1
    assert "does not fit Blue Pill (STM32F103C8)" in out and "peak at layer" in out
    assert "over" in out and "would fit:" in out


def test_reserves_count_against_the_budget(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", KWS, "--json", "--reserve-ram", "200000", "--stack", "4096")
    report = json.loads(out)
    assert code == 1 and report["fits"] is False
    assert report["shortfalls"][0]["item"] == "RAM reserve"
    assert report["stack_bytes"] == 4096 and "STM32F446RE" not in report["fitting_devices"]


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_is_written(monkeypatch, capsys, tmp_path, suffix):
    picture = tmp_path / f"arena{suffix}"
    code, _, _ = run_cli(monkeypatch, capsys, "analyze", KWS, "--plot", str(picture), "--json")
    assert code == 0 and picture.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "STM32F44RE"], "did you mean STM32F446RE"),
        (["--alignment", "12"], "power of two"),
        (["--plot", "arena.pdf"], ".png or .svg"),
    ],
)
def test_bad_input_exits_2_with_one_line(monkeypatch, capsys, args, message):
    code, out, err = run_cli(monkeypatch, capsys, "analyze", KWS, *args)
    assert code == 2 and out == ""
    assert err.startswith("mcudeploy: error:") and message in err and err.count("\n") == 1


def test_plot_without_matplotlib_names_the_extra(monkeypatch, capsys, tmp_path):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real_find_spec(name, *a)
    )
    code, out, err = run_cli(monkeypatch, capsys, "analyze", KWS, "--plot", str(tmp_path / "arena.png"))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("mcudeploy: error: --plot:") and "mcudeploy[plot]" in err


def test_a_missing_model_exits_2(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "analyze", str(tmp_path / "none.tflite"))
    assert code == 2 and err.startswith("mcudeploy: error:")


def test_devices_lists_parts_filtered_by_core(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "devices", "--core", "cortex-m7", "--json")
    parts = json.loads(out)
    assert code == 0 and parts and {p["core"] for p in parts} == {"cortex-m7"}
    h743 = next(p for p in parts if p["name"] == "STM32H743ZI")
    assert "NUCLEO-H743ZI2" in h743["boards"] and h743["sources"] and h743["regions"]
    code, out, _ = run_cli(monkeypatch, capsys, "devices")
    assert code == 0 and "RP2040" in out and "Raspberry Pi Pico" in out


def test_devices_say_when_wait_states_count_a_slower_flash_bus():
    """The H743's 4 wait states are cycles of its AXI bus, at half the core clock (`bus_clock_divider`)."""
    assert _flash_read(find_device("STM32H743ZI").part).startswith("4 WS (bus 1/2)")
    assert _flash_read(find_device("STM32H7A3ZI").part).startswith("6 WS,")


def test_devices_with_an_unknown_core_exits_2(monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "devices", "--core", "cortex-m77")
    assert code == 2 and "unknown core" in err


# ------------------------------------------------------------------ what the verdict cannot vouch for


def test_unknown_operators_are_named_and_their_state_counted():
    builder = GraphBuilder("rnn keyword model")
    x = builder.tensor((1, 40), "int8", scale=0.1)
    weights = builder.tensor((64, 40), "int8", scale=0.01, data=np.ones((64, 40)))
    recurrent = builder.tensor((64, 64), "int8", scale=0.01, data=np.ones((64, 64)))
    state = builder.tensor((1, 640), "int16", scale=0.01, is_variable=True, name="rnn state")
    y = builder.tensor((1, 64), "int8", scale=0.1)
    builder.op("UNIDIRECTIONAL_SEQUENCE_RNN", [x, weights, recurrent, NO_TENSOR, state], [y])
    graph = builder.build([x], [y])
    report = asdict(analyze_model(graph, plan_memory(graph), find_device("STM32F446RE"), Reserves()))
    assert report["verdict"] == "cannot verify" and report["fits"] is False
    assert report["uncounted_operators"] == [
        {
            "index": 0,
            "op": "UNIDIRECTIONAL_SEQUENCE_RNN",
            "reason": "mcudeploy has no kernel for it: its scratch and state are unknown",
        }
    ]
    assert report["ram_bytes"] == report["arena_bytes"] + 1280 + 8192  # the variable state is counted


def test_svdf_state_is_counted_and_the_verdict_covers_it():
    builder = GraphBuilder("svdf keyword model")
    x = builder.tensor((1, 40), "int8", scale=0.1)
    features = builder.tensor((64, 40), "int8", scale=0.01, data=np.ones((64, 40)))
    time = builder.tensor((64, 10), "int16", scale=0.01, data=np.ones((64, 10)))
    state = builder.tensor((1, 640), "int16", scale=0.01, is_variable=True, name="svdf state")
    y = builder.tensor((1, 64), "int8", scale=0.1)
    builder.op("SVDF", [x, features, time, NO_TENSOR, state], [y])
    graph = builder.build([x], [y])
    report = asdict(analyze_model(graph, plan_memory(graph), find_device("STM32F446RE"), Reserves()))
    assert report["verdict"] == "fits" and report["uncounted_operators"] == []
    assert report["ram_bytes"] == report["arena_bytes"] + 1280 + 8192


def test_a_streaming_models_state_is_counted_as_the_generated_code_keeps_it():
    """A CIRCULAR_BUFFER that waits for frames keeps, between frames and outside the arena, its history
    (a variable tensor, 24 B) and its own count of frames with its copy of the history in whole words
    (4 + 24 B): analyze's state line is what the generated C declares, and the verdict covers the model."""
    graph = streaming_graph(cycles_max=3)
    report = asdict(analyze_model(graph, plan_memory(graph), find_device("STM32F446RE"), Reserves()))
    assert report["verdict"] == "fits" and report["uncounted_operators"] == []
    items = {item["name"]: item["bytes"] for region in report["regions"] for item in region["items"]}
    assert items["variable tensors (state)"] == 24 + 4 + 24
    declared = re.findall(
        r"static u?int8_t net_\w*state\w*\[(\d+)\]", render(graph, plan_memory(graph)).files["network.c"]
    )
    assert sorted(map(int, declared)) == [24, 28]
    assert report["ram_bytes"] == report["arena_bytes"] + 52 + report["stack_bytes"]
