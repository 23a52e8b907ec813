"""--code-section ram where the hot code does not fit the SRAM's code alias whole: its functions with the most
flash fetch-miss cycles per byte run through the alias, the rest from flash, each priced where it runs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from conftest import MODELS, run_cli
from mcudeploy.cli.generate import hot_code_region
from mcudeploy.codegen.generator import render
from mcudeploy.codegen.library import FAST_CODE_SECTION
from mcudeploy.devices import find_device
from mcudeploy.emulation import ElfImage
from mcudeploy.emulation.harness import build_harness, generate_project, run_harness
from mcudeploy.emulation.linker import render_linker_script
from mcudeploy.emulation.plugin import FETCH_MISS_BRANCH, FETCH_MISS_SEQUENTIAL, ExecutionCounts
from mcudeploy.emulation.targets import get_target
from mcudeploy.engine import Engine
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate import hot_code
from mcudeploy.estimate.cycles import price
from mcudeploy.estimate.hot_code import (
    FunctionFetch,
    choose_functions,
    fast_code_room,
    fetch_candidates,
    split_bound,
)
from mcudeploy.estimate.memory import CODE_LABEL, FLASH_CODE_LABEL, ProgramLayout, device_memory
from mcudeploy.estimate.model import estimate_model
from mcudeploy.estimate.report import code_section_comparison, estimate_report
from mcudeploy.estimate.timings import core_timing
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import RUN_CODE, CodeSection, budget_request, code_estimate, constant_layout, memory_budget
from mcudeploy.validation import runner

SMALL = MODELS / "tflm/hello_world_int8.tflite"


def test_functions_are_taken_by_fetch_miss_cycles_per_byte_while_they_fit() -> None:
    candidates = [
        FunctionFetch("loop_a", 1000, 50_000.0),  # 50 a byte
        FunctionFetch("loop_b", 3000, 90_000.0),  # 30 a byte: does not fit after loop_a
        FunctionFetch("init", 400, 0.0),  # missed nothing: gains nothing
        FunctionFetch("glue", 501, 2_004.0),  # 4 a byte, 504 bytes aligned: fits the rest
        FunctionFetch("tie_b", 100, 500.0),
        FunctionFetch("tie_a", 100, 500.0),  # same cycles per byte: by name
    ]
    chosen = choose_functions(candidates, 1800)
    assert [item.name for item in chosen] == ["loop_a", "tie_a", "tie_b", "glue"]
    assert choose_functions(reversed(candidates), 1800) == chosen  # deterministic whatever the order
    assert [item.name for item in choose_functions(candidates, 999)] == ["tie_a", "tie_b", "glue"]
    assert [item.name for item in choose_functions(candidates, 703)] == ["tie_a", "tie_b"]  # glue takes 504


def test_candidates_are_priced_with_the_flash_fetch_misses_they_paid() -> None:
    memory = _split_memory()
    counts = {"hot": ExecutionCounts({"alu": 10}, {FETCH_MISS_BRANCH: 3, FETCH_MISS_SEQUENTIAL: 5})}
    candidates = fetch_candidates({"hot": 64, "never_ran": 32}, counts, memory)
    expected = 3 * memory.fetch_miss_branch_cycles + 5 * memory.fetch_miss_sequential_cycles
    assert candidates == [FunctionFetch("hot", 64, expected), FunctionFetch("never_ran", 32, 0.0)]
    assert expected > 0


def test_the_linker_script_moves_the_named_function_sections_only() -> None:
    target = get_target("m4")
    script = render_linker_script(target, code_section="ram", fast_functions=("md_conv_s8", "net_layer_0"))
    section = script[script.index(f"{FAST_CODE_SECTION} :") :]
    section = section[: section.index("}")]
    assert "*(.text.md_conv_s8)" in section and "*(.text.net_layer_0)" in section
    assert "md_*.o" not in section  # not the whole hot objects
    whole = render_linker_script(target, code_section="ram")
    assert "md_*.o(.text .text.*)" in whole and "network.o(.text .text.*)" in whole
    empty = render_linker_script(target, code_section="ram", fast_functions=())
    assert ".text." not in empty[empty.index(f"{FAST_CODE_SECTION} :") :].split("}")[0]


def _split_memory(hot_bytes: int = 40_000):
    graph = read_tflite(SMALL)
    plan = plan_memory(graph)
    code = replace(code_estimate(graph), hot_bytes=hot_bytes)
    request = budget_request(plan.arena_bytes, constant_layout(graph), code, code_section=CodeSection.RAM)
    device = find_device("NUCLEO-L4R5ZI")
    return device_memory(device, memory_budget(request, device), 120, split_code=True)


def test_split_code_is_priced_at_the_alias_and_in_flash_with_its_misses() -> None:
    memory = _split_memory()
    fast, flash = memory.regions[CODE_LABEL], memory.regions[FLASH_CODE_LABEL]
    assert fast.placed_in == "SRAM2 via 0x10000000" and fast.wait_states == 0 and not fast.cached
    assert flash.kind == "flash" and flash.wait_states == 5 and flash.cached
    assert memory.fetch_cache is not None and memory.fetch_miss_branch_cycles > 0
    assert memory.instruction_fetch_cycles == memory.branch_fetch_cycles == 0
    layout = ProgramLayout(((CODE_LABEL, 0x1000_0000, 0x1000_4000), (FLASH_CODE_LABEL, 0x0800_0000, 0x0801_0000)))
    ranges = {item.label: item.cached for item in memory.plugin_ranges(layout)}
    assert ranges == {CODE_LABEL: False, FLASH_CODE_LABEL: True}  # the fetch cache simulated in flash only
    notes = " ".join(memory.notes)
    assert f"{FAST_CODE_SECTION} from SRAM2 via 0x10000000, the rest (.text) from" in notes
    assert "all code priced as run from" not in notes
    assert any("SRAM2 via 0x10000000 (its code alias)" in line for line in memory.approximations)
    timing = core_timing("cortex-m4")
    reads = ExecutionCounts({"load": 100}, {}, reads={CODE_LABEL: 100, FLASH_CODE_LABEL: 100})
    assert price(reads, timing, memory).memory_by_label[CODE_LABEL] == 0


def test_without_a_split_the_code_in_flash_counts_as_the_code() -> None:
    device = find_device("NUCLEO-L4R5ZI")
    memory = device_memory(device, None, 120)
    layout = ProgramLayout(((FLASH_CODE_LABEL, 0x0800_0000, 0x0801_0000),))
    assert [item.label for item in memory.plugin_ranges(layout)] == [CODE_LABEL]


def test_estimate_runs_the_hottest_functions_through_a_too_small_alias_and_budgets_their_bytes() -> None:
    device = find_device("NUCLEO-L4R5ZI")
    small = replace(device, regions=tuple(replace(r, size=2048) if r.code_alias else r for r in device.regions))
    graph = read_tflite(SMALL)
    estimate = estimate_model(graph, small, 120, code_section=CodeSection.RAM)
    fast = estimate.fast_code
    assert fast is not None and fast.functions and fast.region.name == "SRAM2"
    assert sum(item.size for item in fast.functions) <= fast.placed_bytes <= fast_code_room(fast.region) + 8
    assert estimate.hot_code_bytes == fast.placed_bytes < fast.hot_bytes
    assert all(item.fetch_cycles > 0 for item in fast.functions)
    assert estimate.notes[0] == fast.note() and "the rest in flash" in fast.note()
    assert estimate.memory.regions[CODE_LABEL].placed_in == "SRAM2 via 0x10000000"
    assert FLASH_CODE_LABEL in estimate.memory.regions
    plan = plan_memory(graph)
    code = replace(code_estimate(graph), hot_bytes=fast.placed_bytes)
    request = budget_request(plan.arena_bytes, constant_layout(graph), code, code_section=CodeSection.RAM)
    budget = memory_budget(request, small)
    assert budget.region_of(RUN_CODE).name == "SRAM2"
    assert [item.size for item in request.items if item.name == RUN_CODE] == [fast.placed_bytes]
    report = estimate_report(estimate)["fast_code"]
    assert report["runs_from"] == "SRAM2 via 0x10000000" and report["placed_bytes"] == fast.placed_bytes
    assert [item["name"] for item in report["functions"]] == list(fast.names)
    line = code_section_comparison(estimate, estimate)["line"]
    assert line.startswith(f"hottest {fast.placed_bytes:,} B of hot code in SRAM2 via 0x10000000, the rest in flash")


def test_the_readme_lists_the_function_sections_of_a_split_hot_code() -> None:
    graph = read_tflite(SMALL)
    sram2 = next(region for region in find_device("NUCLEO-L4R5ZI").regions if region.code_alias)
    readme = render(
        graph, plan_memory(graph), code_region="SRAM2_CODE", code_alias=sram2, fast_functions=("md_a", "net_b")
    ).files["README.md"]
    section = readme[readme.index(f"    {FAST_CODE_SECTION} : ALIGN(8)") :]
    section = section[: section.index("}")]
    assert "        *(.text.md_a)\n        *(.text.net_b)\n" in section and "md_*.o" not in section
    assert "Only the hottest of it runs from SRAM2_CODE, as the whole does not fit: 2\nfunctions that missed" in readme
    whole = render(graph, plan_memory(graph), code_region="SRAM2_CODE", code_alias=sram2).files["README.md"]
    assert "*md_*.o(.text .text.*)" in whole and "Only the hottest" not in whole


def test_generate_takes_the_hottest_functions_where_the_alias_is_too_small() -> None:
    device = find_device("NUCLEO-L4R5ZI")
    small = replace(device, regions=tuple(replace(r, size=2048) if r.code_alias else r for r in device.regions))
    graph = read_tflite(SMALL)
    plan = plan_memory(graph)
    region, alias, functions = hot_code_region(graph, plan, small, CodeSection.RAM)
    assert region == "SRAM2 via 0x10000000" and alias.size == 2048 and functions
    assert hot_code_region(graph, plan, device, CodeSection.RAM)[2] is None  # the whole fits the real SRAM2


def test_split_hot_code_stays_bit_exact_on_qemu(tmp_path: Path) -> None:
    graph = read_tflite(SMALL)
    target = get_target("m4")
    code = generate_project(graph, plan_memory(graph), target, tmp_path / "project")
    moved = ("md_fully_connected_s8", "net_invoke")
    elf = build_harness(graph, code, target, tmp_path, code_section="ram", fast_functions=moved)
    image = ElfImage(elf)
    section = image.section(FAST_CODE_SECTION)
    inside = {
        s.name
        for s in image.symbols
        if s.kind == "func" and section.address <= s.address < section.address + section.size
    }
    # Calls between the two, out of a BL's reach, go through the linker's veneers, linked beside the caller.
    assert {name for name in inside if not name.endswith("_veneer")} == set(moved)
    inputs = random_inputs(graph)
    run = run_harness(graph, target, elf, inputs, tmp_path / "run")
    for got, want in zip(run.steps[0].outputs, Engine(graph).run(inputs).outputs, strict=True):
        np.testing.assert_array_equal(got, want)


def test_veneers_overflowing_the_alias_make_the_choice_again_in_less_room(monkeypatch, tmp_path: Path) -> None:
    sram2 = next(region for region in find_device("NUCLEO-L4R5ZI").regions if region.code_alias)
    region = replace(sram2, size=1024)
    candidates = [FunctionFetch("a", 600, 6000.0), FunctionFetch("b", 400, 2000.0), FunctionFetch("c", 8, 8.0)]
    linked: list[tuple[str, ...]] = []

    def build(*args, fast_functions, **kwargs) -> Path:
        linked.append(tuple(fast_functions))
        return tmp_path / "network.elf"

    def image(path: Path) -> SimpleNamespace:  # 12 bytes of veneer a function
        size = sum(item.size + 12 for item in candidates if item.name in linked[-1])
        return SimpleNamespace(sections=[SimpleNamespace(name=FAST_CODE_SECTION, size=size)])

    monkeypatch.setattr(hot_code, "flash_fetch_candidates", lambda *args: candidates)
    monkeypatch.setattr(hot_code, "build_model", build)
    monkeypatch.setattr(hot_code, "ElfImage", image)
    monkeypatch.setattr(hot_code, "split_cache", lambda *args: tmp_path / "fast-code.json")
    stream = SimpleNamespace(frames=[[]])
    fast, _ = hot_code.split_hot_code(None, None, False, None, tmp_path, stream, None, region, 5000)
    assert linked == [("a", "b", "c"), ("a", "c")]  # 1,044 B linked: 20 over, b no longer fits
    assert fast.names == ("a", "c") and fast.placed_bytes == 632
    assert (
        fast.left == (candidates[1],) and "(1 functions that missed there too, 2,000 fetch-miss cycles" in fast.note()
    )
    assert fast.report()["left_in_flash"] == [{"name": "b", "bytes": 400, "flash_fetch_miss_cycles": 2000}]
    assert "those with the most flash fetch-miss cycles per byte in a run with all code in flash" in fast.note()
    assert "all that paid fetch misses in a run" in replace(fast, left=()).note()


def test_a_budget_before_the_choice_counts_at_most_the_alias_for_code_that_will_be_split() -> None:
    graph = read_tflite(SMALL)
    l4r5, f446 = find_device("NUCLEO-L4R5ZI"), find_device("STM32F446RE")
    big, small = replace(code_estimate(graph), hot_bytes=114_392), replace(code_estimate(graph), hot_bytes=40_000)
    assert split_bound(big, l4r5, CodeSection.RAM).hot_bytes == 65_536
    assert split_bound(small, l4r5, CodeSection.RAM) == small
    assert split_bound(big, l4r5, CodeSection.FLASH) == big and split_bound(big, f446, CodeSection.RAM) == big


def test_estimate_cli_says_which_functions_run_through_the_alias(monkeypatch, capsys) -> None:
    device = find_device("NUCLEO-L4R5ZI")
    small = replace(device, regions=tuple(replace(r, size=2048) if r.code_alias else r for r in device.regions))
    monkeypatch.setattr("mcudeploy.cli.estimate.find_device", lambda name: small)
    args = ("estimate", str(SMALL), "--device", "NUCLEO-L4R5ZI", "--code-section", "ram")
    code, stdout, _ = run_cli(monkeypatch, capsys, *args, "--json")
    report = json.loads(stdout)
    fast = report["fast_code"]
    assert code == 0 and fast["runs_from"] == "SRAM2 via 0x10000000" and 0 < fast["placed_bytes"] <= 2048
    assert report["notes"][0].startswith(f"{len(fast['functions'])} functions, {fast['placed_bytes']:,} B in SRAM2")
    assert report["code_section_comparison"]["line"].startswith(f"hottest {fast['placed_bytes']:,} B of hot code")
    code, stdout, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0 and "B in SRAM2 via 0x10000000 (of the" in " ".join(stdout.split())


def test_a_split_is_kept_and_read_back_built_at_once_without_the_ranking_run(monkeypatch, tmp_path: Path) -> None:
    sram2 = next(region for region in find_device("NUCLEO-L4R5ZI").regions if region.code_alias)
    candidates = [FunctionFetch("a", 600, 6000.0), FunctionFetch("b", 400, 2000.0)]
    ranking_runs: list[int] = []
    linked: list[tuple[str, ...]] = []

    def ranking(*args) -> list[FunctionFetch]:
        ranking_runs.append(1)
        return candidates

    def build(*args) -> Path:
        linked.append(tuple(args[-1]))
        return tmp_path / "network.elf"

    monkeypatch.setattr(hot_code, "flash_fetch_candidates", ranking)
    monkeypatch.setattr(hot_code, "build_model", lambda *args, fast_functions: build(*args, fast_functions))
    monkeypatch.setattr(hot_code, "ElfImage", lambda path: SimpleNamespace(sections=[
        SimpleNamespace(name=FAST_CODE_SECTION, size=sum(item.size for item in candidates if item.name in linked[-1]))
    ]))  # fmt: skip
    cached = tmp_path / "fast-code.json"
    monkeypatch.setattr(hot_code, "split_cache", lambda *args: cached)
    stream = SimpleNamespace(frames=[[]])
    made, _ = hot_code.split_hot_code(None, None, False, None, tmp_path, stream, None, replace(sram2, size=700), 5000)
    assert ranking_runs == [1] and cached.exists() and made.names == ("a",) and made.left == (candidates[1],)
    monkeypatch.setattr(hot_code, "build_model", build)
    again, _ = hot_code.split_hot_code(None, None, False, None, tmp_path, stream, None, replace(sram2, size=700), 5000)
    assert again == made and ranking_runs == [1] and linked[-1] == ("a",)  # one build, the choice read back
    assert hot_code.read_split(tmp_path / "missing.json", sram2) is None


def test_analyze_places_the_split_estimate_makes(monkeypatch, capsys) -> None:
    device = find_device("NUCLEO-L4R5ZI")
    small = replace(device, regions=tuple(replace(r, size=2048) if r.code_alias else r for r in device.regions))
    monkeypatch.setattr("mcudeploy.cli.analyze.find_device", lambda name: small)
    fast = estimate_model(read_tflite(SMALL), small, code_section=CodeSection.RAM).fast_code
    assert fast is not None
    # --optimize size keeps the variants estimate_model runs here (balanced may take int16 weights).
    args = ("analyze", str(SMALL), "--device", "NUCLEO-L4R5ZI", "--optimize", "size", "--code-section", "ram")
    code, stdout, _ = run_cli(monkeypatch, capsys, *args, "--json")
    report = json.loads(stdout)
    assert code == 0 and report["fast_code"] == fast.report() and report["hot_code_not_split"] is None
    run_image = [item for region in report["regions"] for item in region["items"] if item["name"] == RUN_CODE]
    assert run_image == [{"name": RUN_CODE, "bytes": fast.placed_bytes, "runs_at": "SRAM2 via 0x10000000"}]
    code, stdout, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0 and f"hot code: {fast.note()}" in " ".join(stdout.split())


def test_analyze_says_plainly_the_split_it_could_not_count(monkeypatch, capsys) -> None:
    args = ("analyze", str(SMALL), "--device", "NUCLEO-L4R5ZI", "--code-section", "ram", "--json")

    def no_qemu(*args, **kwargs) -> None:
        raise McuDeployError("qemu-system-arm", "not found")

    monkeypatch.setattr("mcudeploy.cli.analyze.hottest_code", no_qemu)
    code, stdout, _ = run_cli(monkeypatch, capsys, *args)
    report = json.loads(stdout)
    assert code == 0 and report["fast_code"] is None
    assert report["hot_code_not_split"].startswith("which of its functions run through the code alias is not counted")
    assert "qemu-system-arm: not found" in report["hot_code_not_split"]
    monkeypatch.setattr("mcudeploy.cli.analyze.hottest_code", lambda *args: None)
    monkeypatch.setattr("mcudeploy.cli.analyze.measured_code", lambda *args: None)
    report = json.loads(run_cli(monkeypatch, capsys, *args)[1])
    assert report["hot_code_not_split"].startswith("not measured (no arm-none-eabi-gcc for the core)")
    flash = json.loads(run_cli(monkeypatch, capsys, *args[:-3], "--json")[1])
    assert flash["fast_code"] is None and flash["hot_code_not_split"] is None  # code in flash: nothing to split


FLASH = ("flash", None)
"""A program linked with all its code in flash (`record_links`)."""


def record_links(monkeypatch) -> dict[str, tuple[str, tuple[str, ...] | None]]:
    """Each target's link, by name, as validate builds it: (code section, fast functions)."""
    linked: dict[str, tuple[str, tuple[str, ...] | None]] = {}
    build = runner.build_harness

    def recorded(graph, code, target, *args, code_section, fast_functions, **kwargs) -> Path:
        linked[target.name] = (code_section, fast_functions)
        return build(graph, code, target, *args, code_section=code_section, fast_functions=fast_functions, **kwargs)

    monkeypatch.setattr(runner, "build_harness", recorded)
    return linked


