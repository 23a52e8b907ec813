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
from mcudeploy.engine.registry import ANY_TYPE, KERNEL_FILTER_TYPES, KERNEL_TYPES, KERNELS
from mcudeploy.importers.tflite.schema import BUILTIN_CODES, CUSTOM_CODE
from mcudeploy.ir.options import CONTROL_FLOW_OPTIONS
from mcudeploy.kernels.contracts import declares_contract

ANY = "any"

TFLM_RESOLVER_OPERATORS = frozenset(
    (
        "ABS", "ADD", "ADD_N", "ARG_MAX", "ARG_MIN", "ASSIGN_VARIABLE", "AVERAGE_POOL_2D", "BATCH_MATMUL",
        "BATCH_TO_SPACE_ND", "BROADCAST_ARGS", "BROADCAST_TO", "CALL_ONCE", "CAST", "CEIL", "CIRCULAR_BUFFER",
        "CONCATENATION", "CONV_2D", "COS", "CUMSUM", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE", "DIV",
        "DYNAMIC_UPDATE_SLICE", "ELU", "EMBEDDING_LOOKUP", "EQUAL", "EXP", "EXPAND_DIMS", "FILL", "FLOOR",
        "FLOOR_DIV", "FLOOR_MOD", "FULLY_CONNECTED", "GATHER", "GATHER_ND", "GREATER", "GREATER_EQUAL",
        "HARD_SWISH", "IF", "L2_NORMALIZATION", "L2_POOL_2D", "LEAKY_RELU", "LESS", "LESS_EQUAL", "LOG",
        "LOGICAL_AND", "LOGICAL_NOT", "LOGICAL_OR", "LOGISTIC", "LOG_SOFTMAX", "MAXIMUM", "MAX_POOL_2D", "MEAN",
        "MINIMUM", "MIRROR_PAD", "MUL", "NEG", "NOT_EQUAL", "PACK", "PAD", "PADV2", "PRELU", "QUANTIZE",
        "READ_VARIABLE", "REDUCE_ALL", "REDUCE_MAX", "REDUCE_MIN", "RELU", "RELU6", "RESHAPE",
        "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "REVERSE_V2", "ROUND", "RSQRT", "SELECT_V2", "SHAPE",
        "SIN", "SLICE", "SOFTMAX", "SPACE_TO_BATCH_ND", "SPACE_TO_DEPTH", "SPLIT", "SPLIT_V", "SQRT", "SQUARE",
        "SQUARED_DIFFERENCE", "SQUEEZE", "STRIDED_SLICE", "SUB", "SUM", "SVDF", "TANH", "TFLM_DECODE",
        "TRANSPOSE", "TRANSPOSE_CONV", "UNIDIRECTIONAL_SEQUENCE_LSTM", "UNPACK", "VAR_HANDLE", "WHILE",
        "ZEROS_LIKE", "SignalDelay", "SignalEnergy", "SignalFftAutoScale", "SignalFilterBank",
        "SignalFilterBankLog", "SignalFilterBankSpectralSubtraction", "SignalFilterBankSquareRoot",
        "SignalFramer", "SignalIrfft", "SignalOverlapAdd", "SignalPCAN", "SignalRfft", "SignalStacker",
        "SignalWindow", "TFLite_Detection_PostProcess", "ethos-u"
    )
)  # fmt: skip
"""What TensorFlow Lite Micro's MicroMutableOpResolver can register: one operator per Add* method of
micro_mutable_op_resolver.h (its sources of 2026-08-20, which memory.tflm_arena models too)."""


def operator_support(every_builtin: bool = False) -> list[dict[str, Any]]:
    """One entry per supported operator (with `every_builtin`, per TFLite builtin operator and per
    operator TFLite Micro's resolver registers too)."""
    names = set(KERNELS) | set(EMITTERS)
    if every_builtin:
        names |= {name for name, code in BUILTIN_CODES.items() if code != CUSTOM_CODE} | TFLM_RESOLVER_OPERATORS
    return [_support(name) for name in sorted(names)]


def _support(op_type: str) -> dict[str, Any]:
    types = KERNEL_TYPES.get(op_type, ())
    return {
        "op": op_type,
        "types": ANY if types == ANY_TYPE else [str(t) for t in types],
        "filter_types": [str(t) for t in KERNEL_FILTER_TYPES.get(op_type, ())],
        "engine": op_type in KERNELS,
        "c_kernel": op_type in EMITTERS,
        "memory_contract": declares_contract(op_type),
        "runs_subgraphs": op_type in CONTROL_FLOW_OPTIONS,
        "tflm_resolver": op_type in TFLM_RESOLVER_OPERATORS,
    }


def support_table(entries: list[dict[str, Any]]) -> Table:
    supported = sum(e["engine"] and e["c_kernel"] for e in entries)
    resolver = sum(e["engine"] and e["c_kernel"] and e["tflm_resolver"] for e in entries)
    title = (
        f"{supported} operators supported (reference engine and C kernels), {resolver} of the "
        f"{len(TFLM_RESOLVER_OPERATORS)} operators TensorFlow Lite Micro's MicroMutableOpResolver registers"
    )
    table = Table(title=title, title_justify="left")
    for column in ("operator", "types (engine)", "engine", "C kernel", "memory"):
        table.add_column(column)
    for entry in entries:
        types = entry["types"]
        filters = "".join(f"; {t} filters" for t in entry["filter_types"])
        table.add_row(
            entry["op"],
            (types if isinstance(types, str) else ", ".join(types)) + filters,
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
