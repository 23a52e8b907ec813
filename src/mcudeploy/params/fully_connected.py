"""FULLY_CONNECTED: md_fully_connected_params, the input read as [batches, depth] whatever its rank."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcudeploy.ir import Graph, Operator
from mcudeploy.params.activation_range import float_clamp, quantized_activation_range
from mcudeploy.params.quantization import zero_point
from mcudeploy.params.record import BESIDE_STRUCT
from mcudeploy.params.requantization import Requantization, checked_requantization, wide_accumulator


@dataclass(frozen=True, eq=False)
class FullyConnectedParams:
    """md_fully_connected_params; the integer fields are None for float layers."""

    batches: int
    """Output size / output depth (keep_num_dims only shapes the output tensor)."""
    accum_depth: int
    """The filter's columns."""
    output_depth: int
    input_offset: int | None = None
    filter_offset: int | None = None
    """-filter zero point for per-tensor filters; the per-channel kernel ignores the zero point."""
    output_offset: int | None = None
    act_min: int | None = None
    act_max: int | None = None
    per_channel: int | None = None
    accumulator64: int | None = None
    float_clamp: tuple[np.float32, np.float32] | None = field(default=None, metadata=BESIDE_STRUCT)
    requantization: Requantization | None = field(default=None, metadata=BESIDE_STRUCT)


def prepare(op: Operator, graph: Graph) -> FullyConnectedParams:
    input_t, filter_t, bias_t = [*graph.input_tensors(op), None][:3]
    output_t = graph.tensors[op.outputs[0]]
    output_depth = output_t.shape[-1]
    shape = {"batches": output_t.size // output_depth, "accum_depth": filter_t.shape[-1], "output_depth": output_depth}
    activation = op.options.activation
    if input_t.dtype.is_float:
        return FullyConnectedParams(**shape, float_clamp=float_clamp(activation))
    per_channel = filter_t.quantization is not None and filter_t.quantization.scale.size > 1
    act_min, act_max = quantized_activation_range(activation, output_t)
    wide = wide_accumulator(input_t, bias_t)
    return FullyConnectedParams(
        **shape,
        input_offset=-zero_point(input_t),
        filter_offset=0 if per_channel else -zero_point(filter_t),
        output_offset=zero_point(output_t),
        act_min=act_min,
        act_max=act_max,
        per_channel=int(per_channel),
        accumulator64=int(wide),
        requantization=checked_requantization(op, graph, wide),
    )
