"""The counting plugin's instruction classes and the `profile` command: known instruction sequences
classified exactly on each core, taken and untaken branches, classes adding up to the total,
data accesses per memory range, the cache model, and the decoder against binutils' disassembly."""

from __future__ import annotations

import ctypes
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcudeploy.cli.app import app
from mcudeploy.codegen.library import LIBRARY_DIR
from mcudeploy.emulation import ElfImage, InstructionCounting, ProgramRun, build, get_target, run_elf
from mcudeploy.emulation.plugin import CLASSES, KIND_CLASSES, PLUGIN_DIR, CacheGeometry, MemoryRange
from thumb_asm import PREAMBLE

LIBRARY = Path(__file__).resolve().parents[1] / "src" / "mcudeploy" / LIBRARY_DIR
"""The generated code's C kernel library."""

SEQUENCES = (
    PREAMBLE
    + r"""
#if defined(__ARM_ARCH_6M__)
FUNCTION seq_v6m            @ r0: word buffer, r2: iterations
    push {r4, lr}
    movs r4, #0
1:  ldr r1, [r0]
    muls r1, r1, r1
    adds r4, r4, r1
    subs r2, #1
    bne 1b
    mov r0, r4
    pop {r4, pc}
END seq_v6m
#else
FUNCTION seq_alu
    movs r0, #1
    adds r0, #2
    lsls r0, r0, #1
    add.w r0, r0, r0, lsl #2
    ubfx r1, r0, #1, #3
    cmp r0, #3
    bx lr
END seq_alu

FUNCTION seq_memory         @ r0: word buffer
    push {r4, r5}
    ldr r1, [r0]
    ldr r2, [r0, #4]
    str r1, [r0, #8]
    ldrd r2, r3, [r0]
    strd r2, r3, [r0, #16]
    ldm r0, {r1, r2}
    pop {r4, r5}
    bx lr
END seq_memory

FUNCTION seq_multiply
    movs r3, #7
    mul r1, r2, r3
    mla r1, r2, r3, r1
    mls r1, r2, r3, r1
    smull r1, r2, r3, r1
    umlal r1, r2, r3, r1
    sdiv r1, r3, r3
    udiv r1, r3, r3
    bx lr
END seq_multiply

FUNCTION seq_branches       @ r0: iterations (10)
    push {r4, lr}
    movs r4, #0
1:  adds r4, #1
    subs r0, #1
    bne 1b
    cbz r4, 2f
    cmp r4, #10
    it eq
    moveq r4, #0
    bl seq_leaf
2:  pop {r4, pc}
END seq_branches

FUNCTION seq_leaf
    bx lr
END seq_leaf

FUNCTION seq_unaligned      @ r0: word buffer
    ldr r1, [r0, #1]        @ byte, halfword, byte
    ldr r1, [r0, #2]        @ two halfwords
    ldr r1, [r0, #3]        @ byte, halfword, byte
    ldrh r1, [r0, #1]       @ two bytes, inside one word
    ldrsh r1, [r0, #3]      @ two bytes, across words
    str r1, [r0, #6]        @ two halfwords
    ldr r1, [r0, #4]        @ aligned: one transfer each
    ldrh r1, [r0, #2]
    ldrb r1, [r0, #3]
    bx lr
END seq_unaligned

FUNCTION seq_pairs          @ run-time pairs and forwarding the Cortex-M33 prices (on the stack)
    sub sp, #16
    mov r3, sp
    str r3, [sp]            @ the stack address, stored
    ldr r1, [sp]
    str r1, [sp, #4]        @ stores the loaded value: load-use and store of load
    ldr r2, [sp]
    str r1, [r2, #8]        @ its address loaded: load-use only
    ldr r2, [sp, #8]
    strd r1, r2, [sp, #8]   @ stores the loaded value: load-use and store of load
    movs r3, #0
    cmp r3, #1
    beq 1f                  @ 16-bit, untaken, after a 16-bit instruction: paired
    cmp r3, #1
    beq.w 1f                @ 32-bit, untaken: not paired
    b 2f                    @ taken, to a 32-bit instruction at address % 4 == 2
    .balign 4
    nop.n
2:  adds.w r3, r3, #1
    cmp r3, #1
    beq 3f                  @ taken (conditional), to a 32-bit instruction at address % 4 == 2
    .balign 4
    nop.n
3:  add.w r3, r3, #1
    b 4f                    @ taken, to an aligned 32-bit instruction
    .balign 4
4:  add.w r3, r3, #1
1:  add sp, #16
    bx lr
END seq_pairs

FUNCTION seq_latency        @ r0: word buffer; second-stage results and fetch runs (Cortex-M33)
    movs r1, #3
    add.w r2, r1, r1, lsl #2    @ a shifted operand: its result comes from the second stage
    adds r3, r2, #1             @ read at once: result latency
    add.w r2, r1, r1, lsl #2
    mla r3, r1, r1, r2          @ as the accumulator: forwarded
    mla r3, r1, r1, r3          @ chained: forwarded
    mul r2, r3, r1              @ as a multiplicand: result latency
    mla r3, r1, r1, r3
    str r3, [r0]                @ a multiply-accumulate's result stored: forwarded
    ldr r2, [r0]
    mla r3, r1, r1, r2          @ a loaded accumulator: load-use and load to accumulator
    ldr r2, [r0]
    mla r3, r2, r1, r3          @ a loaded multiplicand: load-use only
    and r2, r1, #0x3f0          @ a rotated constant: second stage
    orrs r3, r2                 @ result latency
    ands r2, r1, #0x3f0         @ the same setting flags: two cycles, no result latency
    orrs r3, r2
    cmp r1, #0x3f0              @ two cycles
    ands r2, r1, #0x3f          @ a plain byte constant: first stage
    orrs r3, r2
    muls r2, r1, r2             @ MULS.N: two cycles
    adds r3, r2, #1
    mov r2, #0x3f0              @ a move of a rotated constant: first stage
    adds r3, r2, #1
    .balign 4
    nop.n
    add.w r2, r1, #1            @ 32-bit instructions at address % 4 == 2 ...
    add.w r2, r1, #1
    add.w r2, r1, #1            @ ... the third costs a fetch cycle
    add.w r2, r1, #1            @ once per run
    nop.n
    nop.n
    str.w r1, [r0, #4]          @ a run of stores ...
    str.w r1, [r0, #4]
    str.w r1, [r0, #4]
    str.w r1, [r0, #4]          @ ... costs from its fourth
    bx lr
END seq_latency

FUNCTION seq_taken_pairs    @ taken 16-bit branches issued with the 16-bit instruction before them (Cortex-M33)
    movs r2, #3
1:  subs r2, #1
    mov r1, r2              @ 16-bit, sets no flags
    bne 1b                  @ taken twice with it, untaken once
    adds r1, #1
    b 2f                    @ after a flag-setting instruction: not paired
2:  mov r1, r2
    b 3f                    @ paired
3:  mov r1, r2
    cbz r2, 4f              @ taken, paired
    nop
4:  bx lr
END seq_taken_pairs

FUNCTION seq_stream         @ r0: 64-byte buffer, read twice
    movs r2, #2
1:  ldr r1, [r0]
    ldr r1, [r0, #16]
    ldr r1, [r0, #32]
    ldr r1, [r0, #48]
    subs r2, #1
    bne 1b
    bx lr
END seq_stream

    .balign 1024
FUNCTION seq_seam           @ r0: word buffer; straight-line code QEMU cuts into several blocks
    .rept 139               @ longer than a block: each load after a load pipelines, across a cut too
    ldr r1, [r0]
    .endr
    .rept 60                @ a load used at once (load-use), an addition issued with the next load (dual issue)
    adds r2, r1, #1
    ldr r1, [r0]
    .endr
    nop                     @ the cuts after it fall inside the other pairs (no load-use after it)
    .rept 60
    adds r2, r1, #1
    ldr r1, [r0]
    .endr
    b 1f                    @ taken, with the 16-bit load before it (taken pair)
    .balign 1024
    .skip 1024 - 6
1:  add.w r2, r1, #1        @ at address % 4 == 2 (a taken branch's unaligned wide target) ...
    add.w r2, r1, #1        @ ... across the 1 KB page boundary: QEMU starts a block here ...
    add.w r2, r1, #1        @ ... the third of the run costs a fetch cycle
    b 2f                    @ issued with the ADD.W before it (dual issue)
    .balign 1024
    .skip 1024 - 2
2:  it eq                   @ the last instruction before the page boundary ...
    muleq r2, r1, r2        @ ... a 16-bit MUL inside the IT block sets no flags: one cycle, after the cut too
    bx lr
END seq_seam

    .balign 32
FUNCTION seq_fetch          @ r0: passes over a loop of five 32-byte lines, then a sixth line
1:  .rept 78
    nop
    .endr
    subs r0, #1
    bne 1b
    bx lr
END seq_fetch
#endif

#if defined(__ARM_FEATURE_DSP)
FUNCTION seq_dsp
    smlad r0, r1, r2, r0
    smulbb r0, r1, r2
    sxtb16 r1, r2
    qadd r0, r1, r2
    sadd16 r0, r1, r2
    usada8 r0, r1, r2, r0
    smlad r3, r1, r2, r3
    smlad r3, r1, r2, r3    @ the accumulator from a multiply-accumulate: forwarded
    sxtab16 r3, r3, r1      @ the addend from a multiply-accumulate: forwarded
    smlad r3, r1, r2, r3    @ the accumulator from an extend-and-add: forwarded
    smlad r2, r3, r1, r2    @ a multiplicand from a multiply-accumulate: result latency
    sxtb16 r3, r2           @ result latency
    smlabb r3, r1, r1, r3   @ the accumulator from a DSP SIMD result (not forwarded): result latency
    bx lr
END seq_dsp
#endif

#if defined(__ARM_FP)
FUNCTION seq_fpu            @ r0: float buffer
    vldr s0, [r0]
    vldr s1, [r0, #4]
    vadd.f32 s2, s0, s1
    vmul.f32 s2, s2, s1
    vmla.f32 s2, s0, s1
    vfma.f32 s2, s0, s1
    vdiv.f32 s2, s2, s1
    vsqrt.f32 s2, s2
    vstr s2, [r0, #8]
    vmov r1, s2
    vpush {s16, s17}
    vpop {s16, s17}
    bx lr
END seq_fpu
#endif

#if defined(__ARM_FEATURE_MVE)
FUNCTION seq_mve            @ r0, r1: int8 buffers, r2: elements (32)
    push {r4, lr}
    movs r4, #0
    mov r3, r2
    dlstp.8 lr, r3
1:  vldrb.s8 q0, [r0], #16
    vldrb.s8 q1, [r1], #16
    vmladava.s8 r4, q0, q1
    letp lr, 1b
    mov r0, r4
    pop {r4, pc}
END seq_mve
#endif
"""
)

