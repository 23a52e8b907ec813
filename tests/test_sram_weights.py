"""Weights read from SRAM, chosen per layer (`KernelVariant.weights_in`): the constant layout puts the
layer's arrays in a second block, the generated code makes it initialised data (run from RAM, loaded in
flash), the budget counts it in both, the estimate prices its reads where the budget placed it, and
`--optimize speed` (only) moves the layers whose flash reads cost most per byte, as many as the RAM holds."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import run_cli
from mcudeploy.analysis.model import Reserves
from mcudeploy.codegen import render
from mcudeploy.codegen.library import SRAM_WEIGHTS_SECTION
from mcudeploy.devices import RegionKind, find_device
from mcudeploy.emulation import ElfImage, get_target
from mcudeploy.emulation.targets import RamPlacement
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate import estimate_model, optimize
from mcudeploy.estimate.measure import build_model
from mcudeploy.estimate.memory import CONSTANTS_LABEL, SRAM_WEIGHTS_LABEL, program_layout
from mcudeploy.estimate.model import emulation_target
from mcudeploy.estimate.optimize import ModelRun, Objective, optimize_variants
from mcudeploy.examples.kws import build_kws_cnn
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Graph, KernelVariant, WeightMemory
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import (
    SRAM_WEIGHTS,
    WEIGHTS,
    Memory,
    budget_request,
    code_estimate,
    constant_layout,
    memory_budget,
)
from mcudeploy.validation.runner import Validator
from test_codegen import Family, _fully_connected

SRAM = WeightMemory.SRAM


def _in_sram(graph: Graph, *layers: int) -> Graph:
    for index in layers:
        op = graph.operators[index]
        op.variant = replace(op.variant or KernelVariant(), weights_in=SRAM)
    return graph


def _dense_model() -> Graph:
    """Two int8 fully connected layers, 2 KiB and 256 B of filter."""
    family = Family("dense_sram", 5)
    _fully_connected(family, "int8", (1, 64), 32, per_channel=True)
    _fully_connected(family, "int8", (1, 32), 8, per_channel=True)
    return family.graph()


def test_a_layer_in_sram_moves_its_arrays_to_the_sram_block_only() -> None:
    flash_only = constant_layout(build_kws_cnn("cnn_s"))
    layout = constant_layout(_in_sram(build_kws_cnn("cnn_s"), 0, 3))
    moved = [a for a in layout.arrays if a.in_sram]
    assert {a.layer for a in moved} == {0, 3} == set(layout.sram_layers())
    assert [a.name for a in moved] == [a.name for a in flash_only.arrays if a.layer in (0, 3)]
    # each block laid out from 0, in the same order; flash holds both (the SRAM block's load image)
    assert moved[0].offset == 0 and layout.sram_bytes == layout.layer_bytes(0) + layout.layer_bytes(3)
    assert layout.total_bytes == flash_only.total_bytes
    assert layout.flash_block_bytes == flash_only.total_bytes - layout.sram_bytes
    assert KernelVariant(weights_in=SRAM).label == "im2col, weights in SRAM"


def test_the_budget_counts_sram_weights_in_ram_and_in_flash() -> None:
    graph = build_kws_cnn("cnn_s")
    plan = plan_memory(graph)
    before = budget_request(plan.arena_bytes, constant_layout(graph), code_estimate(graph))
    layout = constant_layout(_in_sram(graph, 0, 3))
    after = budget_request(plan.arena_bytes, layout, code_estimate(graph), reserve_ram=4096)
    items = {item.name: item for item in after.items}
    assert items[SRAM_WEIGHTS].size == layout.sram_bytes > 0 and items[SRAM_WEIGHTS].memory == Memory.RAM
    assert items[WEIGHTS].size == layout.total_bytes and after.total(Memory.FLASH) == before.total(Memory.FLASH)
    assert after.total(Memory.RAM) == before.total(Memory.RAM) + 4096 + layout.sram_bytes
    # on a Cortex-M7 with a DTCM, the copy goes there first (the arena and stack leave it room)
    budget = memory_budget(after, find_device("NUCLEO-H7A3ZI-Q"))
    placed = next(use.span for use in budget.uses if any(item.name == SRAM_WEIGHTS for item in use.items))
    assert budget.fits and placed.kind == RegionKind.DTCM


def test_generated_code_reads_sram_weights_bit_exact_on_host_and_qemu() -> None:
    graph = _in_sram(build_kws_cnn("cnn_s"), 0, 3)
    files = render(graph, plan_memory(graph)).files
    assert f'net_weights_sram MD_ALIGNED(16) MD_SECTION("{SRAM_WEIGHTS_SECTION}")' in files["network_data.c"]
    assert "const net_weights_t net_weights " in files["network_data.c"]
    assert "net_weights_sram.conv_1_filter" in files["network.c"] and "net_weights.conv_2_filter" in files["network.c"]
    assert "net_weights_sram" in files["README.md"]
    checker = Validator(graph)
    try:
        for target in ("host", "m4", "m7"):
            checked = checker.validate_target(target, [random_inputs(graph, seed) for seed in (0, 1)])
            assert [r.divergence for r in checked.inputs if not r.agrees] == [], target
    finally:
        checker.close()


def test_the_estimate_prices_a_moved_layers_weights_as_sram(tmp_path) -> None:
    in_flash = estimate_model(_dense_model(), "NUCLEO-L4R5ZI")
    graph = _in_sram(_dense_model(), 0)
    moved = estimate_model(graph, "NUCLEO-L4R5ZI")
    assert moved.memory.regions[SRAM_WEIGHTS_LABEL].wait_states == 0
    sram_bytes = constant_layout(graph).sram_bytes
    assert f"{sram_bytes:,} B of weights read from SRAM1+SRAM2+SRAM3" in " ".join(moved.notes)
    flash_reads = [e.layers[0].cycles.memory_by_label.get(CONSTANTS_LABEL, 0.0) for e in (in_flash, moved)]
    assert flash_reads[0] > 100 and flash_reads[1] < 0.05 * flash_reads[0]
    assert moved.layers[0].cycles.total < in_flash.layers[0].cycles.total
    unmoved = [e.layers[1].cycles.memory_by_label[CONSTANTS_LABEL] for e in (in_flash, moved)]
    assert unmoved[0] == unmoved[1] > 0  # left in flash: read as before
    # the plugin's range is the linked SRAM block, as many bytes as the layout's
    plan = plan_memory(graph)
    target = emulation_target("cortex-m4")
    ranges = program_layout(build_model(graph, plan, False, target, tmp_path), target).ranges
    ((start, end),) = [(start, end) for label, start, end in ranges if label == SRAM_WEIGHTS_LABEL]
    assert end - start == constant_layout(graph, plan.alignment).sram_bytes


@pytest.fixture
def estimated_code(monkeypatch):
    monkeypatch.setattr(optimize, "measured_code", lambda graph, plan, core, code_section: None)


def _flash_reads_cost(graph: Graph, device, clock: float, stack: int, code_section=None) -> ModelRun:
    """Each layer 1000 cycles, 300 of them reading its constants from flash (none once in SRAM)."""
    in_sram = [op.variant is not None and op.variant.weights_in == SRAM for op in graph.operators]
    flash = {op.index: 0.0 if moved else 300.0 for op, moved in zip(graph.operators, in_sram, strict=True)}
    return ModelRun({index: 700.0 + reads for index, reads in flash.items()}, 50.0, flash)


@pytest.mark.usefixtures("estimated_code")
def test_speed_moves_weights_to_sram_only_where_they_fit_and_never_otherwise() -> None:
    device = find_device("NUCLEO-L4R5ZI")
    graph = _dense_model()
    choice = optimize_variants(graph, device, Reserves(2048), Objective.SPEED, measure=_flash_reads_cost)
    chosen = choice.chosen
    assert chosen.name.endswith("+ weights in SRAM") and chosen.sram_weight_layers == [0, 1]
    assert chosen.sram_weight_bytes == constant_layout(graph).sram_bytes > 0
    assert all(op.variant.weights_in == SRAM for op in graph.operators)
    # the RAM reserve leaves room for the small layer's constants only: the better per byte (same cycles)
    layout = constant_layout(graph)
    room = sum(span.size for span in device.spans() if span.kind == RegionKind.SRAM)
    base = _dense_model()
    plan = plan_memory(base)
    ram = budget_request(plan.arena_bytes, constant_layout(base), code_estimate(base), 2048).total(Memory.RAM)
    reserve = room - ram - layout.layer_bytes(1)
    graph = _dense_model()
    choice = optimize_variants(graph, device, Reserves(2048, reserve), Objective.SPEED, measure=_flash_reads_cost)
    assert choice.chosen.sram_weight_layers == [1] and choice.chosen.fits
    # no room at all: nothing moves, no error
    graph = _dense_model()
    choice = optimize_variants(graph, device, Reserves(2048, room - ram), Objective.SPEED, measure=_flash_reads_cost)
    assert choice.chosen is None or choice.chosen.sram_weight_layers == []
    assert all(op.variant is None or op.variant.weights_in == WeightMemory.FLASH for op in graph.operators)
    # balanced and size keep every constant in flash; so does speed when asked to
    for objective, to_sram in ((Objective.BALANCED, True), (Objective.SIZE, True), (Objective.SPEED, False)):
        graph = _dense_model()
        choice = optimize_variants(
            graph, device, Reserves(2048), objective, measure=_flash_reads_cost, weights_to_sram=to_sram
        )
        assert all(point.sram_weight_layers == [] for point in choice.points)
        assert constant_layout(graph).sram_bytes == 0


@pytest.mark.usefixtures("estimated_code")
def test_generate_speed_writes_sram_weights_within_the_ram_reserve(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setattr(optimize, "_measure_layers", _flash_reads_cost)
    model = tmp_path / "dense.tflite"
    model.write_bytes(write_tflite(_dense_model()))
    device = find_device("NUCLEO-L4R5ZI")
    room = max(span.size for span in device.spans() if span.kind == RegionKind.SRAM)
    written = {}
    for reserve in (0, room - 1024):
        out = tmp_path / f"gen{reserve}"
        args = ("generate", str(model), "-o", str(out), "-d", device.name, "--optimize", "speed")
        code, _, err = run_cli(monkeypatch, capsys, *args, "--reserve-ram", str(reserve))
        assert code == 0, err
        written[reserve] = (out / "network_data.c").read_text()
    assert "net_weights_sram" in written[0] and "net_weights_sram" not in written[room - 1024]


def test_weights_read_from_sram_past_the_m55_dtcm_link_into_its_sram_and_run(tmp_path) -> None:
    """600 KB of filter read from SRAM (a part's 1 MB DTCM holds them, the emulated 512 KB does not): they link
    into the SSE-300's 4 MB SRAM, the small arena stays in DTCM, and the run is bit-exact."""
    family = Family("dense_past_dtcm", 5)
    _fully_connected(family, "int8", (1, 1024), 600, per_channel=True)
    graph = _in_sram(family.graph(), 0)
    checker = Validator(graph, workdir=tmp_path)
    try:
        assert checker.validate_target("m55", [random_inputs(graph, 0)]).passed
        elf = ElfImage(checker.build("m55"))
        machine = get_target("m55").machine
        sram, dtcm = machine.region("sram"), machine.region("dtcm")
        start, end = (elf.symbol(f"__sram_weights_{edge}").address for edge in ("start", "end"))
        assert sram.base <= start and end - start >= constant_layout(graph).sram_bytes > dtcm.size and end <= sram.end
        assert dtcm.base <= elf.symbol("net_arena").address < dtcm.end
    finally:
        checker.close()


def test_the_emulated_ram_placement_fills_the_ram_region_first_then_the_larger_ones() -> None:
    m55, kib = get_target("m55"), 1024
    stack = 64 * kib  # with RAM_DATA_HEADROOM, 384 KB of the 512 KB DTCM are left for the arena and weights
    assert m55.ram_placement(100 * kib, 284 * kib, stack) == RamPlacement("dtcm", "dtcm")
    assert m55.ram_placement(100 * kib, 285 * kib, stack) == RamPlacement("dtcm", "sram")
    assert m55.ram_placement(600 * kib, 300 * kib, stack) == RamPlacement("sram", "dtcm")
    assert m55.ram_placement(3 * 1024 * kib, 2 * 1024 * kib, stack) == RamPlacement("sram", "ddr")
    assert get_target("host").ram_placement(10**9, 10**9, stack) == RamPlacement()
    with pytest.raises(McuDeployError) as raised:
        m55.ram_placement(100 * kib, 17 * 1024 * kib, stack)
    assert str(raised.value) == (
        "m55: no RAM region of mps3-an547 holds the weights read from SRAM (17,825,792 B) "
        "beside a 65,536 B stack and what is placed before it"
    )
