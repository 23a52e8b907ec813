"""Latency estimates: the executed instruction stream, priced with each core's timings and the device's memories.

`estimate_model(graph, device)` gives cycles and milliseconds per layer of the generated code;
`profile_elf(elf, machine)` prices any bare-metal program per function.
"""

from mcudeploy.estimate.cycles import CycleBreakdown, price
from mcudeploy.estimate.memory import MemoryTiming, device_memory, zero_wait_memory
from mcudeploy.estimate.model import LayerEstimate, ModelEstimate, compare_cores, comparison_devices, estimate_model
from mcudeploy.estimate.timings import CORE_TIMINGS, CoreTiming, core_timing

__all__ = [
    "CORE_TIMINGS",
    "CoreTiming",
    "CycleBreakdown",
    "LayerEstimate",
    "MemoryTiming",
    "ModelEstimate",
    "compare_cores",
    "comparison_devices",
    "core_timing",
    "device_memory",
    "estimate_model",
    "price",
    "zero_wait_memory",
]
