"""`mcudeploy profile ELF --machine m4`: instructions and cycles per function of any bare-metal program."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mcudeploy.cli.options import JsonOption
from mcudeploy.cli.output import console, print_json
from mcudeploy.devices import find_device
from mcudeploy.emulation import EMULATED_TARGET_NAMES
from mcudeploy.estimate.profile import DEFAULT_TIMEOUT_S, profile_elf
from mcudeploy.estimate.report import profile_report, profile_table

Machine = StrEnum("Machine", {name.upper(): name for name in EMULATED_TARGET_NAMES})
MACHINE_NAMES = f"{', '.join(EMULATED_TARGET_NAMES[:-1])} or {EMULATED_TARGET_NAMES[-1]}"


def profile(
    elf: Annotated[Path, typer.Argument(help="Bare-metal ELF using Arm semihosting for I/O and exit.")],
    machine: Annotated[
        Machine, typer.Option("--machine", "-m", help=f"QEMU machine: {MACHINE_NAMES}.")
    ] = Machine.M4,
    core: Annotated[
        str | None,
        typer.Option("--core", help="Price with another core's timings, e.g. cortex-m0+ for Armv6-M code on m3."),
    ] = None,
    workdir: Annotated[
        Path | None, typer.Option("--workdir", help="Folder the program's semihosting files are relative to.")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds before the run is killed.")] = (
        DEFAULT_TIMEOUT_S
    ),
    device: Annotated[
        str | None,
        typer.Option("--device", "-d", help="Price memory as on this part (its flash and SRAM wait states, caches)."),
    ] = None,
    clock: Annotated[
        float | None, typer.Option("--clock", help="Core clock with --device, MHz (default: the part's maximum).")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Functions shown in the table.")] = 25,
    json: JsonOption = False,
) -> None:
    """Run ELF on a QEMU Cortex-M machine with the instruction-counting plugin and price every
    function's instructions with the core's timings: at zero wait states, or with --device as on
    that part (code and constants in its flash, data in its SRAM) at --clock.

    Exit code 0 when the program exits with 0, 1 when it fails or faults, 2 on bad input.
    """
    target = find_device(device) if device else None
    result = profile_elf(elf, str(machine), core, workdir, timeout, target, clock)
    if json:
        print_json(profile_report(result))
    else:
        console.print(profile_table(result, top))
    if not result.succeeded:
        raise typer.Exit(1)
