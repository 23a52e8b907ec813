"""The emulation layer: builds for host and every emulated core, semihosting I/O, exit codes,
timeouts, faults, exact instruction counts, DSP and MVE intrinsics, ELF inspection."""

from __future__ import annotations

import ast
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import mcudeploy
from mcudeploy.emulation import (
    EMULATED_TARGET_NAMES,
    ElfImage,
    InstructionCounting,
    ProgramRun,
    build,
    get_target,
    run_elf,
)
from mcudeploy.emulation.linker import render_linker_script
from mcudeploy.emulation.plugin import PLUGIN_HEADERS, PLUGIN_SOURCES
from mcudeploy.errors import McuDeployError

ALL_TARGETS = ("host", *EMULATED_TARGET_NAMES)
INPUT_LENGTH = 64
EXIT_CODE = 7
LOOP_ITERATIONS = 100
# movs + (subs + bne) per iteration + bx lr, all inside known_loop
KNOWN_LOOP_INSTRUCTIONS = 1 + 2 * LOOP_ITERATIONS + 1

HARNESS = r"""
#include <stdint.h>
#include "mcu_host.h"

#define INPUT_LENGTH 64

/* The arena-like buffer lives in the caller-named section, as generated code will do. */
static int8_t arena[INPUT_LENGTH] __attribute__((section(ARENA_SECTION), aligned(16)));
static int32_t results[3];

__attribute__((noinline)) static void known_loop(void)
{
#if defined(__arm__)
    __asm__ volatile("movs r0, #100\n1:\n\tsubs r0, r0, #1\n\tbne 1b" ::: "r0", "cc");
#endif
}

static int32_t weight(int index)
{
    return (index * 7) % 23 - 11;
}

int main(void)
{
    if (mcu_host_read_file("input.bin", arena, INPUT_LENGTH) != INPUT_LENGTH) {
        return 100;
    }
    if (mcu_host_read_file("missing.bin", results, sizeof results) != -1) {
        return 102;
    }
    int32_t dot = 0;
    uint32_t checksum = 0;
    for (int index = 0; index < INPUT_LENGTH; index++) {
        dot += arena[index] * weight(index);
        checksum = checksum * 31u + (uint32_t)(arena[index] >> 1);
    }
    volatile float quarter = 0.25f;
    results[0] = dot;
    results[1] = (int32_t)checksum;
    results[2] = (int32_t)((float)dot * quarter);
    mcu_count_mark();
    known_loop();
    mcu_count_mark();
    if (mcu_host_write_file("output.bin", results, sizeof results) != 0) {
        return 101;
    }
    mcu_host_print("harness done\n");
    return EXIT_CODE;
}
"""

LOOP_FOREVER = r"""
int main(void)
{
    for (;;) {
        __asm__ volatile("" ::: "memory");
    }
}
"""

UNDEFINED_INSTRUCTION = r"""
int main(void)
{
    __asm__ volatile("udf #0");
    return 0;
}
"""

DSP_SMLAD = r"""
#include <arm_acle.h>
#include <stdint.h>

static volatile uint32_t pairs_a = 0x00020003u;  /* halves 2, 3 */
static volatile uint32_t pairs_b = 0x0004FFFBu;  /* halves 4, -5 */
static volatile int32_t accumulator = 10;

int main(void)
{
    return __smlad(pairs_a, pairs_b, accumulator) == 2 * 4 + 3 * -5 + 10 ? 0 : 1;
}
"""

MVE_DOT = r"""
#include <arm_mve.h>
#include <stdint.h>

static volatile int8_t left[16];
static volatile int8_t right[16];

int main(void)
{
    int8_t a[16];
    int8_t b[16];
    int32_t expected = 0;
    for (int index = 0; index < 16; index++) {
        left[index] = (int8_t)(index * 9 - 70);
        right[index] = (int8_t)(100 - index * 13);
    }
    for (int index = 0; index < 16; index++) {
        a[index] = left[index];
        b[index] = right[index];
        expected += a[index] * b[index];
    }
    return vmladavq_s8(vld1q_s8(a), vld1q_s8(b)) == expected ? 0 : 1;
}
"""


