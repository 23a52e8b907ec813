"""Operators an Ethos-U leaves to the CPU (Vela's fallbacks), with Vela's reasons and our CPU estimate."""

from __future__ import annotations

from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate import estimate_model
from mcudeploy.npu.config import npu_target
from mcudeploy.npu.pipeline import plan_for_npu
from mcudeploy.npu.placement import Target
from mcudeploy.npu.timeline import cpu_savings

CHECK = "npu-fallback"
NO_WORK = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
"""Operators that only relabel a shape: on the CPU they cost a call, not a pass over the data."""


def check_npu(context: Context) -> CheckResult:
    result = CheckResult(CHECK)
    target = npu_target(context.device, None, False)
    if target is None:
        result.ran = False
        return result
    plan = plan_for_npu(context.graph, context.model_path, target)
    fallbacks = [p for p in plan.placements if p.target == Target.CPU]
    result.notes.append(
        f"Vela ({target.accelerator}): {len(plan.placements) - len(fallbacks)} of "
        f"{len(plan.placements)} operators on the NPU"
    )
    if not fallbacks:
        return result
    try:
        cpu = estimate_model(context.graph, context.device)
        saved = cpu_savings(plan.placements, cpu)
        cost = (
            f"{sum(saved.values()):.2f} ms per inference on the {context.device.core} at {cpu.clock_mhz:.0f} "
            f"MHz (our estimate), plus {sum(1 for s in plan.segments) - 1} hand-overs between NPU and CPU"
        )
    except McuDeployError as error:
        cost = f"CPU time not estimated: {error}"
    labels = {op.index: op.label for op in context.graph.operators}
    evidence = tuple(f"{labels[p.index]}: {'; '.join(p.reasons)}" for p in fallbacks[:8])
    suggestions = sorted({p.suggestion for p in fallbacks if p.suggestion})
    result.findings.append(
        Finding(
            check=CHECK,
            what=f"the {target.accelerator} leaves {len(fallbacks)} operator(s) with work to the CPU",
            evidence=evidence,
            cost=cost,
            fix="; ".join(suggestions) or "rewrite those operators into ones Vela supports (see `mcudeploy analyze`)",
        )
    )
    return result
