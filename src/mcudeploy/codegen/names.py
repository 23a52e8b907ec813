"""C identifiers for the generated code, derived from the model's tensor names.

TFLite tensor names are paths such as `functional_1/conv2d/BiasAdd;functional_1/conv2d/Conv2D`
(several names of fused tensors joined by `;`). The identifier is the first name without the
model's outer scope, lowercased, every run of other characters than letters and digits made one
underscore, cut to NAME_LENGTH characters; a clash gets `_2`, `_3`, ... appended.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

Key = TypeVar("Key")

NAME_LENGTH = 40
"""Characters of a tensor name kept in its identifier (before a uniqueness suffix)."""
# fmt: off
C_KEYWORDS = frozenset({
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
    "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
})
# fmt: on


def tensor_identifier(name: str) -> str:
    """A lowercase C identifier (not unique) for a tensor name."""
    parts = [part for part in name.split(";", 1)[0].split("/") if part]
    if len(parts) > 2:
        parts = parts[1:]  # the model's scope, e.g. functional_1/ or sequential/
    text = re.sub(r"[^a-z0-9]+", "_", "_".join(parts).lower()).strip("_")
    text = text[:NAME_LENGTH].rstrip("_")
    return text if text and not text[0].isdigit() else f"t_{text}".rstrip("_")


def unique_names(wanted: Mapping[Key, str], reserved: Iterable[str] = ()) -> dict[Key, str]:
    """Each key's wanted name, in the mapping's order; a name already taken (or reserved, or a C
    keyword) gets the first free suffix `_2`, `_3`, ..."""
    taken = set(reserved) | C_KEYWORDS
    names: dict[Key, str] = {}
    for key, name in wanted.items():
        candidate, number = name, 2
        while candidate in taken:
            candidate, number = f"{name}_{number}", number + 1
        taken.add(candidate)
        names[key] = candidate
    return names