def test_validate_links_the_program_as_generate_places_the_hot_code(monkeypatch, capsys) -> None:
    device = find_device("NUCLEO-L4R5ZI")
    small = replace(device, regions=tuple(replace(r, size=2048) if r.code_alias else r for r in device.regions))
    graph = read_tflite(SMALL)
    chosen = hot_code_region(graph, plan_memory(graph), small, CodeSection.RAM)[2]
    assert chosen
    linked = record_links(monkeypatch)
    args = ("validate", str(SMALL), "-t", "host", "-t", "m4", "--random", "2", "-d", "NUCLEO-L4R5ZI")
    args = (*args, "--optimize", "size", "--code-section")  # size: the variants hot_code_region saw above
    for part, fast in ((small, chosen), (device, None)):  # too small for the whole: split; the real SRAM2: whole
        monkeypatch.setattr("mcudeploy.cli.validate.find_device", lambda name, part=part: part)
        code, stdout, _ = run_cli(monkeypatch, capsys, *args, "ram", "--json")
        report = json.loads(stdout)
        assert code == 0 and report["passed"] and linked == {"host": FLASH, "m4": ("ram", fast)}
        expected = {"code_section": "ram", "chosen": False, "target": "m4", "runs_from": "SRAM2 via 0x10000000"}
        expected["in_flash"] = []
        assert report["hot_code"] == {**expected, "fast_functions": None if fast is None else list(fast)}
    code, stdout, _ = run_cli(monkeypatch, capsys, *args, "ram")
    said = (
        "--code-section ram: the m4 program linked as generate places the hot code on NUCLEO-L4R5ZI, run from "
        "SRAM2 via 0x10000000, QEMU's RAM standing in for it; the host build runs the same C"
    )
    assert code == 0 and said in " ".join(stdout.split())
    code, stdout, _ = run_cli(monkeypatch, capsys, *args, "flash", "--json")
    assert code == 0 and json.loads(stdout)["hot_code"] is None and linked["m4"] == FLASH


