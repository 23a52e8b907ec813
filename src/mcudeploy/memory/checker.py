"""The plan checker: proves a memory plan safe, twice.

1. `check_layout` (static): every arena tensor has a buffer covering its whole
   lifetime and size, every kernel its scratch, offsets are aligned and inside
   the arena, and no two buffers live at the same step share a byte, except an
   alias with its own source and pairs whose kernel declared the overlap safe
   (`mcudeploy.kernels.contracts`) at offsets its condition accepts. Lifetimes,
   aliases and permits are derived again from the graph, not taken from the plan.
   The buffers of the subgraphs IF, WHILE and CALL_ONCE run are checked in their
   own subgraph's steps the same way, against the buffers of the subgraphs that
   run them (directly or not) live at the calling step; two subgraphs neither of
   which runs the other never run at once, so their buffers may share bytes. A
   calling layer's region (our planner's) holds the subgraphs only it runs.
2. `check_execution` (dynamic): the reference engine runs on a simulated arena,
   one byte array. Graph inputs are written at their offsets; before each
   operator its scratch is filled with noise; its inputs are read back from the
   arena; where an output overlaps an input, the kernel's declared access
   schedule decides which input bytes are read after being overwritten (with no
   declaration, all of them are), and the operator sees those bytes as written;
   its outputs are then written at their offsets. A called subgraph runs the
   same way on the same arena, its inputs copied in and its outputs read back
   as the generated code copies them. Every value read must be the one last
   written, every value written must read back, and the final outputs must equal
   a plain engine run bit for bit. A model that can wait for frames (a
   CIRCULAR_BUFFER, in the main graph or a called subgraph) runs successive
   frames on the same arena, each inference ending where the engine's does, until
   one runs every layer; the outputs of the layers that ran are compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from mcudeploy.engine.interpreter import Engine, initial_resources
from mcudeploy.engine.registry import KERNELS, OpContext, RunAborted
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Graph, Operator
from mcudeploy.ir.options import called_subgraphs
from mcudeploy.ir.shapes import frame_buffers, signal_attributes
from mcudeploy.kernels.contracts import AccessSchedule
from mcudeploy.memory.lifetimes import buffer_names
from mcudeploy.memory.plan import Buffer, MemoryPlan, OverlapPermit
from mcudeploy.memory.planners.tflm import tflm_scratch_requests
from mcudeploy.memory.sharing import ArenaTensors, arena_tensors
from mcudeploy.params.variables import resource_layout


def check_plan(graph: Graph, plan: MemoryPlan, inputs: Sequence[np.ndarray] | None = None) -> list[str]:
    """Both checks; the problems found, empty when the plan is safe."""
    problems = check_layout(graph, plan)
    return problems + check_execution(graph, plan, [inputs] if inputs is not None else _stream(graph))


def _stream(graph: Graph) -> list[list[np.ndarray]]:
    """Seeded random inputs: one set, or for a model that can wait for frames as many successive
    frames as its buffers' counts take to come round (the product of their cycles_max)."""
    frames = math.prod(signal_attributes(op, "cycles_max")["cycles_max"] for op in frame_buffers(graph))
    return [random_inputs(graph, seed) for seed in range(frames)]


# ------------------------------------------------------------------ static


def check_layout(graph: Graph, plan: MemoryPlan) -> list[str]:
    tensors = arena_tensors(graph)
    by_tensor = {b.tensor: b for b in plan.buffers if b.tensor is not None}
    problems = _coverage_problems(graph, plan, tensors, by_tensor)
    problems += _alias_problems(plan, tensors, by_tensor)
    if plan.subgraphs_planned:
        problems += _called_coverage_problems(graph, plan)
    if problems:
        return problems
    group = {b.name: _group_key(b, tensors) for b in plan.buffers}
    permits = _permits_by_pair(tensors.permits, lambda name: name)
    offsets = {b.name: b.offset for b in plan.buffers}
    main = [b for b in plan.buffers if _subgraph_of(b) == 0]
    for step in range(len(graph.operators)):
        live = sorted((b for b in main if b.live_at(step)), key=lambda b: b.offset)
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
    if plan.subgraphs_planned and graph.other_subgraphs:
        problems += _called_overlap_problems(graph, plan)
    return problems


def _permits_by_pair(
    permits: Sequence[OverlapPermit], key: Callable[[str], Hashable]
) -> dict[frozenset, list[OverlapPermit]]:
    """The permits of each pair of buffers, the buffers keyed by `key` of their names."""
    by_pair: dict[frozenset, list[OverlapPermit]] = {}
    for permit in permits:
        by_pair.setdefault(frozenset((key(permit.reader), key(permit.writer))), []).append(permit)
    return by_pair


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


# ------------------------------------------------------------------ called subgraphs


