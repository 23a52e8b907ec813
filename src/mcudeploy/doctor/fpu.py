"""Float operators on a part without a floating-point unit: each float operation becomes a call into
the software float library (`__aeabi_fadd`, `__aeabi_fmul`, ...)."""

from __future__ import annotations

from mcudeploy.analysis.costs import layer_macs
from mcudeploy.devices.database import Fpu
from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.ir import Graph, Operator

CHECK = "float-without-fpu"
SOFT_FLOAT_HELPERS = ("__aeabi_f*", "__aeabi_d*", "__addsf3", "__mulsf3", "__divsf3")


def float_operators(graph: Graph) -> list[Operator]:
    """Operators that compute in float: any float tensor read or written that is not a constant."""

    def computes_in_float(op: Operator) -> bool:
        touched = [graph.tensors[i] for i in (*op.inputs, *op.outputs) if i >= 0]
        return any(t.dtype.is_float and not t.is_constant for t in touched)

    return [op for op in graph.operators if computes_in_float(op)]


def check_float_without_fpu(context: Context) -> CheckResult:
    result = CheckResult(CHECK)
    part = context.device.part
    if part.fpu != Fpu.NONE:
        return result
    found = float_operators(context.graph)
    if not found:
        return result
    macs = sum(layer_macs(context.graph, op) for op in found)
    evidence = [
        f"{part.name} ({part.core}) has no FPU",
        f"{len(found)} float operators: {', '.join(op.label for op in found[:6])}"
        + (f" (+{len(found) - 6} more)" if len(found) > 6 else ""),
    ]
    if context.elf is not None:
        helpers = sorted({n for p in SOFT_FLOAT_HELPERS for n in context.elf.symbols_matching(p, defined=True)})
        if helpers:
            evidence.append(f"software float library linked: {', '.join(helpers[:8])}")
    result.findings.append(
        Finding(
            check=CHECK,
            what=f"{len(found)} of {len(context.graph.operators)} operators compute in float on a part without FPU",
            evidence=tuple(evidence),
            cost=f"{macs} float multiply-accumulates per inference, each a software float call "
            "(the factor against int8 is not measured yet)",
            fix="quantize the model to int8 (full-integer post-training quantization, int8 inputs and outputs), "
            "or choose a part with an FPU",
        )
    )
    return result
