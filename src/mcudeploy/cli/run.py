"""`mcudeploy run MODEL --input FILE`: the reference engine on one input."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, BinaryIO

import numpy as np
import typer

from mcudeploy.cli.options import ForceOption
from mcudeploy.cli.output import console, print_json, waiting_text
from mcudeploy.display import markup_safe
from mcudeploy.engine import Engine, RunResult, check_supported
from mcudeploy.errors import McuDeployError
from mcudeploy.files import check_output_file, write_file
from mcudeploy.importers import load_model
from mcudeploy.inputs import load_input_sets
from mcudeploy.ir import Graph, Tensor
from mcudeploy.npu.compiled import check_runs_on_cpu


def run(
    model: Annotated[Path, typer.Argument(help="Model file (.tflite or .onnx).", show_default=False)],
    input: Annotated[
        Path,
        typer.Option(
            "--input",
            "-i",
            help="Input: .npy, .npz (several inputs), raw .bin, or .bmp image; a folder or a batched .npz runs "
            "each input set in turn, the model's state carrying over (streaming models).",
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the last run's outputs to .npy (one output) or .npz.")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the outputs as JSON.")] = False,
    force: ForceOption = False,
) -> None:
    """Run the bit-exact reference engine on one input (or several in turn) and print the outputs.

    A run that a CIRCULAR_BUFFER ends waiting for frames (TFLite Micro's kTfLiteAbort) produces no
    outputs: it is reported as waiting. An existing --output file is replaced only with --force.
    """
    graph = load_model(model)
    check_runs_on_cpu(graph)
    check_supported(graph)
    if output is not None:
        _check_output_path(output, graph, force)
    engine = Engine(graph)
    results = [engine.run(inputs) for inputs in load_input_sets(input, graph)]
    last = results[-1]
    if output is not None:
        if last.waiting_at is not None:
            reason = f"not written: the last run is {waiting_text(graph, last.waiting_at)}, it produced no outputs"
            raise McuDeployError(str(output), reason)
        write_file(output, lambda stream: _save(stream, output.suffix, graph, last.outputs), force)
    runs = [_run_summary(graph, result) for result in results]
    if json:
        print_json({"model": graph.name, **runs[-1], **({"runs": runs} if len(runs) > 1 else {})})
        return
    for number, summary in enumerate(runs, 1):
        heading = f"run {number} of {len(runs)}: " if len(runs) > 1 else ""
        if summary["waiting"] is not None:
            console.print(f"{heading}{waiting_text(graph, summary['waiting']['layer'])}", markup=False)
            continue
        if heading:
            console.print(heading.rstrip(": "), markup=False)
        for output_summary in summary["outputs"]:
            _print_summary(output_summary)
    if output is not None:
        console.print(f"wrote {markup_safe(str(output))}")


def _run_summary(graph: Graph, result: RunResult) -> dict:
    """One run as `run --json` gives it: its outputs, or (outputs null) the layer it waited at."""
    if result.waiting_at is not None:
        op = graph.operators[result.waiting_at]
        return {"outputs": None, "waiting": {"layer": op.index, "op": op.op_type}}
    outputs = [_summary(t, a) for t, a in zip(graph.graph_outputs, result.outputs, strict=True)]
    return {"outputs": outputs, "waiting": None}


def _check_output_path(path: Path, graph: Graph, force: bool) -> None:
    if path.suffix not in (".npy", ".npz"):
        raise McuDeployError(str(path), "output must be a .npy or .npz file")
    if path.suffix == ".npy" and len(graph.outputs) > 1:
        raise McuDeployError(str(path), f"the model has {len(graph.outputs)} outputs: write them to a .npz file")
    check_output_file(path, force)


def _save(stream: BinaryIO, suffix: str, graph: Graph, outputs: list[np.ndarray]) -> None:
    """The outputs as .npy or .npz, written straight from the arrays (no copies into Python lists)."""
    if suffix == ".npy":
        np.save(stream, outputs[0], allow_pickle=False)
    else:
        np.savez(stream, **{t.name: a for t, a in zip(graph.graph_outputs, outputs, strict=True)})


PRINTED_VALUES = 4096
"""Outputs up to this many values are printed (and given in --json) whole; larger ones by their range."""


def _summary(tensor: Tensor, array: np.ndarray) -> dict:
    """What `run` prints of one output; a large output is summarised, never turned into Python lists."""
    summary: dict = {"name": tensor.name, "shape": list(array.shape), "dtype": str(array.dtype)}
    if array.size > PRINTED_VALUES:
        summary.update(values=None, min=array.min().item(), max=array.max().item())
    else:
        summary["values"] = array.tolist()
        if tensor.quantization is not None and not tensor.dtype.is_float:
            quant = tensor.quantization
            real = (array.astype(np.float64) - quant.single_zero_point) * quant.single_scale
            summary["dequantized"] = np.round(real, 6).tolist()
    if array.ndim == 2 and array.shape[0] == 1 and array.shape[1] > 1:
        summary["top1"] = int(np.argmax(array[0]))
    return summary


def _print_summary(summary: dict) -> None:
    console.print(f"[bold]{markup_safe(summary['name'])}[/] {summary['dtype']}{summary['shape']}")
    if summary["values"] is None:
        count = int(np.prod(summary["shape"]))
        console.print(f"  values:      {count:,} from {summary['min']} to {summary['max']} (--output writes them all)")
    else:
        console.print(f"  values:      {np.array(summary['values'])}")
    if "dequantized" in summary:
        console.print(f"  dequantized: {np.array(summary['dequantized'])}")
    if "top1" in summary:
        console.print(f"  top-1 class: {summary['top1']}")
