"""What a memory verdict can vouch for: the operators whose memory mcudeploy counts.

The arena figures count each operator's tensors and the scratch its kernel
declares (`mcudeploy.kernels.contracts`). For an operator the reference engine
has no kernel for, no kernel declares anything: its scratch, its persistent
state and even whether it can run are unknown, so a verdict of "fits" would be a
guess. The same holds for IF, WHILE and CALL_ONCE: the tensors of the subgraphs
they run are not planned (TFLite Micro places them in the same arena). (Vela-compiled
models take the NPU branch, `mcudeploy.npu`, which counts Vela's own plan.)
"""

from __future__ import annotations

from dataclasses import dataclass

import mcudeploy.engine.ops  # noqa: F401 - registers the kernels
from mcudeploy.engine.registry import KERNELS
from mcudeploy.ir import Graph, Operator
from mcudeploy.ir.options import called_subgraphs
from mcudeploy.params.variables import resource_layout


@dataclass(frozen=True)
class OperatorGap:
    index: int
    op: str
    reason: str

    def as_dict(self) -> dict[str, int | str]:
        return {"index": self.index, "op": self.op, "reason": self.reason}


def uncounted_operators(graph: Graph) -> list[OperatorGap]:
    """Operators whose memory (scratch, persistent state, called subgraphs' tensors) the figures leave out."""
    return [_gap(op) for op in graph.operators if op.op_type not in KERNELS or called_subgraphs(op.options)]


def _gap(op: Operator) -> OperatorGap:
    called = called_subgraphs(op.options)
    if called and op.op_type in KERNELS:
        names = " and ".join(f"subgraph {index}" for index in dict.fromkeys(called))
        return OperatorGap(op.index, _name(op), f"the tensors of {names}, which it runs, are not in the memory plan")
    return OperatorGap(op.index, _name(op), "mcudeploy has no kernel for it: its scratch and state are unknown")


def variable_bytes(graph: Graph) -> int:
    """Bytes of the variable tensors and resource variables (state kept across inferences,
    outside the arena)."""
    variable_tensors = sum(t.nbytes for subgraph in graph.subgraphs for t in subgraph.tensors if t.is_variable)
    return variable_tensors + resource_layout(graph).nbytes


def _name(op: Operator) -> str:
    return f"{op.op_type} (custom)" if op.is_custom else op.op_type
