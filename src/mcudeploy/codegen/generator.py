"""C code for a graph and its memory plan: `network.h`, `network.c`, `network_data.h/.c`, `mdnn/` (the
part of the kernel library the model uses, with its LICENSE), `CMakeLists.txt`, `network.mk` and
`README.md`.

The arena is exactly the plan's `arena_bytes`, every tensor at its planned offset,
every kernel scratch buffer where the plan put it; the constants are laid out as
`analyze` reports them. The output is a pure function of (graph, plan, options):
the same inputs give the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2
import numpy as np

import mcudeploy.codegen.layers  # noqa: F401 - registers the emitters
from mcudeploy.codegen.cformat import c_type, comment_text, float_literal, identifier, wrapped_call
from mcudeploy.codegen.layers.base import EMITTERS, CalledSubgraph, LayerCode, LayerContext
from mcudeploy.codegen.library import (
    FAST_CODE_SECTION,
    HOT_OBJECTS,
    INCLUDE_DIR,
    LIBRARY_DIR,
    SRAM_WEIGHTS_SECTION,
    fast_code_inputs,
    library_text,
    needed_files,
)
from mcudeploy.codegen.names import tensor_identifier, unique_names
from mcudeploy.codegen.weights import WeightsBlock, weights_block, weights_members
from mcudeploy.devices import MemoryRegion
from mcudeploy.errors import McuDeployError, UnsupportedOperatorError
from mcudeploy.files import check_output_folder, write_folder
from mcudeploy.ir import ETHOS_U, NO_TENSOR, Graph, Operator, Tensor
from mcudeploy.ir.shapes import can_wait, graph_can_wait, waits_for_frames
from mcudeploy.kernels import kernel_contract
from mcudeploy.kernels.contracts import layer_states
from mcudeploy.memory.budget import ConstantLayout, constant_layout
from mcudeploy.memory.plan import Buffer, MemoryPlan
from mcudeploy.params.requantization import requantization
from mcudeploy.params.variables import resource_layout

PREFIX_PATTERN = re.compile(r"[a-z_][a-z0-9_]*")
MIN_ARENA_ALIGNMENT = 8
NAME_LIMIT = 48
"""Characters of a tensor name quoted in a comment."""
TEMPLATES = ("network.h", "network.c", "network_data.h", "network_data.c", "CMakeLists.txt", "network.mk", "README.md")


@dataclass(frozen=True)
class GeneratedCode:
    directory: Path
    prefix: str
    sources: tuple[str, ...]
    """The C files to compile, relative to `directory`."""
    include_dirs: tuple[str, ...]
    arena_bytes: int
    weights_bytes: int
    needs_libm: bool
    sram_weights_bytes: int = 0
    """The constants of the layers that read them from SRAM (their run image in RAM, `SRAM_WEIGHTS_SECTION`)."""


@dataclass(frozen=True)
class ArenaNames:
    """The C constant naming each planned buffer's arena offset, and by subgraph then tensor its
    offset and name."""

    buffers: dict[Buffer, str]
    tensor_offsets: dict[int, dict[int, int]]
    tensor_names: dict[int, dict[int, str]]


@dataclass(frozen=True)
class RenderedProject:
    files: dict[str, str]
    sources: tuple[str, ...]
    weights_bytes: int
    needs_libm: bool
    sram_weights_bytes: int = 0


def generate(
    graph: Graph,
    plan: MemoryPlan,
    out_dir: str | Path,
    prefix: str = "net",
    arena_section: str | None = None,
    force: bool = False,
    guard_bytes: int = 0,
    code_region: str | None = None,
    code_alias: MemoryRegion | None = None,
    fast_functions: Sequence[str] | None = None,
) -> GeneratedCode:
    """Write the C project of `graph` with the memory `plan` into `out_dir`. The same project builds
    for any core and takes the fastest kernel paths the compiler's target has (see `library`).
    `guard_bytes` (sanitizer builds) leaves a never-read red zone of that many bytes after every
    constant array, for a harness to poison. `code_region` (`--code-section`): the device memory the
    hot code runs from; the README then says how to link and copy it there (`code_alias`: the SRAM whose
    code alias that region is, e.g. SRAM2 at 0x1000_0000: the README says how to declare it; `fast_functions`:
    the only functions that run there, when not all the hot code does).

    The files are written to a folder beside `out_dir`, then moved into place (see
    `mcudeploy.files.write_folder`: which existing folders are replaced, and how); `force`
    replaces one holding files mcudeploy did not write.
    """
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise McuDeployError(prefix, "the prefix must be a lowercase C identifier (letters, digits, underscores)")
    if arena_section is not None and not re.fullmatch(r"[A-Za-z0-9_.$]+", arena_section):
        raise McuDeployError(arena_section, "a section name may hold letters, digits, '_', '.' and '$' only")
    out_dir = Path(out_dir)
    check_output_folder(out_dir, force)
    rendered = render(graph, plan, prefix, arena_section, guard_bytes, code_region, code_alias, fast_functions)
    write_folder({name: text.encode("utf-8") for name, text in rendered.files.items()}, out_dir, force)
    return GeneratedCode(
        directory=out_dir,
        prefix=prefix,
        sources=rendered.sources,
        include_dirs=(".", INCLUDE_DIR),
        arena_bytes=plan.arena_bytes,
        weights_bytes=rendered.weights_bytes,
        needs_libm=rendered.needs_libm,
        sram_weights_bytes=rendered.sram_weights_bytes,
    )


def render(
    graph: Graph,
    plan: MemoryPlan,
    prefix: str = "net",
    arena_section: str | None = None,
    guard_bytes: int = 0,
    code_region: str | None = None,
    code_alias: MemoryRegion | None = None,
    fast_functions: Sequence[str] | None = None,
) -> RenderedProject:
    """Every file of the project, by relative path, without writing anything."""
    numbers = [0, *graph.called_order()]
    _check_emitters(graph, numbers)
    if len(numbers) > 1 and not plan.subgraphs_planned:
        raise UnsupportedOperatorError(
            graph.subject,
            f"the memory plan '{plan.planner}' leaves out the tensors of the subgraphs IF, WHILE and CALL_ONCE run",
        )
    layout = constant_layout(graph, plan.alignment, guard_bytes)
    _check_alignment(graph, plan, layout)
    block = weights_block(graph, layout, prefix)
    arena = _arena_names(graph, plan, identifier(prefix))
    variables = _state_names(graph, prefix)
    layout_variables = resource_layout(graph).variables
    names = _resource_names(graph, prefix)
    resources = {resource: (name, layout_variables[resource]) for resource, name in names.items()}
    kernel_states = _kernel_state_names(graph, prefix)
    units = _Units(graph, plan, arena, block, prefix, variables, names, kernel_states)
    units.calls = {number: units.called(number) for number in numbers[1:]}
    codes = {number: [units.emit(number, op) for op in graph.subgraphs[number].operators] for number in numbers}
    every_code = [code for subgraph_codes in codes.values() for code in subgraph_codes]
    library = needed_files(s for code in every_code for s in code.sources)
    needs_libm = any(code.uses_libm for code in every_code)
    context = _template_context(graph, plan, prefix, arena_section, codes, arena, layout)
    context.update(
        code_region=code_region,
        code_alias=code_alias,
        fast_code_inputs=fast_code_inputs(fast_functions) if fast_functions is not None else None,
        fast_code_section=FAST_CODE_SECTION,
        hot_objects=HOT_OBJECTS,
        weights=weights_members(graph, layout, _derived_values(graph), _folded_biases(codes)),
        weights_alignment=layout.alignment,
        sram_weights_bytes=layout.sram_bytes,
        flash_weights_bytes=layout.flash_block_bytes,
        sram_weights_section=SRAM_WEIGHTS_SECTION,
        sram_weights_layers=layout.sram_layers(),
        weights_guard=guard_bytes,
        sources=["network.c", "network_data.c", *(f"{LIBRARY_DIR}/{path}" for path in library if path.endswith(".c"))],
        include_dir=INCLUDE_DIR,
        libm=needs_libm,
        variables=[
            *(_variable(graph.subgraphs[number].tensors[index], name) for (number, index), name in variables.items()),
            *(
                {
                    "name": name,
                    "ctype": "uint8_t",
                    "size": variable.nbytes,
                    "bytes": variable.nbytes,
                    "fill": variable.fill,
                }
                for name, variable in resources.values()
            ),
            *(
                {"name": name, "ctype": "uint8_t", "size": size, "bytes": size, "fill": 0}
                for name, size in kernel_states.values()
            ),
        ],
    )
    context["uses_math_h"] = _uses_math_macros(context)
    files = {name: _templates().get_template(f"{name}.j2").render(context) for name in TEMPLATES}
    for path in library:
        files[f"{LIBRARY_DIR}/{path}"] = library_text(path)
    return RenderedProject(files, tuple(context["sources"]), layout.total_bytes, needs_libm, layout.sram_bytes)


def _folded_biases(codes: dict[int, list[LayerCode]]) -> dict[tuple[int, int], np.ndarray]:
    """The biases MVE builds store folded (`LayerCode.folded_bias`), by subgraph and tensor index."""
    return {
        (number, code.folded_bias[0]): code.folded_bias[1]
        for number, subgraph_codes in codes.items()
        for code in subgraph_codes
        if code.folded_bias is not None
    }


def _derived_values(graph: Graph) -> dict[tuple[int, int, str], np.ndarray]:
    """The layers' derived arrays by (subgraph, layer, kind), from the records the constant layout counts."""
    return {
        (number, op.index, kind): values
        for number, subgraph in enumerate(graph.subgraphs)
        for op in subgraph.operators
        if (record := requantization(op, subgraph)) is not None
        for kind, values in record.arrays.items()
    }


