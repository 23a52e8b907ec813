"""The stack one inference of the generated code needs, measured on the emulated core and bounded statically.

Measured: the harness paints every word between the linker's stack limit and main's stack pointer,
runs one inference (a streaming model: its frames until one runs every layer, `stream_frames`) and
finds the deepest word overwritten (`emulation.harness`, STACK_PAINT_DEFINE);
the network's layer hook reads that mark after each layer and paints again, so each layer has its own
figure (never less than the hook's own depth). Exact for that run; the kernels' stack does not depend
on the input values (fixed loops, no recursion).

Static: the same build with `-fstack-usage`, each function's frame (library code's derived from its
instructions) plus its deepest callee's (`emulation.stack_usage`): an upper bound the measured figure
must not exceed, unless it names functions whose frame it could not derive. A layer that calls no hook
(its outputs are not in the arena: a CIRCULAR_BUFFER writing its history) is painted under the next
layer's mark, so that layer's bound covers both.

Both count from main's stack pointer down: `net_invoke` and everything below it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from mcudeploy.analysis.code_size import static_stack
from mcudeploy.devices import Device
from mcudeploy.emulation import Target, core_target
from mcudeploy.emulation.harness import (
    PREFIX,
    STACK_HOOK_FUNCTION,
    STACK_LAYERS_FILE,
    STACK_USED_FILE,
    build_harness,
    generate_project,
    run_harness_steps,
)
from mcudeploy.emulation.linker import DEFAULT_STACK_SIZE
from mcudeploy.emulation.stack_usage import call_graph
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate.measure import LAYER_FUNCTIONS, layer_function, stream_frames
from mcudeploy.ir import Graph
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import DEFAULT_STACK_BYTES
from mcudeploy.memory.plan import MemoryPlan

MEASURED = "measured"
STATIC = "static bound"
ASSUMED = "assumed"
RESERVED = "--stack"


@dataclass(frozen=True)
class LayerStack:
    index: int
    measured: int | None
    """Painted high-water mark after this layer; None when the network calls no hook after it."""
    static: int
    """net_invoke's frame plus the worst case, from `-fstack-usage` and the call graph, of the layer function
    and of those before it since the last layer that called the hook: what `measured` covers."""


@dataclass(frozen=True)
class StackMeasure:
    used: int
    """Whole inference, painted."""
    static: int
    """Whole inference, `-fstack-usage` + call graph (net_invoke's worst case)."""
    hook_depth: int
    """net_invoke's frame plus the layer hook's: the least any layer's measured figure can show."""
    layers: tuple[LayerStack, ...]
    left_out: tuple[str, ...]
    """Functions reached whose frame could not be derived (counted 0: the static figures bound nothing)."""

    def static_text(self, static: int) -> str:
        """A static figure of this run, said to be no bound when a frame was not derived."""
        return f"static {static} B, {not_a_bound(self.left_out)}" if self.left_out else f"static bound {static} B"


def not_a_bound(left_out: tuple[str, ...]) -> str:
    return f"not a bound: the stack of {', '.join(left_out)} not derived, counted 0"


@dataclass(frozen=True)
class StackNeed:
    bytes: int
    source: str
    """MEASURED (painted on QEMU), STATIC (`-fstack-usage` + call graph), ASSUMED (the default reserve: no
    toolchain or QEMU) or RESERVED (the user's --stack)."""
    reason: str = ""
    left_out: tuple[str, ...] = ()
    measure: StackMeasure | None = None
    """MEASURED: the painted run's per-layer marks and static bounds."""

    def describe(self) -> str:
        if self.source == MEASURED:
            return f"{self.bytes} B measured (stack painting on QEMU, every layer run, from the caller's stack pointer)"
        if self.source == STATIC:
            source = "-fstack-usage + the call graph from net_invoke"
            if self.left_out:
                return f"{self.bytes} B static, {not_a_bound(self.left_out)} ({source})"
            return f"{self.bytes} B static bound ({source})"
        if self.source == RESERVED:
            return f"{self.bytes} B (--stack)"
        return f"{self.bytes} B assumed ({self.reason})"


def measure_stack(graph: Graph, device: Device, workdir: Path | None = None) -> int:
    """Bytes of stack one inference of `graph`'s generated code uses on `device`'s core (its
    DSP/MVE kernel variants), painted and read back on the core's QEMU machine."""
    return measure_stack_layers(graph, device, workdir).used


def measure_stack_layers(graph: Graph, device: Device, workdir: Path | None = None) -> StackMeasure:
    """The whole inference's and each layer's stack, painted and bounded statically."""
    with tempfile.TemporaryDirectory(prefix="mcudeploy-stack-", dir=workdir) as scratch:
        folder = Path(scratch)
        exit_code, used = painted_run(graph, device, folder)
        if exit_code != 0 or used is None:
            raise McuDeployError(graph.subject, f"the stack measurement run failed (exit code {exit_code})")
        if used >= DEFAULT_STACK_SIZE:
            raise McuDeployError(graph.subject, f"the inference used all {DEFAULT_STACK_SIZE} B of painted stack")
        painted = (folder / STACK_LAYERS_FILE).read_bytes()
        calls = call_graph(folder / "network.elf", _target(device))
    invoke = f"{PREFIX}_invoke"
    whole, left_out = calls.worst(invoke)
    invoke_frame = calls.frames[invoke].bytes
    layers = []
    unhooked = 0  # the deepest layer since the last one that called the hook: under this layer's mark
    for op in graph.operators:
        mark = int.from_bytes(painted[4 * op.index : 4 * op.index + 4], "little")
        depth, missing = calls.worst(layer_function(op.index))
        left_out |= missing
        layers.append(LayerStack(op.index, mark or None, invoke_frame + max(depth, unhooked if mark else 0)))
        unhooked = 0 if mark else max(unhooked, depth)
    hook_depth = invoke_frame + calls.worst(STACK_HOOK_FUNCTION)[0]
    return StackMeasure(used, whole, hook_depth, tuple(layers), tuple(sorted(left_out)))


def painted_run(graph: Graph, device: Device, folder: Path, stack_limit: int | None = None) -> tuple[int, int | None]:
    """One painted inference in `folder`: the exit code and the stack used (None if not written).
    `stack_limit` (Armv8-M cores): the hardware stack limit lets the inference use that many bytes."""
    target = _target(device)
    code = generate_project(graph, plan_memory(graph), target, folder / "generated")
    frames = stream_frames(graph).frames  # a streaming model's up to an inference that runs every layer
    elf = build_harness(
        graph,
        code,
        target,
        folder,
        paint_stack=True,
        stack_limit=stack_limit,
        extra_defines=LAYER_FUNCTIONS,
        steps=len(frames),
    )
    result = run_harness_steps(graph, target, elf, frames, folder, check=False)
    used_file = folder / STACK_USED_FILE
    used = int.from_bytes(used_file.read_bytes()[:4], "little") if used_file.is_file() else None
    return result.program.exit_code, used


def _target(device: Device) -> Target:
    """The target that runs the device's core (every core with a cycle model has one)."""
    target = core_target(device.core)
    if target is None:
        raise McuDeployError(device.name, f"no QEMU machine runs {device.core} code")
    return target


def stack_need(graph: Graph, device: Device, reserve: int | None = None) -> StackNeed:
    """The stack the budget counts: the user's reserve, else one painted inference on the core's QEMU
    machine, else the default reserve, said to be assumed."""
    if reserve is not None:
        return StackNeed(reserve, RESERVED)
    try:
        measure = measure_stack_layers(graph, device)
    except McuDeployError as error:
        return StackNeed(DEFAULT_STACK_BYTES, ASSUMED, f"the default reserve; not measured: {error.reason}")
    return StackNeed(measure.used, MEASURED, left_out=measure.left_out, measure=measure)


def static_need(graph: Graph, plan: MemoryPlan, core: str, reserve: int | None = None) -> StackNeed:
    """analyze's stack, without running anything: the user's reserve, else the static bound from the link
    that measures the code's flash (`analysis.code_size`), else the default reserve, said to be assumed."""
    if reserve is not None:
        return StackNeed(reserve, RESERVED)
    bound = static_stack(graph, plan, core)
    if bound is None:
        return StackNeed(DEFAULT_STACK_BYTES, ASSUMED, "the default reserve; no cross compiler for this core")
    return StackNeed(bound.bytes, STATIC, left_out=bound.left_out)
