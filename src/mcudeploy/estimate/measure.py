"""Running a model's generated C on an emulated core and counting what each layer executes.

The generated code is built with the one harness (`mcudeploy.emulation.harness`) for the
QEMU machine of the device's core and run once on seeded random inputs. The counting plugin
attributes every instruction executed inside `net_layer_<index>` and the kernels it calls to
that layer (a call ends when execution is back in `net_invoke`, or in `main` after a tail
call), so per-layer figures are exact and add up, with the few instructions of `net_invoke`
itself, to the inference between the harness's two count marks.

A streaming model, whose CIRCULAR_BUFFER waits for frames, is run as an application feeds it:
successive frames after one init, from reset up to and including the first inference that runs
every layer (`stream_frames`). From then on the same period repeats (every buffer's count of
frames is back where reset put it), so that run prices what the model costs in steady state:
the complete inference per layer, and each inference that waited. A buffer in a subgraph that
IF, WHILE or CALL_ONCE runs counts only the frames of the inferences that run it, so reset's
state need not come back: there the stream goes on to the next inference that runs every layer,
and the period priced is the frames after the first one up to it (a CALL_ONCE whose subgraph
waited: one complete inference without its subgraph; an IF: the branches the inputs chose).

Each core's code runs on the machine its record names: the Cortex-M0+'s, compiled for
Armv6-M, on the Cortex-M3 machine, which executes that subset unchanged, so the instruction
stream counted is the M0+'s own.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mcudeploy.codegen import render
from mcudeploy.emulation import InstructionCounting, Target, harness
from mcudeploy.emulation.harness import PREFIX, HarnessRun, build_harness, generate_project, run_harness_steps
from mcudeploy.emulation.plugin import ExecutionCounts, plugin_library
from mcudeploy.engine import Engine
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate.memory import MemoryTiming, ProgramLayout, program_layout
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Graph
from mcudeploy.ir.shapes import frame_buffers, signal_attributes, waits_for_frames
from mcudeploy.memory import MemoryPlan

INVOKE_FUNCTION = f"{PREFIX}_invoke"
SCOPE_CLOSERS = (INVOKE_FUNCTION, "main")


LAYER_FUNCTIONS = {"MD_PROFILE_LAYERS": None}
"""The define keeping each layer a function of its own (MD_LAYER in mdnn/Include/md_nn.h): what
per-layer counts and stack depths attribute by."""


def layer_function(index: int) -> str:
    return f"{PREFIX}_layer_{index}"


@dataclass(frozen=True)
class WaitingRun:
    """An inference a layer ended waiting for frames (TFLM's kTfLiteAbort): its layer and counts."""

    layer: int
    counts: ExecutionCounts


@dataclass(frozen=True)
class ModelRun:
    """What one inference that ran every layer executed: per layer (operator index) and between the
    count marks; for a streaming model also the inferences of its period that waited, in order."""

    target: str
    layers: dict[int, ExecutionCounts]
    inference: ExecutionCounts
    elf: Path
    waiting: list[WaitingRun] = field(default_factory=list)
    functions: Mapping[str, ExecutionCounts] = field(default_factory=dict)
    """Self counts per function over the whole run (init and every inference; the harness's own too)."""


@dataclass(frozen=True)
class Stream:
    """The input sets a measured run feeds after one init, and what the reference engine did on each."""

    frames: list[list[np.ndarray]]
    waiting: list[int | None]
    """The layer each inference ended at waiting for frames (None: it ran every layer)."""
    start: int = 0
    """The first frame of the period priced: the frames before it (after reset) do not come back."""

    @property
    def period(self) -> list[int | None]:
        return self.waiting[self.start :]


def stream_frames(graph: Graph) -> Stream:
    """Seeded random inputs for one inference; for a model whose CIRCULAR_BUFFER waits for frames,
    successive frames from reset up to and including the first inference that runs every layer (the
    reference engine says which), one period of the stream; with a buffer in a called subgraph, on
    to the next inference that runs every layer, the period the frames after the first one."""
    buffers = frame_buffers(graph)
    if not buffers:
        return Stream([random_inputs(graph, 0)], [None])
    # Each buffer's count of frames cycles through cycles_max values: the stream repeats within their product.
    most = math.prod(signal_attributes(op, "cycles_max")["cycles_max"] for op in buffers)
    called = len(buffers) > sum(map(waits_for_frames, graph.operators))  # one in a subgraph IF, WHILE or CALL_ONCE runs
    engine = Engine(graph)
    frames: list[list[np.ndarray]] = []
    waiting: list[int | None] = []
    for _ in range(2 * most if called else most):
        frames.append(random_inputs(graph, len(frames)))
        waiting.append(engine.run(frames[-1]).waiting_at)
        complete = waiting.count(None)
        if waiting[-1] is None and (not called or complete == 2):
            return Stream(frames, waiting, waiting.index(None) + 1 if called else 0)
    if called:
        reason = f"cannot price a steady state: fewer than two of {len(frames)} frames from reset ran every layer"
        raise McuDeployError(graph.subject, reason)
    raise McuDeployError(graph.subject, f"no inference of {most} frames from reset ran every layer")


def build_model(
    graph: Graph,
    plan: MemoryPlan,
    portable: bool,
    target: Target,
    workdir: Path,
    steps: int = 1,
    code_section: str = "flash",
    fast_functions: Sequence[str] | None = None,
) -> Path:
    """Generate the model's C and build it with the harness for `target` with one function per
    layer (MD_PROFILE_LAYERS): with the best kernel paths the core has, or its portable C
    (`portable`, MD_PORTABLE); `steps` inferences after one init; the hot code run from `code_section`
    (only the functions `fast_functions` names, when given)."""
    code = generate_project(graph, plan, target, workdir / "generated")
    defines = {**LAYER_FUNCTIONS, **({"MD_PORTABLE": None} if portable else {})}
    return build_harness(
        graph,
        code,
        target,
        workdir,
        extra_defines=defines,
        steps=steps,
        code_section=code_section,
        fast_functions=fast_functions,
    )


def counting_for(graph: Graph, layout: ProgramLayout, memory: MemoryTiming) -> InstructionCounting:
    return InstructionCounting(
        per_function=True,
        scopes=tuple(layer_function(op.index) for op in graph.operators),
        scope_closers=SCOPE_CLOSERS,
        memory=memory.plugin_ranges(layout),
        cache=memory.cache,
        fetch_cache=memory.fetch_cache,
        shared_cache=memory.shared_cache,
    )


def run_model(graph: Graph, elf: Path, target: Target, memory: MemoryTiming, workdir: Path, stream: Stream) -> ModelRun:
    """The built model (with `steps=len(stream.frames)`) run on the stream's frames in turn, each
    inference counted: those of its period that waited, and the last, which runs every layer, per layer."""
    counting = counting_for(graph, program_layout(elf, target), memory)
    result = run_harness_steps(graph, target, elf, stream.frames, workdir, counting)
    _check_counted(graph, result, target.name)
    counts = result.program.counts
    assert counts is not None
    # Marks bracket each inference: intervals 0, 2, 4, ... are the inferences, the others the harness's files.
    inferences = counts.mark_intervals()[0::2]
    last_layers = counts.scope_intervals()[0::2][-1]
    waited = [step.waiting_at for step in result.steps]
    if waited != stream.waiting:
        reason = f"the generated code on {target.name} did not wait for frames as the reference engine does"
        raise McuDeployError(graph.subject, reason)
    period = zip(waited[stream.start : -1], inferences[stream.start : -1], strict=True)
    waiting = [WaitingRun(layer, item) for layer, item in period]
    layers = {op.index: last_layers[layer_function(op.index)] for op in graph.operators}
    return ModelRun(target.name, layers, inferences[-1], elf, waiting, counts.function_counts)


def run_cache_key(graph: Graph, plan: MemoryPlan, label: str) -> str:
    """A key for figures taken from runs of `graph`'s generated project (with `plan`) on QEMU: the project,
    `label` (the device, clock, where the code runs), the estimate's own code, the build's (harness, compiler
    flags, link, start-up code: where the code lands and what it runs) and the counting plugin's."""
    digest = hashlib.sha256(label.encode())
    digest.update(plugin_library().name.encode())  # its name holds the hash of its sources
    emulation = Path(harness.__file__).parent
    sources = [*Path(__file__).parent.glob("*.py"), *emulation.glob("*.py"), *emulation.rglob("runtime/**/*")]
    for source in sorted(path for path in sources if path.is_file()):
        digest.update(source.read_bytes())
    for name, text in sorted(render(graph, plan).files.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:24]


def _check_counted(graph: Graph, result: HarnessRun, target: str) -> None:
    counts = result.program.counts
    if counts is None or not counts.mark_intervals():
        raise McuDeployError(graph.subject, f"the generated code on {target} ran without reaching its count marks")
