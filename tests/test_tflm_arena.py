"""TensorFlow Lite Micro's whole arena (`memory/tflm_arena.py`) against the real runtime.

1. tests/data/tflm_arena_measured.json: TFLM + CMSIS-NN built for Cortex-M4 and M55 and run on
   QEMU by bench/tflm_arena.py (arena_used_bytes(), and the smallest arena with which
   AllocateTensors() and Invoke() succeed, 16 bytes fewer failing; the structures' sizeof/alignof),
   for the real int8 models and tflm_arena_models.py's custom-operator and control-flow models.
   CI cannot build TFLM: the measurements are a fixture.
2. The tflite-micro wheel (TFLM's Python interpreter: 64-bit, reference kernels, a recording
   allocator, built with USE_TFLM_COMPRESSION): its arena total after AllocateTensors(), to the byte.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.memory.tflm_arena import ARM32, HOST64, Layouts, tflm_arena
from tflm_arena_models import ARENA_MODEL_GRAPHS, CONTROL_FLOW_GRAPHS, CUSTOM_OPERATOR_GRAPHS, WAITING_GRAPHS

DATA = Path(__file__).parent / "data" / "tflm_arena_measured.json"
MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
INT8_MODELS = {
    "kws": "mlperf_tiny/kws_ref_model_int8.tflite",
    "vww_96": "mlperf_tiny/vww_96_int8.tflite",
    "ic_resnet8": "mlperf_tiny/ic_resnet8_int8.tflite",
    "ad01": "mlperf_tiny/ad01_int8.tflite",
    "str_ww": "mlperf_tiny/str_ww_ref_model.tflite",
    "person_detect": "tflm/person_detect.tflite",
    "micro_speech": "tflm/micro_speech_quantized.tflite",
    "hello_world": "tflm/hello_world_int8.tflite",
    "simple_add": "tflm/simple_add_model.tflite",
}
MEASURED = json.loads(DATA.read_text())
needs_models = pytest.mark.skipif(not MODELS.is_dir(), reason="../shared/models is not here")


def _graph(name: str):
    if name in ARENA_MODEL_GRAPHS:
        return ARENA_MODEL_GRAPHS[name]()
    return load_model(MODELS / INT8_MODELS[name])


@pytest.mark.parametrize("row", MEASURED["measurements"], ids=lambda r: f"{r['model']}-{r['core']}-{r['kernels']}")
@needs_models
def test_arena_equals_tflm_on_qemu(row):
    assert row["bit_exact"], "Invoke() with the smallest arena gave the reference engine's output"
    arena = tflm_arena(_graph(row["model"]), row["core"], row["kernels"])
    assert (arena.used_bytes, arena.smallest_arena) == (row["arena_used_bytes"], row["smallest_arena"])


def test_layouts_equal_the_compilers():
    sizes = Layouts(ARM32)
    ours = {
        "tflite::SingleArenaBufferAllocator": sizes.single_arena_allocator,
        "tflite::MicroAllocator": sizes.micro_allocator,
        "tflite::GreedyMemoryPlanner": sizes.greedy_planner,
        "tflite::SubgraphAllocations": sizes.subgraph_allocations,
        "tflite::NodeAndRegistration": sizes.node_and_registration,
        "tflite::ScratchBufferHandle": sizes.scratch_handle,
        "tflite::internal::ScratchBufferRequest": sizes.scratch_request,
        "tflite::AllocationInfo": sizes.allocation_info,
        "TfLiteEvalTensor": sizes.eval_tensor,
        "TfLiteTensor": sizes.tensor,
        "TfLiteAffineQuantization": sizes.affine_quantization,
        "TfLiteConvParams": sizes.builtin_options["CONV_2D"],
        "TfLiteDepthwiseConvParams": sizes.builtin_options["DEPTHWISE_CONV_2D"],
        "TfLiteFullyConnectedParams": sizes.builtin_options["FULLY_CONNECTED"],
        "TfLitePoolParams": sizes.builtin_options["AVERAGE_POOL_2D"],
        "TfLiteReshapeParams": sizes.builtin_options["RESHAPE"],
        "TfLiteSoftmaxParams": sizes.builtin_options["SOFTMAX"],
        "TfLiteAddParams": sizes.builtin_options["ADD"],
    }
    for core, measured in MEASURED["layouts"].items():
        for name, (size, alignment) in ours.items():
            assert (measured[f"sizeof {name}"], measured[f"alignof {name}"]) == (size, alignment), (core, name)


_WHEEL_TOTALS = """
import sys
from tflite_micro.python.tflite_micro import runtime
for path in sys.argv[1:]:
    runtime.Interpreter.from_file(path, arena_size=1 << 20).print_allocations()
"""


def _wheel_totals(paths: list[Path]) -> list[int]:
    """The wheel's arena total (head + tail after AllocateTensors()) of each model."""
    pytest.importorskip("tflite_micro")
    done = subprocess.run(
        [sys.executable, "-c", _WHEEL_TOTALS, *map(str, paths)], capture_output=True, text=True, check=True
    )
    return [int(line.split()[-2]) for line in (done.stdout + done.stderr).splitlines() if "allocation total" in line]


def _python_interpreter_arena(graph) -> int:
    return tflm_arena(graph, "m4", "reference", HOST64, python_interpreter=True).used_bytes


