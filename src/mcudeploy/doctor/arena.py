"""The user's declared TFLite Micro arena against what TFLite Micro's planner will ask of it.

The head (activations and the reference kernels' scratch) comes from the byte-exact replica of
TFLM's greedy planner (`memory.planners.tflm`). The persistent tail (tensor structs, node and
registration arrays, op data) and CMSIS-NN's own scratch requests are not modelled yet: a declared
arena below the head certainly fails; one above it may still be short by the tail.
"""

from __future__ import annotations

from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.errors import McuDeployError
from mcudeploy.memory.planners.tflm import plan_tflm

CHECK = "arena-overflow"
APPROXIMATION = (
    "TFLM arena: the head is TFLM's planner replayed byte for byte (reference kernels' scratch); the persistent "
    "tail and CMSIS-NN's scratch are not counted, so the need shown is a lower bound"
)


def check_arena(context: Context) -> CheckResult:
    result = CheckResult(CHECK)
    if context.arena_size is None:
        result.ran = False
        result.notes.append("no --arena-size: the TFLite Micro arena was not checked")
        return result
    try:
        plan = plan_tflm(context.graph)
    except McuDeployError as error:
        result.notes.append(f"TFLM's plan not replayed: {error.reason}")
        return result
    result.notes.append(APPROXIMATION)
    head = plan.arena_bytes
    if context.arena_size >= head:
        result.notes.append(
            f"--arena-size {context.arena_size} B covers TFLM's head of {head} B "
            f"({context.arena_size - head} B left for the tail)"
        )
        return result
    peak = max(range(len(plan.step_live_bytes)), key=plan.step_live_bytes.__getitem__, default=0)
    scratch = [b for b in plan.buffers if b.scratch_of is not None]
    evidence = [
        f"TFLM's greedy planner needs a head of {head} B for {len(plan.buffers)} buffers; "
        f"the most live at once at {context.graph.operators[peak].label} ({plan.step_live_bytes[peak]} B)",
    ]
    if scratch:
        evidence.append("kernel scratch in the head: " + ", ".join(f"{b.name} {b.size} B" for b in scratch[:4]))
    result.findings.append(
        Finding(
            check=CHECK,
            what=f"the declared arena ({context.arena_size} B) is smaller than TFLite Micro's planned head",
            evidence=tuple(evidence),
            cost=f"short by at least {head - context.arena_size} B: AllocateTensors() fails (or a kernel's "
            "scratch overruns the arena)",
            fix=f"declare at least {head} B plus TFLM's persistent tail (read it from "
            "MicroInterpreter::arena_used_bytes() once, or RecordingMicroInterpreter)",
        )
    )
    return result