MAIN = r"""
#include <stdint.h>
#include "mcu_host.h"

int32_t buffer[16] __attribute__((aligned(64))) = {3, 5, 7, 11};
int32_t stream[16] __attribute__((aligned(64)));
int8_t left[32] = {1, 2, 3};
int8_t right[32] = {4, 5, 6};

#if defined(__ARM_ARCH_6M__)
int seq_v6m(int32_t *words, int unused, int count);
#else
void seq_alu(void);
void seq_memory(int32_t *words);
void seq_multiply(void);
int seq_branches(int count);
void seq_stream(int32_t *words);
void seq_unaligned(int32_t *words);
void seq_pairs(void);
void seq_latency(int32_t *words);
void seq_taken_pairs(void);
void seq_seam(int32_t *words);
void seq_fetch(int passes);
#endif
void seq_dsp(void);
void seq_fpu(int32_t *words);
int seq_mve(int8_t *a, int8_t *b, int count);

int main(void)
{
#if defined(__ARM_ARCH_6M__)
    return seq_v6m(buffer, 0, 5) == 5 * 9 ? 0 : 1;
#else
    seq_alu();
    seq_memory(buffer);
    seq_multiply();
    (void)seq_branches(10);
    seq_stream(stream);
    seq_unaligned(stream);
    seq_pairs();
    seq_latency(buffer);
    seq_taken_pairs();
    seq_seam(buffer);
    seq_fetch(2);
#if defined(__ARM_FEATURE_DSP)
    seq_dsp();
#endif
#if defined(__ARM_FP)
    seq_fpu(buffer);
#endif
#if defined(__ARM_FEATURE_MVE)
    if (seq_mve(left, right, 32) != 1 * 4 + 2 * 5 + 3 * 6) {
        return 2;
    }
#endif
    return 0;
#endif
}
"""

