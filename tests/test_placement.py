"""Cortex-M7: the arena in DTCM, cacheable SRAM and external SDRAM, first inference and steady state."""

from __future__ import annotations

import pytest

from conftest import MODELS
from mcudeploy.devices import find_device
from mcudeploy.estimate import estimate_model
from mcudeploy.importers import load_model

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


def test_placements_only_on_m7():
    result = estimate_model(load_model(HELLO), find_device("STM32F446RE"), stack_bytes=1024, placements=True)
    assert result.placements == []
