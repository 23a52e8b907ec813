"""Resource variables: static byte arrays outside the arena (`params.variables`), copied in
and out; a handle (the variable's id in the engine) takes no bytes, as in TFLM."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.params.variables import resource_layout


@emits("VAR_HANDLE")
def var_handle(ctx: LayerContext) -> LayerCode:
    # No code: the reads and assignments name their variable's array, the handle has no bytes.
    return LayerCode((), "MD_OK")


@emits("READ_VARIABLE")
def read_variable(ctx: LayerContext) -> LayerCode:
    output = ctx.output_tensor()
    call = f"md_copy({_buffer(ctx, output.nbytes)}, {ctx.output_ref()}, {output.nbytes})"
    return LayerCode(("md_copy.c",), call)


@emits("ASSIGN_VARIABLE")
def assign_variable(ctx: LayerContext) -> LayerCode:
    value = ctx.input_tensor(1)
    return LayerCode(("md_copy.c",), f"md_copy({ctx.input_ref(1)}, {_buffer(ctx, value.nbytes)}, {value.nbytes})")


def _buffer(ctx: LayerContext, nbytes: int) -> str:
    """The C array of the variable the operator's handle names, checked to hold `nbytes`."""
    layout = resource_layout(ctx.model or ctx.graph)
    resource = layout.variable_of(ctx.op.inputs[0], ctx.label, ctx.subgraph)
    if resource not in ctx.resources or layout.variables[resource].nbytes != nbytes:
        raise ctx.unsupported(f"resource variable {resource} is not assigned {nbytes} bytes")
    return ctx.resources[resource]
