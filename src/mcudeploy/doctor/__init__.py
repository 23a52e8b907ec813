"""`mcudeploy doctor`: the deployment failures that cost teams weeks, found before the board.

Each check is one module; each takes what the user gave (`Context`) and returns its findings
(what, evidence, cost, fix) with notes that say what it did not measure.
"""

from __future__ import annotations

from collections.abc import Callable

from mcudeploy.doctor.arena import check_arena
from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.doctor.fpu import check_float_without_fpu
from mcudeploy.doctor.kernels import check_kernels
from mcudeploy.doctor.layout import check_layout
from mcudeploy.doctor.npu import check_npu
from mcudeploy.doctor.placement import check_placement
from mcudeploy.doctor.preprocessing import check_preprocessing, check_validation_input
from mcudeploy.doctor.stack import check_stack

CHECKS: tuple[Callable[[Context], CheckResult], ...] = (
    check_kernels,
    check_arena,
    check_float_without_fpu,
    check_layout,
    check_preprocessing,
    check_validation_input,
    check_placement,
    check_npu,
    check_stack,
)


def diagnose(context: Context) -> list[CheckResult]:
    """Every check, in the order the report shows them."""
    return [check(context) for check in CHECKS]


__all__ = ["CHECKS", "CheckResult", "Context", "Finding", "diagnose"]
