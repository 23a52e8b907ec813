"""Options several commands share, declared once."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DEVICE = "STM32F446RE"


class Planner(StrEnum):
    MCUDEPLOY = "mcudeploy"
    TFLM = "tflm"


ModelArgument = Annotated[Path, typer.Argument(help="Model file (.tflite or .onnx).", show_default=False)]
DeviceOption = Annotated[str, typer.Option("--device", "-d", help="Part or board (see `mcudeploy devices`).")]
PlannerOption = Annotated[
    Planner, typer.Option("--planner", help="Arena planner: ours, or TFLite Micro's greedy planner.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
NpuOption = Annotated[
    str | None,
    typer.Option(
        "--npu",
        help="Compile for this Ethos-U with Vela (ethos-u55-128, ethos-u55-256, ethos-u65-256, ...).",
        show_default=False,
    ),
]
NoNpuOption = Annotated[bool, typer.Option("--no-npu", help="Ignore the device's NPU: the Cortex-M alone.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace output files that already exist.")]
