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
from mcudeploy.importers import load_model
from mcudeploy.memory.tflm_arena import tflm_arena

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


@pytest.mark.skipif(
    shutil.which("arm-none-eabi-g++") is None or not (TFLM_ROOT / "tflite-micro").is_dir(),
    reason="needs arm-none-eabi-g++ and the TFLM sources of bench/tflm_cmsis_nn.py",
)
def test_project_compiles_against_tflite_micro(tmp_path, monkeypatch, capsys):
    out = tmp_path / "kws"
    assert run_cli(monkeypatch, capsys, "generate", str(KWS), "--runtime", "tflm", "-o", str(out))[0] == 0
    includes = [f"-I{TFLM_ROOT / folder}" for folder in ("tflite-micro", "flatbuffers/include", "gemmlowp", "ruy")]
    for source in ("main.cc", "model_data.cc"):
        subprocess.run(
            ["arm-none-eabi-g++", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
             "-std=c++17", "-fno-rtti", "-fno-exceptions", "-DTF_LITE_STATIC_MEMORY", "-Wall", "-Werror",
             *includes, "-c", str(out / source), "-o", str(tmp_path / f"{source}.o")],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