def _subgraph_of(buffer: Buffer) -> int:
    """The subgraph whose steps a buffer lives in (0: the main graph)."""
    key = buffer.subgraph_tensor or buffer.subgraph_scratch_of or buffer.calls_of
    return key[0] if key is not None else 0


def _called_coverage_problems(graph: Graph, plan: MemoryPlan) -> list[str]:
    problems = []
    for number in graph.calling_steps():
        subgraph = graph.subgraphs[number]
        tensors = arena_tensors(subgraph)
        have = {b.subgraph_tensor[1]: b for b in plan.buffers if b.subgraph_tensor and b.subgraph_tensor[0] == number}
        for index, life in tensors.lifetimes.items():
            if index not in have or have[index].size < life.size:
                problems.append(
                    f"subgraph {number}'s tensor '{tensors.names[index]}' has no buffer of {life.size} bytes"
                )
        for op in subgraph.operators:
            have_scratch = sorted(b.size for b in plan.buffers if b.subgraph_scratch_of == (number, op.index))
            need = sorted(_scratch_needed(subgraph, plan, tensors, op))
            if len(have_scratch) != len(need) or any(h < n for h, n in zip(have_scratch, need, strict=True)):
                problems.append(
                    f"subgraph {number} {op.label}: scratch buffers of {have_scratch} bytes, its kernel needs {need}"
                )
    return problems


@dataclass(frozen=True)
class _Place:
    """Where a buffer is live: steps `first` to `last` of subgraph `number`; buffers of one `group`
    are one set of bytes; `key` names it to the permits of its subgraph. A layer's region `holds`
    the subgraphs that layer runs."""

    number: int
    first: int
    last: int
    group: Hashable
    key: Hashable
    holds: frozenset[int] = frozenset()


def _called_overlap_problems(graph: Graph, plan: MemoryPlan) -> list[str]:
    """Pairs of buffers, at least one a called subgraph's, sharing bytes while both may hold a value:
    in one subgraph at a common step (unless a permit allows it), or in two subgraphs one of which
    runs the other at a step the other's buffer is live; and called buffers outside their region."""
    runs = graph.running_steps()
    places = _places(graph, plan, runs)
    permits: dict[frozenset, list[OverlapPermit]] = {}
    index_of: dict[int, dict[str, int]] = {}  # a subgraph's tensors by name, as its permits name them
    for number in {place.number for place in places.values()}:
        tensors = arena_tensors(graph.subgraphs[number])
        index_of[number] = {name: index for index, name in tensors.names.items()}
        permits.update(_permits_by_pair(tensors.permits, lambda name, n=number: (n, index_of[n][name])))
    offsets = {places[b.name].key: b.offset for b in plan.buffers if b.name in places}
    buffers = sorted((b for b in plan.buffers if b.name in places), key=lambda b: b.offset)
    problems = []
    for i, low in enumerate(buffers):
        for high in buffers[i + 1 :]:
            if high.offset >= low.end:
                break
            a, b = places[low.name], places[high.name]
            if not (a.number or b.number) or not _together(a, b, runs) or a.group == b.group:
                continue
            declared = permits.get(frozenset((a.key, b.key)), []) if a.number == b.number else []
            if declared and all(
                p.allows(
                    offsets[a.number, index_of[a.number][p.reader]], offsets[a.number, index_of[a.number][p.writer]]
                )
                for p in declared
            ):
                continue
            problems.append(
                f"'{low.name}' [{low.offset}, {low.end}) and '{high.name}' [{high.offset}, {high.end}) "
                "share bytes while both hold values"
            )
    return problems + _region_problems(graph, plan)


def _together(a: _Place, b: _Place, runs: dict[tuple[int, int], set[int]]) -> bool:
    if a.number in b.holds or b.number in a.holds:
        return False
    if a.number == b.number:
        return a.first <= b.last and b.first <= a.last
    return any(a.first <= step <= a.last for step in runs.get((a.number, b.number), ())) or any(
        b.first <= step <= b.last for step in runs.get((b.number, a.number), ())
    )


