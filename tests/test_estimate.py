"""The cycle model and `mcudeploy estimate`: known loops priced as their hand-computed TRM cycles,
wait states and caches from the device database, per-layer estimates that add up, the CLI."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import run_cli, streaming_graph
from mcudeploy.cli.app import app
from mcudeploy.codegen import generator
from mcudeploy.devices import Device, RegionKind, find_device, load_database
from mcudeploy.emulation import InstructionCounting, build, get_target, run_elf
from mcudeploy.emulation.harness import MARK_OVERHEAD, run_harness_steps
from mcudeploy.emulation.plugin import FETCH_MISS_BRANCH, FETCH_MISS_SEQUENTIAL, CacheGeometry, ExecutionCounts
from mcudeploy.emulation.toolchain import _run_compiler
from mcudeploy.errors import InternalError, McuDeployError
from mcudeploy.estimate import CORE_TIMINGS, core_timing, estimate_model, price
from mcudeploy.estimate import model as estimate_module
from mcudeploy.estimate.measure import build_model, stream_frames
from mcudeploy.estimate.memory import device_memory, wait_states_at
from mcudeploy.estimate.profile import profile_elf
from mcudeploy.examples.kws import build_kws_cnn
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import budget_request, code_estimate, constant_layout, memory_budget
from mcudeploy.memory.variants import unsettled_convolutions
from mcudeploy.reports.html import estimate_page
from thumb_asm import PREAMBLE

HELLO_WORLD = Path(__file__).resolve().parents[2] / "shared" / "models" / "tflm" / "hello_world_int8.tflite"
ITERATIONS = 100
MVE_ELEMENTS = 64

LOOPS = (
    PREAMBLE
    + r"""
FUNCTION square_loop        @ r0: word buffer, r1: iterations (Armv6-M: runs on every core)
    movs r3, #0
1:  ldr r2, [r0]
    muls r2, r2, r2
    adds r3, r3, r2
    subs r1, #1
    bne 1b
    mov r0, r3
    bx lr
END square_loop

#if defined(__ARM_FEATURE_DSP)
FUNCTION dot_loop           @ r0: word buffer, r1: iterations
    movs r3, #0