EXPECTED_KINDS: dict[str, dict[str, int]] = {
    "seq_alu": {"alu": 6, "branch_indirect": 1},
    "seq_memory": {
        "store_multiple": 1, "load": 2, "store": 1, "load_double": 1, "store_double": 1,
        "load_multiple": 2, "branch_indirect": 1,
    },
    "seq_multiply": {
        "alu": 1, "multiply": 1, "multiply_accumulate": 2, "multiply_long": 1, "multiply_long_accumulate": 1,
        "divide": 2, "branch_indirect": 1,
    },
    "seq_branches": {
        "store_multiple": 1, "alu": 23, "branch": 9, "branch_untaken": 2, "it": 1, "call": 1, "branch_load": 1,
    },
    "seq_leaf": {"branch_indirect": 1},
    "seq_unaligned": {"load": 8, "store": 1, "branch_indirect": 1},
    "seq_pairs": {"alu": 10, "store": 3, "load": 3, "store_double": 1, "branch_untaken": 2, "branch": 3,
                  "branch_indirect": 1},
    "seq_dsp": {"dsp_mac": 7, "dsp_simd": 6, "branch_indirect": 1},
    "seq_taken_pairs": {"alu": 10, "branch": 5, "branch_untaken": 1, "branch_indirect": 1},
    "seq_seam": {"load": 259, "alu": 123, "system": 1, "it": 1, "multiply": 1, "branch": 2, "branch_indirect": 1},
    "seq_latency": {"alu": 18, "load": 2, "store": 5, "multiply": 2, "multiply_accumulate": 5, "system": 4,
                    "branch_indirect": 1},
    "seq_fpu": {
        "fpu_load": 2, "fpu_alu": 2, "fpu_mac": 2, "fpu_divide": 2, "fpu_store": 1, "fpu_move": 1,
        "fpu_store_multiple": 1, "fpu_load_multiple": 1, "branch_indirect": 1,
    },
    "seq_mve": {
        "store_multiple": 1, "alu": 3, "loop_setup": 1, "mve_load": 4, "mve_mac": 2, "loop_end": 1,
        "branch_untaken": 1, "branch_load": 1,
    },
    "seq_v6m": {
        "store_multiple": 1, "alu": 1 + 5 * 2 + 1, "load": 5, "multiply": 5, "branch": 4, "branch_untaken": 1,
        "branch_load": 1,
    },
}  # fmt: skip

