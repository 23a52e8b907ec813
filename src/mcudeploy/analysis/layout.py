"""Layout guard: signs that a graph still computes in NCHW while mcudeploy computes in NHWC.

A model exported from a channels-first framework can reach the IR with its
image still NCHW: a TRANSPOSE into NHWC as the first layer (time and arena spent
on every inference), or no transpose at all, in which case a convolution reads
the channels as rows and gives wrong results without any error. Neither is an
error in the file, so they are findings, with the fix. The ONNX importer does
the conversion itself; its findings say what it converted and what it kept.
"""

from __future__ import annotations

from mcudeploy.analysis.findings import Finding
from mcudeploy.ir import Graph, Operator, Tensor

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)
MAX_IMAGE_CHANNELS = 4
"""Grayscale, RGB or RGBA: an axis this small between batch and two larger ones looks like channels."""


def layout_findings(graph: Graph) -> list[Finding]:
    if graph.metadata.get("format") == "onnx":
        return _onnx_conversion(graph)
    transposed = _leading_transposes(graph)
    findings = [_leading_transpose(tensor, op) for tensor, op in transposed]
    seen = {tensor.index for tensor, _ in transposed}
    findings += [
        _channels_first_input(t) for t in graph.graph_inputs if t.index not in seen and looks_channels_first(t)
    ]
    findings += _convolutions_reading_channels_as_rows(graph)
    return findings


def _perm(graph: Graph, op: Operator) -> tuple[int, ...] | None:
    perm = graph.tensors[op.inputs[1]] if len(op.inputs) > 1 else None
    return None if perm is None or perm.data is None else tuple(int(p) for p in perm.data.reshape(-1))


def layout_transposes(graph: Graph) -> list[Operator]:
    """TRANSPOSE operators that switch between NCHW and NHWC, anywhere in the graph."""
    return [
        op
        for op in graph.operators
        if op.op_type == "TRANSPOSE" and _perm(graph, op) in (NCHW_TO_NHWC, NHWC_TO_NCHW)
    ]


def _leading_transposes(graph: Graph) -> list[tuple[Tensor, Operator]]:
    """Graph inputs whose first use is a TRANSPOSE from NCHW to NHWC."""
    return [
        (tensor, op)
        for tensor in graph.graph_inputs
        for op in graph.consumers(tensor.index)
        if op.op_type == "TRANSPOSE" and op.inputs[0] == tensor.index and _perm(graph, op) == NCHW_TO_NHWC
    ]


def _leading_transpose(tensor: Tensor, op: Operator) -> Finding:
    return Finding(
        "leading-transpose",
        f"input '{tensor.name}' {list(tensor.shape)} is NCHW and layer {op.label} transposes it to NHWC on every "
        f"inference",
        cost=f"{tensor.nbytes:,} B moved, a second copy in the arena",
        fix="feed NHWC and drop the TRANSPOSE",
        layer=op.index,
    )


def looks_channels_first(tensor: Tensor) -> bool:
    """(1, C, H, W) with a few channels and a spatial last axis: (1, 3, 224, 224), not (1, 224, 224, 3)."""
    shape = tensor.shape
    return len(shape) == 4 and shape[1] <= MAX_IMAGE_CHANNELS < min(shape[2], shape[3])


def _channels_first_input(tensor: Tensor) -> Finding:
    _, c, h, w = tensor.shape
    return Finding(
        "channels-first-input",
        f"input '{tensor.name}' {list(tensor.shape)} looks NCHW ({c} channels of {h}x{w})",
        cost=f"wrong results if so: mcudeploy computes in NHWC and reads it as {c} rows of {h} pixels with {w} "
        f"channels",
        fix="if the data is channels-first, convert the model to NHWC (the ONNX importer does)",
    )


def _convolutions_reading_channels_as_rows(graph: Graph) -> list[Finding]:
    findings = []
    for op in graph.operators:
        if op.op_type not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        source = graph.tensors[op.inputs[0]]
        shape = source.shape
        if looks_channels_first(source) and shape[2] == shape[3]:
            findings.append(
                Finding(
                    "channels-in-height",
                    f"layer {op.label} reads {list(shape)} as height {shape[1]}, width {shape[2]}, {shape[3]} "
                    f"channels: a square {shape[2]}x{shape[3]} image with {shape[1]} channels in the height "
                    f"position, i.e. NCHW data in an NHWC graph",
                    cost="wrong results: the convolution mixes rows where it should mix channels",
                    fix="convert the model to NHWC (the ONNX importer does)",
                    layer=op.index,
                )
            )
    return findings


def _onnx_conversion(graph: Graph) -> list[Finding]:
    findings = [
        Finding(
            "converted-to-nhwc",
            f"{entry}: the ONNX importer holds it channels-last",
            fix="feed NHWC data",
            severity="note",
        )
        for entry in filter(None, graph.metadata.get("converted_layouts", "").split("; "))
    ]
    for op in graph.operators:
        if op.op_type == "TRANSPOSE":
            findings.append(
                Finding(
                    "kept-transpose",
                    f"layer {op.label} puts an NHWC map back in the ONNX model's NCHW order for the reshape after "
                    f"it (a Flatten of channels x height x width)",
                    fix="export the model with the flatten after global pooling, or channels-last: no TRANSPOSE "
                    "remains",
                    severity="note",
                    layer=op.index,
                )
            )
    return findings