1:  ldr r2, [r0]
    ldr r12, [r0, #4]
    smlad r3, r2, r12, r3
    subs r1, #1
    bne 1b
    mov r0, r3
    bx lr
END dot_loop
#endif

#if defined(__ARM_FEATURE_MVE)
FUNCTION mve_loop           @ r0, r1: int8 buffers, r2: elements
    push {r4, lr}
    movs r4, #0
    dlstp.8 lr, r2
1:  vldrb.s8 q0, [r0], #16
    vldrb.s8 q1, [r1], #16
    vmladava.s8 r4, q0, q1
    letp lr, 1b
    mov r0, r4
    pop {r4, pc}
END mve_loop
#endif
"""
)

MAIN = r"""
#include <stdint.h>
int32_t words[2] = {3, 0x00020001};
int8_t left[64] = {1};
int8_t right[64] = {1};
int square_loop(int32_t *buffer, int iterations);
int dot_loop(int32_t *buffer, int iterations);
int mve_loop(int8_t *a, int8_t *b, int elements);

int main(void)
{
    int result = square_loop(words, ITERATIONS);
#if defined(__ARM_FEATURE_DSP)
    result += dot_loop(words, ITERATIONS);
#endif
#if defined(__ARM_FEATURE_MVE)
    result += mve_loop(left, right, MVE_ELEMENTS);
#endif
    return result == 0 ? 1 : 0;
}
"""

# Hand-computed from the manuals' tables (P = 2, see mcudeploy.estimate.timings), ITERATIONS = 100:
SQUARE_LOOP_CYCLES = {
    # Cortex-M0+ TRM Table 3.1: MOVS 1; per iteration LDR 2, MULS 1, ADDS 1, SUBS 1, BNE 2 taken / 1 not;
    # MOV 1, BX 2.
    "cortex-m0+": 1 + 100 * 5 + 99 * 2 + 1 + 1 + 2,
    # Cortex-M3/M4 TRM Table 3-1: LDR 2 (after a branch: not pipelined), branch 1+P = 3 taken, 1 not; BX 1+P.
    "cortex-m3": 1 + 100 * 5 + 99 * 3 + 1 + 1 + 3,
    "cortex-m4": 1 + 100 * 5 + 99 * 3 + 1 + 1 + 3,
    # Cortex-M33 (measured, see timings.M33_SOURCES): LDR 1, MULS waits 1 for the loaded R2 (load-use) and
    # takes 2 (its flags come from the second stage, its result ready for ADDS), taken branch 2, the untaken
    # 16-bit BNE issues with the 16-bit SUBS before it (0), BX 2.
    "cortex-m33": 1 + 100 * (1 + 2 + 1 + 1) + 100 + 99 * 2 + 0 + 1 + 2,
}
DOT_LOOP_CYCLES = {
    # The second LDR pipelines behind the first (§3.3.2): 1 cycle; SMLAD 1.
    "cortex-m4": 1 + 100 * (2 + 1 + 1 + 1) + 99 * 3 + 1 + 1 + 3,
    # Cortex-M33: LDR 1 each, SMLAD waits 1 for the loaded R12 (load-use), taken branch 2, final BNE 0, BX 2.
    "cortex-m33": 1 + 100 * (1 + 1 + 1 + 1) + 100 + 99 * 2 + 0 + 1 + 2,
    # M7 approximation: 1 per instruction, BX 1+4; SMLAD waits 1 for the loaded R12 (100 load-use);
    # pairs: MOVS+LDR and SMLAD+SUBS in the first block, SMLAD+SUBS in each of the 99 others (-101);
    # the 2-bit counter mispredicts the first taken and the final untaken BNE (2 x 4).
    "cortex-m7": 1 + 100 * 5 + 1 + 5 + 100 - 101 + 2 * 4,
}
# Cortex-M55: PUSH 1+2, MOVS 1, DLSTP 1; 4 iterations of VLDRB 2, VLDRB 2, VMLADAVA 2-1 (overlaps the
# load before it), LETP 1; MOV 1; POP {r4, pc} 1+P+2.
MVE_LOOP_CYCLES = 3 + 1 + 1 + 4 * (2 + 2 + 1 + 1) + 1 + 5

MACHINES = {"cortex-m0+": "m0plus", "cortex-m3": "m3", "cortex-m4": "m4", "cortex-m7": "m7", "cortex-m33": "m33",
            "cortex-m55": "m55"}  # fmt: skip


def _loop_counts(machine: str, directory: Path) -> dict[str, ExecutionCounts]:
    folder = directory / machine
    folder.mkdir()
    (folder / "loops.S").write_text(LOOPS)
    (folder / "main.c").write_text(MAIN)
    defines = {"ITERATIONS": ITERATIONS, "MVE_ELEMENTS": MVE_ELEMENTS}
    target = get_target(machine)
    elf = build(target, [folder / "loops.S", folder / "main.c"], output_elf=folder / "loops.elf", defines=defines)
    result = run_elf(target, elf, folder, timeout_s=20, plugin=InstructionCounting())
    assert result.exit_code == 0, result.stdout
    return result.counts.function_counts


@pytest.fixture(scope="module")
def loop_counts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, ExecutionCounts]]:
    directory = tmp_path_factory.mktemp("loops")
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = pool.map(lambda machine: _loop_counts(machine, directory), MACHINES.values())
        return dict(zip(MACHINES, counts, strict=True))


@pytest.mark.parametrize("core", list(SQUARE_LOOP_CYCLES))
def test_scalar_loop_costs_the_hand_computed_trm_cycles(core: str, loop_counts: dict) -> None:
    counts = loop_counts[core]["square_loop"]
    assert price(counts, core_timing(core)).total == SQUARE_LOOP_CYCLES[core]


@pytest.mark.parametrize("core", list(DOT_LOOP_CYCLES))
def test_dsp_loop_costs_the_hand_computed_cycles(core: str, loop_counts: dict) -> None:
    counts = loop_counts[core]["dot_loop"]
    assert price(counts, core_timing(core)).total == DOT_LOOP_CYCLES[core]


def test_mve_loop_costs_the_hand_computed_beats(loop_counts: dict) -> None:
    counts = loop_counts["cortex-m55"]["mve_loop"]
    assert price(counts, core_timing("cortex-m55")).total == MVE_LOOP_CYCLES


def test_every_core_prices_every_kind(loop_counts: dict) -> None:
    kinds = set(loop_counts["cortex-m4"]["square_loop"].kinds)
    for timing in CORE_TIMINGS.values():
        assert kinds <= set(timing.kind_cycles), timing.core
        assert timing.source and timing.int8_macs_per_cycle > 0


@pytest.mark.parametrize(
    ("core", "cycles"),
    [("cortex-m3", 3 + 2 * 2), ("cortex-m4", 3 + 2 * 2), ("cortex-m33", 3 + 2 * 2), ("cortex-m7", 3 + 2),
     ("cortex-m55", 3 + 2), ("cortex-m0+", 0)],
)  # fmt: skip
def test_unaligned_accesses_cost_their_extra_transfers(core: str, cycles: int) -> None:
    """M3/M4 (M33 alike): +1 per two-transfer split, +2 per three; M7 (M55 alike): +1 each; M0+ faults."""
    counts = ExecutionCounts({}, {"unaligned_split_2": 3, "unaligned_split_3": 2})
    timing = core_timing(core)
    assert price(counts, timing).pipeline_cycles == cycles
    assert cycles == 0 or any("unaligned" in item for item in timing.approximations)


@pytest.mark.parametrize(("core", "cycles"), [("cortex-m33", 3 - 2 - 1 + 2), ("cortex-m4", -5 - 4)])
def test_cortex_m33_prices_its_measured_pipeline_events(core: str, cycles: int) -> None:
    """M33: load-use +1 (a stored loaded value -1), untaken 16-bit pair -1, unaligned 32-bit target +1, no
    LDR pipelining or IT folding to remove (both already single-cycle); the M4 keeps its TRM's rules."""
    events = {"load_use": 3, "store_of_load": 2, "untaken_paired": 1, "unaligned_wide_target": 2, "pipelined": 5,
              "it_folded": 4}  # fmt: skip
    timing = core_timing(core)
    assert price(ExecutionCounts({}, events), timing).pipeline_cycles == cycles
    if core == "cortex-m33":
        assert "github.com/jnk0le/random" in timing.source and "compendium.i-0.nl" in timing.source


@pytest.mark.parametrize(
    ("core", "cycles"), [("cortex-m33", 4 - 2 + 3 + 1 - 5), ("cortex-m4", 0), ("cortex-m7", 0), ("cortex-m3", 0)]
)  # fmt: skip
def test_cortex_m33_prices_its_second_stage_results(core: str, cycles: int) -> None:
    """M33: a second-stage result read at once +1, a loaded accumulator -1 (its load-use stall undone), MULS.N and
    flag-setting rotated constants +1, a run of unaligned 32-bit instructions +1, a taken 16-bit branch paired with
    a flag-less 16-bit instruction -1; no other core prices them."""
    events = {"result_latency": 4, "load_to_accumulator": 2, "two_cycle_flags": 3, "unaligned_wide_run": 1,
              "taken_paired": 5}  # fmt: skip
    timing = core_timing(core)
    assert price(ExecutionCounts({}, events), timing).pipeline_cycles == cycles
    if core == "cortex-m33":
        assert any("would add" in item and "SSAT/USAT" in item for item in timing.approximations)


# ---------------------------------------------------------------- memory


def test_wait_states_scale_with_the_clock() -> None:
    flash = next(region for region in find_device("STM32F407VG").regions if region.name == "FLASH")
    assert wait_states_at(flash, 168, 168) == 5
    assert wait_states_at(flash, 84, 168) == 2
    assert wait_states_at(flash, 20, 168) == 0


def _memory(device_name: str, clock: float | None = None):
    graph = load_model(HELLO_WORLD)
    plan = plan_memory(graph)
    device = find_device(device_name)
    request = budget_request(plan.arena_bytes, constant_layout(graph, plan.alignment), code_estimate(graph))
    return device_memory(device, memory_budget(request, device), clock or device.part.max_clock_mhz)


def test_flash_accelerator_cache_on_stm32f4() -> None:
    memory = _memory("STM32F446RE")
    constants = memory.regions["constants"]
    assert (constants.placed_in, constants.wait_states, constants.cached, constants.miss_cycles) == (
        "FLASH",
        5,
        True,
        5,
    )
    assert memory.cache.line_bytes == 16 and memory.cache.ways * memory.cache.sets * 16 == 128
    assert memory.regions["arena"].read_cycles == 0 and not memory.regions["arena"].cached
    assert memory.branch_fetch_cycles == 0


def test_level_one_cache_and_tcm_on_cortex_m7() -> None:
    memory = _memory("STM32H743ZI")
    assert memory.cache.size_bytes == 16 * 1024 and memory.cache.ways == 4 and memory.cache.line_bytes == 32
    assert memory.regions["arena"].placed_in == "DTCM" and not memory.regions["arena"].cached
    # A flash read at 4 wait states of the AXI bus, at half the core clock, then four 64-bit beats.
    assert memory.regions["constants"].cached and memory.regions["constants"].miss_cycles == 2 * (4 + 1) + 4


def test_uncached_flash_costs_every_read_and_taken_branch() -> None:
    memory = _memory("STM32F103C8")
    assert memory.cache is None
    assert memory.regions["constants"].read_cycles == 2
    assert memory.branch_fetch_cycles == 2


def test_only_an_item_short_of_room_is_said_not_to_fit() -> None:
    """A model without constants (the streaming one) has no constants item in its budget: no note says they
    do not fit; the same request on a device too small for its arena says so for the arena alone; the
    measured code is found where the budget put it."""
    graph = streaming_graph(cycles_max=2)
    plan = plan_memory(graph)
    constants = constant_layout(graph, plan.alignment)
    assert constants.total_bytes == 0
    code = dataclasses.replace(code_estimate(graph), measured_on="cortex-m4")
    request = budget_request(plan.arena_bytes, constants, code, stack_bytes=84)
    device = find_device("STM32F446RE")
    notes = device_memory(device, memory_budget(request, device), 180).notes
    assert not [note for note in notes if "does not fit" in note]
    huge = budget_request(10**9, constants, code, stack_bytes=84)
    notes = device_memory(device, memory_budget(huge, device), 180).notes
    assert [note for note in notes if "does not fit" in note] == [
        "tensor arena does not fit STM32F446RE: priced as if in SRAM1+SRAM2"
    ]


def test_every_part_states_its_flash_timing_with_a_source() -> None:
    for part in load_database().parts:
        flash = part.flash
        assert flash.source, part.name
        assert flash.cache_on_at_reset or not flash.cache or flash.enabled_by, part.name
        for region in part.regions:
            if region.kind == RegionKind.FLASH:
                assert region.wait_states is not None or flash.wait_states_note, (part.name, region.name)
    assert find_device("nRF52840").part.flash.cache_on_at_reset is False
    assert find_device("STM32L4R5ZI").part.flash.cache_on_at_reset is True


def _with_flash(device: Device, wait_states: int | None = None, cacheable: bool | None = None, **flash) -> Device:
    """`device` with its flash regions' wait states or caching and its flash timing changed."""
    regions = tuple(
        dataclasses.replace(
            region,
            wait_states=region.wait_states if wait_states is None else wait_states,
            cacheable=region.cacheable if cacheable is None else cacheable,
        )
        if region.kind == RegionKind.FLASH
        else region
        for region in device.regions
    )
    part = dataclasses.replace(device.part, flash=dataclasses.replace(device.part.flash, **flash))
    return dataclasses.replace(device, part=part, regions=regions)


def _fetch_cost(device: Device, instructions: int = 1000, taken: int = 100) -> float:
    """The code-fetch cycles of `instructions` with `taken` taken branches, code in the device's flash."""
    memory = device_memory(device, None, device.part.max_clock_mhz)
    counts = ExecutionCounts({"alu": instructions - taken, "branch": taken}, {})
    return price(counts, core_timing(device.core), memory).memory_by_label["code fetch"]


def test_instruction_fetch_from_flash_follows_wait_states_prefetch_and_cache() -> None:
    f446 = find_device("STM32F446RE")  # ART on, 5 wait states at 180 MHz
    assert _fetch_cost(f446) == 0  # the ART's instruction cache: only its simulated misses cost
    uncached = _with_flash(f446, cacheable=False)
    assert _fetch_cost(uncached) == 100 * 5  # prefetch hides sequential fetch: taken branches wait
    assert _fetch_cost(_with_flash(f446, wait_states=2, cacheable=False)) == 100 * 2
    no_prefetch = _with_flash(f446, cacheable=False, prefetch=False)
    assert _fetch_cost(no_prefetch) == 100 * 5 + 1000 * 5 * 3 / 4
    assert _fetch_cost(_with_flash(f446, wait_states=0, cacheable=False, prefetch=False)) == 0
    memory = device_memory(uncached, None, 90)  # half the clock: (5 + 1) / 2 - 1 = 2 wait states
    assert memory.branch_fetch_cycles == 2
    assert any("prefetch" in item for item in memory.approximations)
    assert any("RM0390" in item for item in memory.approximations)


def test_instruction_fetch_through_a_simulated_flash_cache_prices_each_missed_line() -> None:
    l4r5 = find_device("NUCLEO-L4R5ZI")  # ART: 32 lines of 32 bytes, 64-bit flash reads, 5 wait states at 120 MHz
    memory = device_memory(l4r5, None, 120)
    assert memory.fetch_cache == CacheGeometry(32, 1, 32)
    # A line is four reads of 6 cycles, each hiding 8 / 3 cycles of the core's (one 3-byte instruction a cycle);
    # at a branch target the first read waits all 5 wait states.
    sequential, branch = 4 * (6 - 8 / 3), 5 + 3 * (6 - 8 / 3)
    assert memory.fetch_miss_sequential_cycles == pytest.approx(sequential)
    assert memory.fetch_miss_branch_cycles == pytest.approx(branch)
    assert any("simulated" in item and "13.3 cycles a line" in item for item in memory.approximations)
    counts = ExecutionCounts({"alu": 1000}, {FETCH_MISS_BRANCH: 2, FETCH_MISS_SEQUENTIAL: 10})
    fetch = price(counts, core_timing("cortex-m4"), memory).memory_by_label["code fetch"]
    assert fetch == pytest.approx(2 * branch + 10 * sequential)
    single_bank = device_memory(_with_flash(l4r5, read_bytes=16), None, 120)  # 128-bit reads: two a line
    assert single_bank.fetch_miss_sequential_cycles == pytest.approx(2 * (6 - 16 / 3))


def test_the_stm32f4_and_g4_art_instruction_caches_are_simulated() -> None:
    f446 = device_memory(find_device("STM32F446RE"), None, 180)  # 64 lines of 16 bytes, one 128-bit read each
    assert f446.fetch_cache == CacheGeometry(16, 1, 64)
    # One read of 6 cycles a line, hiding 16 / 3 cycles of the core's; at a branch target all 5 wait states.
    assert (f446.fetch_miss_sequential_cycles, f446.fetch_miss_branch_cycles) == (pytest.approx(6 - 16 / 3), 5)
    fetch, source = f446.approximations
    assert "64 lines of 16 bytes, fully associative LRU, simulated" in fetch and "RM0390" in source
    f401 = device_memory(find_device("STM32F401RE"), None, 84)  # 2 wait states: the prefetch hides a whole read
    assert (f401.fetch_miss_sequential_cycles, f401.fetch_miss_branch_cycles) == (0, 2)
    g474 = device_memory(find_device("STM32G474RE"), None, 170)  # 32 lines of 32 bytes, 64-bit reads, 4 wait states
    assert g474.fetch_cache == CacheGeometry(32, 1, 32)
    sequential, branch = 4 * (5 - 8 / 3), 4 + 3 * (5 - 8 / 3)
    assert g474.fetch_miss_sequential_cycles == pytest.approx(sequential)
    assert g474.fetch_miss_branch_cycles == pytest.approx(branch)
    counts = ExecutionCounts({"alu": 1000}, {FETCH_MISS_BRANCH: 3, FETCH_MISS_SEQUENTIAL: 7})
    fetch = price(counts, core_timing("cortex-m4"), g474).memory_by_label["code fetch"]
    assert fetch == pytest.approx(3 * branch + 7 * sequential)


def test_the_stm32_icache_is_one_simulated_cache_for_fetch_and_data_reads_of_flash() -> None:
    u575 = device_memory(find_device("STM32U575ZI"), None, 160)  # 8 KiB, 2 ways of 16-byte lines, 128-bit reads
    assert u575.fetch_cache == u575.cache == CacheGeometry(16, 256, 2) and u575.shared_cache
    assert "ICACHE" in u575.cache_name  # not DCACHE1, which serves external memories
    assert u575.regions["constants"].cached and u575.regions["constants"].miss_cycles == 4  # one read: 4 wait states
    # One 128-bit read of 5 cycles a line, the prefetch hiding 16 / 3: a miss in sequence costs nothing.
    assert (u575.fetch_miss_sequential_cycles, u575.fetch_miss_branch_cycles) == (0, 4)
    assert "data reads of flash go through it too" in u575.approximations[0]
    l552 = device_memory(find_device("STM32L552ZE"), None, 110)  # 5 wait states, 64-bit reads: two a line
    assert l552.regions["constants"].miss_cycles == 2 * 6 - 1
    assert l552.fetch_miss_sequential_cycles == pytest.approx(2 * (6 - 8 / 3))
    assert l552.fetch_miss_branch_cycles == pytest.approx(5 + 6 - 8 / 3)
    f446 = device_memory(find_device("STM32F446RE"), None, 180)  # the ART's data lines: a cache of their own
    assert not f446.shared_cache and f446.cache != f446.fetch_cache


def test_the_rp2040_xip_cache_misses_cost_a_qspi_transfer_at_any_clock() -> None:
    rp2040 = device_memory(find_device("RP2040"), None, 133)  # 16 KiB, 2 ways of 8-byte lines, fetch and data
    assert rp2040.fetch_cache == rp2040.cache == CacheGeometry(8, 1024, 2) and rp2040.shared_cache
    # A line is 28 SCK at clk_sys / 2 (boot2_w25q080); no prefetch hides any of it; a branch counts its own cycle.
    assert (rp2040.fetch_miss_sequential_cycles, rp2040.fetch_miss_branch_cycles) == (56, 55)
    assert rp2040.regions["constants"].miss_cycles == 55  # the load's own cycle is in its timing
    assert "56 cycles (a serial transfer), no prefetch" in rp2040.approximations[0]
    slower = device_memory(find_device("RP2040"), None, 48)  # the QSPI clock follows clk_sys
    assert slower.fetch_miss_sequential_cycles == 56 and slower.regions["constants"].miss_cycles == 55


def test_the_stm32_cortex_m7_l1_instruction_cache_is_simulated_its_misses_priced_from_the_flash() -> None:
    """A missed 32-byte line of the 2-way L1 instruction cache: the flash reads it takes (256-bit flash words on
    the F7 and H74x/H75x, 128-bit on the H7A3), each ws + 1 cycles of the flash's bus; no prefetch of the next
    line, so a line missed in sequence waits its first read whole; a second read hides the core's run of the
    first's 16 bytes (16 / 3 cycles)."""
    for name, clock, flash_cycles, reads in (
        ("STM32F746NG", 216, 7 + 1, 1),
        ("STM32F767ZI", 216, 7 + 1, 1),
        ("STM32H743ZI", 480, 2 * (4 + 1), 1),  # the flash's AXI bus at half the core clock
        ("STM32H747XI", 480, 2 * (4 + 1), 1),
        ("STM32H750VB", 480, 2 * (4 + 1), 1),
        ("STM32H7A3ZI", 280, 6 + 1, 2),
    ):
        device = find_device(name)
        memory = device_memory(device, None, clock)
        assert memory.fetch_cache == CacheGeometry(32, device.part.icache_bytes // 64, 2), name
        later_reads = (reads - 1) * (flash_cycles - 16 / 3)
        assert memory.fetch_miss_sequential_cycles == pytest.approx(flash_cycles + later_reads), name
        assert memory.fetch_miss_branch_cycles == pytest.approx(flash_cycles - 1 + later_reads), name
        assert memory.cache is not None and memory.cache.ways == 4 and not memory.shared_cache, name
        # The L1 data cache's line from flash: its first flash read, then four 64-bit beats (the H7A3's second
        # 128-bit word taken to arrive within them).
        assert memory.regions["constants"].miss_cycles == flash_cycles + 32 / 8, name
    h743 = device_memory(find_device("STM32H743ZI"), None, 240)  # (4 + 1) * 240 / 480 = 3 flash clocks: 2 WS
    assert (h743.fetch_miss_sequential_cycles, h743.fetch_miss_branch_cycles) == (6, 5)
    assert "1/2 of the core clock" in h743.approximations[0] and "2-way LRU, simulated" in h743.approximations[0]


PRICED_AS_HITS = {
    # Flash caches whose geometry (or miss cost) the database does not give yet: instruction fetch through them
    # is priced as hits, and the estimate prints that approximation. The list may only shrink.
    "RP2350",  # XIP cache: the QMI's timing is the boot ROM's choice, not documented
    "STM32G071RB", "ATSAMD21G18A", "LPC1768", "MK64FN1M0VLL12", "nRF52840", "nRF52832", "nRF5340",
    "Apollo3 Blue", "MCXN947",
    # The core's own L1 instruction cache (Cortex-M7/M55/M85) in front of FlexSPI or MRAM, or of the M55/M85's
    # flash: the TFLM figures these parts are compared with could not be re-priced.
    "MIMXRT1062",
    "AE722F80F55D5", "AE302F80F55D5", "STM32N657X0", "R7FA8D1BHECBD", "R7FA8M1AHECBD",
}  # fmt: skip


def test_every_flash_cache_is_simulated_or_listed_as_priced_as_hits() -> None:
    parts = load_database().parts
    unsimulated = {part.name for part in parts if part.flash.cache and not part.flash.fetch_line_bytes}
    assert unsimulated == PRICED_AS_HITS
    for part in parts:
        if part.flash.fetch_line_bytes:
            memory = device_memory(find_device(part.name), None, part.max_clock_mhz)
            assert memory.fetch_cache is not None and memory.fetch_cache.size_bytes == part.icache_bytes, part.name
            assert any("simulated" in item for item in memory.approximations), part.name


def test_a_cache_off_after_reset_is_named_in_the_notes() -> None:
    notes = device_memory(find_device("nRF52840"), None, 64).notes
    assert any("off after reset" in note and "ICACHECNF" in note for note in notes)
    assert any("no wait-state figure" in note for note in notes)


def test_a_program_without_a_budget_keeps_its_data_in_tcm_where_the_part_has_it() -> None:
    """profile prices another program's data where a deployment puts its arena: DTCM, else the largest SRAM."""
    alif = device_memory(find_device("AE722F80F55D5"), None, 400)
    assert alif.regions["ram"].placed_in == "DTCM" and alif.regions["code"].placed_in == "MRAM"
    assert device_memory(find_device("STM32L4R5ZI"), None, 120).regions["ram"].placed_in == "SRAM1+SRAM2+SRAM3"


def test_clock_above_the_part_maximum_is_refused() -> None:
    with pytest.raises(McuDeployError, match="at most"):
        _memory("STM32F446RE", 200)


# ---------------------------------------------------------------- per-layer estimates


@pytest.fixture(scope="module")
def hello_estimate():
    return estimate_model(load_model(HELLO_WORLD), "STM32F446RE")


def test_layers_add_up_to_the_inference(hello_estimate) -> None:
    graph = load_model(HELLO_WORLD)
    assert [layer.index for layer in hello_estimate.layers] == [op.index for op in graph.operators]
    layer_instructions = sum(layer.cycles.instructions for layer in hello_estimate.layers)
    assert all(layer.cycles.instructions > 0 for layer in hello_estimate.layers)
    # Between the marks, besides the layers: net_invoke's calls and status checks, and the harness's 3.
    assert 0 < hello_estimate.inference.instructions - layer_instructions < 40
    assert hello_estimate.macs == 16 + 16 * 16 + 16


def test_milliseconds_and_macs_per_cycle(hello_estimate) -> None:
    for layer in hello_estimate.layers:
        assert math.isclose(layer.milliseconds, layer.cycles.total / 180e3)
        assert math.isclose(layer.macs_per_cycle, layer.macs / layer.cycles.total)
        assert math.isclose(layer.peak_fraction, layer.macs_per_cycle / 2)
    most = max(hello_estimate.layers, key=lambda layer: layer.cycles.total)
    assert hello_estimate.bottleneck == most and most.op == "FULLY_CONNECTED"


def test_lower_clock_needs_fewer_wait_states(hello_estimate) -> None:
    slow = estimate_model(load_model(HELLO_WORLD), "STM32F446RE", clock_mhz=24)
    assert slow.memory.regions["constants"].wait_states == 0
    assert slow.inference.total <= hello_estimate.inference.total
    assert slow.inference.instructions == hello_estimate.inference.instructions


# ---------------------------------------------------------------- the estimate command

runner = CliRunner()


def test_estimate_json_report() -> None:
    result = runner.invoke(app, ["estimate", str(HELLO_WORLD), "--device", "STM32F446RE", "--clock", "120", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"model", "device", "core", "clock_mhz", "layers", "total", "bottleneck", "memory", "approximations"} <= set(
        report
    )
    assert report["clock_mhz"] == 120 and report["core"] == "cortex-m4"
    layer = report["layers"][0]
    assert {"index", "op", "macs", "instructions", "cycles", "ms", "macs_per_cycle", "peak_fraction"} <= set(layer)
    assert report["total"]["cycles"] >= sum(item["cycles"] for item in report["layers"])


def test_estimate_table() -> None:
    result = runner.invoke(app, ["estimate", str(HELLO_WORLD), "--device", "NUCLEO-F411RE"])
    assert result.exit_code == 0, result.output
    assert "FULLY_CONNECTED" in result.output and "bottleneck: layer #" in result.output


def test_estimate_cores_side_by_side() -> None:
    result = runner.invoke(app, ["estimate", str(HELLO_WORLD), "--cores", "--json"])
    assert result.exit_code == 0, result.output
    cores = json.loads(result.output)["cores"]
    assert [item["core"] for item in cores] == ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"]
    npu = [item for item in cores if any("NPU" in note for note in item["notes"])]
    assert [item["device"] for item in npu] == ["AE722F80F55D5"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--device", "STM32F999"], "unknown device"),
        (["--device", "STM32F446RE", "--clock", "400"], "at most"),
        (["--device", "RA8D1"], "no cycle model"),
    ],
)
def test_estimate_bad_input_exits_2(arguments: list[str], message: str) -> None:
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "mcudeploy", "estimate", str(HELLO_WORLD), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert message in completed.stderr


# ---------------------------------------------------------------- a streaming model


def test_a_streaming_model_is_priced_over_its_period_of_frames(tmp_path: Path) -> None:
    """`estimate` on a model whose CIRCULAR_BUFFER waits for 3 frames runs frames after one init until an
    inference runs every layer: that one per layer (the total), the two that waited each on its own, and
    the average per frame; each inference's instructions are those the same program counts between the
    harness's marks, as `profile` counts them too. The painted stack covers the layers after the buffer."""
    graph = streaming_graph(cycles_max=3)
    model = tmp_path / "streaming.tflite"
    model.write_bytes(write_tflite(graph))
    result = runner.invoke(app, ["estimate", str(model), "--device", "STM32F446RE", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    streaming = report["streaming"]
    assert streaming["frames_per_inference"] == 3
    assert [(item["frame"], item["layer"], item["op"]) for item in streaming["waiting"]] == [
        (1, 0, "CIRCULAR_BUFFER"),
        (2, 0, "CIRCULAR_BUFFER"),
    ]
    assert [layer["op"] for layer in report["layers"]] == ["CIRCULAR_BUFFER", "RELU"]
    assert all(layer["instructions"] > 0 for layer in report["layers"])  # the complete inference's
    period = [*streaming["waiting"], report["total"]]
    assert streaming["per_frame"]["cycles"] == round(sum(item["cycles"] for item in period) / 3)
    assert all(item["cycles"] < report["total"]["cycles"] for item in streaming["waiting"])
    assert report["stack"]["source"] == "measured" and report["stack"]["layers"][1]["measured"] > 0  # the RELU's
    page = estimate_page(report)
    assert "every 3 frames" in page and f"average per frame: {streaming['per_frame']['cycles']:,} cycles" in page

    elf = build_model(graph, plan_memory(graph), False, get_target("m4"), tmp_path / "build", steps=3)
    frames = stream_frames(graph).frames
    run = run_harness_steps(graph, get_target("m4"), elf, frames, tmp_path / "run", InstructionCounting())
    assert [step.waiting_at for step in run.steps] == [0, 0, None]
    measured = [count + MARK_OVERHEAD for count in run.step_instructions]
    assert [item["instructions"] for item in period] == measured
    profiled = profile_elf(elf, "m4", workdir=tmp_path / "run")
    assert [interval.instructions for interval in profiled.mark_intervals[0::2]] == measured
    assert profiled.notes and profiled.notes[0].startswith("md_circular_buffer_s8 ran: a CIRCULAR_BUFFER ends")

    table = runner.invoke(app, ["estimate", str(model), "--device", "STM32F446RE", "--stack", "512"]).output
    assert "every 3 frames" in table and "frame 2 of 3: waiting for frames (CIRCULAR_BUFFER #0)" in table
    assert "average per frame:" in table


# ---------------------------------------------------------------- our own C failing to compile

BROKEN_SOURCE = "md_conv_w16.c"
"""A library source the build-failure tests break: only a convolution with int16 weights compiles it, a
variant --optimize times before it chooses (the configurations without it build)."""


def break_library_source(monkeypatch: pytest.MonkeyPatch, name: str = BROKEN_SOURCE) -> None:
    """Every project generated from now on carries the library source `name` with a syntax error after
    its ISA guards (so that every core compiles it), as a defect of ours would."""
    original = generator.library_text
    broken = "\nthis is not C;\n"
    monkeypatch.setattr(
        generator, "library_text", lambda path: original(path) + (broken if path.endswith(f"/{name}") else "")
    )


def test_our_library_failing_to_compile_is_one_error_line_and_no_figure(monkeypatch, capsys, tmp_path) -> None:
    """A kernel source of ours that does not compile: `estimate` (whose --optimize speed times the variants
    first) says so in one line naming the source and gcc's first error, exit code 2, and prints no figure:
    no other build or configuration stands in for the one that failed."""
    model = tmp_path / "kws_cnn_s.tflite"
    model.write_bytes(write_tflite(build_kws_cnn("cnn_s")))
    break_library_source(monkeypatch)
    args = ("estimate", str(model), "-d", "NUCLEO-L4R5ZI", "--optimize", "speed", "--stack", "2048")
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and out == ""
    assert re.fullmatch(rf"mcudeploy: error: build for m4: .*: {BROKEN_SOURCE}:\d+:\d+: error: .*\n", err), err


@pytest.mark.parametrize(
    ("printed", "defect"),
    [
        ("md_conv.c:12:3: error: expected ';'", True),
        ("ld: net.o: in function `net_run':\nnet.c:(.text+0x1a): undefined reference to `md_conv_s8_w16'", True),
        ("net.c:3:10: fatal error: string.h: No such file or directory\n    3 | #include <string.h>", False),
        ("net.c:4:10: fatal error: md_nn.h: No such file or directory\n    4 | #include \"md_nn.h\"", True),
        ("ld: section `.bss' will not fit in region `RAM'\nld: region `RAM' overflowed by 96 bytes", False),
    ],
)
def test_a_build_that_fails_on_our_code_is_an_internal_error(printed: str, defect: bool) -> None:
    """A compile error or an undefined symbol in our own C is a defect of ours (InternalError, which no
    fallback catches); a configuration that does not fit the part's memory stays an ordinary failure."""
    fake_gcc = [sys.executable, "-c", f"import sys; sys.stderr.write({printed!r}); sys.exit(1)"]
    expected = InternalError if defect else McuDeployError
    with pytest.raises(expected) as raised:
        _run_compiler(fake_gcc, get_target("m4"))
    assert isinstance(raised.value, McuDeployError) != defect


def test_compare_cores_settles_the_columns_before_its_threads_build(monkeypatch) -> None:
    """Our planner settles unsettled convolutions' columns in place, trying each: two threads planning one graph
    built each other's trials (the seed table's M7 row at times 68.86 ms, the direct path, where 55.23)."""
    unsettled = []

    def estimate(graph, device, clock, planner):
        unsettled.append(unsettled_convolutions(graph))
        return device.name

    monkeypatch.setattr(estimate_module, "estimate_model", estimate)
    graph = build_kws_cnn("cnn_s")
    assert unsettled_convolutions(graph)
    names = estimate_module.compare_cores(graph, [find_device("STM32F446RE"), find_device("NUCLEO-H7A3ZI-Q")])
    assert names == ["STM32F446RE", "NUCLEO-H7A3ZI-Q"] and unsettled == [[], []]
