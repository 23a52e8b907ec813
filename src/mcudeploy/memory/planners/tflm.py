"""TensorFlow Lite Micro's arena plan, reproduced: its greedy planner fed as its allocator feeds it.

For users who deploy with TFLite Micro: the plan's `arena_bytes` is the
non-persistent "head" of TFLM's arena (activations and scratch), byte for byte.
What TFLM does, in the order it does it:

Which buffers. Every tensor of the subgraph whose data is not in the model file
(not a constant), that is not a variable and has at least one byte, in tensor
index order; then the kernels' scratch requests in the order their Prepare made
them. Tensors that nothing touches are planned too, with the lifetime (-1, -1).

Lifetimes, in allocation scopes: scope 0 is before the first operator and
operator i runs in scope i + 1. Graph inputs are created in scope 0; an
operator's outputs are created in its scope; every input and output of an
operator is used in its scope; graph outputs are used up to the last scope; a
scratch buffer lives in its operator's scope only.

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
from mcudeploy.ir import Graph, Operator
from mcudeploy.memory.lifetimes import buffer_names, scratch_name
from mcudeploy.memory.plan import Buffer, MemoryPlan
from mcudeploy.params.lstm import tflm_scratch_bytes as lstm_tflm_scratch
from mcudeploy.params.svdf import prepare as prepare_svdf

POINTER_BYTES = 4
"""A pointer on a Cortex-M: ADD_N requests one per input (the 64-bit host interpreter asks for 8)."""

_UNMODELLED = {"TFLite_Detection_PostProcess", "ethos-u"}
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
    if graph.metadata.get("subgraphs", "1") != "1":
        # TFLM plans the tensors of every subgraph together; the IR holds the main one only.
        raise UnsupportedOperatorError(graph.subject, "the tflm planner handles models of one subgraph only")
    requests = [*_tensor_requests(graph), *_scratch_requests(graph, scratch)]
    sizes = [_align_up(request.size, alignment) for request in requests]
    offsets = greedy_offsets(sizes, [(request.first, request.last) for request in requests])
    buffers = [
        replace(request, size=size, offset=offset, first=_step(request.first), last=_step(request.last))
        for request, size, offset in zip(requests, sizes, offsets, strict=True)
    ]
    live = [sum(b.size for b in buffers if b.live_at(step)) for step in range(len(graph.operators))]
    arena = max((b.end for b in buffers), default=0)
    return MemoryPlan(
        planner="tflm",
        alignment=alignment,
        buffers=buffers,
        arena_bytes=arena,
        step_live_bytes=live,
        lower_bound=max(live, default=arena),
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


def _tensor_requests(graph: Graph) -> list[Buffer]:
    """Buffers (unplaced, lifetimes in scopes) for the tensors TFLM plans, in tensor order.

    A tensor is created by being a graph input, an operator's output or, failing both, a graph
    output; reading it does not create it (a tensor only read keeps the creation scope -1).
    """
    created: dict[int, int] = {}
    used: dict[int, int] = {}
    for index in graph.inputs:
        created.setdefault(index, 0)
        used[index] = 0
    for op in graph.operators:
        scope = op.index + 1
        for index in op.outputs:
            created.setdefault(index, scope)
        for index in (*op.inputs, *op.outputs):
            if index >= 0:
                used[index] = scope
    for index in graph.outputs:
        created.setdefault(index, len(graph.operators))
        used[index] = len(graph.operators)
    names = buffer_names(graph)
    return [
        Buffer(names[t.index], t.nbytes, created.get(t.index, -1), used.get(t.index, -1), tensor=t.index)
        for t in graph.tensors
        if t.lives_in_arena
    ]


def _scratch_requests(graph: Graph, scratch: ScratchRequests) -> list[Buffer]:
    requests = []
    for op in graph.operators:
        sizes = scratch(graph, op)
        for k, size in enumerate(sizes):
            name = scratch_name(graph, op.index) + (f" ({k + 1})" if len(sizes) > 1 else "")
            requests.append(Buffer(name, size, op.index + 1, op.index + 1, scratch_of=op.index))
    return requests


def _step(scope: int) -> int:
    """Scope 0 (graph inputs written) belongs to step 0; -1 (never used) stays outside every step."""
    return max(scope - 1, 0) if scope >= 0 else -1


def _align_up(size: int, alignment: int) -> int:
    return -(-size // alignment) * alignment


_LIVE_HEAD_SCRIPT = """
import sys
from tflite_micro.python.tflite_micro import runtime
for path in sys.argv[1:]:
    interpreter = runtime.Interpreter.from_file(path, arena_size=4 << 20)
    interpreter.invoke()
    interpreter.print_allocations()
"""


def live_tflm_heads(models: Sequence[Path | str]) -> list[int]:
    """The head each model gets from TFLite Micro's Python interpreter (the `oracles` extra).

    Its recording allocator prints from C++, so the figures are read from a subprocess's output.
    """
    done = subprocess.run(
        [sys.executable, "-c", _LIVE_HEAD_SCRIPT, *map(str, models)], capture_output=True, text=True, check=True
    )
    lines = (done.stdout + done.stderr).splitlines()
    heads = [int(line.split()[-2]) for line in lines if "Arena allocation head" in line]
    if len(heads) != len(models):
        raise RuntimeError("TFLite Micro did not report one head per model:\n" + "\n".join(lines))
    return heads
