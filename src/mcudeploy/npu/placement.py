"""Per operator: NPU or CPU, and for each CPU one the constraint of Vela's that failed, with a rewrite.

Vela decides and says why (its 'placing on the CPU' warnings, matched to operators by output tensor
name); this module joins that to our graph, cuts the graph into NPU and CPU segments in execution
order, and adds the standard rewrite where one exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from mcudeploy.ir import Graph, Operator
from mcudeploy.npu.vela import FallbackWarning, VelaCompilation


class Target(StrEnum):
    NPU = "NPU"
    CPU = "CPU"


@dataclass(frozen=True)
class Placement:
    index: int
    op: str
    target: str
    npu_cycles: int
    macs: int
    reasons: tuple[str, ...]
    """For a CPU operator: Vela's failed constraints ('what it found: the rule')."""
    suggestion: str | None


@dataclass(frozen=True)
class Segment:
    target: str
    operators: tuple[int, ...]
    handover_bytes: int
    """Bytes of activations this segment hands to segments on the other side."""


def place_operators(graph: Graph, compilation: VelaCompilation) -> list[Placement]:
    by_index = {op.index: op for op in compilation.operators}
    warnings_by_ofm: dict[str, list[FallbackWarning]] = {}
    for warning in compilation.warnings:
        warnings_by_ofm.setdefault(warning.ofm, []).append(warning)
    placements = []
    for op in graph.operators:
        vela_op = by_index.get(op.index)
        on_npu = vela_op is not None and vela_op.on_npu
        found = [w for name in _output_names(graph, op) for w in warnings_by_ofm.get(name, [])]
        reasons = () if on_npu else tuple(dict.fromkeys(_reason_text(w) for w in found))
        if not on_npu and not reasons:
            reasons = (_silent_reason(op, compilation),)
        placements.append(
            Placement(
                index=op.index,
                op=op.op_type,
                target=Target.NPU if on_npu else Target.CPU,
                npu_cycles=vela_op.cycles if vela_op else 0,
                macs=vela_op.macs if vela_op else 0,
                reasons=reasons,
                suggestion=None if on_npu else suggest_rewrite(op, found, compilation.target.accelerator),
            )
        )
    return placements


def segments(graph: Graph, placements: list[Placement]) -> list[Segment]:
    """Runs of consecutive operators on one side, in execution order."""
    runs: list[tuple[str, list[int]]] = []
    for placement in placements:
        if runs and runs[-1][0] == placement.target:
            runs[-1][1].append(placement.index)
        else:
            runs.append((placement.target, [placement.index]))
    side = {p.index: p.target for p in placements}
    consumers: dict[int, set[str]] = {}
    for op in graph.operators:
        for tensor in op.inputs:
            consumers.setdefault(tensor, set()).add(side[op.index])
    result = []
    for target, members in runs:
        produced = {t for i in members for t in graph.operators[i].outputs}
        crossing = [t for t in produced if consumers.get(t, {target}) - {target}]
        result.append(Segment(target, tuple(members), sum(graph.tensors[t].nbytes for t in crossing)))
    return result


def suggest_rewrite(op: Operator, warnings: list[FallbackWarning], accelerator: str) -> str | None:
    """The standard rewrite that would put the operator on the NPU, where one exists."""
    text = " ".join(f"{w.reason} {w.constraint}" for w in warnings)
    if "Float" in text or "float" in text:
        return (
            "quantize the model to int8 (full-integer post-training quantization): the NPU runs integer operators only"
        )
    if op.op_type in ACTIVATION_REWRITES:
        return ACTIVATION_REWRITES[op.op_type]
    if op.op_type == "MEAN" and "depth" in text:
        return "a 1x1 CONV_2D with all weights 1/C computes the same channel mean on the NPU"
    if "Stride>3" in text or "stride" in text.lower():
        return "use stride <= 3 (then pool or slice), or VALID padding with dilation 1"
    if "dilation" in text.lower():
        return "use a dilation the NPU supports, or an equivalent wider kernel"
    family = accelerator.rsplit("-", 1)[0]
    if (
        family != "ethos-u85"
        and op.op_type not in _vela_operators("EthosU55")
        and op.op_type in _vela_operators("EthosU85")
    ):
        return f"Ethos-U85 runs {op.op_type}; on {family} keep it on the CPU or express it with supported operators"
    return None


ACTIVATION_REWRITES = {
    "GELU": "HARD_SWISH (or RELU6) in place of GELU: both run on every Ethos-U",
    "ELU": "RELU6 or LEAKY_RELU in place of ELU",
    "SWISH": "HARD_SWISH in place of Swish",
    "SILU": "HARD_SWISH in place of SiLU",
}
"""Standard activation swaps; they change the network's arithmetic, so retrain or re-check accuracy."""


def _reason_text(warning: FallbackWarning) -> str:
    if warning.reason and warning.constraint:
        return f"{warning.reason}: {warning.constraint}"
    return warning.reason or warning.constraint or f"{warning.operator} is not supported on the NPU"


def _silent_reason(op: Operator, compilation: VelaCompilation) -> str:
    """Vela left it to the CPU without a constraint warning (e.g. an operator type it does not know)."""
    if op.op_type not in _vela_operators(_regor_arch(compilation.target.accelerator)):
        return f"{op.op_type} is not in Vela's list of operators for {compilation.target.accelerator}"
    return "Vela placed it on the CPU without naming a failed constraint"


def _output_names(graph: Graph, op: Operator) -> list[str]:
    return [graph.tensors[t].name for t in op.outputs]


def _regor_arch(accelerator: str) -> str:
    return "".join(part.capitalize() for part in accelerator.split("-")[:-1])


@cache
def _vela_operators(regor_arch: str) -> frozenset[str]:
    """The TFLite operator types Vela can place on this NPU family (its own constraints table)."""
    from ethosu import regor

    return frozenset(regor.tflite_operator_constraints(regor_arch))
