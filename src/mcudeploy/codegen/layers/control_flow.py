"""IF, WHILE and CALL_ONCE: layers that run other subgraphs of the model, each a C function of
its own (`<prefix>_subgraph_<index>`), the values copied in and out as TFLite Micro's kernels
(if.cc, while.cc, call_once.cc) copy them. The memory plan keeps a called subgraph's buffers
apart from the caller's live at the call, so every copy is between disjoint bytes. A subgraph's
failing status is the layer's, as in TFLM."""

from __future__ import annotations

from collections.abc import Sequence

from mcudeploy.codegen.layers.base import CalledSubgraph, LayerCode, LayerContext, emits
from mcudeploy.ir import Tensor

STOP_ON_ERROR = "if (status != MD_OK) {\n    return status;\n}"


@emits("IF")
def if_(ctx: LayerContext) -> LayerCode:
    """The branch the condition's one bool chooses gets the operator's other inputs."""
    sources = [ctx.input_ref(p) for p in range(1, len(ctx.op.inputs))]
    inputs = [ctx.input_tensor(p) for p in range(1, len(ctx.op.inputs))]
    outputs = [ctx.output_tensor(p) for p in range(len(ctx.op.outputs))]
    targets = [ctx.output_ref(p) for p in range(len(ctx.op.outputs))]
    branches = []
    for number in (ctx.options.then_subgraph, ctx.options.else_subgraph):
        called = _called(ctx, number)
        run = [*_copies(called.inputs, sources, inputs), f"status = {called.function}();", STOP_ON_ERROR]
        branches.append("\n".join([*run, *_copies(targets, called.outputs, outputs)]))
    body = f"if (*{ctx.input_ref(0)} != 0) {{\n{_indent(branches[0])}\n}} else {{\n{_indent(branches[1])}\n}}"
    return LayerCode((), "MD_OK", ["int status;", body])


@emits("WHILE")
def while_(ctx: LayerContext) -> LayerCode:
    """The loop values live in the operator's outputs: copied to the condition's inputs, then
    while it gives true to the body's, whose outputs are the next values."""
    values = [ctx.output_ref(p) for p in range(len(ctx.op.outputs))]
    tensors = [ctx.output_tensor(p) for p in range(len(ctx.op.outputs))]
    cond, body = _called(ctx, ctx.options.cond_subgraph), _called(ctx, ctx.options.body_subgraph)
    start = _copies(values, [ctx.input_ref(p) for p in range(len(ctx.op.inputs))], tensors)
    loop = [
        *_copies(cond.inputs, values, tensors),
        f"status = {cond.function}();",
        STOP_ON_ERROR,
        f"if (*{cond.outputs[0]} == 0) {{\n    break;\n}}",
        *_copies(body.inputs, values, tensors),
        f"status = {body.function}();",
        STOP_ON_ERROR,
        *_copies(values, body.outputs, tensors),
    ]
    return LayerCode((), "MD_OK", ["int status;", *start, "for (;;) {\n" + _indent("\n".join(loop)) + "\n}"])


@emits("CALL_ONCE")
def call_once(ctx: LayerContext) -> LayerCode:
    """The init subgraph runs on the first inference after init() (TFLM: the interpreter's first),
    the flag in the layer's state."""
    if ctx.state_name is None:
        raise ctx.unsupported("no flag to remember its run")
    called = _called(ctx, ctx.options.init_subgraph)
    flag = f"{ctx.state_name}[0]"
    run = [f"int status = {called.function}();", STOP_ON_ERROR, f"{flag} = 1;"]
    return LayerCode((), "MD_OK", [f"if ({flag} == 0) {{\n" + _indent("\n".join(run)) + "\n}"])


def _called(ctx: LayerContext, number: int) -> CalledSubgraph:
    if number not in ctx.calls:
        raise ctx.unsupported(f"subgraph {number} has no code")
    return ctx.calls[number]


def _copies(targets: Sequence[str], sources: Sequence[str], tensors: Sequence[Tensor | None]) -> list[str]:
    """memcpy of each value with bytes (types and shapes agree: the graph's validation checks it)."""
    return [
        f"memcpy({target}, {source}, {tensor.nbytes});"
        for target, source, tensor in zip(targets, sources, tensors, strict=True)
        if tensor is not None and tensor.nbytes
    ]


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else line for line in text.split("\n"))
