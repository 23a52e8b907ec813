"""What the parameter records share: which fields are the kernel's C struct."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

BESIDE_STRUCT = {"in_struct": False}
"""Metadata of a field the kernel gets outside its parameter struct (flash arrays, call arguments)."""


def struct_fields(record: Any) -> dict[str, object]:
    """The record's fields of the C struct, in the struct's order; None marks a field the
    kernel variant does not read (left to the initializer's zero)."""
    values = ((f.name, getattr(record, f.name)) for f in fields(record) if f.metadata.get("in_struct", True))
    return {name: value for name, value in values if value is not None}