def _uses_math_macros(context: dict) -> bool:
    """Whether the generated C names HUGE_VALF or NAN (float infinities and NaNs in parameters)."""
    texts = [m.values for m in context["weights"]]
    layers = [*context["layers"], *(layer for subgraph in context["subgraphs"] for layer in subgraph["layers"])]
    texts += [d for layer in layers for d in [*layer["declarations"], layer["call"]]]
    return any(re.search(r"\b(HUGE_VALF|NAN)\b", text) for text in texts)


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mcudeploy.codegen", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def _arena_names(graph: Graph, plan: MemoryPlan, upper: str) -> ArenaNames:
    """The C constant naming each buffer's arena offset: `<P>_ARENA_` and its tensor's identifier,
    `<P>_ARENA_LAYER_<index>_SCRATCH` for a kernel's scratch buffer, `<P>_ARENA_LAYER_<index>_SUBGRAPHS`
    for the region of the subgraphs a layer runs; those of a called subgraph's tensors and layers
    start with the subgraph's identifier."""
    wanted = {buffer: _buffer_identifier(graph, buffer) for buffer in plan.buffers}
    names = {buffer: f"{upper}_ARENA_{name.upper()}" for buffer, name in unique_names(wanted, {"bytes"}).items()}
    offsets: dict[int, dict[int, int]] = {number: {} for number in range(len(graph.subgraphs))}
    tensor_names: dict[int, dict[int, str]] = {number: {} for number in range(len(graph.subgraphs))}
    for buffer in plan.buffers:
        if (key := _tensor_key(buffer)) is not None:
            offsets[key[0]][key[1]] = buffer.offset
            tensor_names[key[0]][key[1]] = names[buffer]
    return ArenaNames(names, offsets, tensor_names)


