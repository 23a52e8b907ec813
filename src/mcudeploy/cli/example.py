"""`mcudeploy example`: write the built-in example model (and an input for it) to try every command on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from mcudeploy.cli.options import ForceOption
from mcudeploy.cli.output import console
from mcudeploy.display import markup_safe
from mcudeploy.examples.kws import build_demo_input, build_kws_model
from mcudeploy.files import check_output_file, write_file
from mcudeploy.importers.tflite.writer import write_tflite


def example(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the .tflite model.")] = Path(
        "kws_demo.tflite"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the weights and of the example input.")] = 0,
    force: ForceOption = False,
) -> None:
    """Write a keyword-spotting int8 DS-CNN (seeded weights) and an input for it (<model>_input.npy).

    The model's folder is created if missing; existing files are replaced only with --force.
    """
    input_path = output.with_name(f"{output.stem}_input.npy")
    output.parent.mkdir(parents=True, exist_ok=True)
    for path in (output, input_path):
        check_output_file(path, force)
    write_file(output, write_tflite(build_kws_model(seed)), force)
    write_file(input_path, lambda stream: np.save(stream, build_demo_input(seed)), force)
    console.print(f"wrote {markup_safe(str(output))} and {markup_safe(str(input_path))}")
