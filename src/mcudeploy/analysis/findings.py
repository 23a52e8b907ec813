"""A finding: something about a model or its deployment that is no error in the input but costs
time, memory or correct results, with what was seen, what it costs and how to fix it. The layout
guard that `inspect` runs (`analysis.layout`) and every `doctor` check report them in this one
record; `--json` prints `as_dict()`."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Finding:
    check: str
    """The check that found it, e.g. "leading-transpose", "reference-kernels"."""
    what: str
    evidence: tuple[str, ...] = ()
    """Symbols, bytes, layers: what was seen."""
    cost: str = ""
    """What it costs (ms, bytes, LSB), measured or derived; says so where a figure is not measured."""
    fix: str = ""
    severity: str = "warning"
    """"warning": results or cost are likely wrong; "note": what the importer did for the user."""
    layer: int | None = None
    """The layer it concerns, when it concerns one."""

    def as_dict(self) -> dict:
        return asdict(self)

    def sentence(self) -> str:
        """The finding in one line: what (cost): fix."""
        return self.what + (f" ({self.cost})" if self.cost else "") + (f": {self.fix}" if self.fix else "")
