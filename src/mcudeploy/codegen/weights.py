"""The weights block: every constant the generated code reads, in one const struct in flash, and
those of the layers whose variant reads them from SRAM in a second struct, initialised data
(`<prefix>_weights_sram`, section `library.SRAM_WEIGHTS_SECTION`: run from RAM, loaded in flash).

The layout is `mcudeploy.memory.budget.constant_layout`, the one `analyze` reports:
the same arrays in the same order, each member aligned so that its offset in its
struct is the layout's offset, and the structs' sizes the layout's blocks. The
generated network_data.c (templates/network_data.c.j2) checks both at compile time, so
the flash figures of `analyze` and of the linked image cannot drift apart. Members are
named after their tensors (a layer's derived arrays after its output tensor).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mcudeploy.codegen.cformat import array_values, c_type, comment_text
from mcudeploy.codegen.names import tensor_identifier, unique_names
from mcudeploy.ir import DType, Graph, Operator, pack_int4
from mcudeploy.memory.budget import ConstantArray, ConstantLayout
from mcudeploy.params.constant_inputs import read_at_run_time, stored_values


@dataclass(frozen=True)
class WeightsBlock:
    """How the generated code names the arrays of the weights struct `<prefix>_weights`."""

    members: dict[tuple[int, int], str]
    """C expression of each constant tensor's array, by (subgraph, tensor index)."""
    derived: dict[tuple[int, int, str], str]
    """C expression of each derived array, by (subgraph, layer, kind)."""

    def constants_of(self, subgraph: int) -> dict[int, str]:
        """The arrays of one subgraph's constant tensors, by tensor index."""
        return {index: name for (number, index), name in self.members.items() if number == subgraph}

    def derived_of(self, subgraph: int, layer: int) -> dict[str, str]:
        """One layer's derived arrays, by kind."""
        return {kind: name for (number, op, kind), name in self.derived.items() if (number, op) == (subgraph, layer)}


WEIGHT_ROLES = {1: "filter", 2: "bias"}
"""Names of the constant inputs of a weighted layer, by position: converters give a bias the fused
name of the layer's output (`.../Relu;.../BiasAdd`), which would name it after the activation."""
WEIGHTED_LAYERS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})


def member_names(graph: Graph, layout: ConstantLayout) -> dict[ConstantArray, str]:
    """The struct member of each array of the layout: its tensor's identifier; for a weighted
    layer's filter and bias, and its derived arrays, the layer's output tensor's identifier and the
    role ("activation_relu_filter", "activation_relu_bias", "activation_relu_multipliers"). Those
    of a called subgraph start with its name's identifier ("body_...")."""
    wanted = {}
    for array in layout.arrays:
        number, index = array.origin
        subgraph = graph.subgraphs[number]
        scope = f"{tensor_identifier(subgraph.name)}_" if number else ""
        if array.kind is not None:
            op = subgraph.operators[index]
            wanted[array] = f"{scope}{tensor_identifier(subgraph.tensors[op.outputs[0]].name)}_{array.kind}"
            continue
        op = _first_reader(subgraph, index)
        if op.op_type in WEIGHTED_LAYERS and op.inputs.index(index) in WEIGHT_ROLES:
            layer_name = tensor_identifier(subgraph.tensors[op.outputs[0]].name)
            wanted[array] = f"{scope}{layer_name}_{WEIGHT_ROLES[op.inputs.index(index)]}"
        else:
            wanted[array] = f"{scope}{tensor_identifier(subgraph.tensors[index].name)}"
    return unique_names(wanted)


def _first_reader(graph: Graph, tensor: int) -> Operator:
    """The layer a constant is stored for: the first that reads it at run time (`constant_layout`'s rule)."""
    return next(
        op
        for op in graph.operators
        if any(index == tensor and read_at_run_time(op, position) for position, index in enumerate(op.inputs))
    )


def weights_symbol(prefix: str, in_sram: bool) -> str:
    """The C name of the flash block (`<prefix>_weights`) or of the SRAM block (`<prefix>_weights_sram`)."""
    return f"{prefix}_weights_sram" if in_sram else f"{prefix}_weights"


def weights_block(graph: Graph, layout: ConstantLayout, prefix: str) -> WeightsBlock:
    """The C names of the layout's arrays (arrays of no element have no member: NULL)."""
    names = member_names(graph, layout)
    members: dict[tuple[int, int], str] = {}
    derived: dict[tuple[int, int, str], str] = {}
    for array in layout.arrays:
        expression = f"{weights_symbol(prefix, array.in_sram)}.{names[array]}" if array.count else "NULL"
        if array.kind is None:
            members[array.origin] = expression
        else:
            derived[(*array.origin, array.kind)] = expression
    return WeightsBlock(members, derived)


@dataclass(frozen=True)
class WeightsMember:
    """One array of the weights struct, as the network_data templates write it."""

    name: str
    ctype: str
    count: int
    offset: int
    comment: str
    values: str
    """The initializer's values, formatted."""
    in_sram: bool = False
    """A member of the SRAM block."""


def weights_members(
    graph: Graph,
    layout: ConstantLayout,
    derived_values: Mapping[tuple[int, int, str], np.ndarray],
    folded: Mapping[tuple[int, int], np.ndarray] | None = None,
) -> list[WeightsMember]:
    """The layout's arrays (those with elements) with their values: the constant tensors' data (in the
    order their kernels read it: `params.constant_inputs.stored_values`) and
    the layers' derived multipliers and shifts (`derived_values` by subgraph, layer and kind). A
    tensor in `folded` (by subgraph and tensor index) has those values, as many, on builds where
    MD_CONV_FOLDS_OFFSET is 1 (md_nn.h), its own on the others."""
    folded = folded or {}
    names = member_names(graph, layout)
    members = []
    for array in (a for a in layout.arrays if a.count):
        number, index = array.origin
        if array.kind is None:
            reader = _first_reader(graph.subgraphs[number], index)
            data = stored_values(reader, reader.inputs.index(index), graph.subgraphs[number].tensors[index].data)
            comment = f"'{array.name}'"
        else:
            data, comment = derived_values[(number, index, array.kind)], array.name
        if np.size(data) != array.count:
            raise AssertionError(f"constant '{array.name}': {np.size(data)} values for {array.count} in the layout")
        count, dtype = array.count, array.dtype
        if dtype == DType.INT4:  # kept packed: the kernels unpack it (md_unpack_s4)
            data, count, dtype = pack_int4(data), array.nbytes, DType.INT8
        values = array_values(np.asarray(data), dtype, "        ")
        if array.kind is None and array.origin in folded:
            alternative = array_values(folded[array.origin], array.dtype, "        ")
            values = f"#if MD_CONV_FOLDS_OFFSET\n{alternative}\n#else\n{values}\n#endif"
        ctype, text = c_type(dtype), comment_text(comment)
        members.append(WeightsMember(names[array], ctype, count, array.offset, text, values, array.in_sram))
    return members
