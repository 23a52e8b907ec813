"""TensorFlow Lite Micro's arena plan, reproduced: its greedy planner fed as its allocator feeds it.

For users who deploy with TFLite Micro: the plan's `arena_bytes` is the
non-persistent "head" of TFLM's arena (activations and scratch), byte for byte.
What TFLM does, in the order it does it:

Which buffers. Every tensor of every subgraph (subgraph 0's first) whose data is
not in the model file (not a constant), that is not a variable and has at least
one byte, in tensor index order; then the kernels' scratch requests in the order
their Prepare made them (subgraph by subgraph). Tensors that nothing touches are
planned too, with the lifetime (-1, -1).

Lifetimes, in allocation scopes, counted from 0 while walking the main graph:
each operator opens a new scope; an IF, WHILE or CALL_ONCE then walks the
subgraphs it calls (then/else, cond/body, init) in place, each opening one more
scope before its own operators. A subgraph's inputs are created and used in the
scope current when it is entered; an operator's outputs are created in its
scope; its inputs and outputs are used in the last scope its called subgraphs
reached; a subgraph's outputs are used up to the scope it ends in; a scratch
buffer lives from its operator's scope to that last scope. Without subgraphs:
scope 0 is before the first operator and operator i runs in scope i + 1.

Sizes are rounded up to 16 bytes (MicroArenaBufferAlignment).

Greedy placement. Buffers are taken largest first, equal sizes in reverse order
of addition (TFLM fills its sort array from the back, then bubble-sorts it).
Each buffer goes to the lowest offset that fits: walking the buffers already
placed in increasing offset order and considering only those whose lifetimes
meet its own, it takes the first gap, between the highest end seen so far and
the next such buffer, that is at least its size; else it goes after the last
one. The head is the highest end of any buffer.

Scratch requests are by default those of TFLM's reference kernels (the Python interpreter's);
`memory.tflm_arena` plans CMSIS-NN's instead, and adds the persistent tail to the head.
"""

from __future__ import annotations

import bisect
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.ir.options import called_subgraphs
from mcudeploy.ir.shapes import DETECTION_POSTPROCESS, detection_attributes
from mcudeploy.memory.lifetimes import buffer_names, scratch_name
from mcudeploy.memory.plan import Buffer, MemoryPlan
from mcudeploy.params.lstm import tflm_scratch_bytes as lstm_tflm_scratch
from mcudeploy.params.svdf import prepare as prepare_svdf

POINTER_BYTES = 4
"""A pointer on a Cortex-M: ADD_N requests one per input (the 64-bit host interpreter asks for 8)."""

INT4_FILTER_OPERATORS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
"""TFLM's kernels that take int4 filters: their Prepare requests the filter's element count of scratch."""
_UNMODELLED = {"ethos-u"}
"""Operators whose TFLM kernels request scratch this module does not reproduce."""


def tflm_scratch_requests(graph: Graph, op: Operator) -> list[int]:
    """Bytes of each RequestScratchBufferInArena call of TFLM's reference kernel for `op`, in order."""
    if op.op_type in _UNMODELLED:
        raise UnsupportedOperatorError(graph.subject, f"the tflm planner does not model the scratch of {op.label}")
    inputs = [graph.tensors[i] if i >= 0 else None for i in op.inputs]
    output = graph.tensors[op.outputs[0]] if op.outputs else None
    rank = len(inputs[0].shape) if inputs and inputs[0] is not None else 0
    if op.op_type in ("MEAN", "SUM"):
        accumulators = [4 * output.size] if inputs[0].dtype.value in ("int8", "int16") else []
        return [*accumulators, 4 * rank, 4 * inputs[1].size]
    if op.op_type in ("REDUCE_MAX", "REDUCE_MIN", "REDUCE_ALL"):
        return [4 * rank, 4 * inputs[1].size]
    if op.op_type == "MIRROR_PAD":
        return [4 * rank, 4 * rank]
    if op.op_type == "ADD_N":
        return [POINTER_BYTES * len(inputs)] if output.dtype.value in ("float32", "int8") else []
    if op.op_type == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        return lstm_tflm_scratch(op, graph)
    if op.op_type == "SVDF":  # the time products per filter; integer kernels also the sums per unit
        svdf = prepare_svdf(op, graph)
        per_unit = [4 * svdf.batches * svdf.units] if svdf.feature_multiplier is not None else []
        return [4 * svdf.batches * svdf.filters, *per_unit]
    if op.op_type == DETECTION_POSTPROCESS:  # its Prepare's eleven requests, in order
        boxes, detections = inputs[0].shape[1], detection_attributes(op).max_detections
        per_box = 4 * boxes
        return [
            boxes, 4 * per_box, 4 * inputs[1].shape[1] * inputs[1].shape[2], per_box, per_box,
            detections * per_box, detections * per_box, per_box, detections * per_box,
            max(detection_attributes(op).num_classes, detections) * per_box, min(boxes, detections) * per_box,
        ]  # fmt: skip
    if op.op_type in INT4_FILTER_OPERATORS and inputs[1].dtype == DType.INT4:
        return [inputs[1].size]  # the whole filter unpacked to int8 before the int8 kernel runs
    if op.op_type == "TRANSPOSE_CONV":
        data, bias = inputs[2], inputs[3] if len(inputs) > 3 else None
        if data.dtype.value == "int8":
            return [4 * output.size]
        if data.dtype.value == "int16":
            bias_copy = [8 * bias.size] if bias is not None and bias.dtype.value == "int16" else []
            return [8 * output.size, *bias_copy]
    return []


