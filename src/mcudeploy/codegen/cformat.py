"""C source text: literals of every element type, arrays, struct initializers, safe comments."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from mcudeploy.ir import DType

C_TYPES = {
    DType.INT4: "int8_t",  # packed two to a byte (md_unpack_s4)
    DType.INT8: "int8_t",
    DType.UINT8: "uint8_t",
    DType.INT16: "int16_t",
    DType.UINT16: "uint16_t",
    DType.INT32: "int32_t",
    DType.UINT32: "uint32_t",
    DType.INT64: "int64_t",
    DType.UINT64: "uint64_t",
    DType.FLOAT16: "uint16_t",  # kept as raw bits
    DType.FLOAT32: "float",
    DType.FLOAT64: "double",
    DType.BOOL: "uint8_t",
    DType.RESOURCE: "int32_t",
}

MD_DTYPES = {
    DType.INT8: "MD_INT8",
    DType.UINT8: "MD_UINT8",
    DType.INT16: "MD_INT16",
    DType.INT32: "MD_INT32",
    DType.FLOAT32: "MD_FLOAT32",
    DType.INT64: "MD_INT64",
    DType.UINT32: "MD_UINT32",
}
"""The kernel library's md_dtype of each element type it handles."""

VALUES_PER_LINE = 16


def c_type(dtype: DType) -> str:
    return C_TYPES[dtype]


def int_literal(value: int) -> str:
    """A decimal literal of any int64 value that needs no suffix to keep its meaning in C."""
    value = int(value)
    if value == -(2**63):
        return "(-INT64_C(9223372036854775807) - 1)"
    if value == -(2**31):
        return "(-2147483647 - 1)"
    if value >= 2**31 or value < -(2**31):
        return f"INT64_C({value})"
    return str(value)


def float_literal(value: float) -> str:
    """The exact float32 value as a C float literal (shortest decimal that reads back the same)."""
    value32 = np.float32(value)
    if math.isnan(value32):
        return "NAN"
    if math.isinf(value32):
        return "HUGE_VALF" if value32 > 0 else "(-HUGE_VALF)"
    text = np.format_float_scientific(value32, unique=True, trim="-", exp_digits=1)
    return f"{text}f"


def literal(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, float | np.floating):
        return float_literal(float(value))
    if isinstance(value, str):
        return value  # already C (a macro or enum name)
    return int_literal(int(value))


def array_values(values: np.ndarray, dtype: DType, indent: str = "    ") -> str:
    """The values of a constant array, VALUES_PER_LINE per line, ready to sit between braces."""
    flat = np.ascontiguousarray(values).reshape(-1)
    if dtype == DType.FLOAT16:
        texts = list(map(str, flat.view(np.uint16).tolist()))
    elif dtype.is_float:
        texts = _float_texts(flat.astype(np.float32))
    elif dtype == DType.INT64:
        texts = [int_literal(v) for v in flat.tolist()]
    else:
        texts = list(map(str, flat.astype(np.int64).tolist()))
    lines = [", ".join(texts[i : i + VALUES_PER_LINE]) for i in range(0, len(texts), VALUES_PER_LINE)]
    return ",\n".join(indent + line for line in lines)


def _float_texts(values: np.ndarray) -> list[str]:
    """float32 values as C literals: 9 significant digits read back every float32 exactly."""
    return [f"{v:.8e}f" if math.isfinite(v) else float_literal(v) for v in values.astype(np.float64).tolist()]


def initializer(fields: Mapping[str, object]) -> str:
    """A designated struct initializer; sequences become brace lists."""
    parts = []
    for name, value in fields.items():
        if isinstance(value, Sequence) and not isinstance(value, str):
            text = "{" + ", ".join(literal(v) for v in value) + "}"
        else:
            text = literal(value)
        parts.append(f"    .{name} = {text},")
    return "{\n" + "\n".join(parts) + "\n}"


def comment_text(text: str, limit: int | None = None) -> str:
    """Text safe inside a /* */ comment, on one line, cut to `limit` characters."""
    text = re.sub(r"\s+", " ", text.replace("*/", "* /").replace("/*", "/ *")).strip()
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def identifier(text: str) -> str:
    """An uppercase C identifier part from a prefix (letters, digits, underscores)."""
    return re.sub(r"\W", "_", text).upper()


def wrapped_call(call: str, indent: str = "    ", width: int = 100) -> str:
    """A function call as one line when it fits in `width`, else one argument per line after the
    opening parenthesis, `indent` deeper than the call (a call written inside a layer function)."""
    if len(call) <= width or not call.endswith(")") or "(" not in call:
        return call
    name, arguments = call[:-1].split("(", 1)
    parts, depth, start = [], 0, 0
    for position, char in enumerate(arguments):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            parts.append(arguments[start:position].strip())
            start = position + 1
    parts.append(arguments[start:].strip())
    inner = indent * 2
    return f"{name}(\n{inner}" + f",\n{inner}".join(parts) + ")"
