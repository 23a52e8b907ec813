"""Running a model's generated C on an emulated core and counting what each layer executes.

The generated code is built with the one harness (`mcudeploy.emulation.harness`) for the
QEMU machine of the device's core and run once on seeded random inputs. The counting plugin
attributes every instruction executed inside `net_layer_<index>` and the kernels it calls to
that layer (a call ends when execution is back in `net_invoke`, or in `main` after a tail
call), so per-layer figures are exact and add up, with the few instructions of `net_invoke`
itself, to the inference between the harness's two count marks.

Each core's code runs on the machine its record names: the Cortex-M0+'s, compiled for
Armv6-M, on the Cortex-M3 machine, which executes that subset unchanged, so the instruction
stream counted is the M0+'s own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcudeploy.emulation import InstructionCounting, Target
from mcudeploy.emulation.harness import PREFIX, HarnessRun, build_harness, generate_project, run_harness
from mcudeploy.emulation.plugin import ExecutionCounts
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate.memory import MemoryTiming, ProgramLayout, program_layout
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Graph
from mcudeploy.memory import MemoryPlan

INVOKE_FUNCTION = f"{PREFIX}_invoke"
SCOPE_CLOSERS = (INVOKE_FUNCTION, "main")


LAYER_FUNCTIONS = {"MD_PROFILE_LAYERS": None}
"""The define keeping each layer a function of its own (MD_LAYER in mdnn/Include/md_nn.h): what
per-layer counts and stack depths attribute by."""


def layer_function(index: int) -> str:
    return f"{PREFIX}_layer_{index}"


@dataclass(frozen=True)
class ModelRun:
    """What one inference executed: per layer (operator index) and between the count marks."""

    target: str
    layers: dict[int, ExecutionCounts]
    inference: ExecutionCounts
    elf: Path


def build_model(graph: Graph, plan: MemoryPlan, portable: bool, target: Target, workdir: Path) -> Path:
    """Generate the model's C and build it with the harness for `target` with one function per
    layer (MD_PROFILE_LAYERS): with the best kernel paths the core has, or its portable C
    (`portable`, MD_PORTABLE)."""
    code = generate_project(graph, plan, target, workdir / "generated")
    defines = {**LAYER_FUNCTIONS, **({"MD_PORTABLE": None} if portable else {})}
    return build_harness(graph, code, target, workdir, extra_defines=defines)


def counting_for(graph: Graph, layout: ProgramLayout, memory: MemoryTiming) -> InstructionCounting:
    return InstructionCounting(
        per_function=True,
        scopes=tuple(layer_function(op.index) for op in graph.operators),
        scope_closers=SCOPE_CLOSERS,
        memory=memory.plugin_ranges(layout),
        cache=memory.cache,
    )


def measured_inputs(graph: Graph) -> list[np.ndarray]:
    """The inputs of the measured inference: seeded random ones."""
    return random_inputs(graph, 0)


def run_model(graph: Graph, elf: Path, target: Target, memory: MemoryTiming, workdir: Path) -> ModelRun:
    """One inference of the built model on `measured_inputs`, counted per layer."""
    counting = counting_for(graph, program_layout(elf, target), memory)
    result = run_harness(graph, target, elf, measured_inputs(graph), workdir, counting)
    _check_counted(graph, result, target.name)
    counts = result.program.counts
    assert counts is not None
    intervals = counts.mark_intervals()
    layers = {op.index: counts.scope_counts[layer_function(op.index)].counts for op in graph.operators}
    return ModelRun(target.name, layers, intervals[0], elf)


def _check_counted(graph: Graph, result: HarnessRun, target: str) -> None:
    counts = result.program.counts
    if counts is None or not counts.mark_intervals():
        raise McuDeployError(graph.subject, f"the generated code on {target} ran without reaching its count marks")
