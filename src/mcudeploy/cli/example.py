"""`mcudeploy example [NAME]`: write a built-in example model (and an input for it) to try every command on."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from mcudeploy.cli.options import ForceOption
from mcudeploy.cli.output import console
from mcudeploy.display import markup_safe
from mcudeploy.examples.kws import build_demo_input, build_kws_model
from mcudeploy.examples.mobilenet import build_image_input, build_mobilenet_v2
from mcudeploy.files import check_output_file, write_file
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import Graph


class Example(StrEnum):
    KWS = "kws"
    MOBILENET_V2 = "mobilenet-v2"


EXAMPLES: dict[Example, tuple[str, Callable[[int], Graph], Callable[[int], np.ndarray]]] = {
    Example.KWS: ("kws_demo.tflite", build_kws_model, build_demo_input),
    Example.MOBILENET_V2: ("mobilenet_v2_0.35_96.tflite", build_mobilenet_v2, build_image_input),
}
"""The default file name, the model's builder and its input's, by seed."""


def example(
    name: Annotated[
        Example,
        typer.Argument(
            help="kws: an int8 DS-CNN keyword spotter; mobilenet-v2: MobileNetV2 0.35 at 96x96 int8 "
            "(the seed's table's model)."
        ),
    ] = Example.KWS,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the .tflite model.", show_default="<name>.tflite"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the weights and of the example input.")] = 0,
    force: ForceOption = False,
) -> None:
    """Write an example model with seeded random weights and an input for it (<model>_input.npy).

    The model's folder is created if missing; existing files are replaced only with --force.
    """
    default_name, build_model, build_input = EXAMPLES[name]
    output = output if output is not None else Path(default_name)
    input_path = output.with_name(f"{output.stem}_input.npy")
    output.parent.mkdir(parents=True, exist_ok=True)
    for path in (output, input_path):
        check_output_file(path, force)
    write_file(output, write_tflite(build_model(seed)), force)
    write_file(input_path, lambda stream: np.save(stream, build_input(seed)), force)
    console.print(f"wrote {markup_safe(str(output))} and {markup_safe(str(input_path))}")
