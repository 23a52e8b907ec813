"""`generate --runtime tflm`: a TensorFlow Lite Micro project (model array, exact resolver, arena, main)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import MODELS, run_cli
from mcudeploy.emulation import RUNTIME_DIR, get_target, run_elf
from mcudeploy.emulation.linker import render_linker_script
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.memory.tflm_arena import tflm_arena
from tflm_arena_models import CONTROL_FLOW_GRAPHS, decoded_weights_graph, streaming_conv_graph

KWS = MODELS / "mlperf_tiny" / "kws_ref_model_int8.tflite"
TFLM_ROOT = Path(os.environ.get("MCUDEPLOY_TFLM_ROOT", "/work/tflm_build"))
"""Where bench/tflm_cmsis_nn.py finds the third-party trees (its --root)."""


def test_project_holds_the_model_its_operators_and_arena(tmp_path, monkeypatch, capsys):
    out = tmp_path / "kws"
    code, stdout, _ = run_cli(
        monkeypatch, capsys, "generate", str(KWS), "--runtime", "tflm", "--kernels", "cmsis-nn",
        "-d", "NUCLEO-L4R5ZI", "-o", str(out), "--json",
    )  # fmt: skip
    assert code == 0
    summary = json.loads(stdout)
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [".mcudeploy-manifest", "README.md", "main.cc", "model_data.cc", "model_data.h"]
    )
    main = (out / "main.cc").read_text()
    calls = re.findall(r"resolver\.Add(\w+)\(\);", main)
    assert calls == ["Conv2D", "DepthwiseConv2D", "AveragePool2D", "Reshape", "FullyConnected", "Softmax"]
    assert f"MicroMutableOpResolver<{len(calls)}>" in main
    arena = tflm_arena(load_model(KWS), "cortex-m4", "cmsis-nn").smallest_arena
    assert summary["arena_bytes"] == arena and f"kArenaBytes = {arena};" in main
    source = (out / "model_data.cc").read_text()
    assert "alignas(16) const unsigned char g_model[]" in source
    values = source[source.index("{") + 1 : source.index("};")]
    assert bytes(int(value) for value in values.replace("\n", "").split(",")) == KWS.read_bytes()
    assert f"g_model_len = {KWS.stat().st_size};" in source


def test_operators_outside_the_arena_model_are_refused(tmp_path, monkeypatch, capsys):
    model = MODELS / "tflm" / "person_detect_vela.tflite"
    code, _, stderr = run_cli(
        monkeypatch, capsys, "generate", str(model), "--runtime", "tflm", "-o", str(tmp_path / "x")
    )
    assert code == 2 and "mcudeploy: error:" in stderr and not (tmp_path / "x").exists()


def _written(graph, folder: Path) -> Path:
    path = folder / f"{graph.name}.tflite"
    path.write_bytes(bytes(write_tflite(graph)))
    return path


def test_control_flow_registers_every_subgraphs_operators(tmp_path, monkeypatch, capsys):
    """IF inside a WHILE: the resolver holds the main graph's and every called subgraph's operators."""
    model = _written(CONTROL_FLOW_GRAPHS["while_if_nested"](), tmp_path)
    out = tmp_path / "nested"
    code, stdout, _ = run_cli(
        monkeypatch, capsys, "generate", str(model), "--runtime", "tflm", "-o", str(out), "--json"
    )
    assert code == 0
    main = (out / "main.cc").read_text()
    assert re.findall(r"resolver\.Add(\w+)\(\);", main) == ["Add", "While", "Mul", "Less", "If"]
    assert "MicroMutableOpResolver<5>" in main and "kTfLiteAbort" not in main
    assert json.loads(stdout)["arena_bytes"] == tflm_arena(load_model(model), "cortex-m4", "cmsis-nn").smallest_arena


def test_a_waiting_circular_buffer_is_no_failure(tmp_path, monkeypatch, capsys):
    """A CIRCULAR_BUFFER that waits ends inferences in kTfLiteAbort: main says so and returns 0;
    with cycles_max 1 (never waits) and for the decode kernel, Invoke() must succeed."""
    mains = {}
    for graph in (streaming_conv_graph(2), streaming_conv_graph(1), decoded_weights_graph()):
        out = tmp_path / f"{graph.name}{len(mains)}"
        model = _written(graph, tmp_path)
        assert run_cli(monkeypatch, capsys, "generate", str(model), "--runtime", "tflm", "-o", str(out))[0] == 0
        mains[len(mains)] = (out / "main.cc").read_text()
    assert "if (status == tflite::kTfLiteAbort) {" in mains[0] and "resolver.AddCircularBuffer();" in mains[0]
    assert "kTfLiteAbort" not in mains[1] and "kTfLiteAbort" not in mains[2]
    assert "resolver.AddDecode();" in mains[2]


LIBRARY = Path(os.environ.get("MCUDEPLOY_TFLM_LIB", TFLM_ROOT / "arena" / "m4" / "cmsis-nn" / "libtflm.a"))
"""TFLM + CMSIS-NN for the M4 as bench/tflm_arena.py --build-dir /work/tflm_build/arena builds it."""
PLATFORM = Path(__file__).resolve().parents[1] / "bench" / "tflm_cmsis_nn" / "platform.cc"


PROJECT_MODELS = {
    "kws": (lambda: None, ()),
    "waiting-circular-buffer": (lambda: streaming_conv_graph(2), ("CIRCULAR_BUFFER",)),
    "while-if-nested": (CONTROL_FLOW_GRAPHS["while_if_nested"], ("WHILE", "IF", "LESS", "MUL")),
}
"""The models built, and the kernels beyond KWS's each needs in the library."""


