"""The memory budget: constants as the generated code stores them, the code estimate, where each
item is placed on a device, the verdict, and the analyze report built on a hand-made plan."""

from __future__ import annotations

import io
import json
from dataclasses import asdict

import numpy as np
import pytest
from rich.console import Console

from conftest import MODELS
from mcudeploy.analysis.model import Reserves, analyze_model
from mcudeploy.devices import find_device, load_database
from mcudeploy.importers import load_model
from mcudeploy.ir import NO_TENSOR, DType, GraphBuilder
from mcudeploy.ir.options import Conv2DOptions, FullyConnectedOptions
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import (
    ARENA,
    CODE,
    RAM_RESERVE,
    STACK,
    WEIGHTS,
    CodeEstimate,
    ConstantLayout,
    Memory,
    budget_request,
    code_estimate,
    constant_layout,
    fitting_devices,
    memory_budget,
)
from mcudeploy.memory.plan import Buffer, MemoryPlan
from mcudeploy.reports.analyze import budget_tree, layer_table, verdict

KIB = 1024


def small_graph():
    """CONV_2D (per-channel) → RESHAPE → FULLY_CONNECTED (per-tensor) → ADD → ADD (same constant)."""
    b = GraphBuilder("small")
    x = b.tensor((1, 4, 4, 3), DType.INT8, scale=0.1, zero_point=0, name="x")
    w1 = b.tensor((5, 3, 3, 3), DType.INT8, scale=[0.01] * 5, axis=0, data=np.ones((5, 3, 3, 3)), name="w1")
    b1 = b.tensor((5,), DType.INT32, scale=[0.001] * 5, axis=0, data=np.zeros(5), name="b1")
    y1 = b.tensor((1, 2, 2, 5), DType.INT8, scale=0.1, zero_point=0, name="y1")
    b.op("CONV_2D", [x, w1, b1], [y1], Conv2DOptions())
    shape = b.tensor((2,), DType.INT32, data=[1, 20], name="shape")
    r = b.tensor((1, 20), DType.INT8, scale=0.1, zero_point=0, name="r")
    b.op("RESHAPE", [y1, shape], [r])
    w2 = b.tensor((4, 20), DType.INT8, scale=0.02, data=np.ones((4, 20)), name="w2")
    b2 = b.tensor((4,), DType.INT32, scale=0.002, data=np.zeros(4), name="b2")
    out = b.tensor((1, 4), DType.INT8, scale=0.1, zero_point=0, name="out")
    b.op("FULLY_CONNECTED", [r, w2, b2], [out], FullyConnectedOptions())
    c = b.tensor((1, 4), DType.INT8, scale=0.1, zero_point=0, data=np.ones((1, 4)), name="c")
    a1 = b.tensor((1, 4), DType.INT8, scale=0.1, zero_point=0, name="a1")
    a2 = b.tensor((1, 4), DType.INT8, scale=0.1, zero_point=0, name="a2")
    b.op("ADD", [out, c], [a1])
    b.op("ADD", [a1, c], [a2])
    return b.build(inputs=[x], outputs=[a2])


def test_constants_are_laid_out_as_the_generated_code_stores_them():
    layout = constant_layout(small_graph())
    rows = [(a.name, a.layer, a.dtype, a.count, a.offset) for a in layout.arrays]
    assert rows == [
        ("w1", 0, DType.INT8, 135, 0),
        ("b1", 0, DType.INT32, 5, 144),
        ("#0 CONV_2D multipliers", 0, DType.INT32, 5, 176),
        ("#0 CONV_2D shifts", 0, DType.INT32, 5, 208),
        # RESHAPE's shape is read when the code is generated: not stored
        ("w2", 2, DType.INT8, 80, 240),
        ("b2", 2, DType.INT32, 4, 320),
        ("#2 FULLY_CONNECTED multipliers", 2, DType.INT32, 1, 336),
        ("#2 FULLY_CONNECTED shifts", 2, DType.INT32, 1, 352),
        ("c", 3, DType.INT8, 4, 368),  # read by both ADDs, stored once
    ]
    assert layout.total_bytes == 384
    assert [layout.layer_bytes(i) for i in range(5)] == [240, 0, 128, 16, 0]