@needs_models
def test_arena_equals_the_python_interpreter():
    """The wheel's arena total, for 64-bit pointers, its recording allocator and its USE_TFLM_COMPRESSION
    build. The wheel is newer (2026-10-23) than the TFLM sources modelled (2026-08-20); the one
    difference that shows, a 32-byte TfLiteFullyConnectedParams, is read from its machine code
    (ParseFullyConnected allocates 0x20 bytes, 8-aligned)."""
    totals = _wheel_totals([MODELS / path for path in INT8_MODELS.values()])
    assert totals == [_python_interpreter_arena(_graph(name)) for name in INT8_MODELS]


def test_custom_operators_and_control_flow_arena_equals_the_python_interpreter(tmp_path):
    """CIRCULAR_BUFFER, TFLite_Detection_PostProcess and TFLM_DECODE (the TFLM kernels of CMSIS-NN
    builds too), and IF, WHILE and CALL_ONCE with the subgraphs they call (every subgraph's tensors,
    nodes, options, OpData and temporaries, and one plan of all their tensors), CIRCULAR_BUFFERs
    inside them too: the wheel's arena total, to the byte."""
    graphs = {name: make() for name, make in {**ARENA_MODEL_GRAPHS, **WAITING_GRAPHS}.items()}
    paths = []
    for name, graph in graphs.items():
        paths.append(tmp_path / f"{name}.tflite")
        paths[-1].write_bytes(bytes(write_tflite(graph)))
    assert _wheel_totals(paths) == [_python_interpreter_arena(graph) for graph in graphs.values()]


@needs_models
def test_analyze_runtime_tflm_itemises_the_arena_and_budgets_it(monkeypatch, capsys):
    model = str(MODELS / INT8_MODELS["kws"])
    args = ("analyze", model, "--runtime", "tflm", "--kernels", "cmsis-nn", "-d", "NUCLEO-L4R5ZI")
    code, out, _ = run_cli(monkeypatch, capsys, *args, "--json")
    report = json.loads(out)
    arena = tflm_arena(_graph("kws"), "cortex-m4", "cmsis-nn")
    assert code == 0 and report["arena_bytes"] == arena.smallest_arena == report["tflm_arena"]["smallest_arena_bytes"]
    tail = report["tflm_arena"]
    assert sum(tail["tail_items"].values()) + tail["tail_alignment_bytes"] == tail["tail_bytes"]
    assert tail["head_bytes"] + tail["tail_bytes"] == tail["arena_used_bytes"]
    code, out, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0 and "kernel OpData" in out and f"{arena.smallest_arena:,}" in out


@pytest.mark.parametrize(
    "name", [*CUSTOM_OPERATOR_GRAPHS, "if_convolutions", "while_if_nested", "call_once", "waiting_nested"]
)
def test_analyze_runtime_tflm_counts_custom_operators_and_control_flow(name, tmp_path, monkeypatch, capsys):
    """`analyze --runtime tflm` budgets their whole arena, the CIRCULAR_BUFFER's history inside it (TFLM
    keeps variable tensors in its tail), every subgraph's share too: nothing beside the arena as state,
    nothing uncounted."""
    graph = {**ARENA_MODEL_GRAPHS, **WAITING_GRAPHS}[name]()
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(bytes(write_tflite(graph)))
    code, out, _ = run_cli(
        monkeypatch, capsys, "analyze", str(path), "--runtime", "tflm", "-d", "NUCLEO-L4R5ZI", "--json"
    )
    report = json.loads(out)
    assert code == 0 and report["verdict"] == "fits" and not report["uncounted_operators"]
    assert report["arena_bytes"] == tflm_arena(graph, "cortex-m4", "cmsis-nn").smallest_arena
    ram = next(region for region in report["regions"] if region["kind"] == "sram")
    assert [item["name"] for item in ram["items"]] == ["tensor arena", "stack"]


def test_the_called_subgraphs_are_in_the_arena():
    """Each subgraph adds its own TfLiteEvalTensor and NodeAndRegistration arrays to the tail, and its
    tensors to the plan: the WHILE's arena holds every tensor of its condition and body."""
    arena = tflm_arena(CONTROL_FLOW_GRAPHS["while_counting"](), "cortex-m4", "reference")
    subgraph_buffers = [buffer for buffer in arena.plan.buffers if buffer.subgraph_tensor is not None]
    assert {buffer.subgraph_tensor[0] for buffer in subgraph_buffers} == {1, 2}
    sizes = Layouts(ARM32)
    tensors = sum(len(subgraph.tensors) for subgraph in CONTROL_FLOW_GRAPHS["while_counting"]().subgraphs)
    assert arena.tail_items["TfLiteEvalTensor array"] == sizes.eval_tensor[0] * tensors


def test_an_operator_the_arena_model_lacks_in_a_subgraph_is_one_line(tmp_path, monkeypatch, capsys):
    """No verdict on part of a model: a branch's SUB stops analyze --runtime tflm, naming the subgraph."""
    graph = CONTROL_FLOW_GRAPHS["if_add_mul"]()
    graph.other_subgraphs[0].operators[0].op_type = "SUB"
    path = tmp_path / "sub.tflite"
    path.write_bytes(bytes(write_tflite(graph)))
    code, out, err = run_cli(monkeypatch, capsys, "analyze", str(path), "--runtime", "tflm", "-d", "NUCLEO-L4R5ZI")
    assert code == 2 and not out
    reason = "the TFLM arena model does not cover #0 SUB yet in subgraph 1 (then)"
    assert err.strip() == f"mcudeploy: error: {path}: {reason}"
