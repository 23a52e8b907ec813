"""Memory planning: tensor lifetimes, kernel scratch, arena placement and the plan checker."""

from __future__ import annotations

from mcudeploy.errors import McuDeployError
from mcudeploy.ir import Graph
from mcudeploy.memory.plan import Buffer, MemoryPlan, OverlapPermit
from mcudeploy.memory.planners.mcudeploy import plan_mcudeploy
from mcudeploy.memory.planners.tflm import plan_tflm
from mcudeploy.memory.variants import settle_columns, unsettled_convolutions

PLANNERS = {"mcudeploy": plan_mcudeploy, "tflm": plan_tflm}
"""`mcudeploy`: ours, as tight as the kernel contracts allow; `tflm`: TensorFlow Lite Micro's head, reproduced."""


def plan_memory(graph: Graph, planner: str = "mcudeploy", alignment: int = 16) -> MemoryPlan:
    """Place every arena buffer of `graph` (activations and kernel scratch) with the named planner.
    Ours first settles the columns of each CONV_2D that has no variant yet (in any subgraph the
    model runs), for the smallest arena (`memory.variants`), recording them on the operators,
    which code generation then follows."""
    if planner not in PLANNERS:
        raise McuDeployError(graph.subject, f"unknown planner '{planner}' (choose from {', '.join(PLANNERS)})")
    if alignment < 1 or alignment & (alignment - 1):
        raise McuDeployError(graph.subject, f"the alignment must be a power of two, not {alignment}")
    if planner == "mcudeploy" and (unsettled := unsettled_convolutions(graph)):
        settle_columns(graph, unsettled, alignment)
    return PLANNERS[planner](graph, alignment)


__all__ = ["PLANNERS", "Buffer", "MemoryPlan", "OverlapPermit", "plan_memory"]
