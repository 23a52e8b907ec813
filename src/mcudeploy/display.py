"""Text from files (tensor, operator and model names, function names, paths) made safe to print.

A name in a model can hold anything: newlines and terminal escape sequences that would forge or
hide output, Unicode direction overrides, or `[bold]`-like text that Rich would read as markup.
"""

from __future__ import annotations

import re

from rich.markup import escape

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls (newline, escape, ...), line separators and bidirectional-text controls."""


def printable(text: str) -> str:
    """`text` with every control character shown as an escape (`\\n` becomes `\\x0a`)."""
    return _UNPRINTABLE.sub(lambda match: _escaped(match.group()), text)


def markup_safe(text: str) -> str:
    """`text` for a Rich string or table cell: printable, and never read as markup."""
    return escape(printable(text))


def waiting_text(op: str, layer: int) -> str:
    """How a run that layer `layer` (operator `op`) ended waiting for frames (TFLM's kTfLiteAbort) is named."""
    return f"waiting for frames ({printable(op)} #{layer})"


def waiting_comparison(ours: str | None, engine: str | None) -> str:
    """What validate says of a run that the generated code or the engine ended waiting for frames, from
    each one's `waiting_text` (None: it ran every layer)."""
    if ours == engine:
        return f"{ours}, as the engine: outputs not produced, not compared"
    if ours is None:
        return f"ran every layer, the engine was {engine}"
    return f"{ours}, the engine {engine or 'ran every layer'}"


def _escaped(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