def test_validate_links_the_core_where_optimize_speed_placed_the_hot_code(monkeypatch, capsys) -> None:
    """No --code-section: the place --optimize speed chose for generate, on the part's core only."""
    linked = record_links(monkeypatch)

    def chose(graph, part, reserve, objective, code_section) -> SimpleNamespace:
        assert code_section is None and objective == "speed"
        return SimpleNamespace(code_section=CodeSection.RAM)

    monkeypatch.setattr("mcudeploy.cli.validate.optimize_code_and_variants", chose)
    part = ("--random", "1", "-d", "NUCLEO-L4R5ZI", "--optimize", "speed")
    args = ("validate", str(SMALL), "-t", "host", "-t", "m4", "-t", "m7", *part)
    code, stdout, _ = run_cli(monkeypatch, capsys, *args, "--json")
    report = json.loads(stdout)
    assert code == 0 and report["passed"] and linked == {"host": FLASH, "m4": ("ram", None), "m7": FLASH}
    assert report["hot_code"]["chosen"] and report["hot_code"]["in_flash"] == ["m7"]
    code, stdout, _ = run_cli(monkeypatch, capsys, *args)
    said = "--optimize speed chose --code-section ram: the m4 program linked as generate places the hot code"
    assert code == 0 and said in " ".join(stdout.split()) and "m7 linked all in flash" in " ".join(stdout.split())
    linked.clear()
    code, stdout, _ = run_cli(monkeypatch, capsys, "validate", str(SMALL), "-t", "host", "-t", "m7", *part, "--json")
    assert code == 0 and json.loads(stdout)["hot_code"] is None and linked == {"host": FLASH, "m7": FLASH}
