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
    inclusive, where step i is the execution of operator i.
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

    @property
    def end(self) -> int:
        return self.offset + self.size

    def live_at(self, step: int) -> bool:
        return self.first <= step <= self.last


@dataclass
class MemoryPlan:
    planner: str
    alignment: int
    buffers: list[Buffer]
    arena_bytes: int
    """Bytes the arena must have: the highest buffer end, rounded up to the alignment."""
    step_live_bytes: list[int] = field(default_factory=list)
    """Bytes of the buffers live at each operator step (what any planner needs at least)."""
    allowed_overlaps: set[tuple[str, str]] = field(default_factory=set)
    """Pairs of buffer names that may share bytes because a kernel declared it safe."""

    @property
    def peak_step(self) -> int:
        return max(range(len(self.step_live_bytes)), key=self.step_live_bytes.__getitem__, default=0)

    def tensor_offset(self, tensor_index: int) -> int:
        for buffer in self.buffers:
            if buffer.tensor == tensor_index:
                return buffer.offset
        raise KeyError(f"tensor {tensor_index} is not in the arena")
