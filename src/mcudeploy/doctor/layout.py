"""Channels-first (NCHW) layouts: a model exported from PyTorch/ONNX keeps NCHW inputs, or converts
them with TRANSPOSE operators that move every activation byte through the CPU, while TFLite kernels
(and CMSIS-NN) work channels-last (NHWC)."""

from __future__ import annotations

from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.ir import Graph, Operator, Tensor

CHECK = "nchw-layout"
LAYOUT_PERMUTATIONS = ((0, 2, 3, 1), (0, 3, 1, 2))
"""NCHW to NHWC and back."""
MAX_CHANNELS = 4
"""Image-like inputs carry at most 4 channels (grey, RGB, RGBA)."""


def looks_channels_first(tensor: Tensor) -> bool:
    """(1, C, H, W) with a few channels and a spatial last axis: (1, 3, 224, 224), not (1, 224, 224, 3)."""
    shape = tensor.shape
    return len(shape) == 4 and shape[1] <= MAX_CHANNELS < min(shape[2], shape[3])


def layout_transposes(graph: Graph) -> list[Operator]:
    found = []
    for op in graph.operators:
        if op.op_type != "TRANSPOSE" or len(op.inputs) < 2:
            continue
        perm = graph.tensors[op.inputs[1]].data
        if perm is not None and tuple(int(v) for v in perm.ravel()) in LAYOUT_PERMUTATIONS:
            found.append(op)
    return found


def check_layout(context: Context) -> CheckResult:
    result = CheckResult(CHECK)
    graph = context.graph
    inputs = [t for t in graph.graph_inputs if looks_channels_first(t)]
    transposes = layout_transposes(graph)
    if not inputs and not transposes:
        return result
    evidence = [f"input '{t.name}' is {list(t.shape)}: channels first" for t in inputs]
    moved = sum(graph.tensors[op.outputs[0]].nbytes for op in transposes)
    if transposes:
        evidence.append(
            f"{len(transposes)} layout TRANSPOSE operators: " + ", ".join(op.label for op in transposes[:6])
        )
    cost = (
        f"{moved} B copied by TRANSPOSE per inference, and a kernel call each"
        if transposes
        else "the application must feed NCHW: a transpose of every frame, or wrong results "
        "if it feeds the camera's NHWC buffer"
    )
    result.findings.append(
        Finding(
            check=CHECK,
            what="the model keeps the channels-first (NCHW) layout of its PyTorch/ONNX origin",
            evidence=tuple(evidence),
            cost=cost,
            fix="convert with the layout changed to NHWC (onnx2tf's default, or export channels-last) so no "
            "TRANSPOSE remains and the input is (1, H, W, C)",
        )
    )
    return result
