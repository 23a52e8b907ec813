"""Cortex-M7 and M55: the arena in DTCM, cacheable SRAM and external SDRAM, first inference and steady state."""

from __future__ import annotations

import json

import pytest

from conftest import MODELS, run_cli
from mcudeploy.devices import find_device
from mcudeploy.estimate import estimate_model
from mcudeploy.importers import load_model
from mcudeploy.memory.budget import CodeEstimate, ConstantLayout, budget_request, memory_budget
from mcudeploy.memory.placement import DTCM_SECTION, arena_place

HELLO = MODELS / "tflm" / "hello_world_int8.tflite"


def test_m7_arena_placements_cold_and_steady():
    """The board's DTCM, cached SRAM and SDRAM each get a figure; the first inference from reset is the
    single-inference estimate (the budget puts the arena in DTCM), and the steady state never costs more."""
    result = estimate_model(load_model(HELLO), find_device("STM32F746G-DISCO"), stack_bytes=1024, placements=True)
    places = {p.kind: p for p in result.placements}
    assert list(places) == ["dtcm", "sram", "external"]
    assert not places["dtcm"].cached and places["sram"].cached and places["external"].cached
    assert places["dtcm"].cold_cycles == pytest.approx(result.inference.total, rel=2e-3)
    for place in result.placements:
        assert 0 < place.steady_cycles <= place.cold_cycles
        assert place.variation == pytest.approx(place.cold_cycles / place.steady_cycles - 1)
    # the arena's first-touch misses are what a cached SRAM arena adds over DTCM in the first inference
    assert places["sram"].cold_cycles >= places["dtcm"].cold_cycles


def test_m55_arena_placements_cold_and_steady():
    """The Alif E7's M55 has a 32 KiB L1 data cache in front of its SRAM, none in front of its DTCM."""
    result = estimate_model(load_model(HELLO), find_device("AE722F80F55D5"), stack_bytes=1024, placements=True)
    places = {p.kind: p for p in result.placements}
    assert list(places) == ["dtcm", "sram"]
    assert not places["dtcm"].cached and places["sram"].cached
    assert places["sram"].cold_cycles >= places["dtcm"].cold_cycles
    for place in result.placements:
        assert 0 < place.steady_cycles <= place.cold_cycles


def test_no_placements_without_a_data_cache():
    result = estimate_model(load_model(HELLO), find_device("STM32F446RE"), stack_bytes=1024, placements=True)
    assert result.placements == []


def budget_for(arena_bytes: int, device: str):
    request = budget_request(arena_bytes, ConstantLayout((), 16, 10_000), CodeEstimate({}, 10_000, 0))
    return memory_budget(request, find_device(device))


def test_analyze_says_where_the_arena_went_and_why():
    dtcm = arena_place(budget_for(8_000, "STM32F746NG"), find_device("STM32F746NG"), 8_000)
    assert dtcm.region == "DTCM" and dtcm.section == DTCM_SECTION and "no cache" in dtcm.why
    sram = arena_place(budget_for(100_000, "STM32F746NG"), find_device("STM32F746NG"), 100_000)
    assert sram.kind == "sram" and sram.section is None
    assert "the 100000 B arena does not fit the 65536 B DTCM" in sram.why and "cached" in sram.why
    m4 = arena_place(budget_for(8_000, "STM32F446RE"), find_device("STM32F446RE"), 8_000)
    assert m4.section is None and m4.why == "the part has no DTCM"


@pytest.mark.parametrize("device, section", [("STM32F746NG", DTCM_SECTION), ("STM32F446RE", None)])
def test_generate_puts_the_arena_in_dtcm_by_default(monkeypatch, capsys, tmp_path, device, section):
    code, out, _ = run_cli(monkeypatch, capsys, "generate", str(HELLO), "-d", device, "-o", str(tmp_path / "g"),
                           "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["arena_section"] == section
    network = (tmp_path / "g" / "network.c").read_text()
    assert (f'MD_SECTION("{section}")' in network) == (section is not None)
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(HELLO), "-d", device, "--json")
    assert json.loads(out)["arena_placement"]["section"] == section