EXPECTED_EVENTS: dict[str, dict[str, int]] = {
    "seq_v6m": {"untaken_paired": 1, "two_cycle_flags": 5},
    "seq_alu": {"result_latency": 1},
    "seq_multiply": {"result_latency": 1, "unaligned_wide_run": 1},  # MUL.W at address % 4 == 2 and the six after
    "seq_dsp": {"result_latency": 5},
    "seq_taken_pairs": {"untaken_paired": 1, "taken_paired": 4},
    "seq_latency": {"load_use": 2, "result_latency": 3, "load_to_accumulator": 1, "two_cycle_flags": 3,
                    "unaligned_wide_run": 2},
    "seq_memory": {"transfers": 2 + 2 + 2 + 2 + 2, "pipelined": 1, "store_of_load": 1},
    "seq_branches": {"transfers": 4, "it_folded": 1, "untaken_paired": 1},
    "seq_fpu": {"transfers": 4},
    "seq_mve": {"transfers": 4, "mve_overlap": 2, "unaligned_wide_target": 1,  # LETP taken once, to +10
                "unaligned_wide_run": 2},  # the loop body: four 32-bit instructions at address % 4 == 2
    "seq_unaligned": {"unaligned_split_2": 4, "unaligned_split_3": 2, "store_of_load": 1},
    # Priced as one block wherever QEMU cuts it (here after 105, 115 and 120 instructions and at the 1 KB page
    # boundaries): a seam falls on a pipelined load, a load-use, a dual issue and the unaligned run, each
    # one fewer when the block seams are not priced, and inside an IT block (MULS.N's two cycles counted then).
    "seq_seam": {"pipelined": 138, "load_use": 119, "dual_issue": 121, "taken_paired": 1, "unaligned_wide_target": 1,
                 "unaligned_wide_run": 1},
    "seq_pairs": {"transfers": 2, "pipelined": 3, "load_use": 3, "store_of_load": 2, "untaken_paired": 1,
                  "unaligned_wide_target": 2},
}  # fmt: skip
RUN_TIME_EVENTS = ("unaligned_split_2", "unaligned_split_3", "store_of_load", "untaken_paired", "unaligned_wide_target")
SECOND_STAGE_EVENTS = ("result_latency", "load_to_accumulator", "two_cycle_flags", "unaligned_wide_run", "taken_paired")

SCALAR = ("seq_alu", "seq_memory", "seq_multiply", "seq_branches", "seq_leaf", "seq_unaligned", "seq_pairs",
          "seq_latency", "seq_taken_pairs", "seq_seam")  # fmt: skip
FUNCTIONS_ON: dict[str, tuple[str, ...]] = {
    "m0plus": ("seq_v6m",),
    "m3": SCALAR,
    "m4": (*SCALAR, "seq_dsp", "seq_fpu"),
    "m7": (*SCALAR, "seq_dsp", "seq_fpu"),
    "m33": (*SCALAR, "seq_dsp", "seq_fpu"),
    "m55": (*SCALAR, "seq_dsp", "seq_fpu", "seq_mve"),
}


def _build(machine: str, directory: Path) -> Path:
    folder = directory / machine
    folder.mkdir()
    (folder / "sequences.S").write_text(SEQUENCES)
    (folder / "main.c").write_text(MAIN)
    return build(get_target(machine), [folder / "sequences.S", folder / "main.c"], output_elf=folder / "seq.elf")


def _run(machine: str, elf: Path, counting: InstructionCounting | None = None) -> ProgramRun:
    return run_elf(get_target(machine), elf, elf.parent, timeout_s=20, plugin=counting or InstructionCounting())


@pytest.fixture(scope="module")
def sequence_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ProgramRun, Path]]:
    directory = tmp_path_factory.mktemp("sequences")

    def build_and_run(machine: str) -> tuple[ProgramRun, Path]:
        elf = _build(machine, directory)
        return _run(machine, elf), elf

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(FUNCTIONS_ON, pool.map(build_and_run, FUNCTIONS_ON), strict=True))


def _nonzero(values: dict[str, int]) -> dict[str, int]:
    return {key: value for key, value in values.items() if value}


@pytest.mark.parametrize("machine", list(FUNCTIONS_ON))
def test_known_sequences_are_classified_exactly(machine: str, sequence_runs: dict) -> None:
    result, _ = sequence_runs[machine]
    assert result.exit_code == 0, result.stdout + result.stderr
    for function in FUNCTIONS_ON[machine]:
        counts = result.counts.function_counts[function]
        assert _nonzero(dict(counts.kinds)) == EXPECTED_KINDS[function], (machine, function)
        checked = dict.fromkeys((*RUN_TIME_EVENTS, *SECOND_STAGE_EVENTS), 0)
        expected_events = {**checked, **EXPECTED_EVENTS.get(function, {})}
        for event, expected in expected_events.items():
            assert counts.events[event] == expected, (machine, function, event)


