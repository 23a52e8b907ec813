"""Layouts: how an IR tensor's axes hold an ONNX tensor's axes.

A layout is a permutation: IR axis i holds ONNX axis layout[i], i.e. the IR
array is `onnx_array.transpose(layout)`. ONNX computes in NCHW; the IR (as
TFLite) in NHWC, so a 4-D activation is held in `NHWC` = (0, 2, 3, 1). ONNX
Transpose nodes only change a value's layout (no IR operator); an IR TRANSPOSE
is emitted only where an operator needs the ONNX axis order and the data order
differs (a Flatten of an NHWC feature map with more than one pixel).
"""

from __future__ import annotations

from collections.abc import Sequence

Layout = tuple[int, ...]

NHWC: Layout = (0, 2, 3, 1)


def identity(rank: int) -> Layout:
    return tuple(range(rank))


def spatial(rank: int) -> Layout:
    """Channels last: (0, 2, ..., rank-1, 1); identity below rank 3."""
    return (0, *range(2, rank), 1) if rank >= 3 else identity(rank)


def ir_shape(onnx_shape: Sequence[int], layout: Layout) -> tuple[int, ...]:
    return tuple(int(onnx_shape[axis]) for axis in layout)


def ir_axis(onnx_axis: int, layout: Layout) -> int:
    """Where ONNX axis `onnx_axis` (may be negative) lies in the IR tensor."""
    return layout.index(onnx_axis % len(layout))


def permutation_between(source: Layout, target: Layout) -> Layout:
    """The TRANSPOSE perm turning IR data held in `source` into `target`."""
    return tuple(source.index(axis) for axis in target)


def after_transpose(source: Layout, perm: Sequence[int]) -> Layout:
    """The layout of `transpose(x, perm)` when it keeps x's IR data unchanged."""
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return tuple(inverse[axis] for axis in source)


def keeps_data_order(layout: Layout, onnx_shape: Sequence[int]) -> bool:
    """True when the IR data, read linearly, lists the values in ONNX order (only axes of
    size 1 are out of place), so a reshape may read it without a TRANSPOSE."""
    moved = [axis for axis in layout if onnx_shape[axis] != 1]
    return moved == sorted(moved)


def without_axes(layout: Layout, removed: Sequence[int]) -> Layout:
    """The layout left when the ONNX axes `removed` disappear (a reduction without keepdims)."""
    kept = [axis for axis in layout if axis not in removed]
    renumber = {axis: i for i, axis in enumerate(sorted(kept))}
    return tuple(renumber[axis] for axis in kept)
