"""`--code-section itcm|ram`: the hot code (kernel library and layers) runs from ITCM or SRAM, copied
from its load image in flash at start-up; the program stays bit-exact on QEMU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import MODELS
from mcudeploy.emulation import ElfImage
from mcudeploy.emulation.harness import build_harness, generate_project, run_harness
from mcudeploy.emulation.linker import FAST_CODE_SECTION, fast_code_region
from mcudeploy.emulation.targets import get_target
from mcudeploy.engine import Engine
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.memory import plan_memory

KWS = MODELS / "mlperf_tiny/kws_ref_model_int8.tflite"


@pytest.mark.parametrize(("target_name", "code_section"), [("m7", "itcm"), ("m4", "ram"), ("m55", "itcm")])
def test_hot_code_runs_from_where_asked_and_stays_bit_exact(target_name: str, code_section: str, tmp_path: Path):
    graph = read_tflite(KWS)
    target = get_target(target_name)
    code = generate_project(graph, plan_memory(graph), target, tmp_path / "project")
    elf = build_harness(graph, code, target, tmp_path, code_section=code_section)
    image = ElfImage(elf)
    section = image.section(FAST_CODE_SECTION)
    run_region = fast_code_region(target.machine, code_section)
    assert run_region.base <= section.address and section.address + section.size <= run_region.end
    assert section.executable and section.size > 1000
    kernels = [s for s in image.symbols if s.kind == "func" and s.name.startswith("md_") and s.defined]
    assert kernels and all(run_region.base <= s.address < run_region.end for s in kernels)
    inputs = random_inputs(graph)
    run = run_harness(graph, target, elf, inputs, tmp_path / "run")
    expected = Engine(graph).run(inputs).outputs
    for got, want in zip(run.steps[0].outputs, expected, strict=True):
        np.testing.assert_array_equal(got, want)
