"""Running a built program: headless QEMU with semihosting for Cortex-M targets, directly for the host."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from mcudeploy.emulation.plugin import InstructionCounting, InstructionCounts, prepare_request, read_counts
from mcudeploy.emulation.targets import Target, get_target
from mcudeploy.errors import McuDeployError

QEMU = "qemu-system-arm"
FAULT_MARKER = "mcudeploy-fault:"


@dataclass
class ProgramRun:
    """How a program ended. Instruction counts are filled only for emulated runs with counting on."""

    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    instructions: int | None = None
    # self counts of the functions that ran (callees excluded), and of code outside any function symbol
    per_function_instructions: dict[str, int] = field(default_factory=dict)
    instructions_outside_functions: int | None = None
    # (mark function name, instructions executed before the call), in execution order
    marks: list[tuple[str, int]] = field(default_factory=list)
    counts: InstructionCounts | None = None
    """Everything the counting plugin reported: kinds, events and memory accesses per function,
    per scope call and at each mark."""

    @property
    def faulted(self) -> bool:
        """The core took a fault (our start-up code reported it and exited)."""
        return FAULT_MARKER in self.stdout

    def instructions_between_marks(self) -> list[int]:
        """Instructions executed between consecutive mark calls."""
        counts = [count for _, count in self.marks]
        return [later - earlier for earlier, later in itertools.pairwise(counts)]


def find_qemu() -> Path:
    found = shutil.which(QEMU)
    if found is None:
        install = "apt-get install --no-install-recommends qemu-system-arm"
        raise McuDeployError(QEMU, f"not found on PATH; on Debian/Ubuntu install it with `{install}`")
    return Path(found)


def qemu_command(target: Target, elf: Path) -> list[str]:
    """Headless machine whose only I/O is semihosting; its console goes to our stdout."""
    return [
        str(find_qemu()),
        "-M",
        target.machine.name,
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-chardev",
        "stdio,id=semihosting",
        "-semihosting-config",
        "enable=on,target=native,chardev=semihosting",
        "-kernel",
        str(elf),
    ]


def _execute(command: list[str], workdir: Path, timeout_s: float, what: str) -> ProgramRun:
    started = time.monotonic()
    try:
        completed = subprocess.run(
            command, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        # subprocess.run has already killed and reaped the process.
        raise McuDeployError(what, f"timed out after {timeout_s:g} s (killed)") from None
    return ProgramRun(
        exit_code=completed.returncode,
        stdout=completed.stdout.decode(errors="replace"),
        stderr=completed.stderr.decode(errors="replace"),
        seconds=time.monotonic() - started,
    )


def _check_emulator(result: ProgramRun, what: str) -> ProgramRun:
    """QEMU's own failures (bad machine, unloadable ELF or plugin) are errors, not guest exit codes."""
    if result.exit_code != 0 and result.stderr.startswith(f"{QEMU}:"):
        raise McuDeployError(what, f"QEMU failed: {result.stderr.strip()}")
    return result


def run_elf(
    target: Target | str,
    elf: Path | str,
    workdir: Path | str,
    timeout_s: float = 60.0,
    plugin: InstructionCounting | None = None,
) -> ProgramRun:
    """Runs `elf` on `target` with `workdir` as current directory (files the program opens are
    relative to it). `exit_code` is the program's exit status (main's return value or
    `mcu_host_exit`). With `plugin`, emulated runs also count executed instructions."""
    target = get_target(target) if isinstance(target, str) else target
    elf = Path(elf).resolve()
    workdir = Path(workdir)
    what = f"{elf.name} on {target.name}"
    if target.is_host:
        return _execute([str(elf)], workdir, timeout_s, what)
    command = qemu_command(target, elf)
    if plugin is None:
        return _check_emulator(_execute(command, workdir, timeout_s, what), what)
    with tempfile.TemporaryDirectory(prefix="mcudeploy-count-") as scratch:
        request = prepare_request(elf, plugin, Path(scratch))
        result = _check_emulator(_execute([*command, "-plugin", request.argument], workdir, timeout_s, what), what)
        counts = read_counts(request)
    result.instructions = counts.total
    result.per_function_instructions = counts.per_function
    result.instructions_outside_functions = counts.outside_functions
    result.marks = counts.marks
    result.counts = counts
    return result