def _tensor_key(buffer: Buffer) -> tuple[int, int] | None:
    """(subgraph, tensor index) of a tensor's buffer, None for scratch and regions."""
    return (0, buffer.tensor) if buffer.tensor is not None else buffer.subgraph_tensor


def _buffer_identifier(graph: Graph, buffer: Buffer) -> str:
    if (key := _tensor_key(buffer)) is not None:
        number, index = key
        name = tensor_identifier(graph.subgraphs[number].tensors[index].name)
    elif buffer.scratch_of is not None or buffer.subgraph_scratch_of is not None:
        number, index = buffer.subgraph_scratch_of or (0, buffer.scratch_of)
        name = f"layer_{index}_scratch"
    elif buffer.calls_of is not None:
        number, index = buffer.calls_of
        name = f"layer_{index}_subgraphs"
    else:
        raise McuDeployError(graph.subject, f"the memory plan's buffer '{buffer.name}' belongs to no tensor or layer")
    return f"{tensor_identifier(graph.subgraphs[number].name)}_{name}" if number else name


def _state_names(graph: Graph, prefix: str) -> dict[tuple[int, int], str]:
    """The static array of each variable tensor (recurrent state), by (subgraph, tensor index):
    `<prefix>_state_` and its tensor's identifier (after its subgraph's, outside the main graph)."""
    wanted = {
        (number, t.index): _scoped(subgraph, number, tensor_identifier(t.name))
        for number, subgraph in enumerate(graph.subgraphs)
        for t in subgraph.tensors
        if t.is_variable
    }
    return {key: f"{prefix}_state_{name}" for key, name in unique_names(wanted).items()}


