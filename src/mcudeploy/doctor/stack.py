"""A stack that does not fit: the device's RAM after the arena, or the firmware's own reservation.

The need is the generated code's inference stack, measured by painting on the device core's QEMU
machine (`estimate.stack`), or the user's own figure (--stack); the 8 KB default only where neither
can be had.
"""

from __future__ import annotations

from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.doctor.memory import arena_bytes, declared_stack, model_budget
from mcudeploy.estimate.stack import MEASURED, StackMeasure
from mcudeploy.estimate.stack import stack_need as measured_need
from mcudeploy.memory.budget import STACK

CHECK = "stack"
TFLM_NOTE = " for mcudeploy's generated code; TFLM's interpreter needs its own"


def stack_need(context: Context, result: CheckResult) -> int:
    need = measured_need(context.graph, context.device, context.stack_bytes)
    result.notes.append(f"stack need: {need.describe()}" + (TFLM_NOTE if need.source == MEASURED else ""))
    if need.measure is not None:
        result.notes.append(_deepest_layer(context, need.measure))
    return need.bytes


def _deepest_layer(context: Context, measure: StackMeasure) -> str:
    deepest = max(measure.layers, key=lambda layer: layer.measured or 0)
    op = context.graph.operators[deepest.index].op_type
    return (
        f"deepest layer: #{deepest.index} {op}, {deepest.measured} B painted ({measure.static_text(deepest.static)}); "
        f"whole inference {measure.static_text(measure.static)} (-fstack-usage + the call graph)"
    )


def check_stack(context: Context) -> CheckResult:
    result = CheckResult(CHECK)
    needed = stack_need(context, result)
    budget = model_budget(context, needed)
    arena, source = arena_bytes(context)
    short = next((s for s in budget.shortfalls if s.item.name == STACK), None)
    if short is not None:
        result.findings.append(
            Finding(
                check=CHECK,
                what=f"no room for a {needed} B stack beside the {arena} B arena on {context.device.name}",
                evidence=(
                    f"arena from {source}; largest RAM room left: {short.room} B"
                    + (f" in {short.best_region}" if short.best_region else ""),
                ),
                cost=f"{short.over_by} B short: the stack runs into the arena or other data (a hard fault, or "
                "silently corrupted activations)",
                fix="shrink the arena (a smaller model or int8 activations) or choose a part with more RAM",
            )
        )
    declared = declared_stack(context.elf) if context.elf is not None else None
    if declared is not None and context.elf is not None and declared[0] < needed:
        result.findings.append(
            Finding(
                check=CHECK,
                what=f"the firmware reserves a {declared[0]} B stack, less than the {needed} B one inference needs",
                evidence=(f"{context.elf.path.name}: {declared[1]} = {declared[0]} B",),
                cost=f"{needed - declared[0]} B short, before the application's own stack and interrupt frames",
                fix=f"raise the linker script's stack size to at least {needed} B plus the application's own",
            )
        )
    return result
