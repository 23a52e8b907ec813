"""The plan checker: proves a memory plan safe, twice.

1. `check_layout` (static): every arena tensor has a buffer covering its whole
   lifetime and size, every kernel its scratch, offsets are aligned and inside
   the arena, and no two buffers live at the same step share a byte, except an
   alias with its own source and pairs whose kernel declared the overlap safe
   (`mcudeploy.kernels.contracts`) at offsets its condition accepts. Lifetimes,
   aliases and permits are derived again from the graph, not taken from the plan.
2. `check_execution` (dynamic): the reference engine runs on a simulated arena,
   one byte array. Graph inputs are written at their offsets; before each
   operator its scratch is filled with noise; its inputs are read back from the
   arena; where an output overlaps an input, the kernel's declared access
   schedule decides which input bytes are read after being overwritten (with no
   declaration, all of them are), and the operator sees those bytes as written;
   its outputs are then written at their offsets. Every value read and written,
   and the final outputs, must equal a plain engine run bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mcudeploy.engine import run
from mcudeploy.engine.registry import KERNELS, OpContext
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Graph, Operator
from mcudeploy.kernels.contracts import AccessSchedule
from mcudeploy.memory.plan import Buffer, MemoryPlan, OverlapPermit
from mcudeploy.memory.planners.tflm import tflm_scratch_requests
from mcudeploy.memory.sharing import ArenaTensors, arena_tensors


def check_plan(graph: Graph, plan: MemoryPlan, inputs: Sequence[np.ndarray] | None = None) -> list[str]:
    """Both checks; the problems found, empty when the plan is safe."""
    problems = check_layout(graph, plan)
    return problems + check_execution(graph, plan, inputs if inputs is not None else random_inputs(graph))


# ------------------------------------------------------------------ static


def check_layout(graph: Graph, plan: MemoryPlan) -> list[str]:
    tensors = arena_tensors(graph)
    by_tensor = {b.tensor: b for b in plan.buffers if b.tensor is not None}
    problems = _coverage_problems(graph, plan, tensors, by_tensor)
    problems += _alias_problems(plan, tensors, by_tensor)
    if problems:
        return problems
    group = {b.name: _group_key(b, tensors) for b in plan.buffers}
    permits: dict[frozenset[str], list[OverlapPermit]] = {}
    for permit in tensors.permits:
        permits.setdefault(frozenset((permit.reader, permit.writer)), []).append(permit)
    offsets = {b.name: b.offset for b in plan.buffers}
    for step in range(len(graph.operators)):
        live = sorted(plan.live_buffers(step), key=lambda b: b.offset)
        for i, low in enumerate(live):
            for high in live[i + 1 :]:
                if high.offset >= low.end:
                    break
                if group[low.name] == group[high.name]:
                    continue
                declared = permits.get(frozenset((low.name, high.name)), [])
                if declared and all(p.allows(offsets[p.reader], offsets[p.writer]) for p in declared):
                    continue
                problems.append(
                    f"step {step}: '{low.name}' [{low.offset}, {low.end}) and '{high.name}' "
                    f"[{high.offset}, {high.end}) share bytes and no kernel declares it safe"
                )
    return problems


def _coverage_problems(
    graph: Graph, plan: MemoryPlan, tensors: ArenaTensors, by_tensor: dict[int, Buffer]
) -> list[str]:
    problems = []
    for index, life in tensors.lifetimes.items():
        buffer = by_tensor.get(index)
        if buffer is None:
            problems.append(f"tensor {index} '{tensors.names[index]}' has no buffer")
        elif buffer.first > life.first or buffer.last < life.last or buffer.size < life.size:
            problems.append(
                f"'{buffer.name}': steps {buffer.first}..{buffer.last}, {buffer.size} bytes; "
                f"needs steps {life.first}..{life.last}, {life.size} bytes"
            )
    for op in graph.operators:
        have = sorted(b.size for b in plan.buffers if b.scratch_of == op.index and b.live_at(op.index))
        need = sorted(_scratch_needed(graph, plan, tensors, op))
        if len(have) != len(need) or any(h < n for h, n in zip(have, need, strict=True)):
            problems.append(f"{op.label}: scratch buffers of {have} bytes, its kernel needs {need}")
    for b in plan.buffers:
        if b.offset < 0 or b.offset % plan.alignment or b.end > plan.arena_bytes:
            problems.append(
                f"'{b.name}' at [{b.offset}, {b.end}) is unaligned or outside the {plan.arena_bytes}-byte arena"
            )
    return problems


def _scratch_needed(graph: Graph, plan: MemoryPlan, tensors: ArenaTensors, op: Operator) -> list[int]:
    if plan.planner == "tflm":
        return tflm_scratch_requests(graph, op)
    scratch = tensors.contracts[op.index].scratch_bytes
    return [scratch] if scratch else []


def _alias_problems(plan: MemoryPlan, tensors: ArenaTensors, by_tensor: dict[int, Buffer]) -> list[str]:
    problems = []
    for buffer in plan.buffers:
        if buffer.alias_of is None:
            continue
        source = by_tensor.get(buffer.alias_of)
        if source is None or tensors.root.get(buffer.tensor) != tensors.root.get(buffer.alias_of):
            problems.append(f"'{buffer.name}' claims to reuse tensor {buffer.alias_of}, which no kernel declares")
        elif source.offset != buffer.offset:
            problems.append(f"'{buffer.name}' aliases '{source.name}' but sits at {buffer.offset}, not {source.offset}")
    return problems


def _group_key(buffer: Buffer, tensors: ArenaTensors) -> str | int:
    """Buffers sharing a key are one set of bytes: a declared alias and its source."""
    if buffer.tensor is None:
        return buffer.name
    return tensors.root[buffer.tensor] if buffer.alias_of is not None else buffer.tensor


# ------------------------------------------------------------------ dynamic


class _Arena:
    def __init__(self, graph: Graph, plan: MemoryPlan):
        self.graph = graph
        self.bytes = np.full(plan.arena_bytes, 0xA5, dtype=np.uint8)
        self.buffers = {b.tensor: b for b in plan.buffers if b.tensor is not None}

    def span(self, tensor: int) -> slice:
        buffer = self.buffers[tensor]
        return slice(buffer.offset, buffer.offset + self.graph.tensors[tensor].nbytes)

    def read(self, tensor: int) -> np.ndarray:
        t = self.graph.tensors[tensor]
        return self.bytes[self.span(tensor)].copy().view(t.dtype.numpy).reshape(t.shape)

    def write(self, tensor: int, value: np.ndarray) -> None:
        self.bytes[self.span(tensor)] = _as_bytes(value)


def check_execution(graph: Graph, plan: MemoryPlan, inputs: Sequence[np.ndarray]) -> list[str]:
    expected = run(graph, inputs).tensors
    arena = _Arena(graph, plan)
    tensors = arena_tensors(graph)
    noise = np.random.default_rng(1)
    for index in graph.inputs:
        arena.write(index, expected[index])
    problems: list[str] = []
    for op in graph.operators:
        for scratch in (b for b in plan.buffers if b.scratch_of == op.index):
            arena.bytes[scratch.offset : scratch.end] = noise.integers(0, 256, scratch.size, dtype=np.uint8)
        args = [_input_value(graph, arena, index) for index in op.inputs]
        for index, value in zip(op.inputs, args, strict=True):
            if index in arena.buffers and not np.array_equal(value, expected[index]):
                problems.append(f"{op.label} reads '{tensors.names[index]}' corrupted in the arena")
        results = _compute(op, graph, args)
        args, corrupted = _inputs_as_seen(op, graph, arena, tensors, args, results)
        if corrupted:
            problems.append(f"{op.label} overwrites input bytes before reading them ({corrupted} bytes)")
            results = _compute(op, graph, args)
        for index, value in zip(op.outputs, results, strict=True):
            if index not in arena.buffers:
                continue
            if arena.buffers[index].alias_of is None:
                arena.write(index, value)
            if not np.array_equal(arena.read(index), expected[index]):
                problems.append(f"{op.label} gives '{tensors.names[index]}' unlike the plain run")
    for index in graph.outputs:
        if index in arena.buffers and not np.array_equal(arena.read(index), expected[index]):
            problems.append(f"graph output '{tensors.names[index]}' differs from the plain run after the last step")
    return problems


def _input_value(graph: Graph, arena: _Arena, index: int) -> np.ndarray | None:
    if index < 0:
        return None
    tensor = graph.tensors[index]
    return tensor.data if index not in arena.buffers else arena.read(index)


def _compute(op: Operator, graph: Graph, args: list[np.ndarray | None]) -> list[np.ndarray]:
    result = KERNELS[op.op_type](OpContext(op, graph, args))
    return [result] if isinstance(result, np.ndarray) else list(result)


def _inputs_as_seen(
    op: Operator,
    graph: Graph,
    arena: _Arena,
    tensors: ArenaTensors,
    args: list[np.ndarray | None],
    results: list[np.ndarray],
) -> tuple[list[np.ndarray | None], int]:
    """The inputs as the kernel reads them when its outputs overlap them, and how many bytes changed."""
    schedules = {(rule.input, rule.output): rule.schedule for rule in tensors.contracts[op.index].overlaps}
    seen = list(args)
    changed = 0
    for position, index in enumerate(op.inputs):
        if index not in arena.buffers:
            continue
        data = _as_bytes(seen[position]).copy()
        in_span = arena.span(index)
        for out_position, out_index in enumerate(op.outputs):
            if out_index not in arena.buffers or arena.buffers[out_index].alias_of is not None:
                continue
            out_span = arena.span(out_index)
            if out_span.start >= in_span.stop or in_span.start >= out_span.stop:
                continue
            schedule = schedules.get((position, out_position))
            shift = out_span.start - in_span.start
            inputs_hit, outputs_hit = _destroyed(schedule, shift, len(data), out_span.stop - out_span.start)
            data[inputs_hit] = _as_bytes(results[out_position])[outputs_hit]
        tensor = graph.tensors[index]
        changed += int(np.count_nonzero(data != _as_bytes(args[position])))
        seen[position] = data.view(tensor.dtype.numpy).reshape(tensor.shape)
    return seen, changed


def _destroyed(
    schedule: AccessSchedule | None, shift: int, in_bytes: int, out_bytes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Input bytes overwritten before their last read, and the output bytes overwriting them.
    Without a declared schedule every shared byte counts as overwritten first."""
    if schedule is not None:
        return schedule.destroyed_reads(shift)
    outputs = np.arange(max(0, -shift), min(out_bytes, in_bytes - shift))
    return outputs + shift, outputs


def _as_bytes(value: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(value).reshape(-1).view(np.uint8)
