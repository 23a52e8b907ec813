"""The weights block: every constant the generated code reads, in one const struct in flash.

The layout is `mcudeploy.memory.budget.constant_layout`, the one `analyze` reports:
the same arrays in the same order, each member aligned so that its offset in the
struct is the layout's offset, and the struct's size the layout's total. The
generated header (templates/network_data.h.j2) checks both at compile time, so the
flash figures of `analyze` and of the linked image cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mcudeploy.codegen.cformat import array_values, c_type, comment_text
from mcudeploy.ir import Graph
from mcudeploy.memory.budget import ConstantArray, ConstantLayout


@dataclass(frozen=True)
class WeightsBlock:
    """How the generated code names the arrays of the weights struct `<prefix>_weights`."""

    members: dict[int, str]
    """C expression of each constant tensor's array, by tensor index."""
    derived: dict[tuple[int, str], str]
    """C expression of each derived array, by (layer, kind)."""


def derived_kind(array: ConstantArray) -> str:
    """The kind of a derived array, "multipliers" or "shifts": the last word of its name in the layout."""
    return array.name.rsplit(" ", 1)[-1]


def member_name(array: ConstantArray) -> str:
    return f"t{array.tensor}" if array.tensor is not None else f"l{array.layer}_{derived_kind(array)}"


def weights_block(layout: ConstantLayout, prefix: str) -> WeightsBlock:
    """The C names of the layout's arrays (arrays of no element have no member: NULL)."""
    symbol = f"{prefix}_weights"
    members: dict[int, str] = {}
    derived: dict[tuple[int, str], str] = {}
    for array in layout.arrays:
        expression = f"{symbol}.{member_name(array)}" if array.count else "NULL"
        if array.tensor is not None:
            members[array.tensor] = expression
        else:
            derived[(array.layer, derived_kind(array))] = expression
    return WeightsBlock(members, derived)


@dataclass(frozen=True)
class WeightsMember:
    """One array of the weights struct, as the network_data.h template writes it."""

    name: str
    ctype: str
    count: int
    offset: int
    comment: str
    values: str
    """The initializer's values, formatted."""


def weights_members(
    graph: Graph, layout: ConstantLayout, derived_values: Mapping[tuple[int, str], np.ndarray]
) -> list[WeightsMember]:
    """The layout's arrays (those with elements) with their values: the constant tensors' data and
    the layers' derived multipliers and shifts."""
    members = []
    for array in (a for a in layout.arrays if a.count):
        if array.tensor is not None:
            data, comment = graph.tensors[array.tensor].data, f"'{array.name}'"
        else:
            data, comment = derived_values[(array.layer, derived_kind(array))], array.name
        if np.size(data) != array.count:
            raise AssertionError(f"constant '{array.name}': {np.size(data)} values for {array.count} in the layout")
        values = array_values(np.asarray(data), array.dtype, "        ")
        members.append(
            WeightsMember(
                member_name(array), c_type(array.dtype), array.count, array.offset, comment_text(comment), values
            )
        )
    return members
