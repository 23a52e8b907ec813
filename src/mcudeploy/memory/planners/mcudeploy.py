"""Our arena planner: as tight as the kernel contracts allow.

What it places are blocks: one per alias group of tensors (a reshape's output
is its input's bytes) and one per kernel scratch buffer. Two blocks live at the
same step may share bytes only under an overlap permit (an in-place or
partial-overlap guarantee of the kernel, `mcudeploy.kernels.contracts`), and
only at the relative offsets the permit allows.

Placement is first fit: blocks are taken in some order and each goes to the
lowest aligned offset compatible with the blocks already placed. The order
decides the result, so it is searched: several classic orders (by size, by
lifetime, by area, by the pressure of the steps a block lives through, ...),
then a local search over the order from each of those orders, taking turns
(best first, an equal share of the budget each): half its moves take a block that
reaches the top of the arena and place it earlier, the others move or swap
random blocks; a change is kept when the arena does not grow. The search is
seeded and bounded by counts of orders and of placed blocks, so the same model
always gets the same plan; it stops early when the arena meets the lower bound.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection
from dataclasses import dataclass, replace

import numpy as np

from mcudeploy.ir import Graph
from mcudeploy.ir.options import called_subgraphs
from mcudeploy.memory.lifetimes import last_step, scratch_name
from mcudeploy.memory.plan import Buffer, MemoryPlan
from mcudeploy.memory.sharing import ArenaTensors, arena_tensors

SEARCH_PLACEMENTS = 1500
"""Orders the local search tries at most, from all seed orders together (a model's plan then
takes well under a second)."""
SEARCH_TURN = 16
"""Orders one search tries before the next takes its turn."""
SEARCH_BLOCK_PLACEMENTS = 60_000
"""Blocks the local search places at most, all orders together: on graphs of hundreds of
operators, where each order re-places hundreds of blocks, this bound comes first (a few seconds)."""


_Permits = dict[tuple[int, int], tuple[int, int | None]]
"""(reader block, writer block) -> (max shift, period) of the overlap they may have."""


@dataclass(frozen=True)
class _Block:
    name: str
    size: int
    first: int
    last: int


@dataclass(frozen=True)
class _Sharing:
    """How block `other` constrains the offset of the block being placed: the offsets strictly
    between `low` and `high` (relative to `other`) are forbidden, except multiples of `period`."""

    low: int
    high: int
    period: int | None


def plan_mcudeploy(graph: Graph, alignment: int = 16) -> MemoryPlan:
    """Our plan of `graph`. The subgraphs its IF, WHILE and CALL_ONCE operators run are planned
    first, each on its own; the calling operator then gets a region as large as its largest called
    plan, a block live at its step only (so disjoint from every tensor live there, its own inputs
    and outputs included, which the generated code copies in and out), where those plans' buffers
    go. A subgraph run by several operators has one place (its code is one function): a block of
    the main graph's own, live over every main step whose layer runs it, directly or not."""
    if not graph.other_subgraphs:
        return _plan(graph, alignment, {})
    shared = _shared_spans(graph)
    called: dict[int, _Called] = {}
    for number in graph.called_order():
        plan = _plan(graph.subgraphs[number], alignment, called, set(shared))
        called[number] = _Called(_renamed(graph.subgraphs[number], number, plan.buffers), plan.arena_bytes)
    main = _plan(graph, alignment, called, set(shared), shared)
    main.subgraphs_planned = True
    return main


@dataclass(frozen=True)
class _Called:
    """A called subgraph's own plan: its buffers at offsets from the start of a region of `size` bytes."""

    buffers: list[Buffer]
    size: int


def _shared_spans(graph: Graph) -> dict[int, tuple[int, int]]:
    """The subgraphs run by more than one operator (an IF naming one twice runs it from one place),
    each with the first and last main step whose layer runs it, directly or not."""
    callers: dict[int, set[tuple[int, int]]] = {}
    for number, subgraph in enumerate(graph.subgraphs):
        for op in subgraph.operators:
            for index in called_subgraphs(op.options):
                callers.setdefault(index, set()).add((number, op.index))
    steps = graph.calling_steps()
    return {number: steps[number] for number, sites in callers.items() if len(sites) > 1}


