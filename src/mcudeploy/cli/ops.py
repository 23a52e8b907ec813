"""`mcudeploy ops`: the operators mcudeploy supports, per element type."""

from __future__ import annotations

from typing import Annotated

import typer

from mcudeploy.cli.options import JsonOption
from mcudeploy.cli.output import console, print_json
from mcudeploy.reports.ops import operator_support, support_table


def ops(
    every_builtin: Annotated[
        bool, typer.Option("--all", help="Also list every TFLite builtin operator mcudeploy does not support.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """List the operators the reference engine runs and the C code generator emits, with the element
    types each accepts and whether its kernel declares a memory contract (scratch, in-place sharing)."""
    entries = operator_support(every_builtin)
    if json:
        print_json(entries)
    else:
        console.print(support_table(entries))
