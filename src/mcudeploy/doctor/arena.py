"""The user's declared TFLite Micro arena against the smallest arena TFLite Micro can run the model in.

`memory.tflm_arena` gives it to the byte for the device's core, with the kernels the firmware links
(--elf), else with TFLM's reference kernels and with CMSIS-NN's: the planned head (activations and
each kernel's scratch) plus the persistent tail (tensor structs, node and registration arrays, op
data, allocator objects, alignment), and the working memory setting up needs. A declared arena below
it fails in AllocateTensors().
"""

from __future__ import annotations

from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.doctor.kernels import CMSIS_NN_FAMILIES, classify
from mcudeploy.errors import McuDeployError
from mcudeploy.memory.tflm_arena import KERNEL_SETS, TflmArena, tflm_arena

CHECK = "arena-overflow"


def check_arena(context: Context) -> CheckResult:
    result = CheckResult(CHECK)
    if context.arena_size is None:
        result.ran = False
        result.notes.append("no --arena-size: the TFLite Micro arena was not checked")
        return result
    kernel_sets, why = _kernel_sets(context)
    result.notes.append(why)
    try:
        arenas = {kernels: tflm_arena(context.graph, context.device.core, kernels) for kernels in kernel_sets}
    except McuDeployError as error:
        result.notes.append(f"TFLM's arena not modelled: {error.reason}")
        return result
    short = {kernels: arena for kernels, arena in arenas.items() if context.arena_size < arena.smallest_arena}
    needs = ", ".join(f"{arena.smallest_arena} B with {kernels} kernels" for kernels, arena in arenas.items())
    if not short:
        result.notes.append(f"--arena-size {context.arena_size} B covers TFLM's smallest arena ({needs})")
        return result
    need = max(arena.smallest_arena for arena in short.values())
    result.findings.append(
        Finding(
            check=CHECK,
            what=f"the declared arena ({context.arena_size} B) is smaller than TFLite Micro needs "
            f"with {' or '.join(short)} kernels",
            evidence=tuple(_evidence(kernels, arena, context.device.core) for kernels, arena in short.items()),
            cost=f"short by {need - context.arena_size} B: AllocateTensors() fails" + _fault_note(short),
            fix=f"declare at least {need} B (16-byte aligned): {needs}",
        )
    )
    return result


def _kernel_sets(context: Context) -> tuple[tuple[str, ...], str]:
    """The kernel sets the arena is checked for: the one the firmware links when --elf shows it, else both."""
    build = classify(context.elf, context.graph, context.device.core) if context.elf is not None else None
    if build is None or build.runtime != "tflm":
        return KERNEL_SETS, "arena checked for TFLM's reference kernels and for CMSIS-NN's (no TFLM firmware given)"
    accelerated = {op.op_type for op in context.graph.operators if op.op_type in CMSIS_NN_FAMILIES}
    if not build.reference_ops:
        return ("cmsis-nn",), "arena checked for CMSIS-NN's kernels: the firmware links them"
    if set(build.reference_ops) >= accelerated:
        return ("reference",), "arena checked for TFLM's reference kernels: the firmware links no CMSIS-NN kernel"
    return KERNEL_SETS, "arena checked for both kernel sets: the firmware mixes them"


def _evidence(kernels: str, arena: TflmArena, core: str) -> str:
    tail = ", ".join(f"{item} {size} B" for item, size in arena.tail_items.items())
    return (
        f"{kernels} kernels on {core}: head {arena.head_bytes} B (greedy plan of "
        f"{len(arena.plan.buffers)} buffers) + tail {arena.tail_bytes} B ({tail}, alignment "
        f"{arena.alignment_bytes} B); smallest arena {arena.smallest_arena} B"
    )


def _fault_note(short: dict[str, TflmArena]) -> str:
    """CMSIS-NN's Helium FULLY_CONNECTED does not check its kernel-sum allocation (bench/tflm_arena.py met
    the fault searching hello_world's smallest arena on QEMU's M55)."""
    arena = short.get("cmsis-nn")
    if arena is None or "kernel sums" not in arena.tail_items:
        return ""
    return (
        "; with CMSIS-NN it may hard-fault instead: when the allocation that runs out is a FULLY_CONNECTED's "
        "kernel sums, its Prepare() writes them through the null pointer (seen on QEMU's M55)"
    )
