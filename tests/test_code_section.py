"""`--code-section itcm|ram`: the hot code (kernel library and layers) runs from ITCM or SRAM, copied
from its load image in flash at start-up; the program stays bit-exact on QEMU, analyze counts the
linked section in flash and where it runs, and the estimate prices instruction fetch from there."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import MODELS, run_cli
from mcudeploy.analysis.model import Reserves, analyze_model
from mcudeploy.codegen import generate
from mcudeploy.codegen.library import FAST_CODE_SECTION
from mcudeploy.devices import find_device
from mcudeploy.emulation import ElfImage
from mcudeploy.emulation.harness import build_harness, code_flash, generate_project, run_harness
from mcudeploy.emulation.linker import fast_code_region
from mcudeploy.emulation.plugin import ExecutionCounts
from mcudeploy.emulation.stack_usage import call_graph
from mcudeploy.emulation.targets import get_target
from mcudeploy.engine import Engine
from mcudeploy.estimate.cycles import price
from mcudeploy.estimate.memory import device_memory
from mcudeploy.estimate.model import estimate_model
from mcudeploy.estimate.report import code_section_comparison
from mcudeploy.estimate.timings import core_timing
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import (
    MEASURED_CODE,
    RUN_CODE,
    CodeSection,
    budget_request,
    code_estimate,
    constant_layout,
    memory_budget,
)

KWS = MODELS / "mlperf_tiny/kws_ref_model_int8.tflite"
SMALL = MODELS / "tflm/hello_world_int8.tflite"


@pytest.mark.parametrize(
    ("model", "target_name", "code_section"), [(KWS, "m7", "itcm"), (SMALL, "m4", "ram"), (SMALL, "m55", "itcm")]
)
def test_hot_code_runs_from_where_asked_and_stays_bit_exact(
    model: Path, target_name: str, code_section: str, tmp_path: Path
) -> None:
    graph = read_tflite(model)
    target = get_target(target_name)
    code = generate_project(graph, plan_memory(graph), target, tmp_path / "project")
    elf = build_harness(graph, code, target, tmp_path, code_section=code_section)
    image = ElfImage(elf)
    section = image.section(FAST_CODE_SECTION)
    run_region = fast_code_region(target.machine, code_section)
    assert run_region.base <= section.address and section.address + section.size <= run_region.end
    assert section.executable and section.size > 500
    kernels = [s for s in image.symbols if s.kind == "func" and s.name.startswith("md_") and s.defined]
    assert kernels and all(run_region.base <= s.address < run_region.end for s in kernels)
    physical = _load_segment(elf, section.address)[1]
    assert target.machine.rodata.base <= physical < target.machine.rodata.end  # loaded in flash
    startup = next(s for s in image.symbols if s.name == "mcu_reset_handler")
    assert not section.address <= startup.address < section.address + section.size  # the copier is not copied
    inputs = random_inputs(graph)
    run = run_harness(graph, target, elf, inputs, tmp_path / "run")
    for got, want in zip(run.steps[0].outputs, Engine(graph).run(inputs).outputs, strict=True):
        np.testing.assert_array_equal(got, want)


def _load_segment(elf: Path, virtual: int) -> tuple[int, int]:
    """The LOAD segment of `elf` that starts at `virtual`, as readelf prints it: (VirtAddr, PhysAddr)."""
    headers = subprocess.run(["arm-none-eabi-readelf", "-lW", str(elf)], capture_output=True, text=True, check=True)
    for line in headers.stdout.splitlines():
        fields = line.split()
        if fields[:1] == ["LOAD"] and int(fields[2], 16) == virtual:
            return int(fields[2], 16), int(fields[3], 16)
    raise AssertionError(f"no LOAD segment at {virtual:#x}:\n{headers.stdout}")


def test_analyze_counts_the_linked_section_in_flash_and_in_itcm(tmp_path: Path) -> None:
    graph = read_tflite(SMALL)
    plan = plan_memory(graph)
    device = find_device("STM32H743ZI")
    result = analyze_model(graph, plan, device, Reserves(1024), code_section=CodeSection.ITCM)
    items = {(region.name, item.name): item.bytes for region in result.regions for item in region.items}
    code = generate(graph, plan, tmp_path / "gen", force=True)
    flash, elf = code_flash(code, get_target("m7"), tmp_path / "link", ("-fstack-usage",), "itcm")
    assert items[("ITCM", RUN_CODE)] == ElfImage(elf).section(FAST_CODE_SECTION).size
    assert items[("FLASH", MEASURED_CODE)] == flash - code.weights_bytes  # the load image stays in flash
    assert result.verdict == "fits"
    _, in_flash = code_flash(code, get_target("m7"), tmp_path / "flash", ("-fstack-usage",))
    stacks = [call_graph(linked, get_target("m7")).worst("net_invoke") for linked in (elf, in_flash)]
    assert stacks[0] == stacks[1] and stacks[0][0] > 0  # gcc's frames found beside the objects too


def _memory(device: str, code_section: CodeSection):
    graph = read_tflite(SMALL)
    plan = plan_memory(graph)
    part = find_device(device)
    request = budget_request(plan.arena_bytes, constant_layout(graph), code_estimate(graph), code_section=code_section)
    return device_memory(part, memory_budget(request, part), part.part.max_clock_mhz)


def test_fetch_from_sram_over_the_m4_system_bus_costs_more_than_flash_behind_the_art() -> None:
    flash, sram = _memory("STM32F446RE", CodeSection.FLASH), _memory("STM32F446RE", CodeSection.RAM)
    assert flash.instruction_fetch_cycles == flash.branch_fetch_cycles == 0
    assert sram.regions["code"].placed_in == "SRAM1+SRAM2"  # the F446 has no code alias
    assert sram.instruction_fetch_cycles == 0.75 and sram.branch_fetch_cycles == 1
    counts = ExecutionCounts({"alu": 1000, "branch": 100}, {})
    timing = core_timing("cortex-m4")
    assert price(counts, timing, sram).total == price(counts, timing, flash).total + 1100 * 0.75 + 100


def test_code_run_through_the_l4r5_sram2_alias_is_fetched_at_zero_wait_states() -> None:
    alias = _memory("STM32L4R5ZI", CodeSection.RAM)
    code = alias.regions["code"]
    assert code.placed_in == "SRAM2 via 0x10000000" and code.wait_states == 0 and not code.cached
    assert alias.instruction_fetch_cycles == alias.branch_fetch_cycles == 0 and alias.fetch_cache is None
    assert "SRAM2 via 0x10000000 (its code alias) over I-Code/D-Code: no wait states" in alias.approximations[0]
    assert "all code priced as run from SRAM2 via 0x10000000" in " ".join(alias.notes)
    flash = _memory("STM32L4R5ZI", CodeSection.FLASH)
    assert {label: flash.regions[label] for label in flash.regions if label != "code"} == {
        label: alias.regions[label] for label in alias.regions if label != "code"
    }  # data accesses priced as before


def _sram_budget(hot_bytes: int | None, code_section: CodeSection = CodeSection.RAM):
    graph = read_tflite(SMALL)
    plan = plan_memory(graph)
    code = replace(code_estimate(graph), hot_bytes=hot_bytes)
    request = budget_request(plan.arena_bytes, constant_layout(graph), code, code_section=code_section)
    budget = memory_budget(request, find_device("NUCLEO-L4R5ZI"))
    return budget, next(use for use in budget.uses if use.span.name == "SRAM1+SRAM2+SRAM3")


def test_ram_code_is_pinned_to_sram2_and_counted_once_against_the_merged_sram() -> None:
    budget, sram = _sram_budget(40_000)
    _, without = _sram_budget(40_000, CodeSection.FLASH)
    assert budget.region_of(RUN_CODE).name == "SRAM2" and budget.fits
    assert [item.name for item in sram.items if item.name == RUN_CODE] == [RUN_CODE]
    assert sram.free == without.free - 40_000  # the room left for the arena, stack, SRAM weights shrinks once
    whole = _sram_budget(64 * 1024)[0]
    assert whole.region_of(RUN_CODE).name == "SRAM2"  # exactly SRAM2's 64 KiB still fits


def test_analyze_says_the_run_image_runs_at_sram2s_alias() -> None:
    graph, device = read_tflite(SMALL), find_device("NUCLEO-L4R5ZI")
    result = analyze_model(graph, plan_memory(graph), device, Reserves(1024), code_section=CodeSection.RAM)
    runs = {(region.name, item.name): item.runs_at for region in result.regions for item in region.items}
    assert runs[("SRAM1+SRAM2+SRAM3", RUN_CODE)] == "SRAM2 via 0x10000000"
    assert runs[("SRAM1+SRAM2+SRAM3", "tensor arena")] == ""


def test_hot_code_too_big_for_sram2_runs_from_the_merged_sram_and_says_so() -> None:
    budget, sram = _sram_budget(64 * 1024 + 4)
    assert budget.region_of(RUN_CODE) is None and budget.fits
    assert any(item.name == RUN_CODE for item in sram.items)
    memory = device_memory(budget.device, budget, 120)
    assert memory.regions["code"].placed_in == "SRAM1+SRAM2+SRAM3"
    assert memory.instruction_fetch_cycles == 0.75 and memory.branch_fetch_cycles == 1  # the System bus
    assert (
        "the hot code (65,540 B) does not fit SRAM2 via 0x10000000 (65,536 B): run from SRAM1+SRAM2+SRAM3 instead"
        in memory.notes
    )


def test_itcm_reads_of_code_miss_no_cache_on_the_m7() -> None:
    flash, itcm = _memory("STM32H743ZI", CodeSection.FLASH), _memory("STM32H743ZI", CodeSection.ITCM)
    assert flash.regions["code"].cached and flash.regions["code"].miss_cycles > 0
    assert itcm.regions["code"].placed_in == "ITCM"
    assert not itcm.regions["code"].cached and itcm.regions["code"].read_cycles == 0
    assert itcm.fetch_cache is None and flash.fetch_cache is not None  # the L1 instruction cache: flash only
    counts = ExecutionCounts({"load": 1000}, {}, reads={"code": 1000}, misses={"code": 50})
    timing = core_timing("cortex-m7")
    assert price(counts, timing, itcm).total < price(counts, timing, flash).total


def test_itcm_on_a_device_without_one_is_one_line_and_exit_2(monkeypatch, capsys) -> None:
    code, _, err = run_cli(
        monkeypatch, capsys, "analyze", str(SMALL), "--device", "STM32L4R5ZI", "--code-section", "itcm"
    )
    assert code == 2
    assert err.strip() == (
        "mcudeploy: error: --code-section itcm: STM32L4R5ZI has no ITCM: its code runs from flash or SRAM "
        "(--code-section ram)"
    )


def test_estimate_ram_on_the_l4r5_runs_the_hot_code_through_sram2s_alias_and_says_so(monkeypatch, capsys) -> None:
    args = ("estimate", str(SMALL), "--device", "NUCLEO-L4R5ZI", "--code-section", "ram", "--json")
    code, stdout, _ = run_cli(monkeypatch, capsys, *args)
    report = json.loads(stdout)
    comparison = report["code_section_comparison"]
    assert code == 0 and comparison["runs_from"] == "SRAM2 via 0x10000000"
    # In flash, the ART's instruction-cache misses are simulated and priced (no bound left out); through
    # the alias, fetch is free: faster.
    assert comparison["cycles"] < comparison["flash_cycles"] and "faster" in comparison["line"]
    assert comparison["flash_cold_fetch_bound_cycles"] is None
    assert comparison["variants_timed_by"] == "balanced"  # int16 weights or not, timed with the code in SRAM2


def test_the_comparison_says_whose_variants_the_flash_figure_is_for() -> None:
    # Chosen with the code in SRAM2, a model's variants may be slow from flash (ic_resnet8: 203.53 ms,
    # 167.42 with those chosen for flash): the line says so.
    graph = read_tflite(SMALL)
    placed = estimate_model(graph, "NUCLEO-L4R5ZI", code_section=CodeSection.RAM)
    in_flash = estimate_model(graph, "NUCLEO-L4R5ZI")
    comparison = code_section_comparison(placed, in_flash, "speed")
    assert comparison["variants_timed_by"] == "speed"
    assert comparison["line"].endswith(
        "; both with the variants --optimize speed chose for --code-section ram (--code-section flash chooses "
        "them for flash)"
    )


def test_the_first_pass_over_flash_behind_an_unsimulated_cache_is_bounded_and_said() -> None:
    graph = read_tflite(SMALL)
    in_itcm = estimate_model(graph, "MIMXRT1062", code_section=CodeSection.ITCM)
    in_flash = estimate_model(graph, "MIMXRT1062")  # the core's L1 instruction cache: its misses not simulated
    assert in_flash.inference.memory_by_label["code fetch"] == 0
    comparison = code_section_comparison(in_itcm, in_flash)
    lines = -(-in_itcm.hot_code_bytes // 32)  # 32-byte L1 lines, each an access (no wait-state figure) + 4 beats
    assert comparison["flash_cold_fetch_bound_cycles"] == lines * (0 + 1 + 4)
    assert "not priced in flash: the first pass" in comparison["line"]


def test_the_stm32h7_l1_instruction_cache_misses_are_in_the_flash_figure_no_bound_left_out() -> None:
    graph = read_tflite(SMALL)
    in_itcm = estimate_model(graph, "STM32H743ZI", code_section=CodeSection.ITCM)
    in_flash = estimate_model(graph, "STM32H743ZI")
    assert in_itcm.inference.memory_by_label.get("code fetch", 0) == 0
    assert in_flash.inference.memory_by_label["code fetch"] > 0
    assert code_section_comparison(in_itcm, in_flash)["flash_cold_fetch_bound_cycles"] is None


def test_generate_names_the_run_region_and_documents_the_link(monkeypatch, capsys, tmp_path: Path) -> None:
    out = tmp_path / "net"
    args = ("generate", str(SMALL), "-o", str(out), "--device", "STM32H743ZI", "--code-section", "itcm", "--json")
    code, stdout, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0 and json.loads(stdout)["hot_code_region"] == "ITCM"
    readme = (out / "README.md").read_text()
    assert f"{FAST_CODE_SECTION} : ALIGN(8)" in readme and "} > ITCM AT > FLASH" in readme
    assert "*word = *source++;" in readme


def test_generate_for_the_l4r5_links_the_hot_code_at_sram2s_alias(monkeypatch, capsys, tmp_path: Path) -> None:
    out = tmp_path / "net"
    args = ("generate", str(SMALL), "-o", str(out), "--device", "NUCLEO-L4R5ZI", "--code-section", "ram", "--json")
    code, stdout, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0 and json.loads(stdout)["hot_code_region"] == "SRAM2 via 0x10000000"
    readme = (out / "README.md").read_text()
    assert "## Hot code in SRAM2 via 0x10000000" in readme and "} > SRAM2_CODE AT > FLASH" in readme
    assert "SRAM2_CODE (rx) : ORIGIN = 0x10000000, LENGTH = 64K" in readme
    assert "same memory (SRAM2, 0x20030000-0x2003FFFF)" in readme


def test_code_section_is_refused_where_the_npu_path_answers(monkeypatch, capsys) -> None:
    args = ("estimate", str(SMALL), "--device", "Alif Ensemble E7", "--code-section", "itcm")
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and "--code-section itcm: for our C on the core alone (--no-npu)" in err
