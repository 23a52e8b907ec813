"""`mcudeploy quantize MODEL --calibration DATA -o OUT.tflite`: a float model to int8 (min-max calibration)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcudeploy.cli.options import ForceOption, JsonOption, ModelArgument
from mcudeploy.cli.output import console, print_json
from mcudeploy.errors import McuDeployError
from mcudeploy.files import check_output_file, write_file
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import load_input_sets
from mcudeploy.quantization import quantize_graph
from mcudeploy.quantization.quality import compare_outputs


def quantize(
    model: ModelArgument,
    calibration: Annotated[
        Path, typer.Option("--calibration", "-c", help="Calibration inputs: a folder of input files or a batched .npz.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the int8 .tflite model.")],
    force: ForceOption = False,
    json: JsonOption = False,
) -> None:
    """Quantize a float model to int8 (TFLite's scheme, min-max ranges over the calibration inputs)."""
    if output.suffix.lower() != ".tflite":
        raise McuDeployError(str(output), "the output must be a .tflite file")
    check_output_file(output, force)
    graph = load_model(model)
    input_sets = load_input_sets(calibration, graph)
    quantized = quantize_graph(graph, input_sets)
    write_file(output, write_tflite(quantized), force)
    quality = compare_outputs(graph, quantized, input_sets)
    report = {
        "model": graph.name,
        "output": str(output),
        "calibration": {"path": str(calibration), "samples": len(input_sets), "method": "min-max"},
        "outputs": [q.as_dict() for q in quality],
    }
    if json:
        print_json(report)
        return
    console.print(f"wrote {output}: int8, calibrated (min-max) on {len(input_sets)} input sets from {calibration}")
    for q in quality:
        console.print(
            f"  output '{q.name}': SQNR {q.sqnr_db:.1f} dB against float on the calibration inputs, "
            f"top-1 agreement {q.top1_agreement}/{q.samples}",
            markup=False,
        )