def _renamed(subgraph: Graph, number: int, buffers: list[Buffer]) -> list[Buffer]:
    """A subgraph's own buffers named after it and keyed by (subgraph, index); those of the
    subgraphs it runs are so already."""
    renamed = []
    for b in buffers:
        if b.tensor is not None:
            # alias_of indexes the main graph's tensors: an alias here keeps only its root's offset
            b = replace(b, tensor=None, alias_of=None, subgraph_tensor=(number, b.tensor))
        elif b.scratch_of is not None:
            b = replace(b, scratch_of=None, subgraph_scratch_of=(number, b.scratch_of))
        elif b.calls_of is not None and b.calls_of[0] == 0:
            b = replace(b, calls_of=(number, b.calls_of[1]))
        else:
            renamed.append(b)
            continue
        renamed.append(replace(b, name=f"{subgraph.name}/{b.name}"))
    return renamed


def _plan(
    graph: Graph,
    alignment: int,
    called: dict[int, _Called],
    shared: Collection[int] = (),
    spans: dict[int, tuple[int, int]] | None = None,
) -> MemoryPlan:
    """Our plan of one subgraph (`graph`), with a region for each operator running others (`called`)
    but the `shared` ones; the main graph places those in blocks of their own over their `spans`."""
    tensors = arena_tensors(graph)
    blocks, tensor_block = _blocks(graph, tensors)
    regions = _regions(graph, called, shared)
    region_blocks = {op: len(blocks) + k for k, op in enumerate(regions)}
    blocks += [_Block(_region_name(graph, op), size, op, op) for op, size in regions.items()]
    hoisted = {number: len(blocks) + k for k, number in enumerate(spans or {})}
    blocks += [_Block(f"subgraph {n} '{graph.subgraphs[n].name}'", called[n].size, *spans[n]) for n in hoisted]
    permits = _block_permits(tensors, tensor_block)
    runs = graph.running_steps() if hoisted else {}
    placer = _Placer(blocks, permits, alignment, _conflicting_pairs(blocks, hoisted, runs))
    running = {block: runs[0, number] for number, block in hoisted.items()}
    bound = _lower_bound(blocks, permits, alignment, last_step(graph) + 1, running)
    offsets = [int(offset) for offset in placer.search(bound)] if blocks else []
    buffers = _buffers(graph, tensors, blocks, tensor_block, offsets)
    for op, block in region_blocks.items():
        start = offsets[block]
        buffers.append(Buffer(blocks[block].name, blocks[block].size, op, op, start, calls_of=(0, op)))
        for number in dict.fromkeys(called_subgraphs(graph.operators[op].options)):
            if number not in shared:
                buffers += [replace(b, offset=start + b.offset, first=op, last=op) for b in called[number].buffers]
    for number, block in hoisted.items():  # no region buffer: its operators are several
        start, first, last = offsets[block], blocks[block].first, blocks[block].last
        buffers += [replace(b, offset=start + b.offset, first=first, last=last) for b in called[number].buffers]
    return MemoryPlan(
        planner="mcudeploy",
        alignment=alignment,
        buffers=buffers,
        arena_bytes=_align_up(max((o + b.size for o, b in zip(offsets, blocks, strict=True)), default=0), alignment),
        step_live_bytes=_union_bytes(buffers, len(graph.operators)),
        allowed_overlaps={(p.reader, p.writer) for p in tensors.permits},
        permits=list(tensors.permits),
        lower_bound=bound,
    )


