"""MEAN, SUM, REDUCE_MAX, REDUCE_MIN and REDUCE_ALL over the axes of a constant input: md_reduce_params;
ARG_MAX and ARG_MIN along one: md_arg_params."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.ir.shapes import positive_axis
from mcudeploy.params.quantization import quantize_multiplier, single_scale, zero_point
from mcudeploy.params.record import BESIDE_STRUCT
from mcudeploy.params.shapes import dims


@dataclass(frozen=True)
class ReduceParams:
    """The input walked in order, each element sent to its output (kept axes, row-major)."""

    rank: int
    input_shape: tuple[int, ...]
    output_strides: tuple[int, ...]
    """Output element stride per input dimension, 0 along reduced ones."""
    output_count: int
    reduced_count: int
    """Input values per output value."""
    dtype: DType | None = None
    input_zero_point: int | None = None
    output_zero_point: int | None = None
    multiplier: int | None = None
    shift: int | None = None
    """Integer MEAN and SUM: input to output scale, the mean's 1 / count folded in."""
    mean: int | None = None
    """float32 MEAN: the sums divided by reduced_count."""
    axes: tuple[int, ...] = field(default=(), metadata=BESIDE_STRUCT)
    """The reduced axes, positive, ascending, without duplicates (TFLite's ResolveAxis)."""


def prepare(op: Operator, graph: Graph) -> ReduceParams | None:
    """None when the axes are computed at run time."""
    source, output = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    axis = graph.tensors[op.inputs[1]].data
    if axis is None:
        return None
    axes = tuple(sorted({positive_axis(int(a), len(source.shape), op.label) for a in np.ravel(axis)}))
    shape = source.shape or (1,)
    strides = [0] * len(shape)
    stride = 1
    for position in reversed(range(len(shape))):
        if position not in axes:
            strides[position] = stride
            stride *= shape[position]
    count = math.prod(shape[a] for a in axes)
    params = ReduceParams(len(shape), dims(shape, 1), dims(strides), stride, count, axes=axes)
    if op.op_type not in ("MEAN", "SUM"):
        return params
    mean = op.op_type == "MEAN"
    if source.dtype.is_float:
        return replace(params, mean=int(mean))
    multiplier, shift = quantize_multiplier(single_scale(source) / single_scale(output))
    if mean and count > 0:
        multiplier, shift = fold_in_division(multiplier, shift, count)
    return replace(
        params,
        dtype=source.dtype,
        input_zero_point=zero_point(source),
        output_zero_point=zero_point(output),
        multiplier=multiplier,
        shift=shift,
    )


def fold_in_division(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """Fold 1/count into the output multiplier, as TFLM's quantized mean does: scale the
    multiplier up by at most 2^32 (and keep the shift >= -31), then divide it by count."""
    headroom = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << headroom) // count, shift - headroom


@dataclass(frozen=True)
class ArgParams:
    """md_arg_params of ARG_MAX and ARG_MIN: the input as (outer, axis_size, inner)."""

    outer: int
    axis_size: int
    inner: int
    maximum: int


def arg_params(op: Operator, graph: Graph) -> ArgParams:
    shape = graph.tensors[op.inputs[0]].shape
    axis = positive_axis(int(np.ravel(graph.tensors[op.inputs[1]].data)[0]), len(shape), op.label)
    outer, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1 :])
    return ArgParams(outer, shape[axis], inner, int(op.op_type == "ARG_MAX"))