def _missing_registrations(operators: tuple[str, ...]) -> list[str]:
    """The operators whose Register_* the library lacks (one built before bench/tflm_cmsis_nn.py listed them)."""
    if not operators:
        return []
    symbols = subprocess.run(["arm-none-eabi-nm", "-C", "--defined-only", str(LIBRARY)], capture_output=True,
                             text=True, check=True).stdout  # fmt: skip
    return [name for name in operators if f"tflite::Register_{name}()" not in symbols]


@pytest.mark.skipif(
    shutil.which("arm-none-eabi-g++") is None or shutil.which("qemu-system-arm") is None or not LIBRARY.is_file(),
    reason="needs arm-none-eabi-g++, QEMU and the TFLM library bench/tflm_arena.py builds",
)
@pytest.mark.parametrize("name", PROJECT_MODELS)
def test_project_builds_and_runs_on_the_m4(name, tmp_path, monkeypatch, capsys):
    """Compiled against TFLM, linked with its CMSIS-NN build and run on QEMU's M4: AllocateTensors() and
    Invoke() succeed with the generated arena (main returns 0; 1 or 2 when either fails). A CIRCULAR_BUFFER
    of 2 frames ends the first Invoke() in kTfLiteAbort, waiting: main takes it for no failure. An IF
    inside a WHILE: the arena of all subgraphs suffices."""
    make, operators = PROJECT_MODELS[name]
    missing = _missing_registrations(operators)
    if missing:
        pytest.skip(f"{LIBRARY} has no {', '.join(missing)}: rebuild it with bench/tflm_arena.py")
    model = _written(make(), tmp_path) if operators else KWS
    out = tmp_path / "kws"
    args = ("generate", str(model), "--runtime", "tflm", "--kernels", "cmsis-nn", "-d", "NUCLEO-L4R5ZI", "-o", str(out))
    assert run_cli(monkeypatch, capsys, *args)[0] == 0
    target = get_target("m4")
    includes = [f"-I{TFLM_ROOT / folder}" for folder in ("tflite-micro", "flatbuffers/include", "gemmlowp", "ruy")]
    flags = ["-O2", "-DNDEBUG", f"-I{RUNTIME_DIR}"]  # NDEBUG: TFLM's checks without abort(), as its release builds
    cxx = ["arm-none-eabi-g++", *target.cflags, *flags, "-std=c++17", "-fno-rtti", "-fno-exceptions",
           "-fno-threadsafe-statics", "-DTF_LITE_STATIC_MEMORY", "-Wall", "-Werror", *includes]  # fmt: skip
    cc = ["arm-none-eabi-gcc", *target.cflags, *flags, "-std=c99", "-DMCU_HAS_FPU=1"]
    sources = ((cxx, out / "main.cc"), (cxx, out / "model_data.cc"), (cxx, PLATFORM),
               (cc, RUNTIME_DIR / "startup.c"), (cc, RUNTIME_DIR / "semihosting.c"))  # fmt: skip
    objects = []
    for compiler, source in sources:
        objects.append(str(tmp_path / f"{source.stem}.o"))
        subprocess.run([*compiler, "-c", str(source), "-o", objects[-1]], check=True, capture_output=True, text=True)
    script = tmp_path / "tflm.ld"
    script.write_text(render_linker_script(target))
    elf = tmp_path / "kws.elf"
    subprocess.run(
        ["arm-none-eabi-g++", *target.cflags, "-nostartfiles", "--specs=nosys.specs", "-Wl,--gc-sections",
         "-Wl,--no-warn-rwx-segments", f"-T{script}", *objects, str(LIBRARY), "-lm", "-o", str(elf)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert run_elf("m4", elf, tmp_path, 300.0).exit_code == 0
