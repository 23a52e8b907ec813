"""GATHER, GATHER_ND and EMBEDDING_LOOKUP: the blocks of values their run-time indices pick, as
md_gather_params and md_gather_nd_params (sizes in elements, checked at import)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import Graph, Operator
from mcudeploy.ir.shapes import positive_axis
from mcudeploy.params.quantization import single_scale, zero_point
from mcudeploy.params.shapes import MAX_DIMS, dims


@dataclass(frozen=True)
class GatherParams:
    """Output block (batch, outer, k) of `inner` values is input block (batch, outer, coords[batch, k])
    of the `axis_size` blocks along the gathered axis."""

    batches: int
    outer: int
    axis_size: int
    coords: int
    """Indices per batch."""
    inner: int
    element_bytes: int


def gather_params(op: Operator, graph: Graph) -> GatherParams:
    shape, coords = graph.tensors[op.inputs[0]].shape, graph.tensors[op.inputs[1]].shape
    axis = positive_axis(op.options.axis, len(shape), op.label)
    batch_dims = op.options.batch_dims + (len(coords) if op.options.batch_dims < 0 else 0)
    return GatherParams(
        batches=math.prod(shape[:batch_dims]),
        outer=math.prod(shape[batch_dims:axis]),
        axis_size=shape[axis],
        coords=math.prod(coords[batch_dims:]),
        inner=math.prod(shape[axis + 1 :]),
        element_bytes=graph.tensors[op.outputs[0]].dtype.itemsize,
    )


MAX_INDICES_ND = 5
"""TFLite Micro's bound on the length of one GATHER_ND index."""


@dataclass(frozen=True)
class GatherNdParams:
    """Output slice i of `slice_size` values starts at input element sum_j indices[i, j] strides[j]
    (an index must keep the whole slice inside the input, whose size is `total`)."""

    slices: int
    index_length: int
    strides: tuple[int, ...]
    slice_size: int
    total: int
    element_bytes: int


def gather_nd_params(op: Operator, graph: Graph) -> GatherNdParams:
    shape, indices = graph.tensors[op.inputs[0]].shape, graph.tensors[op.inputs[1]].shape
    length = indices[-1]
    return GatherNdParams(
        slices=math.prod(indices[:-1]),
        index_length=length,
        strides=dims([math.prod(shape[axis + 1 :]) for axis in range(length)][:MAX_DIMS]),
        slice_size=math.prod(shape[length:]),
        total=math.prod(shape),
        element_bytes=graph.tensors[op.outputs[0]].dtype.itemsize,
    )


def embedding_lookup_params(op: Operator, graph: Graph) -> GatherParams:
    """EMBEDDING_LOOKUP as a GATHER of whole rows: the lookup is input 0, the values input 1."""
    values = graph.tensors[op.inputs[1]]
    return GatherParams(
        batches=1,
        outer=1,
        axis_size=values.shape[0],
        coords=graph.tensors[op.inputs[0]].size,
        inner=values.size // values.shape[0],
        element_bytes=values.dtype.itemsize,
    )


def dequantization_scale(op: Operator, graph: Graph) -> np.float32:
    """The float32 scale of EMBEDDING_LOOKUP's int8 rows looked up as float32 (zero point 0)."""
    values = graph.tensors[op.inputs[1]]
    if values.quantization is None or values.quantization.per_channel or zero_point(values) != 0:
        raise UnsupportedOperatorError(op.label, "int8 values need one scale and a zero point of 0 (TFLite Micro)")
    return np.float32(single_scale(values))
