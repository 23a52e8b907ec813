"""`ethos-u`: one NPU segment compiled by Vela, handed to the application's Ethos-U driver."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import NO_TENSOR

MAX_BASES = 8
"""MD_ETHOSU_MAX_BASES in md_nn.h."""


@emits("ethos-u")
def ethos_u(ctx: LayerContext) -> LayerCode:
    """A job naming the command stream and every base address in Vela's order (the inputs after
    the command stream, then the outputs), and one call into md_ethosu_invoke()."""
    op = ctx.op
    if not op.inputs or op.inputs[0] == NO_TENSOR:
        raise ctx.unsupported("no command stream")
    tensors = [ctx.graph.tensors[i] for i in (*op.inputs[1:], *op.outputs) if i != NO_TENSOR]
    if len(tensors) > MAX_BASES:
        raise ctx.unsupported(f"{len(tensors)} base addresses, more than {MAX_BASES}")
    stream = ctx.input_tensor(0)
    addresses = ", ".join(f"(uint64_t)(uintptr_t){ctx.tensor_ref(t)}" for t in tensors)
    sizes = ", ".join(f"{t.nbytes}u" for t in tensors)
    job = (
        f"const md_ethosu_job job = {{{ctx.tensor_ref(stream)}, {stream.nbytes}u, {{{addresses}}}, {{{sizes}}}, "
        f"{len(tensors)}, {len(tensors) - len(op.outputs)}}};"
    )
    return LayerCode((), "md_ethosu_invoke(&job)", [job])
