"""Which kernels the user's firmware links: TFLite Micro's reference kernels or CMSIS-NN, our portable
kernels or our DSP/Helium ones, told from the ELF's symbols.

TFLite Micro registers each operator with `tflite::Register_<OP>()` whichever kernels it was built
with; a CMSIS-NN build's kernels call CMSIS-NN functions (`arm_convolve_wrapper_s8`, ...), a reference
build's run `tflite::reference_integer_ops::` / `reference_ops::` code (inline templates, so often
without a symbol of their own). An operator the model uses, registered, with no CMSIS-NN function of
its family linked, runs the reference kernel. Our own library compiles one ISA path per kernel family
(portable C, DSP or Helium, chosen by the compiler's target) and names it in an absolute symbol
(`md_path_conv_dsp`, see mdnn/Include/md_nn_support.h).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcudeploy.codegen.library import isa_suffixes, library_files
from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.emulation.elf import ElfImage
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate import estimate_model
from mcudeploy.ir import Graph

CHECK = "reference-kernels"

CMSIS_NN_FAMILIES: dict[str, tuple[str, ...]] = {
    "CONV_2D": ("arm_convolve",),
    "DEPTHWISE_CONV_2D": ("arm_depthwise_conv",),
    "FULLY_CONNECTED": ("arm_fully_connected", "arm_batch_matmul"),
    "AVERAGE_POOL_2D": ("arm_avgpool",),
    "MAX_POOL_2D": ("arm_max_pool",),
    "SOFTMAX": ("arm_softmax",),
    "ADD": ("arm_elementwise_add",),
    "MUL": ("arm_elementwise_mul",),
    "TRANSPOSE_CONV": ("arm_transpose_conv",),
    "SVDF": ("arm_svdf",),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": ("arm_lstm",),
}
"""Operators CMSIS-NN accelerates, with the prefixes of the CMSIS-NN functions TFLM's kernel calls."""

_TFLM_MARK = "_ZN6tflite"
_REFERENCE_NAMESPACES = ("21reference_integer_ops", "13reference_ops")
_OUR_PATH = re.compile(r"^md_path_([a-z_0-9]+)_(portable|dsp|mve)$")


@dataclass(frozen=True)
class KernelBuild:
    runtime: str
    """"tflm", "mcudeploy" or "unknown"."""
    reference_ops: tuple[str, ...]
    """The model's operators that run a reference (portable) kernel where an optimised one exists."""
    evidence: tuple[str, ...]


def check_kernels(context: Context) -> CheckResult:
    result = CheckResult(CHECK)
    if context.elf is None:
        result.ran = False
        result.notes.append("no --elf: the firmware's kernels were not checked")
        return result
    build = classify(context.elf, context.graph, context.device.core)
    if build.runtime == "unknown":
        result.notes.append(f"{context.elf.path.name}: neither TFLite Micro nor mcudeploy kernels found in its symbols")
        return result
    result.notes.append(
        f"{context.elf.path.name}: {'TFLite Micro' if build.runtime == 'tflm' else 'mcudeploy'} kernels"
    )
    if not build.reference_ops:
        return result
    optimised = "CMSIS-NN" if build.runtime == "tflm" else "the DSP/Helium variants"
    result.findings.append(
        Finding(
            check=CHECK,
            what=f"reference kernels linked for {', '.join(build.reference_ops)} instead of {optimised}",
            evidence=build.evidence,
            cost=_slowdown(context, result),
            fix=(
                "build TFLite Micro with OPTIMIZED_KERNEL_DIR=cmsis_nn (make) or the CMSIS-NN kernels of "
                "tflite-micro's kernels/cmsis_nn folder, and link CMSIS-NN built for this core "
                "(-mcpu with its DSP/MVE extension)"
                if build.runtime == "tflm"
                else f"compile the generated project for the device's core (-mcpu={context.device.core}, hard-float "
                "ABI on Helium cores) and without MD_PORTABLE, so the kernels take their DSP/MVE paths"
            ),
        )
    )
    return result


