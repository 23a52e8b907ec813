"""Generate, build and run a model's C code on each target, and compare with the reference engine.

Per target: the generated project is built with the harness (once), then run once
per input set; outputs are compared with the engine's, and on emulated cores the
instructions of one inference are counted exactly. With `per_layer` (or after a
mismatch) a second build dumps every layer's output so the first diverging layer
and element can be named. With `guard_bytes`, every buffer and constant array is
followed by a red zone the harness poisons (for the `host-sanitized` target).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mcudeploy.codegen import GeneratedCode, generate
from mcudeploy.emulation import ElfImage, InstructionCounting, get_target, run_elf
from mcudeploy.engine import Engine, RunResult
from mcudeploy.errors import McuDeployError
from mcudeploy.ir import Graph, Tensor
from mcudeploy.memory import plan_memory
from mcudeploy.memory.planners.guarded import plan_guarded
from mcudeploy.validation.guards import red_zones
from mcudeploy.validation.harness import ARENA_SECTION, build_harness, write_inputs
from mcudeploy.validation.metrics import OutputMetrics, compare

PREFIX = "net"
MARK_OVERHEAD = 3
"""Instructions between two count marks that are not the inference: the first mark's return,
the call into the network and the call to the second mark."""
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
    outputs: list[OutputMetrics]
    values: list[np.ndarray] = field(default_factory=list, repr=False)
    """The outputs the generated code computed."""
    instructions: int | None = None
    agrees: bool = True
    divergence: Divergence | None = None


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


class Validator:
    """Validates one model: its plan and generated code are shared by every target."""

    def __init__(
        self, graph: Graph, planner: str = "mcudeploy", workdir: Path | None = None, guard_bytes: int = 0
    ) -> None:
        """With `guard_bytes`: the guarded plan with the scratch buffers `planner` reserves for our kernels
        (TFLite Micro's: none), and constants with red zones."""
        self.graph = graph
        self.guard_bytes = guard_bytes
        if guard_bytes:
            self.plan = plan_guarded(graph, guard_bytes=guard_bytes, scratch=planner != "tflm")
        else:
            self.plan = plan_memory(graph, planner=planner)
        self.engine = Engine(graph)
        self._scratch = None if workdir else tempfile.TemporaryDirectory(prefix="mcudeploy-validate-")
        self.workdir = Path(workdir) if workdir else Path(self._scratch.name)
        self._generated: dict[str | None, GeneratedCode] = {}
        """By core (None: host, portable C)."""
        self._references: dict[int, RunResult] = {}

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()

    def reference(self, index: int, inputs: Sequence[np.ndarray]) -> RunResult:
        if index not in self._references:
            self.engine.reset()  # each input runs in a fresh program: its state starts from the reset values
            self._references[index] = self.engine.run(inputs)
        return self._references[index]

    def validate_target(
        self,
        target_name: str,
        input_sets: Sequence[Sequence[np.ndarray]],
        per_layer: bool = False,
        on_input_done: Callable[[], None] | None = None,
    ) -> TargetResult:
        target = get_target(target_name)
        elf = self.build(target_name, dump=False)
        result = TargetResult(target=target_name)
        if not target.is_host:
            sizes = ElfImage(elf).section_sizes()
            result.sections = {"text": sizes.text, "rodata": sizes.rodata, "data": sizes.data, "bss": sizes.bss}
        dump_elf: Path | None = None
        for index, inputs in enumerate(input_sets):
            reference = self.reference(index, inputs)
            outputs, instructions = self._run(target_name, elf, inputs, f"{target_name}-{index}")
            metrics = [
                compare(got, reference.outputs[i], tensor)
                for i, (got, tensor) in enumerate(zip(outputs, self.graph.graph_outputs, strict=True))
            ]
            item = InputResult(outputs=metrics, values=outputs, instructions=instructions)
            item.agrees = all(
                output_agrees(got, expected, tensor)
                for got, expected, tensor in zip(outputs, reference.outputs, self.graph.graph_outputs, strict=True)
            )
            if per_layer or not item.agrees:
                dump_elf = dump_elf or self.build(target_name, dump=True)
                item.divergence = self._first_divergence(target_name, dump_elf, inputs, reference, index)
            result.inputs.append(item)
            if on_input_done:
                on_input_done()
        return result

    def code_for(self, target_name: str) -> GeneratedCode:
        """The generated project a target builds (no arena section on the host)."""
        section = None if target_core(target_name) is None else ARENA_SECTION
        if section not in self._generated:
            folder = self.workdir / ("gen-host" if section is None else "gen")
            self._generated[section] = generate(
                self.graph, self.plan, folder, PREFIX, section, force=True, guard_bytes=self.guard_bytes
            )
        return self._generated[section]

    def build(self, target_name: str, dump: bool = False) -> Path:
        """Build the harness ELF for a target; `dump` adds the per-layer tensor dump."""
        folder = self.workdir / f"build-{target_name}{'-dump' if dump else ''}"
        zones = red_zones(self.graph, self.plan, self.guard_bytes) if self.guard_bytes else None
        code, target = self.code_for(target_name), get_target(target_name)
        return build_harness(self.graph, code, target, folder, dump, red_zones=zones)

    def _run(
        self, target_name: str, elf: Path, inputs: Sequence[np.ndarray], run_name: str
    ) -> tuple[list[np.ndarray], int | None]:
        folder = self.workdir / "runs" / run_name
        folder.mkdir(parents=True, exist_ok=True)
        write_inputs(self.graph, inputs, folder)
        counting = None if get_target(target_name).is_host else InstructionCounting(per_function=False)
        run = run_elf(target_name, elf, folder, timeout_s=600.0, plugin=counting)
        if run.exit_code != 0:
            report = _sanitizer_report(run.stderr)
            raise McuDeployError(
                self.graph.subject, f"the generated code failed on {target_name} (exit code {run.exit_code}){report}"
            )
        outputs = [
            _read_tensor(folder / f"output_{i}.bin", tensor) for i, tensor in enumerate(self.graph.graph_outputs)
        ]
        between = run.instructions_between_marks() if counting else []
        instructions = between[0] - MARK_OVERHEAD if between else None
        return outputs, instructions

    def _first_divergence(
        self, target_name: str, elf: Path, inputs: Sequence[np.ndarray], reference: RunResult, index: int
    ) -> Divergence | None:
        folder = self.workdir / "runs" / f"{target_name}-{index}-dump"
        self._run(target_name, elf, inputs, folder.name)
        for op in self.graph.operators:
            for tensor_index in op.outputs:
                tensor = self.graph.tensors[tensor_index]
                path = folder / f"tensor_{tensor_index}.bin"
                if not path.exists():
                    continue
                got = _read_tensor(path, tensor)
                expected = reference.tensors[tensor_index]
                differing = np.flatnonzero(_differs(got, expected, tensor))
                if differing.size:
                    first = int(differing[0])
                    return Divergence(
                        op.index, op.op_type, tensor.name, first,
                        got.flat[first].item(), expected.flat[first].item(), int(differing.size),
                    )  # fmt: skip
        return None


def _sanitizer_report(stderr: str) -> str:
    """The sanitizer's first line saying what went wrong and where, when one stopped the program."""
    found = (line.strip() for line in stderr.splitlines() if "runtime error:" in line or line.startswith("SUMMARY:"))
    return next((f": {line}" for line in found), "")


def target_core(target_name: str) -> str | None:
    """The core a target emulates, from its -mcpu flag (None for the host)."""
    flags = [f for f in get_target(target_name).cflags if f.startswith("-mcpu=")]
    return flags[0].removeprefix("-mcpu=") if flags else None


def _read_tensor(path: Path, tensor: Tensor) -> np.ndarray:
    data = path.read_bytes()
    if len(data) != tensor.nbytes:
        raise McuDeployError(str(path), f"holds {len(data)} bytes, tensor '{tensor.name}' has {tensor.nbytes}")
    return np.frombuffer(data, dtype=tensor.dtype.numpy).reshape(tensor.shape)
