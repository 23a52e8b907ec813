"""Each CONV_2D's columns (im2col or direct, `ir.variants`) chosen against the whole model's arena,
and each DEPTHWISE_CONV_2D's schedule (planes or streaming) the same way.

The im2col path is the fast one (the DSP and MVE kernels run it); the direct path needs no
scratch and lets the output share more of the input, which lowers the arena only where the
layer sits at the model's peak. So the choice is the model's, not the layer's: im2col wherever
the arena stays within a limit (by default the smallest arena the direct path reaches, the
model's minimum), direct only where it is needed to stay there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from mcudeploy.analysis.costs import layer_macs
from mcudeploy.ir import Columns, Graph, KernelVariant, Operator, Schedule
from mcudeploy.kernels.contracts import im2col_costs_more
from mcudeploy.memory.planners.mcudeploy import plan_mcudeploy


def unsettled_convolutions(graph: Graph) -> list[Operator]:
    """The CONV_2D operators without a variant, in the main graph and the subgraphs it runs."""
    numbers = [0, *graph.called_order()]
    return [
        op
        for number in numbers
        for op in graph.subgraphs[number].operators
        if op.op_type == "CONV_2D" and op.variant is None
    ]


def set_columns(ops: Iterable[Operator], columns: Columns) -> None:
    for op in ops:
        op.variant = replace(op.variant or KernelVariant(), columns=columns)


def set_schedule(ops: Iterable[Operator], schedule: Schedule) -> None:
    for op in ops:
        op.variant = replace(op.variant or KernelVariant(), schedule=schedule)


def settle_schedule(graph: Graph, layers: list[Operator], schedule: Schedule, alignment: int, arena_limit: int) -> int:
    """Take `schedule` on each of `layers` (DEPTHWISE_CONV_2D operators, in that order) where the whole
    model's arena stays at most `arena_limit`; return the arena our planner then takes."""
    arena = plan_mcudeploy(graph, alignment).arena_bytes
    for op in layers:
        kept = op.variant
        set_schedule([op], schedule)
        tried = plan_mcudeploy(graph, alignment).arena_bytes
        if tried <= arena_limit:
            arena = tried
        else:
            op.variant = kept
    return arena


def settle_columns(graph: Graph, layers: list[Operator], alignment: int, arena_limit: int | None = None) -> int:
    """Set the columns of `layers` (CONV_2D operators) and return the arena our planner then takes:
    im2col wherever the arena stays at most `arena_limit` (None: the smallest arena this choice can
    reach), direct elsewhere; the layers with the most MACs get im2col first. A layer may be of any
    subgraph the model runs: the arena is the whole model's, the called subgraphs' plans included. When even the
    smallest arena is above the limit, the smallest is kept."""
    owner = {id(op): subgraph for subgraph in graph.subgraphs for op in subgraph.operators}  # a layer's subgraph
    set_columns(layers, Columns.IM2COL)
    fast = plan_mcudeploy(graph, alignment).arena_bytes
    candidates = [op for op in layers if im2col_costs_more(owner[id(op)], op)]
    if not candidates or (arena_limit is not None and fast <= arena_limit):
        return fast
    set_columns(candidates, Columns.DIRECT)
    arena = plan_mcudeploy(graph, alignment).arena_bytes
    limit = arena if arena_limit is None else max(arena, arena_limit)
    for op in sorted(candidates, key=lambda op: -layer_macs(owner[id(op)], op)):
        set_columns([op], Columns.IM2COL)
        tried = plan_mcudeploy(graph, alignment).arena_bytes
        if tried <= limit:
            arena = tried
        else:
            set_columns([op], Columns.DIRECT)
    return arena