def _scoped(subgraph: Graph, number: int, name: str) -> str:
    return f"{tensor_identifier(subgraph.name)}_{name}" if number else name


def _subgraph_function(prefix: str, number: int) -> str:
    """The function running a called subgraph's layers."""
    return f"{prefix}_subgraph_{number}"


def _layer_function(prefix: str, number: int, index: int) -> str:
    """`<prefix>_layer_<index>` (what the profiler's scopes name), `<prefix>_subgraph_<n>_layer_<index>`."""
    return f"{_subgraph_function(prefix, number)}_layer_{index}" if number else f"{prefix}_layer_{index}"


def _kernel_state_names(graph: Graph, prefix: str) -> dict[tuple[int, int], tuple[str, int]]:
    """The static array and size of each layer's own state (`layer_states`), by (subgraph, layer
    index): its layer function's name and `_state`; CALL_ONCE's flag (has its subgraph run since
    init()): `_once`."""
    names = {}
    for (number, index), size in layer_states(graph).items():
        suffix = "_once" if graph.subgraphs[number].operators[index].op_type == "CALL_ONCE" else "_state"
        names[number, index] = (_layer_function(prefix, number, index) + suffix, size)
    return names


def _resource_names(graph: Graph, prefix: str) -> dict[int, str]:
    """The buffer of each sized resource variable, by resource id: `<prefix>_resource_` and the
    identifier of its shared name."""
    variables = resource_layout(graph).variables
    wanted = {r: tensor_identifier(v.shared_name) for r, v in enumerate(variables) if v.nbytes is not None}
    return {resource: f"{prefix}_resource_{name}" for resource, name in unique_names(wanted).items()}


def _check_emitters(graph: Graph, numbers: list[int]) -> None:
    """Refuse, before any layout, the first operator (of the subgraphs the model runs) the C
    library has no kernel for."""
    for number in numbers:
        for op in graph.subgraphs[number].operators:
            if op.op_type not in EMITTERS:
                what = f"custom operator '{op.op_type}'" if op.is_custom else f"operator {op.op_type}"
                where = f"layer #{op.index}" + (f" of subgraph {number}" if number else "")
                raise UnsupportedOperatorError(graph.subject, f"{what} at {where} has no kernel in the C library")


@dataclass
class _Units:
    """What every layer's emitter is given, for the layers of any subgraph."""

    graph: Graph
    plan: MemoryPlan
    arena: ArenaNames
    block: WeightsBlock
    prefix: str
    variables: dict[tuple[int, int], str]
    resources: dict[int, str]
    kernel_states: dict[tuple[int, int], tuple[str, int]]
    calls: dict[int, CalledSubgraph] = field(default_factory=dict)

    @property
    def tensor_macro(self) -> str:
        return f"{identifier(self.prefix)}_TENSOR"

    def emit(self, number: int, op: Operator) -> LayerCode:
        subgraph = self.graph.subgraphs[number]
        contract = kernel_contract(subgraph, op)
        scratch = _scratch(self.plan, number, op, contract.scratch_bytes) or _scratch(
            self.plan, number, op, contract.least_scratch_bytes
        )
        kernel_state = self.kernel_states.get((number, op.index))
        ctx = LayerContext(
            graph=subgraph,
            op=op,
            contract=contract,
            arena_offsets=self.arena.tensor_offsets[number],
            arena_names=self.arena.tensor_names[number],
            scratch=scratch,
            scratch_name=self.arena.buffers[scratch] if scratch else None,
            constants=self.block.constants_of(number),
            derived_names=self.block.derived_of(number, op.index),
            tensor_macro=self.tensor_macro,
            variables={index: name for (n, index), name in self.variables.items() if n == number},
            resources=self.resources,
            state_name=kernel_state[0] if kernel_state else None,
            subgraph=number,
            model=self.graph if number else None,
            calls=self.calls,
        )
        return EMITTERS[op.op_type](ctx)

    def called(self, number: int) -> CalledSubgraph:
        """A called subgraph's function and the bytes of its inputs and outputs: in the arena, or
        an output may be a constant or a variable tensor (a CIRCULAR_BUFFER's history)."""
        subgraph = self.graph.subgraphs[number]
        constants = self.block.constants_of(number)
        names = self.arena.tensor_names[number]

        def pointer(index: int) -> str:
            if index in names:
                return f"{self.tensor_macro}(uint8_t, {names[index]})"
            if index in constants:
                return f"(const uint8_t *){constants[index]}"
            if (number, index) in self.variables:
                return f"(uint8_t *){self.variables[number, index]}"
            tensor = subgraph.tensors[index]
            raise UnsupportedOperatorError(
                self.graph.subject, f"subgraph {number}'s tensor '{tensor.name}' has no place in the memory plan"
            )

        return CalledSubgraph(
            _subgraph_function(self.prefix, number),
            tuple(pointer(i) for i in subgraph.inputs),
            tuple(pointer(i) for i in subgraph.outputs),
        )


