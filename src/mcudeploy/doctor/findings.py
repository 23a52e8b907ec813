"""What a check reports (a `Finding`, the record `analysis.findings` owns: what, evidence, cost,
fix), and what every check is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mcudeploy.analysis.findings import Finding
from mcudeploy.devices import Device
from mcudeploy.emulation.elf import ElfImage
from mcudeploy.ir import Graph


@dataclass(frozen=True)
class Context:
    """What the user gave: the model and device always, the rest when they have it."""

    graph: Graph
    model_path: Path
    device: Device
    elf: ElfImage | None = None
    arena_size: int | None = None
    mcu_input: Path | None = None
    sample: Path | None = None
    validation: Path | None = None
    stack_bytes: int | None = None
    """The user's own stack reserve, instead of the measured need."""


@dataclass
class CheckResult:
    """One check's outcome: its findings and the notes that qualify its figures (or why it did not run)."""

    check: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ran: bool = True


__all__ = ["CheckResult", "Context", "Finding"]
