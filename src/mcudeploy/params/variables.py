"""Resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE) as TFLite Micro's
MicroResourceVariables lays them out, from the graph alone.

Each VAR_HANDLE names a variable; handles of the same shared name (and container, when
given) are one variable, in whichever subgraph they are, numbered in the order TFLM prepares
them (subgraph by subgraph, operators in order). A variable's buffer takes the size
of the first value assigned to it, and holds until that first assignment (and after each
reset) the low byte of that value's zero point in every byte (0 without quantization).
"""

from __future__ import annotations

from dataclasses import dataclass

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import Graph, Tensor
from mcudeploy.ir.options import VarHandleOptions


@dataclass(frozen=True)
class ResourceVariable:
    container: str
    shared_name: str
    nbytes: int | None = None
    """None until an ASSIGN_VARIABLE gives it a size."""
    fill: int = 0
    """The byte every byte of the buffer is reset to."""


@dataclass(frozen=True)
class ResourceLayout:
    variables: tuple[ResourceVariable, ...]
    handles: dict[tuple[int, int], int]
    """Resource id by (subgraph, index of the VAR_HANDLE output tensor that holds it)."""

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes or 0 for v in self.variables)

    def variable_of(self, tensor_index: int, label: str, subgraph: int = 0) -> int:
        """The id of the variable a READ_VARIABLE or ASSIGN_VARIABLE addresses through its input."""
        if (subgraph, tensor_index) not in self.handles:
            raise UnsupportedOperatorError(label, "the resource input does not come from a VAR_HANDLE")
        return self.handles[subgraph, tensor_index]


def resource_layout(graph: Graph) -> ResourceLayout:
    variables: list[ResourceVariable] = []
    handles: dict[tuple[int, int], int] = {}
    for number, subgraph in enumerate(graph.subgraphs):
        for op in subgraph.operators:
            if op.op_type == "VAR_HANDLE":
                options = op.options or VarHandleOptions()
                handles[number, op.outputs[0]] = _find_or_add(variables, options)
            elif op.op_type == "ASSIGN_VARIABLE" and (number, op.inputs[0]) in handles:
                _size_on_first_assignment(variables, handles[number, op.inputs[0]], subgraph.tensors[op.inputs[1]])
    return ResourceLayout(tuple(variables), handles)


def _size_on_first_assignment(variables: list[ResourceVariable], resource: int, value: Tensor) -> None:
    if variables[resource].nbytes is None:  # the first assignment sizes the buffer
        fill = value.quantization.single_zero_point & 0xFF if value.quantization is not None else 0
        variables[resource] = ResourceVariable(
            variables[resource].container, variables[resource].shared_name, value.nbytes, fill
        )


def _find_or_add(variables: list[ResourceVariable], options: VarHandleOptions) -> int:
    """TFLM's CreateIdIfNoneFound: an absent container matches any container."""
    for resource, variable in enumerate(variables):
        if (not options.container or options.container == variable.container) and (
            options.shared_name == variable.shared_name
        ):
            return resource
    variables.append(ResourceVariable(options.container, options.shared_name))
    return len(variables) - 1
