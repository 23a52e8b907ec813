"""What a memory verdict can vouch for: the operators whose memory mcudeploy counts.

The arena figures count each operator's tensors and the scratch its kernel
declares (`mcudeploy.kernels.contracts`). For an operator the reference engine
has no kernel for, no kernel declares anything: its scratch, its persistent
state and even whether it can run are unknown, so a verdict of "fits" would be a
guess. The same holds for IF, WHILE and CALL_ONCE when the plan leaves out the
tensors of the subgraphs they run (TFLite Micro places them in the same arena;
the tflm planner does too). (Vela-compiled
models take the NPU branch, `mcudeploy.npu`, which counts Vela's own plan.)
"""

from __future__ import annotations

from dataclasses import dataclass

import mcudeploy.engine.ops  # noqa: F401 - registers the kernels
from mcudeploy.engine.registry import KERNELS
from mcudeploy.ir import Graph, Operator
from mcudeploy.ir.options import called_subgraphs
from mcudeploy.kernels.contracts import layer_states
from mcudeploy.params.variables import resource_layout


@dataclass(frozen=True)
class OperatorGap:
    index: int
    op: str
    reason: str

    def as_dict(self) -> dict[str, int | str]:
        return {"index": self.index, "op": self.op, "reason": self.reason}


def uncounted_operators(graph: Graph, subgraphs_planned: bool = False) -> list[OperatorGap]:
    """Operators, in any subgraph, whose memory (scratch, persistent state) the figures leave out;
    unless `subgraphs_planned`, the control-flow operators whose subgraphs' tensors they leave out."""
    gaps = []
    for number, subgraph in enumerate(graph.subgraphs):
        where = f" (in subgraph {number})" if number else ""
        for op in subgraph.operators:
            if op.op_type not in KERNELS:
                reason = "mcudeploy has no kernel for it: its scratch and state are unknown"
                gaps.append(OperatorGap(op.index, _name(op), reason + where))
            elif called_subgraphs(op.options) and not subgraphs_planned:
                names = " and ".join(f"subgraph {index}" for index in dict.fromkeys(called_subgraphs(op.options)))
                reason = f"the tensors of {names}, which it runs, are not in the memory plan"
                gaps.append(OperatorGap(op.index, _name(op), reason + where))
    return gaps


def variable_bytes(graph: Graph) -> int:
    """Bytes of the variable tensors, resource variables and layers' own state (`layer_states`:
    kernels' history in any subgraph the model runs, CALL_ONCE's flag), kept across inferences
    outside the arena: the generated header's figure."""
    variable_tensors = sum(t.nbytes for subgraph in graph.subgraphs for t in subgraph.tensors if t.is_variable)
    kernel_state = sum(layer_states(graph).values())
    return variable_tensors + resource_layout(graph).nbytes + kernel_state


def _name(op: Operator) -> str:
    return f"{op.op_type} (custom)" if op.is_custom else op.op_type
