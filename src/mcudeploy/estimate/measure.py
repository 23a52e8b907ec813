"""Running a model's generated C on an emulated core and counting what each layer executes.

The generated code is built with the validation harness for the QEMU machine of the
device's core and run once on seeded random inputs. The counting plugin attributes every
instruction executed inside `net_layer_<index>` and the kernels it calls to that layer
(a call ends when execution is back in `net_invoke`, or in `main` after a tail call), so
per-layer figures are exact and add up, with the few instructions of `net_invoke` itself,
to the inference between the harness's two count marks.

Cortex-M0+ has no QEMU machine: its code is compiled for Armv6-M (-mcpu=cortex-m0plus) and
run on the Cortex-M3 machine, which executes that subset unchanged, so the instruction
stream counted is the M0+'s own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from mcudeploy.codegen import generate
from mcudeploy.emulation import InstructionCounting, RunResult, Target, get_target, run_elf
from mcudeploy.emulation.plugin import ExecutionCounts
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate.memory import MemoryTiming, ProgramLayout, program_layout
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Graph
from mcudeploy.memory import MemoryPlan
from mcudeploy.validation.harness import ARENA_SECTION, build_harness, write_inputs
from mcudeploy.validation.runner import PREFIX

INVOKE_FUNCTION = f"{PREFIX}_invoke"
SCOPE_CLOSERS = (INVOKE_FUNCTION, "main")
RUN_TIMEOUT_S = 600.0

M0PLUS_TARGET = dataclasses.replace(
    get_target("m3"),
    name="m0plus",
    description="Cortex-M0+ code (Armv6-M) on QEMU mps2-an385",
    cflags=("-mcpu=cortex-m0plus", "-mthumb"),
)


def emulation_target(machine: str) -> Target:
    """The target a core's code is built for: an emulated one, or Armv6-M code on the M3 machine."""
    return M0PLUS_TARGET if machine == M0PLUS_TARGET.name else get_target(machine)


LAYER_FUNCTIONS = {"MD_PROFILE_LAYERS": None}
"""The define keeping each layer a function of its own (MD_LAYER in mdnn/Include/md_common.h): what
per-layer counts and stack depths attribute by."""


def layer_function(index: int) -> str:
    return f"{PREFIX}_layer_{index}"


@dataclass(frozen=True)
class ModelRun:
    """What one inference executed: per layer (operator index) and between the count marks."""

    machine: str
    layers: dict[int, ExecutionCounts]
    inference: ExecutionCounts
    elf: Path


def build_model(graph: Graph, plan: MemoryPlan, portable: bool, machine: str, workdir: Path) -> Path:
    """Generate the model's C and the validation harness, and build it for `machine` with one function
    per layer (MD_PROFILE_LAYERS): with the best kernel paths the core has, or its portable C
    (`portable`, MD_PORTABLE)."""
    code = generate(graph, plan, workdir / "generated", PREFIX, ARENA_SECTION, force=True)
    defines = {**LAYER_FUNCTIONS, **({"MD_PORTABLE": None} if portable else {})}
    return build_harness(graph, code, emulation_target(machine), workdir, extra_defines=defines)


def counting_for(graph: Graph, layout: ProgramLayout, memory: MemoryTiming) -> InstructionCounting:
    return InstructionCounting(
        per_function=True,
        scopes=tuple(layer_function(op.index) for op in graph.operators),
        scope_closers=SCOPE_CLOSERS,
        memory=memory.plugin_ranges(layout),
        cache=memory.cache,
    )


def run_model(graph: Graph, elf: Path, machine: str, memory: MemoryTiming, workdir: Path) -> ModelRun:
    """One inference of the built model on seeded random inputs, counted per layer."""
    target = emulation_target(machine)
    write_inputs(graph, random_inputs(graph, 0), workdir)
    counting = counting_for(graph, program_layout(elf, target), memory)
    result = run_elf(target, elf, workdir, RUN_TIMEOUT_S, plugin=counting)
    _check_run(graph, result, machine)
    assert result.counts is not None
    intervals = result.counts.mark_intervals()
    layers = {op.index: result.counts.scope_counts[layer_function(op.index)].counts for op in graph.operators}
    return ModelRun(machine, layers, intervals[0], elf)


def _check_run(graph: Graph, result: RunResult, machine: str) -> None:
    if result.exit_code != 0 or result.counts is None or not result.counts.mark_intervals():
        detail = result.stdout.strip() or result.stderr.strip()
        raise McuDeployError(
            graph.subject, f"the generated code failed on {machine} (exit code {result.exit_code}) {detail}".strip()
        )
