"""What a memory verdict can vouch for: the operators whose memory mcudeploy counts.

The arena figures count each operator's tensors and the scratch its kernel
declares (`mcudeploy.kernels.contracts`). For an operator the reference engine
has no kernel for, no kernel declares anything: its scratch, its persistent
state and even whether it can run are unknown, so a verdict of "fits" would be a
guess. (Vela-compiled models take the NPU branch, `mcudeploy.npu`, which counts
Vela's own plan.)
"""

from __future__ import annotations

from dataclasses import dataclass

import mcudeploy.engine.ops  # noqa: F401 - registers the kernels
from mcudeploy.engine.registry import KERNELS
from mcudeploy.ir import Graph, Operator
from mcudeploy.kernels.contracts import kernel_contract
from mcudeploy.params.variables import resource_layout


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


def variable_bytes(graph: Graph) -> int:
    """Bytes of the variable tensors, resource variables and kernels' own history (state kept
    across inferences, outside the arena)."""
    kernel_state = sum(kernel_contract(graph, op).state_bytes for op in graph.operators)
    return sum(t.nbytes for t in graph.tensors if t.is_variable) + resource_layout(graph).nbytes + kernel_state


def _name(op: Operator) -> str:
    return f"{op.op_type} (custom)" if op.is_custom else op.op_type
