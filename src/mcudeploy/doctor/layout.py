"""Channels-first (NCHW) layouts: a model exported from PyTorch/ONNX keeps NCHW inputs, or converts
them with TRANSPOSE operators that move every activation byte through the CPU, while TFLite kernels
(and CMSIS-NN) work channels-last (NHWC)."""

from __future__ import annotations

from mcudeploy.analysis.layout import layout_transposes, looks_channels_first
from mcudeploy.doctor.findings import CheckResult, Context, Finding

CHECK = "nchw-layout"


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
            fix="give mcudeploy the .onnx model itself (its importer converts to NHWC, folding the layout "
            "transposes away), or convert with the layout changed to NHWC (onnx2tf's default, or export "
            "channels-last) so no TRANSPOSE remains and the input is (1, H, W, C)",
        )
    )
    return result
