"""`mcudeploy doctor MODEL --device NAME [...]`: the deployment failures found before the board."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcudeploy.cli.options import (
    DEFAULT_DEVICE,
    DeviceOption,
    ForceOption,
    HtmlOption,
    JsonOption,
    ModelArgument,
    StackOption,
)
from mcudeploy.cli.output import console, print_json
from mcudeploy.devices import find_device
from mcudeploy.doctor import Context, diagnose
from mcudeploy.emulation.elf import ElfImage
from mcudeploy.errors import McuDeployError
from mcudeploy.files import check_output_file, write_file
from mcudeploy.importers import load_model
from mcudeploy.reports.doctor import doctor_report, doctor_text
from mcudeploy.reports.html import doctor_page


def doctor(
    model: ModelArgument,
    device: DeviceOption = DEFAULT_DEVICE,
    elf: Annotated[Path | None, typer.Option("--elf", help="The firmware's linked ELF (with its symbols).")] = None,
    arena_size: Annotated[
        int | None, typer.Option("--arena-size", min=1, help="The TFLite Micro arena the firmware declares, bytes.")
    ] = None,
    mcu_input: Annotated[
        Path | None, typer.Option("--mcu-input", help="The input tensor logged on the MCU (raw .bin).")
    ] = None,
    sample: Annotated[
        Path | None, typer.Option("--sample", help="The sample that input came from (.npy, float or raw).")
    ] = None,
    inputs: Annotated[
        Path | None, typer.Option("--inputs", help="The validation input(s): file or folder, as for validate.")
    ] = None,
    stack: StackOption = None,
    json: JsonOption = False,
    html: HtmlOption = None,
    force: ForceOption = False,
) -> None:
    """Look for the failures that show only on the board: reference kernels linked, an arena too small
    for TFLite Micro, float on a part without FPU, NCHW layouts, input scaling and channel mix-ups,
    a validation input the device never sees, the arena in cacheable or external memory, NPU
    fallbacks and a stack that does not fit.

    Exit code 0 when nothing is found, 1 with findings, 2 on bad input.
    """
    target = find_device(device)
    if sample is not None and mcu_input is None:
        raise McuDeployError("--sample", "needs --mcu-input (the raw tensor the MCU fed)")
    if html is not None:
        check_output_file(html, force)
    graph = load_model(model)
    image = ElfImage(elf) if elf is not None else None
    context = Context(graph, model, target, image, arena_size, mcu_input, sample, inputs, stack)
    results = diagnose(context)
    report = doctor_report(context, results)
    if html is not None:
        write_file(html, doctor_page(report).encode(), force)
    if json:
        print_json(report)
    else:
        console.print(doctor_text(report))
    if report["findings"]:
        raise typer.Exit(1)