ScratchRequests = Callable[[Graph, Operator], list[int]]


def plan_tflm(graph: Graph, alignment: int = 16, scratch: ScratchRequests = tflm_scratch_requests) -> MemoryPlan:
    """TFLM's plan of `graph`; `alignment` is MicroArenaBufferAlignment (16 in TFLM); `scratch` gives
    each operator's scratch requests (by default the reference kernels')."""
    scopes = _Scopes(graph)
    requests = [*_tensor_requests(graph, scopes), *_scratch_requests(graph, scratch, scopes)]
    sizes = [_align_up(request.size, alignment) for request in requests]
    offsets = greedy_offsets(sizes, [(request.first, request.last) for request in requests])
    buffers = [
        replace(request, size=size, offset=offset, first=scopes.step(request.first), last=scopes.step(request.last))
        for request, size, offset in zip(requests, sizes, offsets, strict=True)
    ]
    live = [0] * len(graph.operators)  # at each step, the most bytes live at once in any of its scopes
    for scope in range(scopes.scope + 1):
        step = scopes.step(scope)
        if step < len(live):
            at_scope = sum(size for request, size in zip(requests, sizes, strict=True) if request.live_at(scope))
            live[step] = max(live[step], at_scope)
    arena = max((b.end for b in buffers), default=0)
    return MemoryPlan(
        planner="tflm",
        alignment=alignment,
        buffers=buffers,
        arena_bytes=arena,
        step_live_bytes=live,
        lower_bound=max(live, default=arena),
        subgraphs_planned=True,
    )


def greedy_offsets(sizes: list[int], lifetimes: list[tuple[int, int]]) -> list[int]:
    """TFLM's GreedyMemoryPlanner: the offset of each buffer, in the order given."""
    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i], -i))
    offsets = [0] * len(sizes)
    by_offset: list[tuple[int, int]] = []  # (offset, buffer), kept sorted
    for buffer in order:
        first, last = lifetimes[buffer]
        candidate = 0
        for offset, other in by_offset:
            other_first, other_last = lifetimes[other]
            if other_first > last or first > other_last:
                continue
            if offset - candidate >= sizes[buffer]:
                break
            candidate = max(candidate, offset + sizes[other])
        offsets[buffer] = candidate
        bisect.insort(by_offset, (candidate, buffer), key=lambda entry: entry[0])
    return offsets


