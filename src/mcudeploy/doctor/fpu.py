"""Float operators on a part without a floating-point unit: each float operation becomes a call into
the software float library (`__aeabi_fadd`, `__aeabi_fmul`, ...).

The cost is measured: `estimate` builds the float kernels for the part's core with the software float
library (the FPU-less cores' only float) and counts them on QEMU; the same model quantized to int8
(mcudeploy's min-max quantizer, calibrated on seeded random inputs: the int8 kernels' instruction count
does not depend on the values) is estimated the same way, and the ratio is the factor quantizing buys.
"""

from __future__ import annotations

from mcudeploy.analysis.costs import layer_macs
from mcudeploy.analysis.floats import float_operators
from mcudeploy.devices import Fpu
from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate import estimate_model
from mcudeploy.inputs import random_inputs
from mcudeploy.memory.budget import DEFAULT_STACK_BYTES
from mcudeploy.quantization.rebuild import quantize_graph

CHECK = "float-without-fpu"
SOFT_FLOAT_HELPERS = ("__aeabi_f*", "__aeabi_d*", "__addsf3", "__mulsf3", "__divsf3")


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
            cost=f"{macs} float multiply-accumulates per inference, each a software float call; "
            + soft_float_cost(context, result),
            fix="quantize the model to int8 (full-integer post-training quantization, int8 inputs and outputs), "
            "or choose a part with an FPU",
        )
    )
    return result


CALIBRATION_SETS = 4


def soft_float_cost(context: Context, result: CheckResult) -> str:
    """The float model's measured time on the part against its int8 twin's, or why it was not measured."""
    try:
        float_run = estimate_model(context.graph, context.device, stack_bytes=DEFAULT_STACK_BYTES)
        sets = [random_inputs(context.graph, seed) for seed in range(CALIBRATION_SETS)]
        int8_graph = quantize_graph(context.graph, sets).graph
        int8_run = estimate_model(int8_graph, context.device, stack_bytes=DEFAULT_STACK_BYTES)
    except McuDeployError as error:
        result.notes.append(f"soft-float cost not measured: {error}")
        return "the factor against int8 could not be measured here (see the notes)"
    factor = float_run.inference.total / int8_run.inference.total
    result.notes.append(
        f"soft-float factor: {float_run.inference.total:.0f} cycles (float, software float library, counted on QEMU) "
        f"against {int8_run.inference.total:.0f} (the model quantized to int8 by mcudeploy, seeded random calibration) "
        f"on {context.device.core} at {float_run.clock_mhz:g} MHz"
    )
    return (
        f"measured {float_run.milliseconds:.3f} ms per inference against {int8_run.milliseconds:.3f} ms "
        f"quantized to int8: {factor:.1f}x slower"
    )