def _variable(tensor: Tensor, name: str) -> dict:
    """A variable tensor's static array and the value init() resets it to."""
    return {
        "name": name,
        "ctype": c_type(tensor.dtype),
        "size": max(tensor.size, 1),
        "bytes": tensor.nbytes,
        "fill": tensor.reset_value,
    }


def _scratch(plan: MemoryPlan, number: int, op: Operator, needed: int) -> Buffer | None:
    """The first scratch buffer the plan gives `op` (of subgraph `number`) that is as large as its
    kernel declares, or None (a plan made for other kernels, such as TFLite Micro's, may reserve
    none or smaller ones)."""
    if not needed:
        return None
    key = (number, op.index)
    return next(
        (b for b in plan.buffers if (b.subgraph_scratch_of or (0, b.scratch_of)) == key and b.size >= needed), None
    )


def _check_alignment(graph: Graph, plan: MemoryPlan, layout: ConstantLayout) -> None:
    """Typed access needs each buffer aligned to its element size (Cortex-M0 faults otherwise), and
    each constant array's layout offset must be where the C compiler puts it."""
    widest = max([a.dtype.itemsize for a in layout.arrays] + [1])
    if layout.arrays and plan.alignment < widest:
        raise McuDeployError(graph.subject, f"alignment {plan.alignment} is below the constants' {widest} bytes")
    for buffer in plan.buffers:
        key = _tensor_key(buffer)
        element = graph.subgraphs[key[0]].tensors[key[1]].dtype.itemsize if key is not None else 4
        if buffer.offset % min(element, MIN_ARENA_ALIGNMENT):
            raise McuDeployError(
                graph.subject, f"'{buffer.name}' at arena offset {buffer.offset} is not aligned to its elements"
            )


def _template_context(
    graph: Graph,
    plan: MemoryPlan,
    prefix: str,
    arena_section: str | None,
    codes: dict[int, list[LayerCode]],
    arena: ArenaNames,
    layout: ConstantLayout,
) -> dict:
    upper = identifier(prefix)
    names = arena.tensor_names[0]
    inputs = [_io(graph.tensors[i], "input", n, upper, names) for n, i in enumerate(graph.inputs)]
    outputs = [_io(graph.tensors[i], "output", n, upper, names) for n, i in enumerate(graph.outputs)]
    parameters = [f"const {io['ctype']} *input_{io['position']}" for io in inputs]
    parameters += [f"{io['ctype']} *output_{io['position']}" for io in outputs]
    arguments = [f"{io['kind']}_{io['position']}" for io in inputs + outputs]
    return {
        "prefix": prefix,
        "P": upper,
        "model": comment_text(graph.name),
        "planner": plan.planner,
        "arena_bytes": plan.arena_bytes,
        "arena_alignment": max(plan.alignment, MIN_ARENA_ALIGNMENT),
        "arena_section": arena_section,
        "weights_bytes": layout.total_bytes,
        "inputs": inputs,
        "outputs": outputs,
        "run_parameters": ", ".join(parameters),
        "null_checks": " || ".join(f"{name} == NULL" for name in arguments) or "0",
        "example_declarations": "\n".join(
            f"static {io['ctype']} {io['kind']}_{io['position']}[{upper}_{io['kind'].upper()}_{io['position']}_SIZE];"
            for io in inputs + outputs
        ),
        "example_arguments": ", ".join(arguments),
        "arena": [_arena_entry(graph, buffer, name) for buffer, name in sorted(arena.buffers.items(), key=_by_offset)],
        "layers": _layers(graph, 0, codes[0], prefix, names),
        "waits": graph_can_wait(graph),
        "subgraphs": [
            {
                "function": _subgraph_function(prefix, number),
                "comment": comment_text(f"subgraph {number} '{graph.subgraphs[number].name}'"),
                "layers": _layers(graph, number, codes[number], prefix, arena.tensor_names[number]),
            }
            for number in codes
            if number
        ],
        "npu_segments": [_npu_segment(graph, op) for op in graph.operators if op.op_type == ETHOS_U],
    }


