"""Shared test fixtures: where the real models are, and which are which."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
MODELS = TESTS.parents[1] / "shared" / "models"

sys.path.insert(0, str(TESTS))  # tests import shared helpers (single_op.py) as plain modules

INT8_MODELS = [
    "mlperf_tiny/kws_ref_model_int8.tflite",
    "mlperf_tiny/vww_96_int8.tflite",
    "mlperf_tiny/ic_resnet8_int8.tflite",
    "mlperf_tiny/ad01_int8.tflite",
    "mlperf_tiny/str_ww_ref_model.tflite",
    "tflm/person_detect.tflite",
    "tflm/micro_speech_quantized.tflite",
    "tflm/hello_world_int8.tflite",
    "tflm/simple_add_model.tflite",
]
FLOAT_MODELS = [
    "mlperf_tiny/kws_ref_model_float32.tflite",
    "mlperf_tiny/vww_96_float.tflite",
    "mlperf_tiny/ic_resnet8_float.tflite",
    "mlperf_tiny/ad01_fp32.tflite",
    "tflm/hello_world_float.tflite",
]


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """Run the console entry point in-process (as the installed `mcudeploy` script does):
    exit code, stdout, stderr."""
    from mcudeploy.cli.app import main

    monkeypatch.setattr(sys, "argv", ["mcudeploy", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    out, err = capsys.readouterr()
    return stop.value.code or 0, out, err


def divergences(checker, target: str) -> list:
    """What `checker` (a validation.Validator) finds diverging on `target` for random inputs of seeds 0 and 1:
    empty when the generated code is bit-exact there."""
    from mcudeploy.inputs import random_inputs

    checked = checker.validate_target(target, [random_inputs(checker.graph, seed) for seed in (0, 1)])
    return [r.divergence for r in checked.inputs if not r.agrees]


def streaming_graph(cycles_max: int):
    """Frames [1, 1, 2, 3] into a history of 4 (TFLM's CIRCULAR_BUFFER, a variable tensor; every
    `cycles_max`-th frame an inference that runs every layer) that a RELU reads: the RELU's output is
    the model's."""
    from mcudeploy.ir import GraphBuilder
    from mcudeploy.ir.options import CustomOptions

    b = GraphBuilder("streaming")
    frame = b.tensor((1, 1, 2, 3), "int8", name="frame", scale=0.5, zero_point=-5)
    history = b.tensor((1, 4, 2, 3), "int8", name="history", scale=0.5, zero_point=-5, is_variable=True)
    rectified = b.tensor((1, 4, 2, 3), "int8", name="rectified", scale=0.5, zero_point=-5)
    b.op("CIRCULAR_BUFFER", [frame], [history], CustomOptions.from_map({"cycles_max": cycles_max}))
    b.op("RELU", [history], [rectified])
    return b.build([frame], [rectified])


def pytest_sessionstart(session: pytest.Session) -> None:
    # Real models are part of the test contract: a missing folder is a failure, never a skip.
    if not MODELS.is_dir():
        raise pytest.UsageError(f"real models not found at {MODELS} (the shared/ folder beside the repository)")


def library_symbol_sizes(folder: Path, source_name: str, target_name: str = "m4") -> dict[str, int]:
    """Bytes of each symbol of one kernel-library source compiled for `target_name` (as the library is):
    what a routine and its neighbours take in a flash cache."""
    from mcudeploy.codegen.library import INCLUDE_DIR, library_files, library_root
    from mcudeploy.emulation import ElfImage, get_target
    from mcudeploy.emulation.toolchain import COMMON_CFLAGS, find_compiler

    target = get_target(target_name)
    root = Path(str(library_root()))
    source = root / library_files()[source_name]
    includes = [f"-I{source.parent}", f"-I{root.parent / INCLUDE_DIR}"]
    compiler = str(find_compiler(target))
    subprocess.run([compiler, *target.cflags, *COMMON_CFLAGS, *includes, "-c", str(source), "-o", "sizes.o"],
                   cwd=folder, check=True)  # fmt: skip
    return {symbol.name: symbol.size for symbol in ElfImage(folder / "sizes.o").symbols}
