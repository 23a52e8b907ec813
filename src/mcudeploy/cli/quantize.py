"""`mcudeploy quantize MODEL --calibration DATA -o OUT.tflite`: a float model to int8 (min-max calibration)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from mcudeploy.audio import Features, load_audio_sets, wav_files
from mcudeploy.cli.options import ForceOption, JsonOption, ModelArgument
from mcudeploy.cli.output import console, print_json
from mcudeploy.display import printable
from mcudeploy.errors import McuDeployError
from mcudeploy.files import check_output_file, write_file
from mcudeploy.images import Preprocess, image_files, load_image_sets
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import load_input_sets, load_labels
from mcudeploy.ir import DType, Graph
from mcudeploy.quantization import Method, quantize_graph
from mcudeploy.quantization.quality import compare_outputs
from mcudeploy.quantization.report import calibration_report, split_held_out
from mcudeploy.reports.arena_plot import check_plot_path
from mcudeploy.reports.calibration import calibration_table, plot_calibration

SIGNATURE = "serving_default"
"""The signature TensorFlow's converter writes: LiteRT's signature runners (and tools built on them, such
as ai-edge-quantizer) find a model's tensors by it."""


class Activations(StrEnum):
    INT8 = "int8"
    INT16 = "int16"


def quantize(
    model: ModelArgument,
    calibration: Annotated[
        Path,
        typer.Option(
            "--calibration",
            "-c",
            help="Calibration inputs: input files (a folder), a batched .npz, images (--preprocess), .wav (--features)",
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the int8 .tflite model.")],
    method: Annotated[
        Method, typer.Option("--method", help="How each activation's range is chosen from the calibration run.")
    ] = Method.MINMAX,
    activations: Annotated[
        Activations, typer.Option("--activations", help="int8, or int16 (TFLite's 16x8: int8 weights, int64 biases).")
    ] = Activations.INT8,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Draw SQNR and clipping per layer to a .png or .svg file.")
    ] = None,
    preprocess: Annotated[
        Preprocess | None,
        typer.Option(
            "--preprocess", help="Images in DATA (.bmp/.png): how pixels 0..255 become inputs.", show_default=False
        ),
    ] = None,
    features: Annotated[
        Features | None,
        typer.Option(
            "--features", help="Audio in DATA (.wav, 16 kHz): the feature spec it is computed with.", show_default=False
        ),
    ] = None,
    integer_io: Annotated[
        bool,
        typer.Option(
            "--integer-io",
            help="Inputs and outputs in the activation type (no QUANTIZE/DEQUANTIZE), as published int8 models.",
        ),
    ] = False,
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="Class index of each input set, in DATA's order (.npy): accuracy float vs int."),
    ] = None,
    force: ForceOption = False,
    json: JsonOption = False,
) -> None:
    """Quantize a float model to int8 (TFLite's scheme, min-max ranges over the calibration inputs)."""
    if output.suffix.lower() != ".tflite":
        raise McuDeployError(str(output), "the output must be a .tflite file")
    check_output_file(output, force)
    if plot is not None:
        check_plot_path(plot)
        check_output_file(plot, force)
    graph = load_model(model)
    input_sets = _calibration_inputs(calibration, graph, preprocess, features)
    classes = load_labels(labels, len(input_sets)) if labels is not None else None
    calibration_sets, held_out = split_held_out(input_sets)
    quantized = quantize_graph(graph, calibration_sets, method, DType(activations.value), integer_io)
    write_file(output, write_tflite(quantized.graph, signature=SIGNATURE), force)
    evaluation = held_out or calibration_sets
    evaluated_labels = None if classes is None else classes[len(input_sets) - len(evaluation) :]
    quality = compare_outputs(graph, quantized.graph, evaluation, evaluated_labels)
    tensors, warnings = calibration_report(graph, quantized, evaluation, bool(held_out), len(calibration_sets))
    if plot is not None:
        write_file(plot, lambda stream: plot_calibration(tensors, stream, plot.suffix.lower()[1:]), force)
    report = {
        "model": graph.name,
        "output": str(output),
        "calibration": {
            "path": str(calibration),
            "method": str(method),
            "activations": str(activations),
            "samples": len(calibration_sets),
            "held_out": len(held_out),
        },
        "outputs": [q.as_dict() for q in quality],
        "tensors": [t.as_dict() for t in tensors],
        "warnings": warnings,
    }
    if json:
        print_json(report)
        return
    measured_on = f"{len(held_out)} held-out" if held_out else "the calibration"
    console.print(
        printable(
            f"wrote {output}: {activations} activations, calibrated ({method}) on {len(calibration_sets)} input "
            f"sets from {calibration}"
        ),
        markup=False,
    )
    for q in quality:
        console.print(
            printable(
                f"  output '{q.name}': SQNR {q.sqnr_db:.1f} dB against float on {measured_on} inputs, "
                f"top-1 agreement {q.top1_agreement}/{q.samples}"
                + (f", accuracy float {q.correct_float}/{q.samples} int {q.correct_int}/{q.samples}" if labels else "")
            ),
            markup=False,
        )
    console.print(calibration_table(tensors, measured_on))
    for warning in warnings:
        console.print(printable(f"warning: {warning}"), markup=False)
    if plot is not None:
        console.print(printable(f"wrote {plot}"), markup=False)


def _calibration_inputs(
    path: Path, graph: Graph, preprocess: Preprocess | None, features: Features | None
) -> list[list[np.ndarray]]:
    """Audio with its feature spec, images with their preprocessing, or input files as `validate` reads them."""
    if features is not None or (preprocess is None and wav_files(path)):
        return load_audio_sets(path, graph, features)
    if preprocess is not None or image_files(path):
        return load_image_sets(path, graph, preprocess)
    return load_input_sets(path, graph)