def _npu_segment(graph: Graph, op: Operator) -> dict:
    """An Ethos-U segment's sizes for the README: Vela's inputs are the command stream, the read-only
    data, the scratch and the fast scratch, then the feature maps."""
    stream, read_only, scratch, fast = (graph.tensors[i].nbytes if i != NO_TENSOR else 0 for i in op.inputs[:4])
    return {
        "layer": op.index,
        "command_stream_bytes": stream,
        "read_only_bytes": read_only,
        "scratch_bytes": scratch,
        "fast_scratch_bytes": fast,
        "bases": len(op.inputs) - 1 + len(op.outputs),
    }


def _by_offset(item: tuple[Buffer, str]) -> tuple[int, str]:
    return item[0].offset, item[1]


def _arena_entry(graph: Graph, buffer: Buffer, name: str) -> dict:
    if (key := _tensor_key(buffer)) is not None:
        tensor = graph.subgraphs[key[0]].tensors[key[1]]
        number, what = key[0], f"{_tensor_label(tensor)}, {tensor.dtype.value} {list(tensor.shape)}"
    elif buffer.calls_of is not None:
        number, layer = buffer.calls_of
        what = f"the subgraphs layer {layer} runs, {buffer.size} bytes"
    else:
        number, layer = buffer.subgraph_scratch_of or (0, buffer.scratch_of)
        what = f"layer {layer} scratch, {buffer.size} bytes"
    what = f"subgraph {number}: {what}" if number else what
    return {"name": name, "offset": buffer.offset, "comment": comment_text(what)}


def _io(tensor: Tensor, kind: str, position: int, upper: str, names: dict[int, str]) -> dict:
    if tensor.index not in names:
        raise McuDeployError(tensor.name, f"graph {kind} {position} has no place in the memory plan")
    quantized = tensor.quantization is not None and not tensor.dtype.is_float
    return {
        "kind": kind,
        "position": position,
        "name": comment_text(tensor.name),
        "macro": f"{upper}_{kind.upper()}_{position}",
        "ctype": c_type(tensor.dtype),
        "dtype": tensor.dtype.value,
        "shape": list(tensor.shape) or [1],
        "shape_text": str(list(tensor.shape)),
        "rank": len(tensor.shape),
        "size": tensor.size,
        "bytes": tensor.nbytes,
        "offset": names[tensor.index],
        "scale": float_literal(tensor.quantization.single_scale) if quantized else None,
        "zero_point": tensor.quantization.single_zero_point if quantized else None,
    }


def _layers(graph: Graph, number: int, codes: list[LayerCode], prefix: str, names: dict[int, str]) -> list[dict]:
    subgraph = graph.subgraphs[number]
    return [
        _layer(subgraph, op, code, names, _layer_function(prefix, number, op.index), not number, can_wait(graph, op))
        for op, code in zip(subgraph.operators, codes, strict=True)
    ]


def _layer(
    graph: Graph, op: Operator, code: LayerCode, names: dict[int, str], function: str, dumps: bool, waits: bool
) -> dict:
    """A layer's function; `dumps`: the layer hook sees its outputs (the main graph's layers);
    `waits`: it can end the inference waiting for frames (`can_wait`)."""
    activations = [graph.tensors[i] for i in op.inputs if i >= 0 and not graph.tensors[i].is_constant]
    inputs = ", ".join(_tensor_label(tensor) for tensor in activations)
    outputs = ", ".join(_tensor_label(graph.tensors[i]) for i in op.outputs)
    return {
        "index": op.index,
        "function": function,
        "comment": comment_text(f"{op.label}: {inputs} -> {outputs}"),
        "declarations": code.declarations,
        "call": wrapped_call(code.call),
        "waits": waits,
        # a subgraph it runs can wait: MD_WAITING is one status it may return, not the only one
        "waits_in_subgraph": waits and not waits_for_frames(op),
        # an IF whose branch waited has not written its outputs (a WHILE has: its last values): hooked on MD_OK
        "dumps_after_status": waits and op.op_type == "IF",
        "dumps": [
            {"tensor": i, "offset": names[i], "bytes": graph.tensors[i].nbytes}
            for i in op.outputs
            if dumps and i in names and graph.tensors[i].nbytes
        ],
    }


def _tensor_label(tensor: Tensor) -> str:
    return f"tensor {tensor.index} '{comment_text(tensor.name, NAME_LIMIT)}'"