def _slowdown(context: Context, result: CheckResult) -> str:
    """Our estimate of both builds on the device's core: portable kernels against the core's best."""
    if not isa_suffixes(context.device.core):
        return (
            f"not estimated: {context.device.core} has no DSP/MVE extension, our kernels have one build "
            "for it (CMSIS-NN's plain-C kernels still beat the reference ones)"
        )
    try:
        fast = estimate_model(context.graph, context.device)
        slow = estimate_model(context.graph, context.device, portable=True)
    except McuDeployError as error:
        return f"not estimated: {error}"
    result.notes.append(
        "slowdown: our estimate of our portable kernels against our DSP/MVE kernels on this core, standing for "
        "TFLM's reference and CMSIS-NN builds (same algorithms, not the same code)"
    )
    return (
        f"{slow.milliseconds:.2f} ms instead of {fast.milliseconds:.2f} ms per inference at "
        f"{fast.clock_mhz:.0f} MHz ({slow.milliseconds / fast.milliseconds:.1f}x slower, estimated)"
    )


def register_symbol(op_type: str) -> str:
    """TFLM's mangled `tflite::Register_<OP>()`."""
    name = f"Register_{op_type}"
    return f"{_TFLM_MARK}{len(name)}{name}Ev"


def classify(elf: ElfImage, graph: Graph, core: str) -> KernelBuild:
    names = {symbol.name for symbol in elf.symbols if symbol.defined}
    if any(name.startswith(_TFLM_MARK) for name in names):
        return _tflm_build(names, graph)
    ours = {
        f"md_{match.group(1)}": "" if match.group(2) == "portable" else f"_{match.group(2)}"
        for name in names
        if (match := _OUR_PATH.match(name))
    }
    if ours:
        return _our_build(ours, core)
    return KernelBuild("unknown", (), ())


def _tflm_build(names: set[str], graph: Graph) -> KernelBuild:
    cmsis = sorted(name for name in names if name.startswith(("arm_nn_", *sum(CMSIS_NN_FAMILIES.values(), ()))))
    reference = sorted(name for name in names if any(ns in name for ns in _REFERENCE_NAMESPACES))
    used = dict.fromkeys(op.op_type for op in graph.operators if op.op_type in CMSIS_NN_FAMILIES)
    slow = tuple(op for op in used if not any(name.startswith(CMSIS_NN_FAMILIES[op]) for name in cmsis))
    evidence = []
    if slow:
        registered = [register_symbol(op) for op in slow if register_symbol(op) in names]
        evidence.append(f"TFLite Micro linked; registered: {', '.join(registered) or 'none of them by name'}")
        prefixes = sorted({p for op in slow for p in CMSIS_NN_FAMILIES[op]})
        evidence.append(f"no CMSIS-NN function {', '.join(p + '*' for p in prefixes)} in the ELF")
        if reference:
            evidence.append(f"reference kernel symbols: {_listed(reference)}")
    if cmsis:
        evidence.append(f"CMSIS-NN functions linked: {_listed(cmsis)}")
    return KernelBuild("tflm", slow, tuple(evidence))


def _our_build(sources: dict[str, str], core: str) -> KernelBuild:
    """Families built on their portable path though the core runs a DSP/MVE path of theirs."""
    best = isa_suffixes(core)
    portable = sorted(f"{stem}.c" for stem, suffix in sources.items() if not suffix)
    optimised = sorted(f"{stem}{suffix}.c" for stem, suffix in sources.items() if suffix)
    slow = tuple(p for p in portable if best and _has_variant(p, best)) if best else ()
    evidence = [f"mcudeploy kernel paths linked: {', '.join(optimised + portable)}"]
    return KernelBuild("mcudeploy", slow, tuple(evidence))


def _has_variant(source: str, suffixes: tuple[str, ...]) -> bool:
    available = set(library_files())
    stem = source.removesuffix(".c")
    return any(f"{stem}{s}.c" in available for s in suffixes)


def _listed(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")
