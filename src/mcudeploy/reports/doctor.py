"""The doctor's report: findings as data (for --json) and as text."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text

from mcudeploy.doctor import CheckResult, Context


def doctor_report(context: Context, results: list[CheckResult]) -> dict[str, Any]:
    return {
        "model": context.graph.name,
        "device": context.device.name,
        "core": context.device.core,
        "elf": str(context.elf.path) if context.elf is not None else None,
        "findings": [finding.as_dict() for result in results for finding in result.findings],
        "checks": [{"check": r.check, "ran": r.ran, "findings": len(r.findings), "notes": r.notes} for r in results],
    }


def doctor_text(report: dict[str, Any]) -> Group:
    lines: list[Text] = [Text(f"{report['model']} on {report['device']} ({report['core']})", style="bold")]
    for number, finding in enumerate(report["findings"], 1):
        lines.append(Text(f"\n{number}. [{finding['check']}] {finding['what']}", style="bold red"))
        lines.extend(Text(f"   evidence: {line}") for line in finding["evidence"] if line)
        lines.append(Text(f"   cost:     {finding['cost']}"))
        lines.append(Text(f"   fix:      {finding['fix']}", style="green"))
    lines.append(Text("\nchecks:", style="bold"))
    for check in report["checks"]:
        state = "skipped" if not check["ran"] else ("FOUND" if check["findings"] else "ok")
        lines.append(Text(f"  {check['check']:<22} {state}"))
        lines.extend(Text(f"      {note}", style="dim") for note in check["notes"])
    count = len(report["findings"])
    verdict = f"{count} finding{'s' if count != 1 else ''}" if count else "no findings"
    lines.append(Text(f"\n{verdict}", style="bold red" if count else "bold green"))
    return Group(*lines)