@pytest.mark.parametrize("machine", list(FUNCTIONS_ON))
def test_classes_and_functions_add_up_to_the_total(machine: str, sequence_runs: dict) -> None:
    result, _ = sequence_runs[machine]
    counts = result.counts
    every = [*counts.function_counts.values(), counts.outside_counts]
    assert sum(item.instructions for item in every) == result.instructions
    assert sum(sum(item.classes().values()) for item in every) == result.instructions
    assert set(every[0].classes()) == set(CLASSES)
    assert sum(result.per_function_instructions.values()) + result.instructions_outside_functions == (
        result.instructions
    )


def test_every_decoded_kind_has_a_class(sequence_runs: dict) -> None:
    result, _ = sequence_runs["m4"]
    assert set(result.counts.outside_counts.kinds) == set(KIND_CLASSES)


def test_data_accesses_are_counted_per_memory_range(sequence_runs: dict) -> None:
    _, elf = sequence_runs["m4"]
    buffer = ElfImage(elf).symbol("buffer")
    ranges = (
        MemoryRange("buffer", buffer.address, buffer.address + buffer.size),
        MemoryRange("ram", 0x2000_0000, 0x2040_0000),
    )
    counts = _run("m4", elf, InstructionCounting(memory=ranges)).counts.function_counts["seq_memory"]
    # ldr, ldr, ldrd (2 words), ldm (2 words) read the buffer; str and strd (2 words) write it; push/pop the stack.
    assert counts.reads == {"buffer": 6, "ram": 2, "elsewhere": 0}
    assert counts.writes == {"buffer": 3, "ram": 2, "elsewhere": 0}


@pytest.mark.parametrize(("ways", "misses"), [(2, 8), (4, 4)])
def test_cache_model_counts_lru_misses(ways: int, misses: int, sequence_runs: dict) -> None:
    _, elf = sequence_runs["m4"]
    stream = ElfImage(elf).symbol("stream")
    counting = InstructionCounting(
        memory=(MemoryRange("stream", stream.address, stream.address + 64, cached=True),),
        cache=CacheGeometry(line_bytes=16, sets=1, ways=ways),
    )
    counts = _run("m4", elf, counting).counts.function_counts["seq_stream"]
    # Four lines read twice: they all stay in 4 ways, but LRU in 2 ways evicts each before its reuse.
    assert counts.reads["stream"] == 8
    assert counts.misses["stream"] == misses


@pytest.mark.parametrize(("ways", "branch", "sequential"), [(4, 2, 4 + 4 + 1), (8, 1, 4 + 1)])
def test_fetch_cache_counts_line_misses_by_how_they_are_reached(
    ways: int, branch: int, sequential: int, sequence_runs: dict
) -> None:
    _, elf = sequence_runs["m4"]
    function = ElfImage(elf).symbol("seq_fetch")
    counting = InstructionCounting(
        memory=(MemoryRange("code", function.address & ~1, function.address + function.size, cached=True),),
        fetch_cache=CacheGeometry(line_bytes=32, sets=1, ways=ways),
    )
    counts = _run("m4", elf, counting).counts.function_counts["seq_fetch"]
    # Two passes over five lines, entered by the call then by the loop branch, and the line of BX LR: in 4 ways
    # LRU evicts every line before its reuse; in 8 the second pass hits throughout.
    assert counts.events["fetch_miss_branch"] == branch
    assert counts.events["fetch_miss_sequential"] == sequential
    assert counts.misses["code"] == 0  # instruction fetches are not data reads


@pytest.mark.parametrize(("code_cached", "ways", "misses"), [(False, 4, 4), (True, 4, 8), (True, 8, 4)])
def test_a_unified_cache_serves_fetch_and_data_reads_alike(
    code_cached: bool, ways: int, misses: int, sequence_runs: dict
) -> None:
    _, elf = sequence_runs["m4"]
    image = ElfImage(elf)
    stream, function = image.symbol("stream"), image.symbol("seq_stream")
    counting = InstructionCounting(
        memory=(
            MemoryRange("stream", stream.address, stream.address + 64, cached=True),
            MemoryRange("code", function.address & ~1, function.address + function.size, cached=code_cached),
        ),
        cache=CacheGeometry(line_bytes=16, sets=1, ways=1),  # not simulated: the data reads use the fetch cache
        fetch_cache=CacheGeometry(line_bytes=16, sets=1, ways=ways),
        shared_cache=True,
    )
    counts = _run("m4", elf, counting).counts.function_counts["seq_stream"]
    # Four data lines read twice fit 4 ways alone; with the loop's code line(s) in the same 4 ways, LRU evicts
    # each data line before its reuse; 8 ways hold both.
    assert counts.misses["stream"] == misses


# ---------------------------------------------------------------- the decoder against objdump