def test_alignment_changes_the_padding_only():
    layout = constant_layout(small_graph(), alignment=4)
    assert layout.total_bytes == 304
    assert all(a.offset % 4 == 0 for a in layout.arrays)


def test_float_layers_have_no_multipliers():
    b = GraphBuilder("float")
    x = b.tensor((1, 8), DType.FLOAT32, name="x")
    w = b.tensor((2, 8), DType.FLOAT32, data=np.ones((2, 8)), name="w")
    y = b.tensor((1, 2), DType.FLOAT32, name="y")
    b.op("FULLY_CONNECTED", [x, w, NO_TENSOR], [y], FullyConnectedOptions())
    layout = constant_layout(b.build([x], [y]))
    assert [a.name for a in layout.arrays] == ["w"] and layout.total_bytes == 64


def test_code_estimate_links_each_kernel_once():
    estimate = code_estimate(small_graph())
    assert estimate.kernels == {"CONV_2D": 4096, "RESHAPE": 64, "FULLY_CONNECTED": 1536, "ADD": 1024}
    assert estimate.total == 4096 + 64 + 1536 + 1024 + 2048 + 5 * 48


def request(arena, weights=100_000, code=10_000, stack=8192, reserve_ram=0, reserve_flash=0):
    return budget_request(
        arena, ConstantLayout((), 16, weights), CodeEstimate({}, code, 0), stack, reserve_ram, reserve_flash
    )


def placement(budget):
    return {item.name: use.span.name for use in budget.uses for item in use.items}


def test_a_model_that_fits_the_default_device():
    budget = memory_budget(request(60_000), find_device("STM32F446RE"))
    assert budget.fits
    assert placement(budget) == {ARENA: "SRAM1+SRAM2", STACK: "SRAM1+SRAM2", WEIGHTS: "FLASH", CODE: "FLASH"}
    sram = next(use for use in budget.uses if use.span.name == "SRAM1+SRAM2")
    assert sram.free == 128 * KIB - 60_000 - 8192
    assert (budget.flash_bytes, budget.ram_bytes) == (110_000, 68_192)


def test_on_a_cortex_m7_the_arena_goes_to_dtcm_when_it_fits():
    h743 = find_device("STM32H743ZI")
    small = memory_budget(request(100 * KIB, reserve_ram=50_000), h743)
    assert placement(small)[ARENA] == "DTCM" and placement(small)[STACK] == "DTCM"
    assert placement(small)[RAM_RESERVE] == "AXI_SRAM"  # peripheral buffers stay where DMA reaches
    large = memory_budget(request(200 * KIB), h743)
    assert placement(large)[ARENA] == "AXI_SRAM" and placement(large)[STACK] == "DTCM"


def test_a_cortex_m4_gets_its_largest_sram():
    budget = memory_budget(request(100 * KIB), find_device("STM32F407VG"))
    assert placement(budget)[ARENA] == "SRAM1+SRAM2"
    assert placement(budget)[STACK] == "CCM"  # the room left in SRAM1+SRAM2 is smaller


def test_a_shortfall_names_the_item_and_the_bytes_over():
    budget = memory_budget(request(200 * KIB, weights=600 * KIB), find_device("STM32F446RE"))
    assert not budget.fits
    short = {s.item.name: (s.best_region, s.room, s.over_by) for s in budget.shortfalls}
    assert short[ARENA] == ("SRAM1+SRAM2", 128 * KIB, 72 * KIB)
    assert short[WEIGHTS] == ("FLASH", 512 * KIB, 88 * KIB)
    assert placement(budget)[STACK] == "SRAM1+SRAM2"


def test_external_memory_is_never_used_silently():
    budget = memory_budget(request(1024 * KIB), find_device("DISCO-F746NG"))
    assert not budget.fits
    assert [s.name for s in budget.external_room()] == ["SDRAM"]
    assert all(not use.items for use in budget.uses if use.span.kind == "external")


def test_parts_without_on_chip_flash_use_their_xip_flash():
    budget = memory_budget(request(100 * KIB), find_device("RP2040"))
    assert budget.fits and placement(budget)[WEIGHTS] == "XIP_FLASH"