def _input_bytes() -> np.ndarray:
    return np.random.default_rng(4).integers(-128, 128, INPUT_LENGTH, dtype=np.int8)


def _expected_results(values: np.ndarray) -> np.ndarray:
    weights = np.arange(INPUT_LENGTH) * 7 % 23 - 11
    dot = int(values.astype(np.int64) @ weights)
    checksum = 0
    for value in values.astype(np.int64):  # 64 elements: uint32 wrap-around, as in C
        checksum = (checksum * 31 + (int(value) >> 1)) % 2**32
    signed_checksum = checksum - 2**32 if checksum >= 2**31 else checksum
    return np.array([dot, signed_checksum, int(np.float32(dot) * np.float32(0.25))], dtype=np.int32)


def _write_source(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def _build_and_run_harness(target: str, directory: Path) -> tuple[ProgramRun, Path]:
    workdir = directory / target
    workdir.mkdir()
    source = _write_source(workdir, "harness.c", HARNESS)
    # On the M55 the buffer goes to a named section in another RAM region, as `--arena-section` will.
    section, region = (".dtcm_arena", "sram") if target == "m55" else (".arena", "ram")
    elf = build(
        target,
        [source],
        output_elf=workdir / "harness.elf",
        defines={"EXIT_CODE": EXIT_CODE, "ARENA_SECTION": f'"{section}"'},
        arena_section=section,
        arena_region=region,
    )
    _input_bytes().tofile(workdir / "input.bin")
    return run_elf(target, elf, workdir, timeout_s=20, plugin=InstructionCounting()), elf


@pytest.fixture(scope="module")
def harness_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ProgramRun, Path]]:
    directory = tmp_path_factory.mktemp("harness")
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(lambda target: _build_and_run_harness(target, directory), ALL_TARGETS)
        return dict(zip(ALL_TARGETS, runs, strict=True))


@pytest.mark.parametrize("target", ALL_TARGETS)
def test_harness_reads_computes_writes_and_exits(target: str, harness_runs: dict) -> None:
    result, elf = harness_runs[target]
    assert result.exit_code == EXIT_CODE, result.stdout + result.stderr
    assert result.stdout == "harness done\n"
    output = np.fromfile(elf.parent / "output.bin", dtype=np.int32)
    np.testing.assert_array_equal(output, _expected_results(_input_bytes()))


def test_known_loop_count_is_exact_and_per_function_counts_add_up(harness_runs: dict) -> None:
    for target in EMULATED_TARGET_NAMES:
        result, _ = harness_runs[target]
        assert result.per_function_instructions["known_loop"] == KNOWN_LOOP_INSTRUCTIONS, target
        assert sum(result.per_function_instructions.values()) + result.instructions_outside_functions == (
            result.instructions
        )
        # Between the two marks: mark's return, the call into the loop, the loop, the call to the mark.
        assert [name for name, _ in result.marks] == ["mcu_count_mark", "mcu_count_mark"]
        assert result.instructions_between_marks() == [KNOWN_LOOP_INSTRUCTIONS + 3], target


def test_instruction_counts_repeat_exactly(harness_runs: dict) -> None:
    first, elf = harness_runs["m4"]
    second = run_elf("m4", elf, elf.parent, timeout_s=20, plugin=InstructionCounting())
    assert second.instructions == first.instructions
    assert second.per_function_instructions == first.per_function_instructions
    assert second.marks == first.marks


def test_host_run_has_no_instruction_counts(harness_runs: dict) -> None:
    result, _ = harness_runs["host"]
    assert result.instructions is None


def test_arena_section_is_placed_in_the_requested_region(harness_runs: dict) -> None:
    for target, region in (("m4", "ram"), ("m55", "sram")):
        _, elf = harness_runs[target]
        image = ElfImage(elf)
        arena = image.symbol("arena")
        assert arena.size == INPUT_LENGTH
        assert arena.address % 16 == 0
        memory_region = get_target(target).machine.region(region)
        assert memory_region.base <= arena.address < memory_region.end
        assert image.symbol("__arena_start").address == arena.address
        assert image.symbol("known_loop").kind == "func"