class _Scopes:
    """TFLM's allocation scopes (AllocationInfoBuilder::MarkAllocationLifetimes) of every tensor
    and operator, keyed by (subgraph, index)."""

    def __init__(self, graph: Graph) -> None:
        self.subgraphs = graph.subgraphs
        self.scope = 0
        self.created: dict[tuple[int, int], int] = {}
        self.used: dict[tuple[int, int], int] = {}
        self.operators: dict[tuple[int, int], tuple[int, int]] = {}
        """Scope of each operator, and the last scope of the subgraphs it calls."""
        self.main_ends: list[int] = []
        """The last scope of each main-graph operator (the step scopes map to)."""
        self._mark(0)

    def _mark(self, number: int) -> None:
        subgraph = self.subgraphs[number]
        self._touch(number, subgraph.inputs, create=True)
        for op in subgraph.operators:
            self.scope += 1
            self._touch(number, op.outputs, create=True, use=False)
            start = self.scope
            for called in called_subgraphs(op.options):
                self.scope += 1
                self._mark(called)
            self._touch(number, (*op.inputs, *op.outputs), create=False)
            first, _ = self.operators.get((number, op.index), (start, start))
            self.operators[number, op.index] = (first, self.scope)
            if number == 0:
                self.main_ends.append(self.scope)
        self._touch(number, subgraph.outputs, create=True)

    def _touch(self, number: int, tensors: Sequence[int], create: bool, use: bool = True) -> None:
        for index in tensors:
            if index < 0:
                continue
            if create:
                self.created.setdefault((number, index), self.scope)
            if use:
                self.used[number, index] = self.scope

    def step(self, scope: int) -> int:
        """The main-graph step a scope belongs to: scope 0 (graph inputs written) to step 0, a scope
        inside a called subgraph to the operator that called it; -1 (never used) stays outside."""
        if scope < 0:
            return -1
        return min(bisect.bisect_left(self.main_ends, scope), max(len(self.main_ends) - 1, 0))


def _tensor_requests(graph: Graph, scopes: _Scopes) -> list[Buffer]:
    """Buffers (unplaced, lifetimes in scopes) for the tensors TFLM plans, subgraph by subgraph in
    tensor order; those of the other subgraphs are named after their subgraph.

    A tensor is created by being a subgraph input, an operator's output or, failing both, a subgraph
    output; reading it does not create it (a tensor only read keeps the creation scope -1).
    """
    requests = []
    for number, subgraph in enumerate(graph.subgraphs):
        names = buffer_names(subgraph)
        for t in subgraph.tensors:
            if not t.lives_in_arena:
                continue
            key = (number, t.index)
            name = f"{subgraph.name}/{names[t.index]}" if number else names[t.index]
            created, used = scopes.created.get(key, -1), scopes.used.get(key, -1)
            requests.append(
                Buffer(
                    name,
                    t.nbytes,
                    created,
                    used,
                    tensor=None if number else t.index,
                    subgraph_tensor=key if number else None,
                )
            )
    return requests


def _scratch_requests(graph: Graph, scratch: ScratchRequests, scopes: _Scopes) -> list[Buffer]:
    requests = []
    for number, subgraph in enumerate(graph.subgraphs):
        for op in subgraph.operators:
            sizes = scratch(subgraph, op)
            first, last = scopes.operators[number, op.index]
            for k, size in enumerate(sizes):
                name = scratch_name(subgraph, op.index) + (f" ({k + 1})" if len(sizes) > 1 else "")
                if number:
                    name = f"{subgraph.name}/{name}"
                where = {"subgraph_scratch_of": (number, op.index)} if number else {"scratch_of": op.index}
                requests.append(Buffer(name, size, first, last, **where))
    return requests


def _align_up(size: int, alignment: int) -> int:
    return -(-size // alignment) * alignment


_LIVE_HEAD_SCRIPT = """
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
for path in sys.argv[1:]:
    interpreter = runtime.Interpreter.from_file(path, arena_size=4 << 20)
    index = 0
    while True:  # zeroed inputs: a WHILE must not loop on whatever the arena held
        try:
            details = interpreter.get_input_details(index)
        except IndexError:
            break
        interpreter.set_input(np.zeros(details["shape"], details["dtype"]), index)
        index += 1
    interpreter.invoke()
    interpreter.print_allocations()
"""
LIVE_HEAD_TIMEOUT_S = 600


def live_tflm_heads(models: Sequence[Path | str]) -> list[int]:
    """The head each model gets from TFLite Micro's Python interpreter (the `oracles` extra).

    Its recording allocator prints from C++, so the figures are read from a subprocess's output.
    """
    done = subprocess.run(
        [sys.executable, "-c", _LIVE_HEAD_SCRIPT, *map(str, models)],
        capture_output=True,
        text=True,
        check=True,
        timeout=LIVE_HEAD_TIMEOUT_S,
    )
    lines = (done.stdout + done.stderr).splitlines()
    heads = [int(line.split()[-2]) for line in lines if "Arena allocation head" in line]
    if len(heads) != len(models):
        raise RuntimeError("TFLite Micro did not report one head per model:\n" + "\n".join(lines))
    return heads