def test_devices_that_would_fit():
    needs = request(600 * KIB)
    names = [d.name for d in fitting_devices(needs, load_database())]
    assert "STM32H7A3ZI" in names and "AE722F80F55D5" in names and "STM32F446RE" not in names
    fitting = [find_device(n) for n in names]
    assert all(memory_budget(needs, d).fits for d in fitting)
    assert [d.internal_ram_bytes() for d in fitting] == sorted(d.internal_ram_bytes() for d in fitting)


def stub_plan():
    """A hand-made plan for small_graph: the shape the planners produce (the contract in plan.py)."""
    buffers = [
        Buffer("x", 48, 0, 0, 0, tensor=0),
        Buffer("scratch of #0 CONV_2D", 108, 0, 0, 48, scratch_of=0),
        Buffer("y1", 20, 0, 1, 160, tensor=3),
        Buffer("r", 20, 1, 2, 160, tensor=5, alias_of=3),
        Buffer("out", 4, 2, 3, 0, tensor=8),
        Buffer("a1", 4, 3, 4, 16, tensor=10),
        Buffer("a2", 4, 4, 4, 0, tensor=11),
    ]
    return MemoryPlan("stub", 16, buffers, arena_bytes=192, step_live_bytes=[176, 20, 24, 8, 8])


def test_the_report_from_a_plan():
    report = asdict(analyze_model(small_graph(), stub_plan(), find_device("NUCLEO-F446RE"), Reserves()))
    json.dumps(report)  # what --json prints: plain data only
    assert report["arena_bytes"] == 192 and report["weights_bytes"] == 384 and report["fits"]
    assert report["peak_layer"] == {"index": 0, "op": "CONV_2D", "live_bytes": 176}
    assert report["device"]["board"] == "NUCLEO-F446RE" and report["device"]["part"] == "STM32F446RE"
    assert report["ram_bytes"] == 192 + 8192
    assert report["flash_bytes"] == 384 + report["code_bytes"]
    first = report["layers"][0]
    assert (first["scratch_bytes"], first["weight_bytes"], first["live_bytes"], first["peak"]) == (108, 240, 176, True)
    sram = next(r for r in report["regions"] if r["name"] == "SRAM1+SRAM2")
    assert [i["name"] for i in sram["items"]] == [ARENA, STACK] and sram["free"] == 128 * KIB - 192 - 8192
    assert report["over_by"] == {Memory.FLASH.value: 0, Memory.RAM.value: 0}


def render(*renderables) -> str:
    console = Console(width=160, record=True, file=io.StringIO())
    for renderable in renderables:
        console.print(renderable)
    return console.export_text()


def test_the_printed_budget_and_verdict():
    report = analyze_model(small_graph(), stub_plan(), find_device("STM32F446RE"), Reserves(reserve_ram=200 * KIB))
    text = render(layer_table(report), budget_tree(report), verdict(report))
    assert "◀ peak" in text and "SRAM1+SRAM2" in text and "free" in text
    assert "does not fit STM32F446RE" in text
    assert "peak at layer #0 CONV_2D: 176 B live" in text
    assert f"RAM reserve: needs {200 * KIB:,} B" in text
    assert "would fit:" in text and "STM32F446RE," not in text


@pytest.mark.parametrize("device", ["STM32F446RE", "Teensy 4.1", "Alif Ensemble E7"])
def test_the_fitting_verdict_gives_the_margin_per_region(device):
    report = analyze_model(small_graph(), stub_plan(), find_device(device), Reserves())
    text = render(verdict(report))
    assert "✔ fits" in text and "margin:" in text


def test_code_is_measured_from_the_linked_elf_where_the_core_has_a_target():
    """M4: the generated code linked with arm-none-eabi-gcc; M0+ (no emulation target): the table estimate."""
    graph = load_model(MODELS / "mlperf_tiny" / "kws_ref_model_int8.tflite")
    plan = plan_memory(graph)
    measured = analyze_model(graph, plan, find_device("STM32F446RE"), Reserves())
    # 58,012 B: the DSP depthwise routines made for one shape link only where a layer's call names them
    assert measured.code_bytes_is_estimate is False and 0 < measured.code_bytes < 64 * KIB
    estimated = analyze_model(graph, plan, find_device("RP2040"), Reserves())
    assert estimated.code_bytes_is_estimate is True and estimated.code_bytes == code_estimate(graph).total
