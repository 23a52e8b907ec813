"""`mcudeploy inspect MODEL`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcudeploy.cli.npu import inspect_ethos_u, print_ethos_u
from mcudeploy.cli.options import CalibrationOption, load_for_command
from mcudeploy.cli.output import console, print_json, print_precision_note
from mcudeploy.reports.inspect import findings_text, inspect_model, inspect_table
from mcudeploy.reports.precision import precision


def inspect(
    model: Annotated[Path, typer.Argument(help="Model file (.tflite or .onnx).", show_default=False)],
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    calibration: CalibrationOption = None,
) -> None:
    """List the layers of a model: shapes, types, quantization, parameters and MACs."""
    graph, _ = load_for_command(model, calibration)
    report = {**inspect_model(graph), "precision": precision(graph)}
    ethos_u = inspect_ethos_u(graph)
    if ethos_u:
        report["ethos_u"] = ethos_u
    if json:
        print_json(report)
    else:
        console.print(inspect_table(report))
        print_ethos_u(ethos_u)
        print_precision_note(graph)
        for line in findings_text(report):
            console.print(line, markup=False)