def test_soft_float_helpers_are_found_only_without_fpu(harness_runs: dict) -> None:
    soft_float = ElfImage(harness_runs["m3"][1]).symbols_matching("__aeabi_f*")
    assert "__aeabi_fmul" in soft_float
    for target in ("m4", "m7", "m33", "m55"):
        image = ElfImage(harness_runs[target][1])
        assert image.symbols_matching("__aeabi_f*") == []
        assert image.symbols_matching("__aeabi_d*") == []


def test_section_sizes(harness_runs: dict) -> None:
    image = ElfImage(harness_runs["m4"][1])
    sizes = image.section_sizes()
    assert sizes.text == image.section(".text").size
    assert sizes.bss == image.section(".bss").size + image.section(".arena").size
    assert sizes.bss >= INPUT_LENGTH + 12
    assert sizes.rodata >= len("harness done\n")


def test_endless_program_times_out_cleanly(tmp_path: Path) -> None:
    elf = build("m4", [_write_source(tmp_path, "loop.c", LOOP_FOREVER)], output_elf=tmp_path / "loop.elf")
    with pytest.raises(McuDeployError, match=r"timed out after 1 s"):
        run_elf("m4", elf, tmp_path, timeout_s=1)


def test_fault_is_reported_with_its_exit_code(tmp_path: Path) -> None:
    source = _write_source(tmp_path, "fault.c", UNDEFINED_INSTRUCTION)
    elf = build("m3", [source], output_elf=tmp_path / "fault.elf")
    result = run_elf("m3", elf, tmp_path, timeout_s=10)
    assert result.faulted
    assert result.exit_code == 113  # MCU_HOST_EXIT_FAULT in mcu_host.h


INTRINSIC_CASES = [("m4", DSP_SMLAD), ("m7", DSP_SMLAD), ("m33", DSP_SMLAD), ("m55", DSP_SMLAD), ("m55", MVE_DOT)]


@pytest.mark.parametrize(("target", "source"), INTRINSIC_CASES)
def test_intrinsics_run(target: str, source: str, tmp_path: Path) -> None:
    elf = build(target, [_write_source(tmp_path, "intrinsic.c", source)], output_elf=tmp_path / "intrinsic.elf")
    assert run_elf(target, elf, tmp_path, timeout_s=10).exit_code == 0


def test_missing_cross_compiler_names_the_debian_packages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(McuDeployError, match="gcc-arm-none-eabi libnewlib-arm-none-eabi"):
        build("m4", [_write_source(tmp_path, "main.c", LOOP_FOREVER)], output_elf=tmp_path / "main.elf")


def test_linker_script_rejects_bad_arena_section() -> None:
    with pytest.raises(McuDeployError, match="arena section"):
        render_linker_script(get_target("m4"), arena_section="arena; } > RAM")


def test_generated_code_is_built_and_run_only_by_the_harness() -> None:
    """validate, estimate and code size go through emulation.harness: none of them calls the
    compiler or QEMU itself (profile runs any ELF, so it may)."""
    package = Path(mcudeploy.__file__).parent
    users = [*(package / "validation").glob("*.py"), *(package / "analysis").glob("*.py")]
    users.append(package / "estimate" / "measure.py")
    for path in users:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mcudeploy.emulation"):
                names = {alias.name for alias in node.names}
                assert not names & {"build", "run_elf"}, f"{path.name} builds or runs generated code itself"
                assert node.module not in ("mcudeploy.emulation.toolchain", "mcudeploy.emulation.qemu"), path.name


def test_plugin_sources_carry_qemus_licence():
    """The plugin runs inside QEMU against its GPL-2.0-or-later plugin API, so its sources are
    GPL-2.0-or-later; what goes into firmware (mdnn, the runtime) stays Apache-2.0."""
    for path in (*PLUGIN_SOURCES, *PLUGIN_HEADERS):
        assert path.read_text().startswith("/* SPDX-License-Identifier: GPL-2.0-or-later */\n"), path.name
    for path in (Path(mcudeploy.__file__).parent / "emulation" / "runtime").rglob("*.[ch]"):
        assert path.read_text().startswith("/* SPDX-License-Identifier: Apache-2.0 */\n"), path.name
