"""Where commands print: tables to stdout, JSON for --json, one-line errors to stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
from rich.console import Console

from mcudeploy.display import printable
from mcudeploy.display import waiting_text as operator_waiting_text
from mcudeploy.ir import Graph
from mcudeploy.reports.precision import precision_note

# Piped output (CI logs, files) gets a wide page so tables are not folded to 80 columns.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=_plain) + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def waiting_text(graph: Graph, layer: int) -> str:
    """How a run that a layer ended waiting for frames (TFLM's kTfLiteAbort) is reported."""
    return operator_waiting_text(graph.operators[layer].op_type, layer)


def print_precision_note(graph: Graph) -> None:
    """Say when a model runs (partly) as float: users of an MCU tool expect int8."""
    note = precision_note(graph)
    if note:
        console.print(note, markup=False)


def print_error(message: str) -> None:
    """One line on stderr, whatever a file name or a name inside a model holds."""
    sys.stderr.write(f"mcudeploy: error: {printable(message)}\n")
