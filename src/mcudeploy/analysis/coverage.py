"""What a memory verdict can vouch for: the operators whose memory mcudeploy counts, and those a device can run.

The arena figures count each operator's tensors and the scratch its kernel
declares (`mcudeploy.kernels.contracts`). For an operator the reference engine
has no kernel for, no kernel declares anything: its scratch, its persistent
state and even whether it can run are unknown, so a verdict of "fits" would be a
guess. An operator that only an accelerator runs (Vela's `ethos-u`) cannot run
at all on a device without that accelerator.
"""

from __future__ import annotations

from dataclasses import dataclass

import mcudeploy.engine.ops  # noqa: F401 - registers the kernels
from mcudeploy.devices import Device
from mcudeploy.engine.registry import KERNELS
from mcudeploy.ir import Graph, Operator

ACCELERATOR_OPERATORS = {"ethos-u": "Arm Ethos-U"}
"""Custom operators an NPU runs, and the NPU family (the prefix of the device's NPU type)."""


@dataclass(frozen=True)
class OperatorGap:
    index: int
    op: str
    reason: str

    def as_dict(self) -> dict[str, int | str]:
        return {"index": self.index, "op": self.op, "reason": self.reason}


def uncounted_operators(graph: Graph) -> list[OperatorGap]:
    """Operators whose memory (scratch, persistent state) the figures leave out."""
    return [
        OperatorGap(op.index, _name(op), "mcudeploy has no kernel for it: its scratch and state are unknown")
        for op in graph.operators
        if op.op_type not in KERNELS
    ]


def missing_hardware(graph: Graph, device: Device) -> list[OperatorGap]:
    """Operators only an accelerator runs, on a device without that accelerator."""
    npu = device.part.npu.type if device.part.npu else ""
    gaps = []
    for op in graph.operators:
        family = ACCELERATOR_OPERATORS.get(op.op_type) if op.is_custom else None
        if family is not None and not npu.startswith(family):
            has = f"it has {npu}" if npu else "it has no NPU"
            gaps.append(OperatorGap(op.index, _name(op), f"runs only on an {family} NPU; {has}"))
    return gaps


def variable_bytes(graph: Graph) -> int:
    """Bytes of the variable tensors (state kept across inferences, outside the arena)."""
    return sum(t.nbytes for t in graph.tensors if t.is_variable)


def _name(op: Operator) -> str:
    return f"{op.op_type} (custom)" if op.is_custom else op.op_type