def _places(graph: Graph, plan: MemoryPlan, runs: dict[tuple[int, int], set[int]]) -> dict[str, _Place]:
    """Each buffer that holds a value at some step, by name. A main-graph buffer lives where the plan
    says (its coverage is checked); a called one where its subgraph's lifetimes say, but an input
    nothing reads holds no value (the copy into it is dead)."""
    tensors = {number: arena_tensors(graph.subgraphs[number]) for number in graph.calling_steps()}
    tensor_offsets = {b.subgraph_tensor: b.offset for b in plan.buffers if b.subgraph_tensor}
    places = {}
    for b in plan.buffers:
        number = _subgraph_of(b)
        if b.calls_of is not None:
            held = frozenset(m for (n, m), steps in runs.items() if n == number and b.calls_of[1] in steps)
            places[b.name] = _Place(number, b.calls_of[1], b.calls_of[1], ("buffer", b.name), b.name, held)
        elif not number:
            if b.first >= 0:
                places[b.name] = _Place(0, b.first, b.last, ("buffer", b.name), b.name)
        elif b.subgraph_tensor is not None:
            index = b.subgraph_tensor[1]
            life = tensors[number].lifetimes.get(index)
            if life is not None and index in _touched_tensors(graph.subgraphs[number]):
                root = tensors[number].root[index]  # an alias keeps its root's offset in every plan that shares it
                group = root if tensor_offsets.get((number, root)) == b.offset else index
                places[b.name] = _Place(number, life.first, life.last, (number, group), (number, index))
        else:
            step = b.subgraph_scratch_of[1]
            places[b.name] = _Place(number, step, step, ("buffer", b.name), b.name)
    return places


def _touched_tensors(subgraph: Graph) -> set[int]:
    """The tensors of a subgraph something reads: an operator, or its caller (its outputs); and those
    operators write (a value nothing reads still takes the bytes its kernel writes)."""
    return {*subgraph.outputs, *(i for op in subgraph.operators for i in (*op.inputs, *op.outputs))}


def _region_problems(graph: Graph, plan: MemoryPlan) -> list[str]:
    """The buffers of a subgraph only one layer runs lie inside that layer's region, when it has one."""
    sites: dict[int, set[tuple[int, int]]] = {}
    for number, subgraph in enumerate(graph.subgraphs):
        for op in subgraph.operators:
            for called in called_subgraphs(op.options):
                sites.setdefault(called, set()).add((number, op.index))
    regions = {b.calls_of: b for b in plan.buffers if b.calls_of is not None}
    problems = []
    for b in plan.buffers:
        number = _subgraph_of(b)
        if not number or len(sites.get(number, ())) != 1 or (region := regions.get(next(iter(sites[number])))) is None:
            continue
        if not region.offset <= b.offset <= b.end <= region.end:
            problems.append(
                f"'{b.name}' [{b.offset}, {b.end}) is outside '{region.name}' [{region.offset}, {region.end})"
            )
    return problems


# ------------------------------------------------------------------ dynamic


class _Arena:
    """One subgraph's view of the simulated arena: its tensors' buffers, by index."""

    def __init__(self, graph: Graph, buffers: dict[int, Buffer], aliases: set[int], data: np.ndarray):
        self.graph = graph
        self.buffers = buffers
        self.aliases = aliases
        """Tensors whose bytes are another's (a reshape-like output): its kernel writes nothing."""
        self.bytes = data

    def span(self, tensor: int) -> slice:
        buffer = self.buffers[tensor]
        return slice(buffer.offset, buffer.offset + self.graph.tensors[tensor].nbytes)

    def read(self, tensor: int) -> np.ndarray:
        t = self.graph.tensors[tensor]
        return self.bytes[self.span(tensor)].copy().view(t.dtype.numpy).reshape(t.shape)

    def write(self, tensor: int, value: np.ndarray) -> None:
        self.bytes[self.span(tensor)] = _as_bytes(value)


def check_execution(graph: Graph, plan: MemoryPlan, input_sets: Sequence[Sequence[np.ndarray]]) -> list[str]:
    """The problems of inferences on `input_sets` in turn (successive frames of one stream, the
    states carrying over), each on the simulated arena and in a plain engine run."""
    engine = Engine(graph)
    simulation = _Simulation(graph, plan)
    arena = simulation.arenas[0]
    names = buffer_names(graph)
    for frame, inputs in enumerate(input_sets):
        expected = engine.run(inputs)
        simulation.run(0, [expected.tensors[index] for index in graph.inputs])
        which = f" (frame {frame + 1})" if len(input_sets) > 1 else ""
        for index in graph.outputs:
            produced = expected.produced(graph, index)
            if produced and index in arena.buffers and not np.array_equal(arena.read(index), expected.tensors[index]):
                simulation.problems.append(
                    f"graph output '{names[index]}' differs from the plain run after the last step{which}"
                )
    return simulation.problems


