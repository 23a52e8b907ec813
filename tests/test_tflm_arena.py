"""TensorFlow Lite Micro's whole arena (`memory/tflm_arena.py`) against the real runtime.

1. tests/data/tflm_arena_measured.json: TFLM + CMSIS-NN built for Cortex-M4 and M55 and run on
   QEMU by bench/tflm_arena.py (arena_used_bytes(), and the smallest arena with which
   AllocateTensors() and Invoke() succeed, 16 bytes fewer failing; the structures' sizeof/alignof).
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
from mcudeploy.memory.tflm_arena import ARM32, HOST64, Layouts, tflm_arena

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


@needs_models
def test_arena_equals_the_python_interpreter():
    """The wheel's arena total (head + tail after AllocateTensors()), for 64-bit pointers, its recording
    allocator and its USE_TFLM_COMPRESSION build. The wheel is newer (2026-10-23) than the TFLM sources
    modelled (2026-08-20); the one difference that shows, a 32-byte TfLiteFullyConnectedParams, is read
    from its machine code (ParseFullyConnected allocates 0x20 bytes, 8-aligned)."""
    pytest.importorskip("tflite_micro")
    paths = [str(MODELS / path) for path in INT8_MODELS.values()]
    done = subprocess.run([sys.executable, "-c", _WHEEL_TOTALS, *paths], capture_output=True, text=True, check=True)
    totals = [int(line.split()[-2]) for line in (done.stdout + done.stderr).splitlines() if "allocation total" in line]
    ours = [
        tflm_arena(_graph(name), "m4", "reference", HOST64, python_interpreter=True).used_bytes for name in INT8_MODELS
    ]
    assert totals == ours


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
