"""Which arena tensors may share bytes, as the kernel contracts declare it.

- Alias groups: a reshape-like operator's output is its input's bytes, so the
  two are one buffer, live from the first member's first step to the last
  member's last step.
- Overlap permits: an operator's output may share bytes with one of its inputs
  when the input's whole alias group is read by no later step and holds no graph
  output, under the condition the kernel declared.

Shared by our planner (which places by these rules) and the plan checker
(which verifies any plan against them).
"""

from __future__ import annotations

from dataclasses import dataclass

from mcudeploy.ir import Graph
from mcudeploy.kernels.contracts import KernelContract, kernel_contract
from mcudeploy.memory.lifetimes import Lifetime, buffer_names, tensor_lifetimes
from mcudeploy.memory.plan import OverlapPermit


@dataclass
class ArenaTensors:
    """The arena tensors of a graph with everything planners and checker need to know about them."""

    lifetimes: dict[int, Lifetime]
    names: dict[int, str]
    contracts: list[KernelContract]
    root: dict[int, int]
    """Arena tensor -> the tensor whose bytes it uses (itself unless a reshape-like alias)."""
    group_first: dict[int, int]
    group_last: dict[int, int]
    """Lifetime of each alias group, by root."""
    permits: list[OverlapPermit]

    def group_sizes(self) -> dict[int, int]:
        """Bytes of each alias group (its largest member), by root."""
        sizes: dict[int, int] = {}
        for index, life in self.lifetimes.items():
            root = self.root[index]
            sizes[root] = max(sizes.get(root, 0), life.size)
        return sizes


def arena_tensors(graph: Graph) -> ArenaTensors:
    lifetimes = tensor_lifetimes(graph)
    contracts = [kernel_contract(graph, op) for op in graph.operators]
    root = _alias_roots(graph, lifetimes, contracts)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for index, life in lifetimes.items():
        group = root[index]
        first[group] = min(first.get(group, life.first), life.first)
        last[group] = max(last.get(group, life.last), life.last)
    tensors = ArenaTensors(lifetimes, buffer_names(graph), contracts, root, first, last, [])
    tensors.permits = _overlap_permits(graph, tensors)
    return tensors


def _alias_roots(graph: Graph, lifetimes: dict[int, Lifetime], contracts: list[KernelContract]) -> dict[int, int]:
    root = {index: index for index in lifetimes}
    for op, contract in zip(graph.operators, contracts, strict=True):
        if contract.alias_of_input is None:
            continue
        source, target = op.inputs[contract.alias_of_input], op.outputs[0]
        # A constant input lives in flash: the output then needs bytes of its own (a copy).
        if source in lifetimes and target in lifetimes and lifetimes[source].size == lifetimes[target].size:
            root[target] = root[source]  # operators run in order, so the source's root is final
    return root


def _overlap_permits(graph: Graph, tensors: ArenaTensors) -> list[OverlapPermit]:
    output_groups = {tensors.root[i] for i in graph.outputs if i in tensors.root}
    permits = []
    for op, contract in zip(graph.operators, tensors.contracts, strict=True):
        declared = {(rule.input, rule.output) for rule in contract.overlaps}
        for rule in contract.overlaps:
            reader, writer = op.inputs[rule.input], op.outputs[rule.output]
            if reader not in tensors.lifetimes or writer not in tensors.lifetimes:
                continue
            group = tensors.root[reader]
            if group == tensors.root[writer] or group in output_groups or tensors.group_last[group] != op.index:
                continue
            # The same bytes read through another input without a declaration (say, broadcast) forbid it.
            readings = [k for k, i in enumerate(op.inputs) if i in tensors.root and tensors.root[i] == group]
            if any((k, rule.output) not in declared for k in readings):
                continue
            permits.append(
                OverlapPermit(op.index, tensors.names[reader], tensors.names[writer], rule.max_shift, rule.period)
            )
    return permits