class _Simulation:
    """The model run on one byte array laid out as the plan says, its subgraphs called on it too."""

    def __init__(self, graph: Graph, plan: MemoryPlan):
        self.graph = graph
        data = np.full(plan.arena_bytes, 0xA5, dtype=np.uint8)
        self.tensors = {number: arena_tensors(graph.subgraphs[number]) for number in [0, *graph.calling_steps()]}
        self.arenas = {number: self._arena(plan, number, data) for number in self.tensors}
        self.scratch: dict[tuple[int, int], list[Buffer]] = {}
        for b in plan.buffers:
            if b.scratch_of is not None or b.subgraph_scratch_of is not None:
                self.scratch.setdefault(b.subgraph_scratch_of or (0, b.scratch_of), []).append(b)
        self.noise = np.random.default_rng(1)
        self.states: dict[tuple[int, int], dict] = {}
        self.resources = initial_resources(resource_layout(graph))
        self.problems: list[str] = []

    def _arena(self, plan: MemoryPlan, number: int, data: np.ndarray) -> _Arena:
        if number == 0:
            buffers = {b.tensor: b for b in plan.buffers if b.tensor is not None}
            return _Arena(self.graph, buffers, {t for t, b in buffers.items() if b.alias_of is not None}, data)
        buffers = {
            b.subgraph_tensor[1]: b for b in plan.buffers if b.subgraph_tensor and b.subgraph_tensor[0] == number
        }
        root = self.tensors[number].root
        aliases = {
            t for t, b in buffers.items() if root[t] != t and root[t] in buffers and buffers[root[t]].offset == b.offset
        }
        return _Arena(self.graph.subgraphs[number], buffers, aliases, data)

    def run(self, number: int, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Subgraph `number` on the arena: its inputs written (copied in), its layers run, its outputs read."""
        arena = self.arenas[number]
        written: dict[int, np.ndarray] = {}
        for index, value in zip(arena.graph.inputs, inputs, strict=True):
            if index in arena.buffers:
                arena.write(index, value)
            written[index] = np.asarray(value)
        for op in arena.graph.operators:
            if self._step(number, op, written):  # it ended the inference waiting for frames, as the engine's
                if number:
                    raise RunAborted(None)  # to the calling layer's kernel, as the engine's subgraph call
                break
        return [self._read(number, index, written, "its caller") for index in arena.graph.outputs]

    def _read(self, number: int, index: int, written: dict[int, np.ndarray], reader: str) -> np.ndarray | None:
        """A value from the arena (checked against the one last written there), or kept outside it."""
        arena = self.arenas[number]
        if index not in arena.buffers:
            return written.get(index, arena.graph.tensors[index].data)
        value = arena.read(index)
        if index in written and not np.array_equal(value, written[index]):
            name = self.tensors[number].names[index]
            self.problems.append(f"{reader} reads '{_scoped(arena.graph, number, name)}' corrupted in the arena")
        return value

    def _step(self, number: int, op: Operator, written: dict[int, np.ndarray]) -> bool:
        """Run one layer on the arena; whether it ended the inference waiting for frames."""
        arena, tensors = self.arenas[number], self.tensors[number]
        label = f"subgraph {number} {op.label}" if number else op.label
        for scratch in self.scratch.get((number, op.index), []):
            arena.bytes[scratch.offset : scratch.end] = self.noise.integers(0, 256, scratch.size, dtype=np.uint8)
        args = [self._read(number, index, written, label) if index >= 0 else None for index in op.inputs]
        try:
            results = self._compute(number, op, args)
        except RunAborted as abort:
            if abort.outputs is None:  # an IF whose branch waited: no outputs written
                return True
            results, ended = [np.asarray(r) for r in abort.outputs], True
        else:
            ended = False
        args, corrupted = _inputs_as_seen(op, arena, tensors, args, results)
        if corrupted:
            self.problems.append(f"{label} overwrites input bytes before reading them ({corrupted} bytes)")
            if not ended:  # a layer that waited would take its frame twice
                results = self._compute(number, op, args)
        for index, value in zip(op.outputs, results, strict=True):
            written[index] = value
            if index not in arena.buffers:
                continue
            if index not in arena.aliases:
                arena.write(index, value)
            if not np.array_equal(arena.read(index), value):
                name = _scoped(arena.graph, number, tensors.names[index])
                self.problems.append(f"{label} gives '{name}' unlike the plain run")
        return ended

    def _compute(self, number: int, op: Operator, args: list[np.ndarray | None]) -> list[np.ndarray]:
        states = self.states.setdefault((number, op.index), {})
        context = OpContext(op, self.arenas[number].graph, args, states, self.resources, number, self.graph, self.run)
        result = KERNELS[op.op_type](context)
        return [np.asarray(r) for r in ((result,) if isinstance(result, np.ndarray | np.generic) else result)]


def _scoped(graph: Graph, number: int, name: str) -> str:
    return f"{graph.name}/{name}" if number else name


def _inputs_as_seen(
    op: Operator,
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
            if out_index not in arena.buffers or out_index in arena.aliases:
                continue
            out_span = arena.span(out_index)
            if out_span.start >= in_span.stop or in_span.start >= out_span.stop:
                continue
            schedule = schedules.get((position, out_position))
            shift = out_span.start - in_span.start
            inputs_hit, outputs_hit = _destroyed(schedule, shift, len(data), out_span.stop - out_span.start)
            data[inputs_hit] = _as_bytes(results[out_position])[outputs_hit]
        tensor = arena.graph.tensors[index]
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