_DECODED_FIELDS = [
    ("kind", ctypes.c_uint8), ("size", ctypes.c_uint8), ("transfers", ctypes.c_uint8),
    ("conditional", ctypes.c_bool), ("shifted", ctypes.c_bool), ("register_offset", ctypes.c_bool),
    ("registers_known", ctypes.c_bool), ("reads", ctypes.c_uint16), ("writes", ctypes.c_uint16),
    ("address", ctypes.c_uint16), ("result", ctypes.c_uint8), ("mac", ctypes.c_bool),
    ("accumulator", ctypes.c_uint16), ("two_cycle_flags", ctypes.c_bool),
]  # fmt: skip


class _Decoded(ctypes.Structure):
    _fields_ = _DECODED_FIELDS


MNEMONIC_TABLE = """
alu: mov mvn add adc sub sbc rsb and orr orn eor bic cmp cmn tst teq lsl lsr asr ror rrx neg ubfx sbfx bfi bfc
alu: uxtb uxth sxtb sxth uxtab uxtah sxtab sxtah rev rev16 revsh rbit clz movw movt adr addw subw ssat usat
alu: csel csinc csinv csneg cset csetm cinc cinv cneg asrl lsll lsrl sqrshr sqrshrl uqrshl uqrshll sqshl
alu: sqshll uqshl uqshll srshr srshrl urshr urshrl
multiply: mul
multiply_accumulate: mla mls
multiply_long: smull umull
multiply_long_accumulate: smlal umlal umaal
dsp_mac: smlad smladx smlsd smlsdx smuad smuadx smusd smusdx smlabb smlabt smlatb smlatt smulbb smulbt smultb
dsp_mac: smultt smulwb smulwt smlawb smlawt smmul smmulr smmla smmlar smmls smmlsr smlalbb smlalbt smlaltb
dsp_mac: smlaltt smlald smlaldx smlsld smlsldx
dsp_simd: sxtb16 sxtab16 uxtb16 uxtab16 qadd qsub qdadd qdsub qadd8 qadd16 qsub8 qsub16 sadd8 sadd16 ssub8
dsp_simd: ssub16 uadd8 uadd16 usub8 usub16 shadd8 shadd16 uhadd8 uhadd16 sel usad8 usada8 pkhbt pkhtb ssat16
dsp_simd: usat16 sasx ssax qasx qsax
divide: sdiv udiv
load: ldr ldrb ldrh ldrsb ldrsh ldrex ldrexb ldrexh ldrt
store: str strb strh strex strexb strexh strt
load_double: ldrd
store_double: strd
load_multiple: ldm ldmia ldmdb ldmfd pop
store_multiple: stm stmia stmdb stmea push
branch: b cbz cbnz wls wlstp
call: bl
branch_indirect: bx blx
branch_table: tbb tbh
loop_end: le letp
loop_setup: dls dlstp lctp
system: nop bkpt dsb dmb isb mrs msr svc udf cpsid cpsie yield wfi wfe sev pld pli
"""
"""Kind of each GNU objdump mnemonic stem (size, type and condition suffixes removed)."""

SCALAR_KINDS: dict[str, str] = {
    stem: kind.strip()
    for line in MNEMONIC_TABLE.strip().splitlines()
    for kind, stems in [line.split(":")]
    for stem in stems.split()
}

