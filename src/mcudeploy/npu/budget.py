"""The whole memory budget of an Ethos-U deployment, placed into the device's regions.

RAM: the tensor arena as Vela planned it (NPU and CPU feature maps and the NPU's scratch share one
arena: Vela writes every tensor's offset into the model, and its summary's SRAM figure is that
arena's end), the scratch buffers of our CPU kernels for the fallback operators (Vela does not
count them; one is live at a time, so the largest), and the stack. Flash: Vela's command streams
and encoded weights, the constants of the fallback operators, and our kernel code for them.
The Ethos-U driver is the user's and is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from mcudeploy.devices import Device
from mcudeploy.ir import Graph
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import (
    FLASH_RESERVE,
    RAM_RESERVE,
    STACK,
    BudgetItem,
    BudgetRequest,
    Memory,
    MemoryBudget,
    Preference,
    code_estimate,
    constant_layout,
    memory_budget,
)
from mcudeploy.npu.compiled import ethos_u_operators, is_ethos_u
from mcudeploy.npu.placement import Placement, Target

NPU_ARENA = "tensor arena (Vela's plan: NPU + CPU feature maps, NPU scratch)"
CPU_SCRATCH = "CPU kernels' scratch (fallback operators)"
NPU_READ_ONLY = "NPU command streams and weights (Vela)"
CPU_CONSTANTS = "fallback operators' constants"
CPU_CODE = "kernel code for fallback operators (estimate)"


class Reserve(Protocol):
    """The stack and the user's reserves (`analysis.model.Reserves`)."""

    stack_bytes: int
    reserve_ram: int
    reserve_flash: int


@dataclass(frozen=True)
class NpuRequirement:
    """Whether the device has the NPU the model's command streams were compiled for."""

    needed: str | None
    """The accelerator the command streams target (None: any Ethos-U, or none needed)."""
    available: str | None
    """The device's (or --npu's) accelerator configuration; None when it has no Ethos-U."""

    @property
    def met(self) -> bool:
        if self.available is None:
            return False
        return self.needed is None or self.needed == self.available

    def problem(self, device: Device) -> str | None:
        if self.met:
            return None
        needed = self.needed or "an Ethos-U NPU"
        npu = device.part.npu
        have = self.available or (
            "no NPU" if npu is None else "its Ethos-U off (--no-npu)" if npu.accelerator else npu.type
        )
        return f"the model's Ethos-U command streams need {needed}; {device.name} has {have}"


def compiled_budget(
    graph: Graph,
    arena_bytes: int,
    read_only_bytes: int,
    placements: list[Placement],
    device: Device,
    reserve: Reserve,
) -> MemoryBudget:
    """The budget of a model Vela compiled for us: `arena_bytes` and `read_only_bytes` are Vela's."""
    cpu_ops = {p.index for p in placements if p.target == Target.CPU}
    return memory_budget(_request(graph, arena_bytes, read_only_bytes, cpu_ops, reserve), device)


def precompiled_budget(graph: Graph, arena_bytes: int, device: Device, reserve: Reserve) -> MemoryBudget:
    """The budget of a .tflite that already holds `ethos-u` operators (its arena as Vela planned it)."""
    npu_ops = [op for op in graph.operators if is_ethos_u(op)]
    npu_constants = {i for op in npu_ops for i in op.inputs[:2]}
    read_only = sum(graph.tensors[i].nbytes for i in npu_constants)
    cpu_ops = {op.index for op in graph.operators if not is_ethos_u(op)}
    return memory_budget(_request(graph, arena_bytes, read_only, cpu_ops, reserve, npu_constants), device)


def compiled_for(graph: Graph, available: str | None) -> NpuRequirement:
    """What a model holding `ethos-u` operators needs: the accelerator its command streams name."""
    targets = {op.compiled_for for op in ethos_u_operators(graph)}
    return NpuRequirement(targets.pop() if len(targets) == 1 else None, available)


def _request(
    graph: Graph,
    arena_bytes: int,
    read_only_bytes: int,
    cpu_ops: set[int],
    reserve: Reserve,
    skip_constants: frozenset[int] | set[int] = frozenset(),
) -> BudgetRequest:
    cpu_graph = replace(graph, operators=[op for op in graph.operators if op.index in cpu_ops])
    layout = constant_layout(graph)
    cpu_constants = sum(
        a.nbytes for a in layout.arrays if a.layer in cpu_ops and (a.tensor is None or a.tensor not in skip_constants)
    )
    items = (
        BudgetItem(NPU_ARENA, arena_bytes, Memory.RAM, Preference.GENERAL),
        BudgetItem(CPU_SCRATCH, _cpu_scratch(graph, cpu_ops), Memory.RAM, Preference.TCM),
        BudgetItem(STACK, reserve.stack_bytes, Memory.RAM, Preference.TCM),
        BudgetItem(RAM_RESERVE, reserve.reserve_ram, Memory.RAM, Preference.GENERAL),
        BudgetItem(NPU_READ_ONLY, read_only_bytes, Memory.FLASH, Preference.ON_CHIP),
        BudgetItem(CPU_CONSTANTS, cpu_constants, Memory.FLASH, Preference.ON_CHIP),
        BudgetItem(CPU_CODE, _cpu_code(cpu_graph), Memory.FLASH, Preference.ON_CHIP),
        BudgetItem(FLASH_RESERVE, reserve.reserve_flash, Memory.FLASH, Preference.ON_CHIP),
    )
    return BudgetRequest(tuple(item for item in items if item.size > 0))


def _cpu_code(cpu_graph: Graph) -> int:
    return code_estimate(cpu_graph).total if cpu_graph.operators else 0


def _cpu_scratch(graph: Graph, cpu_ops: set[int]) -> int:
    """Our kernels' scratch for the fallback operators: one operator runs at a time, so the largest."""
    if not cpu_ops:
        return 0
    plan = plan_memory(graph)
    scratch: dict[int, int] = {}
    for buffer in plan.buffers:
        if buffer.scratch_of in cpu_ops:
            scratch[buffer.scratch_of] = scratch.get(buffer.scratch_of, 0) + buffer.size
    return max(scratch.values(), default=0)
