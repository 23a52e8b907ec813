"""A memory plan: where every buffer of the tensor arena lives and when it is live.

This is the contract between the planners (which produce it), `analyze` (which
reports it) and the code generator (which reserves exactly `arena_bytes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Buffer:
    """One allocation in the arena.

    A tensor buffer has `tensor` set; a kernel's scratch buffer has `scratch_of`
    (the operator index) instead. Live from step `first` to step `last`
    inclusive, where step i is the execution of operator i (-1 to -1: never
    live, as for a tensor nothing touches that TFLM still plans). `size` is what
    the planner reserves: TFLM rounds it up to its alignment, ours does not.
    """

    name: str
    size: int
    first: int
    last: int
    offset: int = -1
    tensor: int | None = None
    scratch_of: int | None = None
    alias_of: int | None = None
    """Tensor index whose bytes this tensor reuses (reshape-like aliasing): no space of its own."""
    subgraph_tensor: tuple[int, int] | None = None
    """(subgraph, tensor index) of a tensor of a subgraph IF, WHILE or CALL_ONCE runs; `tensor`,
    which indexes the main graph's tensors, is then None."""
    subgraph_scratch_of: tuple[int, int] | None = None
    """(subgraph, operator index) of a kernel scratch buffer in such a subgraph (`scratch_of` None)."""
    calls_of: tuple[int, int] | None = None
    """(subgraph, operator index) of a control-flow operator whose called subgraphs' buffers this
    region holds (our planner): live at that operator's step only, the called buffers inside it."""

    @property
    def end(self) -> int:
        return self.offset + self.size

    def live_at(self, step: int) -> bool:
        return self.first <= step <= self.last


@dataclass(frozen=True)
class OverlapPermit:
    """Buffer `writer` (an operator's output) may share bytes with `reader` (an input of the
    same operator that no later step reads) because the operator's kernel declared it safe:
    when the writer's offset minus the reader's is at most `max_shift`, or a multiple of
    `period`. Declared in `mcudeploy.kernels.contracts`, where each condition is derived.
    """

    op: int
    reader: str
    writer: str
    max_shift: int
    period: int | None = None

    def allows(self, reader_offset: int, writer_offset: int) -> bool:
        shift = writer_offset - reader_offset
        return shift <= self.max_shift or (self.period is not None and shift % self.period == 0)


@dataclass
class MemoryPlan:
    planner: str
    alignment: int
    buffers: list[Buffer]
    arena_bytes: int
    """Bytes the arena must have: the highest buffer end, rounded up to the alignment."""
    step_live_bytes: list[int] = field(default_factory=list)
    """Bytes the buffers live at each operator step occupy in this plan: their total, except
    that bytes shared by buffers allowed to overlap count once."""
    allowed_overlaps: set[tuple[str, str]] = field(default_factory=set)
    """Pairs of buffer names that may share bytes because a kernel declared it safe
    (`(reader, writer)` of each permit; the conditions are in `permits`)."""
    permits: list[OverlapPermit] = field(default_factory=list)
    subgraphs_planned: bool = False
    """Whether the tensors of the subgraphs IF, WHILE and CALL_ONCE run are in the plan (in the
    same arena: TFLM's way, or ours, a region per calling operator); without, the plan covers the
    main graph only."""
    lower_bound: int = 0
    """Bytes no placement of these buffers can go below: at each step, the live bytes less
    the most the permits allow to share; the maximum over steps, rounded up to the alignment."""

    @property
    def peak_step(self) -> int:
        return max(range(len(self.step_live_bytes)), key=self.step_live_bytes.__getitem__, default=0)

    def live_buffers(self, step: int) -> list[Buffer]:
        return [b for b in self.buffers if b.live_at(step)]

    def tensor_offset(self, tensor_index: int) -> int:
        for buffer in self.buffers:
            if buffer.tensor == tensor_index:
                return buffer.offset
        raise KeyError(f"tensor {tensor_index} is not in the arena")
