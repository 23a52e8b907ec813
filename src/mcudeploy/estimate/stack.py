"""The stack one inference of the generated code needs, measured by stack painting on the emulated core.

The harness paints every word between the linker's stack limit and main's stack pointer, runs one
inference and finds the deepest word overwritten (`validation.harness`, STACK_PAINT_DEFINE). The
figure is what `net_invoke` and every kernel below it used, from main's stack pointer down: exact
for that run; the kernels' stack does not depend on the input values (fixed loops, no recursion).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mcudeploy.codegen import generate
from mcudeploy.devices import Device
from mcudeploy.emulation import run_elf
from mcudeploy.emulation.linker import DEFAULT_STACK_SIZE
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate.cores import core_timing
from mcudeploy.estimate.measure import RUN_TIMEOUT_S, emulation_target
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Graph
from mcudeploy.memory import plan_memory
from mcudeploy.validation.harness import ARENA_SECTION, STACK_USED_FILE, build_harness, write_inputs
from mcudeploy.validation.runner import PREFIX


def measure_stack(graph: Graph, device: Device, workdir: Path | None = None) -> int:
    """Bytes of stack one inference of `graph`'s generated code uses on `device`'s core (its
    DSP/MVE kernel variants), painted and read back on the core's QEMU machine."""
    with tempfile.TemporaryDirectory(prefix="mcudeploy-stack-", dir=workdir) as scratch:
        exit_code, used = painted_run(graph, device, Path(scratch))
    if exit_code != 0 or used is None:
        raise McuDeployError(graph.subject, f"the stack measurement run failed (exit code {exit_code})")
    if used >= DEFAULT_STACK_SIZE:
        raise McuDeployError(graph.subject, f"the inference used all {DEFAULT_STACK_SIZE} B of painted stack")
    return used


def painted_run(graph: Graph, device: Device, folder: Path, stack_limit: int | None = None) -> tuple[int, int | None]:
    """One painted inference in `folder`: the exit code and the stack used (None if not written).
    `stack_limit` (Armv8-M cores): the hardware stack limit lets the inference use that many bytes."""
    target = emulation_target(core_timing(device.core).machine)
    code = generate(graph, plan_memory(graph), folder / "generated", PREFIX, ARENA_SECTION, force=True,
                    core=device.core)  # fmt: skip
    elf = build_harness(graph, code, target, folder, paint_stack=True, stack_limit=stack_limit)
    write_inputs(graph, random_inputs(graph, 0), folder)
    result = run_elf(target, elf, folder, RUN_TIMEOUT_S)
    used_file = folder / STACK_USED_FILE
    used = int.from_bytes(used_file.read_bytes()[:4], "little") if used_file.is_file() else None
    return result.exit_code, used