def _conflicting_pairs(
    blocks: list[_Block], hoisted: dict[int, int], runs: dict[tuple[int, int], set[int]]
) -> list[tuple[int, int]]:
    """Pairs of blocks that may not share bytes. A shared subgraph's block (`hoisted`: subgraph ->
    block) holds values only while a main step running it runs (`runs`: `Graph.running_steps`): it
    may share bytes with blocks live at none of those steps, and with another shared subgraph's
    block unless one of the two subgraphs runs the other. The generated code copies every value in
    and out of a called subgraph, so two subgraphs never both hold values otherwise: an IF's two
    branches, a WHILE's condition and body, which alternate."""
    number_of = {block: number for number, block in hoisted.items()}

    def conflict(i: int, j: int) -> bool:
        if i not in number_of and j not in number_of:
            return True
        if i in number_of and j in number_of:
            return (number_of[i], number_of[j]) in runs or (number_of[j], number_of[i]) in runs
        block, other = (i, blocks[j]) if i in number_of else (j, blocks[i])
        return any(other.first <= step <= other.last for step in runs[0, number_of[block]])

    return [pair for pair in _overlapping_pairs(blocks) if conflict(*pair)]


def _regions(graph: Graph, called: dict[int, _Called], shared: Collection[int]) -> dict[int, int]:
    """Bytes of the region of each operator running subgraphs: its largest called plan but the
    shared ones' (none of 0 bytes)."""
    sizes = {
        op.index: max((called[number].size for number in numbers if number not in shared), default=0)
        for op in graph.operators
        if (numbers := called_subgraphs(op.options))
    }
    return {op: size for op, size in sizes.items() if size}


def _region_name(graph: Graph, op: int) -> str:
    return f"subgraphs run by {graph.operators[op].label}"


def _blocks(graph: Graph, tensors: ArenaTensors) -> tuple[list[_Block], dict[int, int]]:
    blocks: list[_Block] = []
    tensor_block: dict[int, int] = {}
    sizes = tensors.group_sizes()
    for root in sorted(sizes):
        tensor_block[root] = len(blocks)
        blocks.append(_Block(tensors.names[root], sizes[root], tensors.group_first[root], tensors.group_last[root]))
    for index in tensors.lifetimes:  # an alias may have a lower tensor index than its root
        tensor_block[index] = tensor_block[tensors.root[index]]
    for op, contract in zip(graph.operators, tensors.contracts, strict=True):
        if contract.scratch_bytes:
            blocks.append(_Block(scratch_name(graph, op.index), contract.scratch_bytes, op.index, op.index))
    return blocks, tensor_block


def _block_permits(tensors: ArenaTensors, tensor_block: dict[int, int]) -> _Permits:
    """(reader block, writer block) -> (max shift, period); several permits of a pair must all hold."""
    block_of_name = {tensors.names[t]: b for t, b in tensor_block.items()}
    merged: _Permits = {}
    for permit in tensors.permits:
        key = (block_of_name[permit.reader], block_of_name[permit.writer])
        if key in merged:
            shift, period = merged[key]
            merged[key] = (min(shift, permit.max_shift), period if period == permit.period else None)
        else:
            merged[key] = (permit.max_shift, permit.period)
    return merged


@dataclass
class _Search:
    """One local search over the order: where it stands and what it has used."""

    end: int
    offsets: np.ndarray
    order: list[int]
    placements: int = 0
    placed: int = 0


