"""What a layer emitter sees and what it returns, and the registry of emitters by operator type.

An emitter turns one operator into the body of its layer function: parameter
structs (static const, serialised from the operator's `mcudeploy.params` record,
the one the reference engine computes with) and one call into the kernel library.
It names the library sources the call needs; the layer's derived constants
(output multipliers and shifts) are in the weights block, named by `derived_ref`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, is_dataclass
from typing import TypeVar

import numpy as np

from mcudeploy.codegen.cformat import MD_DTYPES, c_type, initializer
from mcudeploy.errors import McuDeployError, UnsupportedOperatorError
from mcudeploy.ir import NO_TENSOR, DType, Graph, Operator, Tensor
from mcudeploy.kernels import KernelContract
from mcudeploy.memory.plan import Buffer
from mcudeploy.params.record import struct_fields

Record = TypeVar("Record")


@dataclass
class LayerCode:
    sources: tuple[str, ...]
    """Library .c files the call needs (their own dependencies are added by the generator)."""
    call: str
    """The kernel call, a C expression whose value is the layer's md_status."""
    declarations: list[str] = field(default_factory=list)
    """What the layer function does before returning `call`: parameter structs; a control-flow
    layer's statements."""
    uses_libm: bool = False
    folded_bias: tuple[int, np.ndarray] | None = None
    """A constant bias tensor (its index) and the values MVE builds store in its place
    (`MD_CONV_FOLDS_OFFSET`: the same count and type, so the same flash)."""


@dataclass(frozen=True)
class CalledSubgraph:
    """A subgraph as the layers that run it (IF, WHILE, CALL_ONCE) see it: its C function (an
    md_status of its layers) and a C pointer to each of its inputs and outputs."""

    function: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass
