"""Options several commands share, declared once."""

from __future__ import annotations

import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mcudeploy.estimate.optimize import Objective
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import load_input_sets
from mcudeploy.ir import Graph
from mcudeploy.memory.budget import CodeSection
from mcudeploy.quantization import quantize_graph

DEFAULT_DEVICE = "STM32F446RE"


class Planner(StrEnum):
    MCUDEPLOY = "mcudeploy"
    TFLM = "tflm"


class Runtime(StrEnum):
    MCUDEPLOY = "mcudeploy"
    TFLM = "tflm"


class Kernels(StrEnum):
    REFERENCE = "reference"
    CMSIS_NN = "cmsis-nn"


ModelArgument = Annotated[Path, typer.Argument(help="Model file (.tflite or .onnx).", show_default=False)]
DeviceOption = Annotated[str, typer.Option("--device", "-d", help="Part or board (see `mcudeploy devices`).")]
PlannerOption = Annotated[
    Planner, typer.Option("--planner", help="Arena planner: ours, or TFLite Micro's greedy planner.")
]
RuntimeOption = Annotated[
    Runtime,
    typer.Option("--runtime", help="What runs the model: our generated code, or TensorFlow Lite Micro (whole arena)."),
]
KernelsOption = Annotated[
    Kernels, typer.Option("--kernels", help="TFLite Micro's kernels (with --runtime tflm): reference or CMSIS-NN.")
]
OptimizeOption = Annotated[
    Objective,
    typer.Option(
        "--optimize",
        help="Per-layer kernel variants (our planner): speed (the fastest that fits the device with the "
        "reserves; may copy some layers' weights to SRAM at start-up), balanced (the fastest with the smallest "
        "arena, weights in flash), size (the smallest arena and flash).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
ReserveRamOption = Annotated[
    int, typer.Option("--reserve-ram", min=0, help="RAM kept for the application (buffers, globals, RTOS), bytes.")
]
ReserveFlashOption = Annotated[
    int, typer.Option("--reserve-flash", min=0, help="Flash kept for the application and bootloader, bytes.")
]
StackOption = Annotated[
    int | None,
    typer.Option(
        "--stack",
        min=0,
        help="Your stack reserve, bytes (default: measured on the emulated core when the Arm toolchain and "
        "QEMU are installed, else the 8 KB default, said to be assumed).",
    ),
]
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
HtmlOption = Annotated[
    Path | None,
    typer.Option("--html", help="Also write the report as one self-contained HTML page (no network access)."),
]
CodeSectionOption = Annotated[
    CodeSection | None,
    typer.Option(
        "--code-section",
        help="Where the hot code (kernel library and layers) runs: in place from flash, or copied at start-up "
        "to ITCM (parts that have one) or SRAM (first an SRAM the core fetches through a code alias, as the "
        "STM32L4's SRAM2 at 0x10000000: the whole where it fits, else the functions that miss the flash's "
        "instruction cache most per byte, the rest left in flash); the budget counts it in flash and there. "
        "Default: flash; with --optimize speed, on a part whose flash cache the estimate simulates, the "
        "fastest of flash, its ITCM and its SRAM code alias that fits (each optimized and timed).",
        case_sensitive=False,
        show_default=False,
    ),
]
CalibrationOption = Annotated[
    Path | None,
    typer.Option(
        "--calibration",
        help="Quantize a float model to int8 first (min-max over these inputs: a folder or a batched .npz).",
    ),
]
_SCRATCH: list[tempfile.TemporaryDirectory] = []
"""Folders of the .tflite files written for this process's commands, removed when it ends."""


def load_for_command(model: Path, calibration: Path | None) -> tuple[Graph, Path]:
    """The model as a command works on it, quantized to int8 in memory only when asked with --calibration,
    and a .tflite file of exactly that graph (the model file itself when it is one) for tools that read
    files (Vela, TFLite Micro)."""
    graph = load_model(model)
    if calibration is not None:
        graph = quantize_graph(graph, load_input_sets(calibration, graph)).graph
    elif model.suffix.lower() == ".tflite":
        return graph, model
    if not _SCRATCH:
        _SCRATCH.append(tempfile.TemporaryDirectory(prefix="mcudeploy-"))
    path = Path(_SCRATCH[0].name) / f"{model.stem}.tflite"
    path.write_bytes(write_tflite(graph))
    return graph, path
