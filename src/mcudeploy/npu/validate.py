"""The generated Cortex-M + Ethos-U project's CPU segments, checked bit for bit on QEMU.

NPU arithmetic is not emulated: a stub stands in for the Ethos-U driver, records each job (command
stream size, base addresses and sizes) and fills the segment's outputs with what the reference
engine computed for the original model. Everything else — our kernels for the fallback operators,
the arena laid out as Vela planned it, the hand-over between the two — runs as generated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from mcudeploy.emulation import get_target
from mcudeploy.emulation.harness import ARENA_SECTION, PREFIX, build_harness, read_tensor, run_harness
from mcudeploy.engine import run as run_engine
from mcudeploy.errors import McuDeployError
from mcudeploy.ir import Graph
from mcudeploy.npu.codegen import generate_for_npu, offline_plan
from mcudeploy.npu.compiled import is_ethos_u

NOT_EMULATED = "NPU arithmetic is not emulated: each NPU segment's outputs are the reference engine's"
SCRATCH_BASE = 1
"""Vela's base address order: read-only data, scratch, fast scratch, then feature maps."""
FEATURE_MAP_BASES = 3


@dataclass(frozen=True)
class NpuJob:
    command_stream_bytes: int
    bases: tuple[tuple[int, int], ...]
    """(address, bytes) of each base address the generated code handed over."""


@dataclass(frozen=True)
class Comparison:
    tensor: str
    got: np.ndarray
    expected: np.ndarray

    @property
    def equal(self) -> bool:
        return self.got.tobytes() == np.ascontiguousarray(self.expected).tobytes()


@dataclass(frozen=True)
class NpuValidation:
    outputs: list[Comparison]
    """The model's outputs."""
    handed_over: list[Comparison]
    """Every NPU segment's inputs as the generated code handed them over (CPU results or model inputs)."""
    jobs: list[NpuJob]
    feature_maps_where_vela_put_them: bool
    """Every feature-map base address is the scratch base plus Vela's offset for that tensor."""
    note: str = NOT_EMULATED

    @property
    def bit_exact(self) -> bool:
        return all(c.equal for c in (*self.outputs, *self.handed_over))


def validate_cpu_segments(
    original: Graph, compiled_model: bytes, inputs: Sequence[np.ndarray], workdir: Path, target_name: str = "m55"
) -> NpuValidation:
    """Generate the project of Vela's `compiled_model`, run it on QEMU with the driver stub, compare."""
    target = get_target(target_name)
    code, compiled = generate_for_npu(compiled_model, workdir / "gen", PREFIX, ARENA_SECTION, True)
    reference = run_engine(original, inputs)
    folder = workdir / "run"
    folder.mkdir(parents=True, exist_ok=True)
    npu_ops = [op for op in compiled.operators if is_ethos_u(op)]
    _write_npu_outputs(original, compiled, npu_ops, reference.tensors, folder)
    stub = workdir / "md_ethosu_stub.c"
    stub.write_text(resources.files("mcudeploy.npu").joinpath("runtime/md_ethosu_stub.c").read_text())
    elf = build_harness(compiled, code, target, workdir, extra_sources=[stub])
    result = run_harness(compiled, target, elf, inputs, folder)
    by_name = {t.name: t.index for t in original.tensors}
    outputs = [
        Comparison(t.name, got, reference.outputs[i])
        for i, (t, got) in enumerate(zip(compiled.graph_outputs, result.outputs, strict=True))
    ]
    handed_over = [
        Comparison(
            compiled.tensors[t].name,
            read_tensor(folder / f"npu_{k}_in_{j}.bin", compiled.tensors[t]),
            reference.tensors[by_name[compiled.tensors[t].name]],
        )
        for k, op in enumerate(npu_ops)
        for j, t in enumerate(op.inputs[1 + FEATURE_MAP_BASES :])
    ]
    jobs = [_read_job(folder / f"npu_{k}_job.bin") for k in range(len(npu_ops))]
    placed = _placed_as_planned(compiled, compiled_model, npu_ops, jobs)
    return NpuValidation(outputs, handed_over, jobs, placed)


def _write_npu_outputs(original: Graph, compiled: Graph, npu_ops: list, values: dict, folder: Path) -> None:
    by_name = {t.name: t.index for t in original.tensors}
    for k, op in enumerate(npu_ops):
        for j, index in enumerate(op.outputs):
            name = compiled.tensors[index].name
            if name not in by_name:
                raise McuDeployError(original.subject, f"Vela's segment output '{name}' is not a tensor of the model")
            (folder / f"npu_{k}_out_{j}.bin").write_bytes(np.ascontiguousarray(values[by_name[name]]).tobytes())


def _read_job(path: Path) -> NpuJob:
    words = np.frombuffer(path.read_bytes(), dtype="<u8")
    pairs = words[1:].reshape(-1, 2)
    return NpuJob(int(words[0]), tuple((int(a), int(b)) for a, b in pairs))


def _placed_as_planned(compiled: Graph, model: bytes, npu_ops: list, jobs: list[NpuJob]) -> bool:
    offsets = {b.tensor: b.offset for b in offline_plan(compiled, model).buffers if b.tensor is not None}
    for op, job in zip(npu_ops, jobs, strict=True):
        scratch = job.bases[SCRATCH_BASE][0]
        tensors = [*op.inputs[1:], *op.outputs][FEATURE_MAP_BASES:]
        for tensor, (address, size) in zip(tensors, job.bases[FEATURE_MAP_BASES:], strict=True):
            if address - scratch != offsets[tensor] or size != compiled.tensors[tensor].nbytes:
                return False
    return True
