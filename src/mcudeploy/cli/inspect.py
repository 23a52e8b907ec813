"""`mcudeploy inspect MODEL`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcudeploy.cli.output import console, print_json
from mcudeploy.importers import load_model
from mcudeploy.reports.inspect import inspect_model, inspect_table


def inspect(
    model: Annotated[Path, typer.Argument(help="Model file (.tflite).", show_default=False)],
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """List the layers of a model: shapes, types, quantization, parameters and MACs."""
    report = inspect_model(load_model(model))
    if json:
        print_json(report)
    else:
        console.print(inspect_table(report))
