"""`ethos-u`: one NPU segment compiled by Vela, handed to the application's Ethos-U driver."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import ETHOS_U, NO_TENSOR


@emits(ETHOS_U)
def ethos_u(ctx: LayerContext) -> LayerCode:
    """A job naming the command stream and every base address in Vela's order (the inputs after
    the command stream, then the outputs), and one call into md_ethosu_invoke(). A segment may have
    more base addresses than the NPU's eight base pointer registers: the job lists them all, the
    driver takes the first eight (md_nn.h)."""
    op = ctx.op
    if not op.inputs or op.inputs[0] == NO_TENSOR:
        raise ctx.unsupported("no command stream")
    tensors = [ctx.graph.tensors[i] for i in (*op.inputs[1:], *op.outputs) if i != NO_TENSOR]
    stream = ctx.input_tensor(0)
    # A segment without weights has an empty read-only tensor, with no place in memory: address 0.
    addresses = ", ".join(f"(uint64_t)(uintptr_t){ctx.tensor_ref(t)}" if t.nbytes else "0u" for t in tensors)
    sizes = ", ".join(f"{t.nbytes}u" for t in tensors)
    declarations = [
        f"const uint64_t bases[{len(tensors)}] = {{{addresses}}};",
        f"static const size_t base_bytes[{len(tensors)}] = {{{sizes}}};",
        f"const md_ethosu_job job = {{{ctx.tensor_ref(stream)}, {stream.nbytes}u, bases, base_bytes, "
        f"{len(tensors)}, {len(tensors) - len(op.outputs)}}};",
    ]
    return LayerCode((), "md_ethosu_invoke(&job)", declarations)
