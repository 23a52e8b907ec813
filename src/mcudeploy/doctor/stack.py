"""A stack that does not fit: the device's RAM after the arena, or the firmware's own reservation."""

from __future__ import annotations

from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.doctor.memory import arena_bytes, declared_stack, model_budget
from mcudeploy.memory.budget import DEFAULT_STACK_BYTES, STACK

CHECK = "stack"
ASSUMED = f"stack need: the default {DEFAULT_STACK_BYTES} B reserve, not measured for this model (issue 15 point 4)"


def check_stack(context: Context) -> CheckResult:
    result = CheckResult(CHECK, notes=[ASSUMED])
    needed = DEFAULT_STACK_BYTES
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
    if declared is not None and declared[0] < needed:
        result.findings.append(
            Finding(
                check=CHECK,
                what=f"the firmware reserves a {declared[0]} B stack, less than the {needed} B the kernels are given",
                evidence=(f"{context.elf.path.name}: {declared[1]} = {declared[0]} B" if context.elf else "",),
                cost=f"{needed - declared[0]} B short (against the assumed need)",
                fix=f"raise the linker script's stack size to at least {needed} B",
            )
        )
    return result
