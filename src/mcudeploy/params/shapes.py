"""Shapes, axes and strides as the kernel library takes them."""

from __future__ import annotations

from collections.abc import Iterable

MAX_DIMS = 6
"""MD_MAX_DIMS of the kernel library: the length of its dimension arrays."""


def contiguous_strides(shape: Iterable[int]) -> list[int]:
    """Element strides of a row-major tensor of this shape."""
    strides, stride = [], 1
    for size in reversed(list(shape)):
        strides.append(stride)
        stride *= size
    return strides[::-1]


def dims(values: Iterable[int], fill: int = 0) -> tuple[int, ...]:
    """A dimension array of the kernel library: `values` followed by `fill` up to MAX_DIMS."""
    values = [int(v) for v in values]
    return tuple(values + [fill] * (MAX_DIMS - len(values)))