class _Placer:
    def __init__(self, blocks: list[_Block], permits: _Permits, alignment: int, pairs: list[tuple[int, int]]):
        """`pairs`: the blocks that may not share bytes but as the permits allow."""
        self.blocks = blocks
        self.permits = permits
        self.alignment = alignment
        # Per block, the blocks it may not share with and how each constrains its offset (fixed),
        # as arrays: first fit looks them all up for every block it places.
        relations: list[list[tuple[int, _Sharing]]] = [[] for _ in blocks]
        for i, j in pairs:
            relations[i].append((j, self._sharing(i, j)))
            relations[j].append((i, self._sharing(j, i)))
        self.relations = relations
        self.others = [np.array([j for j, _ in r], dtype=np.int64) for r in relations]
        self.lows = [np.array([s.low for _, s in r], dtype=np.int64) for r in relations]
        self.highs = [np.array([s.high for _, s in r], dtype=np.int64) for r in relations]
        self.periodic = [any(s.period is not None for _, s in r) for r in relations]

    # ------------------------------------------------------------ first fit

    def place(self, order: list[int], offsets: np.ndarray | None = None, start: int = 0) -> tuple[int, np.ndarray]:
        """First-fit offsets for `order` (-1: not placed); the blocks before `start` keep their `offsets`."""
        offsets = offsets.copy() if offsets is not None else np.full(len(self.blocks), -1, dtype=np.int64)
        offsets[order[start:]] = -1
        for block in order[start:]:
            offsets[block] = self._lowest_offset(block, offsets)
        return max(int(offsets[b]) + self.blocks[b].size for b in order), offsets

    def _lowest_offset(self, block: int, offsets: np.ndarray) -> int:
        """The lowest aligned offset all placed blocks allow.

        Each placed block forbids the open interval (its offset + low, its offset + high);
        sweeping the intervals by their start, the candidate offset moves past each one
        that covers it, and the first interval starting at or above it leaves it free.
        """
        if self.periodic[block]:
            return self._lowest_offset_periodic(block, offsets)
        bases = offsets[self.others[block]]
        placed = bases >= 0
        starts = bases[placed] + self.lows[block][placed]
        if not len(starts):
            return 0
        by_start = np.argsort(starts, kind="stable")
        ends = -(-(bases[placed] + self.highs[block][placed]) // self.alignment) * self.alignment
        reach = np.maximum(np.maximum.accumulate(ends[by_start]), 0)
        before = np.concatenate(([0], reach[:-1]))  # the candidate when interval k is reached
        free = np.flatnonzero(starts[by_start] >= before)
        return int(before[free[0]] if len(free) else reach[-1])

    def _lowest_offset_periodic(self, block: int, offsets: np.ndarray) -> int:
        """The same sweep where some intervals allow the multiples of a period inside them."""
        forbidden = sorted(
            (
                (
                    int(offsets[other]) + sharing.low,
                    int(offsets[other]) + sharing.high,
                    int(offsets[other]),
                    sharing.period,
                )
                for other, sharing in self.relations[block]
                if offsets[other] >= 0
            ),
            key=lambda interval: interval[:3],  # periods may be None: never compared
        )
        alignment = self.alignment
        candidate, reached, periodic = 0, 0, []
        while True:
            while reached < len(forbidden) and forbidden[reached][0] < candidate:
                interval = forbidden[reached]
                reached += 1
                if interval[3] is not None:
                    periodic.append(interval)  # allows some offsets inside: checked below
                elif interval[1] > candidate:
                    candidate = _align_up(interval[1], alignment)
            # Every interval starting below the candidate is passed; only periodic ones may cover it.
            periodic = [interval for interval in periodic if interval[1] > candidate]
            blocked = [(high, base, period) for _, high, base, period in periodic if (candidate - base) % period]
            if not blocked:
                return candidate
            candidate = max(
                min(_align_up(high, alignment), base + -(-(candidate - base) // step) * step)
                for high, base, period in blocked
                for step in [math.lcm(period, alignment)]  # base is aligned, so its multiples are too
            )

    def _sharing(self, block: int, other: int) -> _Sharing:
        size, other_size = self.blocks[block].size, self.blocks[other].size
        as_writer = self.permits.get((other, block))
        if as_writer is not None:  # offset - other's offset <= max shift is safe
            shift, period = as_writer
            return _Sharing(max(-size, shift), other_size, period)
        as_reader = self.permits.get((block, other))
        if as_reader is not None:  # other's offset - offset <= max shift is safe
            shift, period = as_reader
            return _Sharing(-size, min(other_size, -shift), period)
        return _Sharing(-size, other_size, None)

    # ------------------------------------------------------------ order search

    def search(self, bound: int) -> np.ndarray:
        """The best offsets found: a local search from each seed order, taking turns of
        SEARCH_TURN orders (best seed first) until a plan meets the lower bound or each
        search has used its equal share of the budget."""
        searches = [_Search(end, offsets, order) for end, offsets, order in self._starts()]
        best_end, best_offsets = searches[0].end, searches[0].offsets
        if len(self.blocks) < 2:
            return best_offsets
        rng = random.Random(0)
        placements_share = SEARCH_PLACEMENTS // len(searches)
        blocks_share = SEARCH_BLOCK_PLACEMENTS // len(searches)
        while _align_up(best_end, self.alignment) > bound:
            active = [s for s in searches if s.placements < placements_share and s.placed < blocks_share]
            if not active:
                break
            for search in active:
                for _ in range(SEARCH_TURN):
                    if search.placements >= placements_share or search.placed >= blocks_share:
                        break
                    trial, start = self._neighbour(search.order, search.offsets, search.end, rng)
                    trial_end, trial_offsets = self.place(trial, search.offsets, start)
                    search.placements, search.placed = search.placements + 1, search.placed + len(trial) - start
                    if trial_end <= search.end:
                        search.order, search.end, search.offsets = trial, trial_end, trial_offsets
                        if trial_end < best_end:
                            best_end, best_offsets = trial_end, trial_offsets
                    if _align_up(best_end, self.alignment) <= bound:
                        return best_offsets
        return best_offsets

    def _starts(self) -> list[tuple[int, np.ndarray, list[int]]]:
        """First fit of each seed order, the smallest arena first."""
        return sorted(((*self.place(order), order) for order in self._seed_orders()), key=lambda start: start[0])

    def _neighbour(self, order: list[int], offsets: np.ndarray, end: int, rng: random.Random) -> tuple[list[int], int]:
        """A nearby order and the first position that changed: half the time a block reaching the
        arena's end moves earlier, else two random blocks swap or one moves."""
        trial = list(order)
        if rng.random() < 0.5:
            top = [k for k, b in enumerate(order) if offsets[b] + self.blocks[b].size == end and k > 0]
            if top:
                j = rng.choice(top)
                i = rng.randrange(j)
                trial.insert(i, trial.pop(j))
                return trial, i
        i, j = sorted(rng.sample(range(len(order)), 2))
        if rng.random() < 0.5:
            trial[i], trial[j] = trial[j], trial[i]
        else:
            trial.insert(i, trial.pop(j))
        return trial, i

    def _seed_orders(self) -> list[list[int]]:
        blocks = self.blocks
        steps = max((b.last for b in blocks), default=-1) + 1
        pressure = [0] * steps
        for b in blocks:
            for step in range(max(b.first, 0), b.last + 1):
                pressure[step] += b.size
        peak = [max(pressure[b.first : b.last + 1]) for b in blocks]
        keys = [
            lambda i: (-blocks[i].size, blocks[i].first),
            lambda i: (-peak[i], -blocks[i].size, blocks[i].first),
            lambda i: (-(blocks[i].last - blocks[i].first), -blocks[i].size),
            lambda i: (-blocks[i].size * (blocks[i].last - blocks[i].first + 1), blocks[i].first),
            lambda i: (blocks[i].first, -blocks[i].size),
            lambda i: (-blocks[i].last, -blocks[i].size),
        ]
        return [sorted(range(len(blocks)), key=key) for key in keys]


def _overlapping_pairs(blocks: list[_Block]) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of blocks live at a common step: a sweep over their first steps."""
    pairs = []
    live: list[int] = []
    for i in sorted(range(len(blocks)), key=lambda b: blocks[b].first):
        live = [j for j in live if blocks[j].last >= blocks[i].first]
        pairs.extend((min(i, j), max(i, j)) for j in live)
        live.append(i)
    return pairs


# ------------------------------------------------------------------ lower bound


def _lower_bound(
    blocks: list[_Block], permits: _Permits, alignment: int, steps: int, running: dict[int, set[int]]
) -> int:
    """Max over steps of the live bytes less the most the permits at that step can share.
    A shared subgraph's block (in `running`, with the steps that run it) counts at those steps
    only, and of those running at a step only the largest (they may share with one another).

    Valid for every plan: the permits of a step are its operator's, between its outputs
    (disjoint from one another) and its inputs (disjoint too), and every other pair of live
    blocks is disjoint; so the step needs its live bytes less the intersections of output i
    with input j, which are disjoint sets, each at most what the permit allows, and which
    add up to at most output i's size for each i and input j's size for each j.
    """
    live = [0] * steps
    for index, block in enumerate(blocks):
        if index not in running:
            for step in range(max(block.first, 0), block.last + 1):
                live[step] += block.size
    for step in range(steps):
        live[step] += max((blocks[b].size for b, running_steps in running.items() if step in running_steps), default=0)
    by_writer: dict[int, int] = {}
    by_reader: dict[tuple[int, int], int] = {}
    for (reader, writer), (shift, period) in permits.items():
        shared = _most_shared(blocks[reader].size, blocks[writer].size, shift, period, alignment)
        by_writer[writer] = by_writer.get(writer, 0) + shared
        step = blocks[writer].first  # the permit's operator produces the writer
        by_reader[step, reader] = by_reader.get((step, reader), 0) + shared
    writer_side = [0] * steps
    for writer, shared in by_writer.items():
        writer_side[blocks[writer].first] += min(shared, blocks[writer].size)
    reader_side = [0] * steps
    for (step, reader), shared in by_reader.items():
        reader_side[step] += min(shared, blocks[reader].size)
    needed = [total - min(w, r) for total, w, r in zip(live, writer_side, reader_side, strict=True)]
    return _align_up(max(needed, default=0), alignment)


def _most_shared(reader: int, writer: int, max_shift: int, period: int | None, alignment: int) -> int:
    """The most bytes a writer may share with its reader when both offsets are aligned."""
    if period is not None:
        return min(reader, writer)  # shift 0 is a multiple of the period
    highest = max_shift // alignment * alignment
    shifts = {min(highest, 0), min(highest, max(0, reader - writer) // alignment * alignment)}
    return max(max(0, min(shift + writer, reader) - max(shift, 0)) for shift in shifts)


# ------------------------------------------------------------------ the plan


def _buffers(
    graph: Graph, tensors: ArenaTensors, blocks: list[_Block], tensor_block: dict[int, int], offsets: list[int]
) -> list[Buffer]:
    buffers = []
    for index, life in tensors.lifetimes.items():
        root = tensors.root[index]
        buffers.append(
            Buffer(
                tensors.names[index],
                life.size,
                life.first,
                life.last,
                offsets[tensor_block[index]],
                tensor=index,
                alias_of=None if root == index else root,
            )
        )
    scratch = {b.name: offset for b, offset in zip(blocks, offsets, strict=True)}
    for op, contract in zip(graph.operators, tensors.contracts, strict=True):
        if contract.scratch_bytes:
            name = scratch_name(graph, op.index)
            buffers.append(Buffer(name, contract.scratch_bytes, op.index, op.index, scratch[name], scratch_of=op.index))
    return buffers


def _union_bytes(buffers: list[Buffer], steps: int) -> list[int]:
    """Per step, the bytes the buffers live at it cover (shared bytes once)."""
    spans: list[list[tuple[int, int]]] = [[] for _ in range(steps)]
    for b in buffers:
        for step in range(max(b.first, 0), min(b.last, steps - 1) + 1):
            spans[step].append((b.offset, b.end))
    covered = []
    for live in spans:
        total, reach = 0, 0
        for start, end in sorted(live):
            if end > reach:
                total += end - max(start, reach)
                reach = end
        covered.append(total)
    return covered


def _align_up(size: int, alignment: int) -> int:
    return -(-size // alignment) * alignment
