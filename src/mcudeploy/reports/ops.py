"""`mcudeploy ops`: which operators mcudeploy supports, in which element types, and how far.

Derived from the registries themselves: the reference engine's kernels (with the
element types each declares), the C code generator's emitters and the memory
contracts, so the list cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

import mcudeploy.engine.ops  # noqa: F401 - registers the kernels
from mcudeploy.codegen.layers import EMITTERS
from mcudeploy.engine.registry import ANY_TYPE, KERNEL_TYPES, KERNELS
from mcudeploy.importers.tflite.schema import BUILTIN_CODES, CUSTOM_CODE
from mcudeploy.ir.options import CONTROL_FLOW_OPTIONS
from mcudeploy.kernels.contracts import declares_contract

ANY = "any"


def operator_support(every_builtin: bool = False) -> list[dict[str, Any]]:
    """One entry per supported operator (with `every_builtin`, per TFLite builtin operator too)."""
    names = set(KERNELS) | set(EMITTERS)
    if every_builtin:
        names |= {name for name, code in BUILTIN_CODES.items() if code != CUSTOM_CODE}
    return [_support(name) for name in sorted(names)]


def _support(op_type: str) -> dict[str, Any]:
    types = KERNEL_TYPES.get(op_type, ())
    return {
        "op": op_type,
        "types": ANY if types == ANY_TYPE else [str(t) for t in types],
        "engine": op_type in KERNELS,
        "c_kernel": op_type in EMITTERS,
        "memory_contract": declares_contract(op_type),
        "runs_subgraphs": op_type in CONTROL_FLOW_OPTIONS,
    }


def support_table(entries: list[dict[str, Any]]) -> Table:
    supported = sum(e["engine"] and e["c_kernel"] for e in entries)
    table = Table(title=f"{supported} operators supported (reference engine and C kernels)", title_justify="left")
    for column in ("operator", "types (engine)", "engine", "C kernel", "memory"):
        table.add_column(column)
    for entry in entries:
        types = entry["types"]
        table.add_row(
            entry["op"],
            types if isinstance(types, str) else ", ".join(types),
            _mark(entry["engine"]),
            _mark(entry["c_kernel"]),
            _memory(entry),
        )
    return table


def _memory(entry: dict[str, Any]) -> str:
    if entry["runs_subgraphs"]:  # our planner places its subgraphs' own plans in a region live at its step
        return "its subgraphs in a region"
    return "declared" if entry["memory_contract"] else ("no scratch, no sharing" if entry["engine"] else "")


def _mark(value: bool) -> str:
    return "[green]✔[/]" if value else "[red]✘[/]"
