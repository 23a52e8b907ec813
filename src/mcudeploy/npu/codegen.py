"""The generated project for Cortex-M + Ethos-U: Vela's compiled graph as our C.

The graph Vela wrote (NPU segments as `ethos-u` operators, the fallback operators unchanged) goes
through our code generator with Vela's own arena plan: the command streams address the segments'
feature maps at the offsets Vela chose, so every tensor sits exactly there. Our kernels' scratch for
the fallback operators (which Vela does not plan) goes after Vela's arena; one runs at a time, so
they share one place.
"""

from __future__ import annotations

from pathlib import Path

from mcudeploy.codegen import GeneratedCode, generate
from mcudeploy.errors import McuDeployError
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.ir import Graph
from mcudeploy.kernels import kernel_contract
from mcudeploy.memory.budget import align_up
from mcudeploy.memory.lifetimes import buffer_names, scratch_name, tensor_lifetimes
from mcudeploy.memory.plan import Buffer, MemoryPlan
from mcudeploy.npu.compiled import is_ethos_u, offline_offsets

PLANNER = "vela"
ALIGNMENT = 16
"""Vela's CPU tensor alignment (its --cpu-tensor-alignment default), which the plan keeps."""


def offline_plan(graph: Graph, model: bytes) -> MemoryPlan:
    """Vela's arena plan for `graph` (read from `model`), with our fallback kernels' scratch after it."""
    offsets = offline_offsets(model)
    if offsets is None:
        raise McuDeployError(graph.subject, "the compiled model holds no offline arena plan from Vela")
    names = buffer_names(graph)
    buffers = [
        Buffer(names[index], life.size, life.first, life.last, int(offsets[index]), tensor=index)
        for index, life in tensor_lifetimes(graph).items()
        if index < len(offsets) and offsets[index] >= 0
    ]
    missing = [names[i] for i in tensor_lifetimes(graph) if i >= len(offsets) or offsets[i] < 0]
    if missing:
        raise McuDeployError(graph.subject, f"Vela's plan does not place {', '.join(missing)}")
    start = align_up(max((b.end for b in buffers), default=0), ALIGNMENT)
    scratch = []
    for op in graph.operators:
        needed = 0 if is_ethos_u(op) else kernel_contract(graph, op).scratch_bytes
        if needed:
            scratch.append(
                Buffer(scratch_name(graph, op.index), needed, op.index, op.index, start, scratch_of=op.index)
            )
    end = max([start, *(b.end for b in scratch)])
    return MemoryPlan(PLANNER, ALIGNMENT, buffers + scratch, align_up(end, ALIGNMENT))


def generate_for_npu(
    model: bytes,
    out_dir: Path,
    prefix: str = "net",
    arena_section: str | None = None,
    force: bool = False,
) -> tuple[GeneratedCode, Graph]:
    """Write the C project of Vela's compiled `model`; the compiled graph comes back with it."""
    graph = read_tflite(model)
    plan = offline_plan(graph, model)
    code = generate(graph, plan, out_dir, prefix=prefix, arena_section=arena_section, force=force)
    return code, graph
