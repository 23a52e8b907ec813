"""Profiling any bare-metal ELF: run it on a QEMU machine, count per function, price per core.

Without a device, memory is taken at zero wait states (the instruction timings as the manuals
give them): the ELF's own memory map says nothing of a device's wait states. With one, its
code and constants are priced as in the device's flash and its data as in its SRAM, at the
chosen clock (mcudeploy.estimate.memory), the way `estimate` prices our generated code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mcudeploy.devices import Device
from mcudeploy.emulation import EMULATED_TARGET_NAMES, ProgramRun, get_target, run_elf
from mcudeploy.emulation.elf import MAX_ELF_BYTES
from mcudeploy.emulation.plugin import ExecutionCounts, InstructionCounting
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate.cycles import CycleBreakdown, price
from mcudeploy.estimate.memory import MemoryTiming, device_memory, program_layout, zero_wait_memory
from mcudeploy.estimate.timings import CoreTiming, core_timing
from mcudeploy.files import open_regular

OUTSIDE_FUNCTIONS = "(outside any function)"
DEFAULT_TIMEOUT_S = 600.0
FRAME_WAITING_KERNELS = ("md_circular_buffer_s8", "CircularBufferEval")
"""Functions of the CIRCULAR_BUFFER kernels (ours; TFLM's, a part of its mangled name) that end an
inference waiting for frames until cycles_max frames came."""


@dataclass(frozen=True)
class FunctionProfile:
    name: str
    counts: ExecutionCounts
    cycles: CycleBreakdown


@dataclass(frozen=True)
class ElfProfile:
    elf: Path
    machine: str
    timing: CoreTiming
    memory: MemoryTiming
    device: Device | None
    run: ProgramRun
    functions: list[FunctionProfile]
    """Self counts (callees excluded), most cycles first."""
    total: CycleBreakdown
    mark_intervals: list[CycleBreakdown] = field(default_factory=list)
    """Between consecutive calls of mcu_count_mark, when the program calls it."""
    notes: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.run.exit_code == 0 and not self.run.faulted


def profile_elf(
    elf: Path,
    machine: str,
    core: str | None = None,
    workdir: Path | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    device: Device | None = None,
    clock_mhz: float | None = None,
) -> ElfProfile:
    """Runs `elf` on the emulated `machine` (m3, m4, m7, m33, m55) and prices what each function
    executed with `core`'s timings (default: the device's core, else the machine's) and the
    device's memory at `clock_mhz` (default: its maximum clock; no device: zero wait states)."""
    if machine not in EMULATED_TARGET_NAMES:
        raise McuDeployError(f"--machine {machine}", f"choose one of {', '.join(EMULATED_TARGET_NAMES)}")
    open_regular(elf, MAX_ELF_BYTES).close()  # a missing file, a FIFO or a device: one line, before QEMU
    if clock_mhz is not None and device is None:
        raise McuDeployError(f"--clock {clock_mhz:g}", "needs --device: the clock sets the device's wait states")
    target = get_target(machine)
    timing = core_timing(core or (device.core if device else target.core.name))
    if device is None:
        memory = zero_wait_memory(0.0)
    else:
        memory = device_memory(device, None, float(clock_mhz or device.part.max_clock_mhz))
    ranges = memory.plugin_ranges(program_layout(Path(elf), target))
    counting = InstructionCounting(
        memory=ranges, cache=memory.cache, fetch_cache=memory.fetch_cache, shared_cache=memory.shared_cache
    )
    run = run_elf(target, elf, workdir or Path.cwd(), timeout_s, plugin=counting)
    counts = run.counts
    assert counts is not None
    functions = [
        FunctionProfile(name, item, price(item, timing, memory)) for name, item in counts.function_counts.items()
    ]
    if counts.outside_counts is not None and counts.outside_counts.instructions:
        outside = counts.outside_counts
        functions.append(FunctionProfile(OUTSIDE_FUNCTIONS, outside, price(outside, timing, memory)))
    functions.sort(key=lambda item: item.cycles.total, reverse=True)
    whole = ExecutionCounts.total(item.counts for item in functions)
    intervals = [price(item, timing, memory) for item in counts.mark_intervals()]
    total = price(whole, timing, memory)
    notes = [_waiting_note(name) for name in counts.function_counts if any(k in name for k in FRAME_WAITING_KERNELS)]
    return ElfProfile(Path(elf), machine, timing, memory, device, run, functions, total, intervals, notes)


def _waiting_note(kernel: str) -> str:
    """A CIRCULAR_BUFFER ran: the program's inferences may have stopped there, their later layers not run."""
    return (
        f"{kernel} ran: a CIRCULAR_BUFFER ends an inference waiting for frames until cycles_max frames came, the "
        "layers after it not run; these figures are those of the inferences this program ran (`mcudeploy "
        "estimate` prices a streaming model's complete and waiting inferences)"
    )