class LayerContext:
    graph: Graph
    op: Operator
    contract: KernelContract
    arena_offsets: Mapping[int, int]
    """Arena offset of every tensor placed in the arena."""
    arena_names: Mapping[int, str]
    """Name of the C constant holding each of those offsets."""
    scratch: Buffer | None
    scratch_name: str | None
    """Name of the C constant holding the scratch buffer's offset."""
    constants: Mapping[int, str]
    """C expression of every constant tensor's array in the weights block."""
    derived_names: Mapping[str, str]
    """C expression of this layer's derived arrays, by kind ("multipliers", "shifts")."""
    tensor_macro: str
    """Name of the generated macro turning (type, offset) into a pointer into the arena."""
    variables: Mapping[int, str] = field(default_factory=dict)
    """C array of every variable tensor (state kept across invocations, outside the arena)."""
    resources: Mapping[int, str] = field(default_factory=dict)
    """C byte array of every resource variable, by id (`params.variables`)."""
    state_name: str | None = None
    """C byte array of the kernel's own history (`KernelContract.state_bytes`; CALL_ONCE's flag),
    None without."""
    subgraph: int = 0
    """The index of `graph` among the model's subgraphs."""
    model: Graph | None = None
    """The whole model (its main graph) when `graph` is one of its other subgraphs."""
    calls: Mapping[int, CalledSubgraph] = field(default_factory=dict)
    """The subgraphs the model's control-flow layers run, by index."""

    @property
    def label(self) -> str:
        return self.op.label

    @property
    def options(self):
        return self.op.options

    def input_tensor(self, position: int) -> Tensor | None:
        if position >= len(self.op.inputs) or self.op.inputs[position] == NO_TENSOR:
            return None
        return self.graph.tensors[self.op.inputs[position]]

    def output_tensor(self, position: int = 0) -> Tensor:
        return self.graph.tensors[self.op.outputs[position]]

    def constant_values(self, position: int) -> np.ndarray:
        """The data of a constant input the kernel is specialised on (axes, paddings, ...)."""
        tensor = self.input_tensor(position)
        if tensor is None or tensor.data is None:
            raise self.unsupported(f"input {position} must be a constant")
        return tensor.data

    def require_constants(self, *positions: int) -> None:
        """Refuse the layer unless each of these inputs, where present, is a constant."""
        for position in positions:
            if self.input_tensor(position) is not None:
                self.constant_values(position)

    def input_ref(self, position: int, dtype: DType | None = None) -> str:
        """C pointer to input `position` (NULL when absent), typed as `dtype` (its own by default)."""
        tensor = self.input_tensor(position)
        return "NULL" if tensor is None else self.tensor_ref(tensor, dtype)

    def output_ref(self, position: int = 0, dtype: DType | None = None) -> str:
        return self.tensor_ref(self.output_tensor(position), dtype)

    def tensor_ref(self, tensor: Tensor, dtype: DType | None = None) -> str:
        ctype = c_type(dtype or tensor.dtype)
        if tensor.index in self.constants:
            name = self.constants[tensor.index]
            return name if dtype is None or dtype == tensor.dtype else f"({ctype} *){name}"
        if tensor.index in self.variables:
            return self.variables[tensor.index]
        if tensor.index not in self.arena_offsets:
            raise self.unsupported(f"tensor '{tensor.name}' has no place in the memory plan")
        return f"{self.tensor_macro}({ctype}, {self.arena_names[tensor.index]})"

    def scratch_ref(self, ctype: str) -> str:
        """C pointer to this layer's scratch buffer, NULL without. When the contract declares scratch
        that the plan does not reserve, the kernel's scratch-free variant needs an output that does
        not overlap the input."""
        if self.scratch is None:
            if self.contract.scratch_bytes and self.overlapping(0):
                raise self.unsupported("the plan gives no scratch buffer yet lets the output overlap the input")
            return "NULL"
        return f"{self.tensor_macro}({ctype}, {self.scratch_name})"

    def required_scratch(self, ctype: str) -> str:
        if self.scratch is None:
            raise self.unsupported(f"the plan gives no scratch buffer of {self.contract.scratch_bytes} bytes")
        return self.scratch_ref(ctype)

    def state_ref(self, ctype: str) -> str:
        """C pointer to the kernel's own history, kept across inferences and zeroed by init()."""
        if self.state_name is None:
            raise self.unsupported("the kernel declares no state")
        return f"({ctype} *){self.state_name}"

    def derived_ref(self, kind: str) -> str:
        return self.derived_names[kind]

    def prepared(self, prepare: Callable[[Operator, Graph], Record]) -> Record:
        """The operator's parameter record; what it refuses is refused as code generation."""
        try:
            return prepare(self.op, self.graph)
        except McuDeployError as error:
            raise self.unsupported(error.reason) from None

    def params(self, c_struct: str, fields: Mapping[str, object] | object, name: str = "params") -> str:
        """A static const parameter struct declaration from a parameter record (its struct fields)
        or from explicit fields."""
        values = struct_fields(fields) if is_dataclass(fields) else fields
        return f"static const {c_struct} {name} = {initializer(c_values(values))};"

    def unsupported(self, reason: str) -> UnsupportedOperatorError:
        return UnsupportedOperatorError(self.graph.subject, f"layer {self.label}: {reason} (code generation)")

    def dtype_error(self, tensor: Tensor) -> UnsupportedOperatorError:
        return self.unsupported(f"{self.op.op_type} of {tensor.dtype} has no kernel in the C library")

    def overlapping(self, input_position: int, output_position: int = 0) -> bool:
        """Whether the plan lets the output share bytes with the input."""
        source, target = self.input_tensor(input_position), self.output_tensor(output_position)
        if source is None or source.index not in self.arena_offsets or target.index not in self.arena_offsets:
            return False
        start, end = self.arena_offsets[source.index], self.arena_offsets[source.index] + source.nbytes
        out_start = self.arena_offsets[target.index]
        return out_start < end and start < out_start + target.nbytes


Emitter = Callable[[LayerContext], LayerCode]
EMITTERS: dict[str, Emitter] = {}


def emits(*op_types: str) -> Callable[[Emitter], Emitter]:
    def register(fn: Emitter) -> Emitter:
        for op_type in op_types:
            if op_type in EMITTERS:
                raise RuntimeError(f"two emitters registered for {op_type}")
            EMITTERS[op_type] = fn
        return fn

    return register


def c_values(fields: Mapping[str, object]) -> dict[str, object]:
    """Field values as the kernel library spells them: element types as its md_dtype names."""
    return {name: MD_DTYPES[value] if isinstance(value, DType) else value for name, value in fields.items()}
