"""The generated C on each target against the reference engine: validation only compares.

Per target the one harness (`mcudeploy.emulation.harness`) builds the generated project
(once) and runs it once per input set; outputs are compared with the engine's, and on
emulated cores the instructions of one inference are counted exactly. With `per_layer` (or
after a mismatch) a second build dumps every layer's output so the first diverging layer
and element can be named. With `guard_bytes`, every buffer and constant array is followed
by a red zone the harness poisons (for the `host-sanitized` target).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mcudeploy.codegen import GeneratedCode
from mcudeploy.emulation import ElfImage, InstructionCounting, get_target
from mcudeploy.emulation.guards import red_zones
from mcudeploy.emulation.harness import HarnessRun, StepOutputs, build_harness, generate_project, run_harness_steps
from mcudeploy.engine import Engine, RunResult
from mcudeploy.ir import Graph, Tensor
from mcudeploy.ir.shapes import graph_can_wait
from mcudeploy.memory import plan_memory
from mcudeploy.memory.planners.guarded import plan_guarded
from mcudeploy.validation.metrics import OutputMetrics, compare

FLOAT_TOLERANCE = 1e-5
"""Float outputs agree when within this fraction of the reference's largest magnitude."""


@dataclass(frozen=True)
class Divergence:
    """The first layer (in execution order) whose output differs from the engine's."""

    layer: int
    op: str
    tensor: str
    flat_index: int
    got: float
    expected: float
    differing: int


@dataclass
class InputResult:
    outputs: list[OutputMetrics | None]
    """Per output; None for one the run did not produce (it waited for frames before its layer)."""
    values: list[np.ndarray] = field(default_factory=list, repr=False)
    """The outputs the generated code computed."""
    instructions: int | None = None
    agrees: bool = True
    divergence: Divergence | None = None
    waiting_at: int | None = None
    """The layer (a CIRCULAR_BUFFER) at which the generated code ended the run waiting for frames."""
    engine_waiting_at: int | None = None
    """The same, in the reference engine: they agree only when both waited at the same layer."""


@dataclass
class TargetResult:
    target: str
    inputs: list[InputResult] = field(default_factory=list)
    sections: dict[str, int] | None = None
    """text/rodata/data/bss bytes of the linked ELF (emulated targets)."""
    error: str | None = None
    """Why the target could not be built or run (then it has no inputs)."""

    @property
    def passed(self) -> bool:
        return self.error is None and all(r.agrees for r in self.inputs)

    @property
    def instructions_per_inference(self) -> int | None:
        counts = [r.instructions for r in self.inputs if r.instructions is not None]
        return max(counts) if counts else None


def _differs(got: np.ndarray, expected: np.ndarray, tensor: Tensor) -> np.ndarray:
    """Per element: integers must be bit-exact; floats within the stated tolerance of the tensor's scale
    (its largest finite magnitude), infinities equal, NaN where the reference has NaN."""
    if not tensor.dtype.is_float:
        return got != expected
    expected = np.asarray(expected, dtype=np.float64)
    finite = expected[np.isfinite(expected)]
    scale = max(float(np.max(np.abs(finite), initial=0.0)), np.finfo(np.float32).tiny)
    with np.errstate(invalid="ignore"):
        close = np.abs(got.astype(np.float64) - expected) <= FLOAT_TOLERANCE * scale
    return ~(close | (got == expected) | (np.isnan(got) & np.isnan(expected)))


def output_agrees(got: np.ndarray, expected: np.ndarray, tensor: Tensor) -> bool:
    return not _differs(got, expected, tensor).any()


class PlacedCode(NamedTuple):
    """Where one emulated target's program runs its hot code (`emulation.linker`)."""

    target: str
    code_section: str
    fast_functions: Sequence[str] | None
    """None: all of it; else only the functions named (`estimate.hot_code`)."""


