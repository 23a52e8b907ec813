"""SVDF: md_svdf_params, the shapes and (integer) rescaling of TFLite Micro's SVDF kernel.

The activation state (input 4, a variable tensor) holds `memory` past feature values per
filter; each invocation shifts it by one and appends the input times the feature weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator, Tensor
from mcudeploy.ir.options import SVDFOptions
from mcudeploy.params.activation_range import float_activation_range
from mcudeploy.params.quantization import quantize_multiplier, single_scale, zero_point
from mcudeploy.params.record import BESIDE_STRUCT

STATE_INPUT = 4


@dataclass(frozen=True)
class SvdfParams:
    """md_svdf_params; the integer fields are None for float layers."""

    batches: int
    input_size: int
    filters: int
    """Rows of the feature weights: units · rank."""
    units: int
    rank: int
    memory: int
    """Past values each filter keeps (the time weights' columns)."""
    feature_multiplier: int | None = None
    """input · feature-weight scale onto the state's scale (TFLM's effective_scale_1)."""
    feature_shift: int | None = None
    output_multiplier: int | None = None
    """state · time-weight scale onto the output's scale (effective_scale_2)."""
    output_shift: int | None = None
    input_zero_point: int | None = None
    state_zero_point: int | None = None
    output_zero_point: int | None = None
    state_min: int | None = None
    """The state's integer range, where each new feature value is clamped."""
    state_max: int | None = None
    float_range: tuple[float, float] | None = field(default=None, metadata=BESIDE_STRUCT)
    """Float layers: the fused activation's bounds (TFLM's ActivationValFloat, unbounded = none)."""


def prepare(op: Operator, graph: Graph) -> SvdfParams:
    input_t, features_t, time_t = (graph.tensors[i] for i in op.inputs[:3])
    state_t = graph.tensors[op.inputs[STATE_INPUT]] if len(op.inputs) > STATE_INPUT else None
    options = op.options or SVDFOptions()
    _check_shapes(op, input_t, features_t, time_t, state_t, options.rank)
    filters, memory = time_t.shape
    shape = {
        "batches": input_t.shape[0],
        "input_size": input_t.shape[1],
        "filters": filters,
        "units": filters // options.rank,
        "rank": options.rank,
        "memory": memory,
    }
    if input_t.dtype == DType.FLOAT32:
        return SvdfParams(**shape, float_range=float_activation_range(options.activation))
    output_t = graph.tensors[op.outputs[0]]
    f32 = np.float32
    # TFLM multiplies the float scales in float, then widens to double
    feature_scale = f32(single_scale(input_t)) * f32(single_scale(features_t)) / f32(single_scale(state_t))
    output_scale = f32(single_scale(state_t)) * f32(single_scale(time_t)) / f32(single_scale(output_t))
    feature_multiplier, feature_shift = quantize_multiplier(float(feature_scale))
    output_multiplier, output_shift = quantize_multiplier(float(output_scale))
    info = np.iinfo(state_t.dtype.numpy)
    return SvdfParams(
        **shape,
        feature_multiplier=feature_multiplier,
        feature_shift=feature_shift,
        output_multiplier=output_multiplier,
        output_shift=output_shift,
        input_zero_point=zero_point(input_t),
        state_zero_point=zero_point(state_t),
        output_zero_point=zero_point(output_t),
        state_min=int(info.min),
        state_max=int(info.max),
    )


def _check_shapes(
    op: Operator, input_t: Tensor, features_t: Tensor, time_t: Tensor, state_t: Tensor | None, rank: int
) -> None:
    """What TFLM's PrepareSvdf checks: 2-D tensors of agreeing sizes, a variable state."""
    if state_t is None or not state_t.is_variable:
        raise UnsupportedOperatorError(op.label, "SVDF needs a variable activation-state tensor as input 4")
    if any(len(t.shape) != 2 for t in (input_t, features_t, time_t, state_t)):
        raise UnsupportedOperatorError(op.label, "SVDF's input, weights and state must be 2-D")
    filters, memory = time_t.shape
    if rank < 1 or filters % rank or features_t.shape != (filters, input_t.shape[1]):
        raise UnsupportedOperatorError(
            op.label,
            f"SVDF weights of shapes {features_t.shape} and {time_t.shape} "
            f"do not fit rank {rank} and input {input_t.shape}",
        )
    if state_t.shape != (input_t.shape[0], memory * filters):
        raise UnsupportedOperatorError(
            op.label,
            f"SVDF state of shape {state_t.shape} does not fit "
            f"{input_t.shape[0]} batches of {memory} x {filters} values",
        )
    if input_t.dtype == DType.INT8:
        types = (features_t.dtype, time_t.dtype, state_t.dtype)
        if (
            features_t.dtype != DType.INT8
            or time_t.dtype not in (DType.INT8, DType.INT16)
            or state_t.dtype != time_t.dtype
        ):
            raise UnsupportedOperatorError(op.label, f"int8 SVDF with weights and state of {types} is not in TFLM")
    elif input_t.dtype != DType.FLOAT32 or any(t.dtype != DType.FLOAT32 for t in (features_t, time_t, state_t)):
        raise UnsupportedOperatorError(op.label, f"SVDF of {input_t.dtype} is not supported by TFLite Micro")
