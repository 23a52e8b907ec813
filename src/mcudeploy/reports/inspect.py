"""`mcudeploy inspect`: the layers of a model, their shapes, quantization, parameters and MACs."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from mcudeploy.analysis.costs import layer_macs, layer_params, total_macs, total_params
from mcudeploy.analysis.findings import Finding
from mcudeploy.analysis.layout import layout_findings
from mcudeploy.display import markup_safe, printable
from mcudeploy.ir import Graph, Tensor


def tensor_summary(tensor: Tensor) -> dict[str, Any]:
    quant = tensor.quantization
    summary: dict[str, Any] = {
        "index": tensor.index,
        "name": tensor.name,
        "shape": list(tensor.shape),
        "dtype": str(tensor.dtype),
        "constant": tensor.is_constant,
    }
    if quant is not None:
        summary["quantization"] = {
            "scale": [float(s) for s in quant.scale],
            "zero_point": [int(z) for z in quant.zero_point],
            "axis": quant.axis,
        }
    return summary


def inspect_model(graph: Graph) -> dict[str, Any]:
    """The inspect report as plain data (what --json prints)."""
    layers = []
    for op in graph.operators:
        layers.append(
            {
                "index": op.index,
                "op": op.op_type,
                "custom": op.is_custom,
                "inputs": [tensor_summary(t) for t in graph.input_tensors(op) if t is not None],
                "outputs": [tensor_summary(t) for t in graph.output_tensors(op)],
                "params": layer_params(graph, op),
                "macs": layer_macs(graph, op),
            }
        )
    return {
        "model": graph.name,
        "inputs": [tensor_summary(t) for t in graph.graph_inputs],
        "outputs": [tensor_summary(t) for t in graph.graph_outputs],
        "layers": layers,
        "total_macs": total_macs(graph),
        "total_params": total_params(graph),
        "findings": [finding.as_dict() for finding in layout_findings(graph)],
    }


def _dtype_text(output: dict[str, Any] | None, inputs: list[dict[str, Any]]) -> str:
    """The output's element type, and int4 weights where the layer has them (packed in the file)."""
    if output is None:
        return ""
    int4 = any(t["constant"] and t["dtype"] == "int4" for t in inputs)
    return output["dtype"] + (" (int4 weights)" if int4 else "")


def inspect_table(report: dict[str, Any]) -> Table:
    table = Table(title=f"{markup_safe(report['model'])}: {len(report['layers'])} layers", title_justify="left")
    for column in ("#", "op", "input shapes", "output", "dtype", "quantization (out)"):
        table.add_column(column)
    table.add_column("params", justify="right")
    table.add_column("MACs", justify="right")
    for layer in report["layers"]:
        activations = [t for t in layer["inputs"] if not t["constant"]]
        output = layer["outputs"][0] if layer["outputs"] else None
        table.add_row(
            str(layer["index"]),
            markup_safe(layer["op"]) + (" (custom)" if layer["custom"] else ""),
            " ".join(_shape(t) for t in activations),
            _shape(output) if output else "",
            _dtype_text(output, layer["inputs"]),
            _quant_text(output),
            f"{layer['params']:,}",
            f"{layer['macs']:,}",
        )
    table.add_section()
    table.add_row("", "total", "", "", "", "", f"{report['total_params']:,}", f"{report['total_macs']:,}")
    return table


def findings_text(report: dict[str, Any]) -> list[str]:
    """One line per finding, for the text output."""
    return [printable(f"{f['severity']}: {Finding(**f).sentence()}") for f in report["findings"]]


def _shape(summary: dict[str, Any]) -> str:
    return "x".join(str(d) for d in summary["shape"]) or "scalar"


def _quant_text(summary: dict[str, Any] | None) -> str:
    quant = summary and summary.get("quantization")
    if not quant:
        return "-"
    if quant["axis"] is not None:
        return f"per-channel[{len(quant['scale'])}]"
    return f"s={quant['scale'][0]:.4g} zp={quant['zero_point'][0]}"