CONDITIONS = ("eq", "ne", "cs", "cc", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al")


def _stem(mnemonic: str) -> str | None:
    """The table's stem for a mnemonic: `.w`/`.n`/types dropped, then a condition and an S flag."""
    base = mnemonic.split(".")[0]
    if base[:1] == "b" and base[1:] in CONDITIONS:  # B<cond>, not BL with an S
        return "b"
    for candidate in (base, *(base[: -len(c)] for c in CONDITIONS if base.endswith(c))):
        for stem in (candidate, candidate[:-1] if candidate.endswith("s") else None):
            if stem in SCALAR_KINDS:
                return stem
    if base.startswith("it") and set(base[2:]) <= {"t", "e"}:
        return "it"
    return None


def _vector_kinds(mnemonic: str, operands: str) -> set[str]:
    base = mnemonic.split(".")[0]
    if re.search(r"\bq\d", operands) or re.fullmatch(r"vctp|vpst[te]*|vpnot", base):
        if re.match(r"vld[r24]", base):
            return {"mve_load"}
        if re.match(r"vst[r24]", base):
            return {"mve_store"}
        return {"mve_alu", "mve_mac"}
    table = [
        (r"vmov", "fpu_move"), (r"vldr", "fpu_load"), (r"vstr", "fpu_store"), (r"vpop|vldm\w*", "fpu_load_multiple"),
        (r"vpush|vstm\w*", "fpu_store_multiple"), (r"vmrs|vmsr", "fpu_move"), (r"vdiv|vsqrt", "fpu_divide"),
        (r"vn?ml[as]|vfn?m[as]", "fpu_mac"),
    ]  # fmt: skip
    # an instruction in an IT block carries its condition (VLDRLT): matched without it when it only
    # matches so (VMLS ends in a condition's letters but is a mnemonic of its own)
    unconditional = [base[: -len(c)] for c in CONDITIONS if base.endswith(c)]
    kind = next(
        (kind for candidate in (base, *unconditional) for pattern, kind in table if re.fullmatch(pattern, candidate)),
        "fpu_alu",
    )
    if kind == "fpu_move" and base.startswith("vmov") and not re.search(r"\b(r\d+|ip|lr|sl|fp)\b", operands):
        return {"fpu_alu"}  # VMOV between FPU registers (or of an immediate)
    return {kind}


def expected_kinds(mnemonic: str, operands: str) -> set[str]:
    """The kinds the decoder may give an instruction objdump prints as `mnemonic operands`."""
    if mnemonic.startswith("v"):
        return _vector_kinds(mnemonic, operands)
    stem = _stem(mnemonic)
    kind = "it" if stem == "it" else SCALAR_KINDS.get(stem or "", "other")
    first = operands.split(",")[0].strip()
    if kind in ("load", "load_multiple") and (first == "pc" or "pc}" in operands):
        return {"branch_load"}
    if kind == "alu" and first == "pc":
        return {"branch_indirect"}
    if kind == "system" and mnemonic.startswith("pld"):
        return {"system"}
    return {kind}


@pytest.fixture(scope="module")
def decoder(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    library = tmp_path_factory.mktemp("decoder") / "thumb_decode.so"
    command = ["gcc", "-shared", "-fPIC", "-O2", "-o", str(library), str(PLUGIN_DIR / "thumb_decode.c")]
    subprocess.run(command, check=True)
    loaded = ctypes.CDLL(str(library))
    loaded.thumb_decode.restype = _Decoded
    loaded.thumb_decode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_bool]
    return loaded


def _disassembly(elf: Path) -> list[tuple[bytes, str, str]]:
    text = subprocess.run(
        ["arm-none-eabi-objdump", "-d", "-marmv8.1-m.main", str(elf)], capture_output=True, text=True, check=True
    ).stdout
    instructions = []
    for line in text.splitlines():
        match = re.match(r"\s*[0-9a-f]+:\s+([0-9a-f]{4})(?: ([0-9a-f]{4}))?\s+(\S+)\s*(.*)", line)
        if match and not match.group(3).startswith("."):
            halfwords = [int(h, 16) for h in match.groups()[:2] if h]
            data = b"".join(h.to_bytes(2, "little") for h in halfwords)
            instructions.append((data, match.group(3), match.group(4)))
    return instructions


def _runtime_objects(machine: str, directory: Path) -> list[Path]:
    """The C kernel library compiled for `machine` (no link): the instructions generated code runs
    (the ISA paths the core does not take compile to nothing)."""
    target = get_target(machine)
    sources = [str(source) for source in sorted(LIBRARY.glob("Source/*/*.c"))]
    command = ["arm-none-eabi-gcc", *target.cflags, "-O2", "-c", f"-I{LIBRARY / 'Include'}", *sources]
    subprocess.run(command, cwd=directory, capture_output=True, check=True)
    objects = sorted(directory.glob("*.o"))
    assert len(objects) >= 10
    return objects


@pytest.mark.parametrize("machine", ["m4", "m55"])
def test_decoder_agrees_with_objdump_on_compiled_code(
    machine: str, decoder: ctypes.CDLL, sequence_runs: dict, tmp_path: Path
) -> None:
    names = (ctypes.c_char_p * len(KIND_CLASSES)).in_dll(decoder, "KIND_NAMES")
    _, elf = sequence_runs[machine]
    checked = 0
    for binary in (elf, *_runtime_objects(machine, tmp_path)):
        for data, mnemonic, operands in _disassembly(binary):
            decoded = decoder.thumb_decode(data, len(data), False)
            kind = names[decoded.kind].decode()
            assert decoded.size == len(data), (binary.name, mnemonic, operands)
            assert kind in expected_kinds(mnemonic, operands), (binary.name, mnemonic, operands, kind)
            checked += 1
    assert checked > 1000


MVE_SAMPLES: dict[str, tuple[str, ...]] = {
    "mve_mac": (
        "vmladava.s8 r4, q0, q1", "vmladav.s16 r2, q3, q5", "vmlaldava.s16 r4, r5, q0, q1", "vmla.s8 q0, q1, r2",
        "vmlas.s32 q4, q5, r7", "vmul.i32 q0, q1, q2", "vmul.i16 q2, q3, r9", "vqrdmulh.s32 q0, q1, r2",
        "vqdmulh.s16 q6, q1, q2", "vmullb.s8 q0, q1, q2", "vfma.f32 q0, q1, q2", "vmul.f32 q1, q2, q3",
        "vrmlaldavha.s32 r0, r1, q0, q1", "vmlsdav.s8 r0, q0, q1", "vqdmladh.s8 q0, q1, q2", "vmulh.s8 q0, q1, q2",
    ),
    "mve_alu": (
        "vadd.i8 q0, q1, q2", "vadd.i32 q0, q1, r3", "vsub.i16 q5, q6, q7", "vmax.s8 q0, q1, q2", "vshl.s32 q0, r2",
        "vshr.s32 q0, q1, #3", "vrshl.s32 q0, r2", "vmovlb.s8 q0, q1", "vqmovnb.s32 q0, q1", "vdup.32 q0, r1",
        "vaddv.s8 r0, q1", "vcmp.s8 gt, q0, q1", "vmov q0, q1", "vabs.s8 q0, q1", "vqadd.s8 q0, q1, q2",
        "vminv.s8 r0, q1", "vmaxnm.f32 q0, q1, q2", "vctp.8 r2", "vpnot", "vbrsr.8 q0, q1, r2",
    ),
    "mve_load": (
        "vldrb.s8 q0, [r0], #16", "vldrw.u32 q2, [r2, #16]!", "vld20.8 {q0, q1}, [r0]", "vldrb.u8 q0, [r0, q1]",
    ),
    "mve_store": ("vstrb.8 q0, [r0], #16", "vstrw.32 q1, [r3]", "vst40.8 {q0, q1, q2, q3}, [r0]"),
}  # fmt: skip


def test_mve_instructions_are_classified(decoder: ctypes.CDLL, tmp_path: Path) -> None:
    names = (ctypes.c_char_p * len(KIND_CLASSES)).in_dll(decoder, "KIND_NAMES")
    lines = [line for samples in MVE_SAMPLES.values() for line in samples]
    source = tmp_path / "mve.s"
    source.write_text(".syntax unified\n.thumb\n" + "\n".join(lines) + "\n")
    objects = tmp_path / "mve.o"
    subprocess.run(["arm-none-eabi-as", "-march=armv8.1-m.main+mve.fp", str(source), "-o", str(objects)], check=True)
    decoded = [
        names[decoder.thumb_decode(data, len(data), False).kind].decode() for data, _, _ in _disassembly(objects)
    ]
    expected = [kind for kind, samples in MVE_SAMPLES.items() for _ in samples]
    assert decoded == expected


# ---------------------------------------------------------------- the profile command

runner = CliRunner()


def test_profile_command_json(sequence_runs: dict) -> None:
    _, elf = sequence_runs["m4"]
    result = runner.invoke(app, ["profile", str(elf), "--machine", "m4", "--workdir", str(elf.parent), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"elf", "machine", "core", "timing_source", "exit_code", "total", "functions", "mark_intervals"} <= set(
        report
    )
    functions = {item["name"]: item for item in report["functions"]}
    assert functions["seq_dsp"]["instruction_classes"]["dsp"] == 13
    assert sum(item["instructions"] for item in report["functions"]) == report["total"]["instructions"]


def test_profile_with_a_device_prices_its_memory(sequence_runs: dict) -> None:
    """With --device the same counts cost the part's wait states at --clock (never fewer cycles
    than at zero wait states), and times come in milliseconds."""
    _, elf = sequence_runs["m4"]
    arguments = ["profile", str(elf), "--machine", "m4", "--workdir", str(elf.parent), "--json"]
    zero_wait = json.loads(runner.invoke(app, arguments).output)
    result = runner.invoke(app, [*arguments, "--device", "STM32F446RE", "--clock", "90"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["device"], report["clock_mhz"], report["core"]) == ("STM32F446RE", 90.0, "cortex-m4")
    total = report["total"]
    assert total["instructions"] == zero_wait["total"]["instructions"]
    assert total["cycles"] >= zero_wait["total"]["cycles"]
    assert total["milliseconds"] == pytest.approx(total["cycles"] / 90e3, rel=1e-3)
    assert any("FLASH" in note for note in report["memory"])
    assert runner.invoke(app, ["profile", str(elf), "--clock", "90"]).exit_code != 0


def test_profile_prices_armv6m_code_as_cortex_m0plus(sequence_runs: dict) -> None:
    _, elf = sequence_runs["m0plus"]
    result = runner.invoke(app, ["profile", str(elf), "-m", "m3", "--core", "cortex-m0+", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["core"] == "cortex-m0+"


def test_profile_table_and_failing_program(tmp_path: Path) -> None:
    source = tmp_path / "fail.c"
    source.write_text("int main(void) { return 3; }\n")
    elf = build("m33", [source], output_elf=tmp_path / "fail.elf")
    result = runner.invoke(app, ["profile", str(elf), "--machine", "m33", "--workdir", str(tmp_path)])
    assert result.exit_code == 1
    assert "main" in result.output and "exit code 3" in result.output


def test_profile_bad_input_exits_2(tmp_path: Path) -> None:
    for arguments in (["profile", str(tmp_path / "missing.elf")], ["profile", str(tmp_path), "--core", "cortex-m99"]):
        command = [sys.executable, "-m", "mcudeploy", *arguments]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        assert completed.returncode == 2, completed.stderr
        assert completed.stderr.startswith("mcudeploy: error:")


def test_m0plus_target_builds_armv6m_code(sequence_runs: dict) -> None:
    _, elf = sequence_runs["m0plus"]
    assert get_target("m0plus").machine.name == "mps2-an385"
    assert ElfImage(elf).symbol("seq_v6m").kind == "func"
