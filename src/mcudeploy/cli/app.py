"""The `mcudeploy` application: commands registered here, errors turned into one line."""

from __future__ import annotations

import sys

import typer

from mcudeploy import __version__
from mcudeploy.cli import (
    analyze,
    devices,
    doctor,
    estimate,
    example,
    generate,
    inspect,
    ops,
    profile,
    quantize,
    run,
    validate,
)
from mcudeploy.cli.output import print_error
from mcudeploy.errors import InternalError, McuDeployError

app = typer.Typer(
    name="mcudeploy",
    help="Put neural networks on Arm Cortex-M microcontrollers: inspect, run, analyze, generate, validate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.command("inspect")(inspect.inspect)
app.command("run")(run.run)
app.command("analyze")(analyze.analyze)
app.command("devices")(devices.devices)
app.command("ops")(ops.ops)
app.command("generate")(generate.generate)
app.command("validate")(validate.validate)
app.command("estimate")(estimate.estimate)
app.command("profile")(profile.profile)
app.command("example")(example.example)
app.command("doctor")(doctor.doctor)
app.command("quantize")(quantize.quantize)


def _version(value: bool) -> None:
    if value:
        print(f"mcudeploy {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """mcudeploy: models on Cortex-M, with numbers you can trust."""


def main() -> None:
    """Console entry point: user errors, our own C failing to compile and I/O failures become
    `mcudeploy: error: <subject>: <reason>`, exit code 2."""
    try:
        app()
    except (McuDeployError, InternalError) as error:
        print_error(str(error))
        sys.exit(2)
    except MemoryError:
        print_error("out of memory")
        sys.exit(2)
    except OSError as error:  # any I/O failure not reported where it happened: still one line
        subject = error.filename if error.filename is not None else "input/output"
        print_error(f"{subject}: {error.strerror or error}")
        sys.exit(2)