@dataclass
class _DumpBuild:
    """A target's dump build, made when a divergence is first to be named, and (streaming) its run."""

    elf: Path | None = None
    steps: list[StepOutputs] | None = None


class Validator:
    """Validates one model: its plan and generated code are shared by every target."""

    def __init__(
        self, graph: Graph, planner: str = "mcudeploy", workdir: Path | None = None, guard_bytes: int = 0
    ) -> None:
        """With `guard_bytes`: the guarded plan with the scratch buffers `planner` reserves for our kernels
        (TFLite Micro's: none), and constants with red zones."""
        self.graph = graph
        self.guard_bytes = guard_bytes
        self.placed_code: PlacedCode | None = None
        """The one emulated program linked with its hot code out of flash; every other links it in flash."""
        if guard_bytes:
            self.plan = plan_guarded(graph, guard_bytes=guard_bytes, scratch=planner != "tflm")
        else:
            self.plan = plan_memory(graph, planner=planner)
        self.engine = Engine(graph)
        self._scratch = None if workdir else tempfile.TemporaryDirectory(prefix="mcudeploy-validate-")
        self.workdir = Path(workdir) if workdir else Path(self._scratch.name)
        self._generated: dict[str, GeneratedCode] = {}
        """By core (None: host, portable C)."""
        self._references: dict[int, RunResult] = {}
        self.streaming = graph_can_wait(graph)
        """A CIRCULAR_BUFFER waits for frames: the input sets are successive frames of one program (one
        init, the state carrying over, as a TFLM application feeds them), not each a fresh program."""

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()

    def __enter__(self) -> Validator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reference(self, index: int, inputs: Sequence[np.ndarray]) -> RunResult:
        if index not in self._references:
            # each input runs in a fresh program: its state starts from the reset values, CALL_ONCE runs again
            self.engine.reset(restart=True)
            self._references[index] = self.engine.run(inputs)
        return self._references[index]

    def references(self, input_sets: Sequence[Sequence[np.ndarray]]) -> list[RunResult]:
        """The engine's result for each input set: each from the reset state, or (streaming) in turn."""
        if not self.streaming:
            return [self.reference(index, inputs) for index, inputs in enumerate(input_sets)]
        self.engine.reset(restart=True)  # one fresh program
        return [self.engine.run(inputs) for inputs in input_sets]

    def validate_target(
        self,
        target_name: str,
        input_sets: Sequence[Sequence[np.ndarray]],
        per_layer: bool = False,
        on_input_done: Callable[[], None] | None = None,
    ) -> TargetResult:
        target = get_target(target_name)
        steps = len(input_sets) if self.streaming else 1
        elf = self.build(target_name, dump=False, steps=steps)
        result = TargetResult(target=target_name)
        if not target.is_host:
            sizes = ElfImage(elf).section_sizes()
            result.sections = {"text": sizes.text, "rodata": sizes.rodata, "data": sizes.data, "bss": sizes.bss}
        dumps = _DumpBuild()
        references = self.references(input_sets)
        for index, (run, instructions) in enumerate(self._inferences(target_name, elf, input_sets, target_name)):
            reference = references[index]
            # On a run that waited for frames, as TFLM's kTfLiteAbort, only the outputs of the layers
            # that ran are produced; the others hold whatever their buffers held, in C as in TFLM.
            produced = [reference.produced(self.graph, i) for i in self.graph.outputs]
            compared = list(zip(run.outputs, reference.outputs, self.graph.graph_outputs, produced, strict=True))
            item = InputResult(
                outputs=[compare(got, expected, tensor) if made else None for got, expected, tensor, made in compared],
                values=run.outputs,
                instructions=instructions,
                waiting_at=run.waiting_at,
                engine_waiting_at=reference.waiting_at,
            )
            item.agrees = run.waiting_at == reference.waiting_at and all(
                output_agrees(got, expected, tensor) for got, expected, tensor, made in compared if made
            )
            if per_layer or not item.agrees:
                item.divergence = self._first_divergence(self._dumped(target_name, input_sets, index, dumps), reference)
            result.inputs.append(item)
            if on_input_done:
                on_input_done()
        return result

    def _inferences(
        self, target_name: str, elf: Path, input_sets: Sequence[Sequence[np.ndarray]], run_name: str
    ) -> Iterator[tuple[StepOutputs, int | None]]:
        """What each input set's inference wrote on the target, and its instructions (emulated cores):
        one program per input set, or (streaming) one program running them in turn."""
        if self.streaming:
            run = self._run(target_name, elf, input_sets, run_name)
            yield from zip(run.steps, run.step_instructions or [None] * len(run.steps), strict=True)
            return
        for index, inputs in enumerate(input_sets):
            run = self._run(target_name, elf, [inputs], f"{run_name}-{index}")
            yield run.steps[0], run.instructions

    def code_for(self, target_name: str) -> GeneratedCode:
        """The generated project a target builds (the same for every core; no arena section on the
        host)."""
        target = get_target(target_name)
        key = "host" if target.is_host else "emulated"
        if key not in self._generated:
            self._generated[key] = generate_project(
                self.graph, self.plan, target, self.workdir / f"gen-{key}", guard_bytes=self.guard_bytes
            )
        return self._generated[key]

    def build(self, target_name: str, dump: bool = False, steps: int = 1) -> Path:
        """Build the harness ELF for a target; `dump` adds the per-layer tensor dump; `steps`
        inferences after one init."""
        folder = self.workdir / f"build-{target_name}{'-dump' if dump else ''}"
        zones = red_zones(self.graph, self.plan, self.guard_bytes) if self.guard_bytes else None
        code, target = self.code_for(target_name), get_target(target_name)
        placed = self.placed_code
        section, functions = ("flash", None)
        if placed is not None and placed.target == target_name:
            section, functions = placed.code_section, placed.fast_functions
        return build_harness(
            self.graph, code, target, folder, dump, red_zones=zones, steps=steps, code_section=section,
            fast_functions=functions,
        )  # fmt: skip

    def _run(
        self, target_name: str, elf: Path, input_sets: Sequence[Sequence[np.ndarray]], run_name: str
    ) -> HarnessRun:
        target = get_target(target_name)
        counting = None if target.is_host else InstructionCounting(per_function=False)
        return run_harness_steps(self.graph, target, elf, input_sets, self.workdir / "runs" / run_name, counting)

    def _dumped(
        self, target_name: str, input_sets: Sequence[Sequence[np.ndarray]], index: int, dumps: _DumpBuild
    ) -> dict[int, np.ndarray]:
        """Every layer's output of input set `index` on the target, from the dump build (made once):
        a program of its own, or (streaming) the whole run's program, run once."""
        if dumps.elf is None:
            dumps.elf = self.build(target_name, dump=True, steps=len(input_sets) if self.streaming else 1)
        if not self.streaming:
            return self._run(target_name, dumps.elf, [input_sets[index]], f"{target_name}-{index}-dump").layer_tensors
        if dumps.steps is None:
            dumps.steps = self._run(target_name, dumps.elf, input_sets, f"{target_name}-dump").steps
        return dumps.steps[index].layer_tensors

    def _first_divergence(self, dumped: dict[int, np.ndarray], reference: RunResult) -> Divergence | None:
        for op in self.graph.operators:
            for tensor_index in op.outputs:
                tensor = self.graph.tensors[tensor_index]
                if tensor_index not in dumped:
                    continue
                got = dumped[tensor_index]
                expected = reference.tensors[tensor_index]
                differing = np.flatnonzero(_differs(got, expected, tensor))
                if differing.size:
                    first = int(differing[0])
                    return Divergence(
                        op.index, op.op_type, tensor.name, first,
                        got.flat[first].item(), expected.flat[first].item(), int(differing.size),
                    )  # fmt: skip
        return None
