"""Which operators compute in float (on a core without FPU: through the software float library)."""

from __future__ import annotations

from mcudeploy.ir import Graph, Operator


def float_operators(graph: Graph) -> list[Operator]:
    """Operators that compute in float: any float tensor read or written that is not a constant."""

    def computes_in_float(op: Operator) -> bool:
        touched = [graph.tensors[i] for i in (*op.inputs, *op.outputs) if i >= 0]
        return any(t.dtype.is_float and not t.is_constant for t in touched)

    return [op for op in graph.operators if computes_in_float(op)]
