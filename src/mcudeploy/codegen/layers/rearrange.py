"""Operators that rearrange values by index arithmetic alone: SLICE, REVERSE_V2, BROADCAST_TO,
SPACE_TO_DEPTH and DEPTH_TO_SPACE (strided copies), MIRROR_PAD and BATCH_TO_SPACE_ND (a table
of input offsets per output axis), SPACE_TO_BATCH_ND, GATHER, GATHER_ND and EMBEDDING_LOOKUP
(run-time indices), DYNAMIC_UPDATE_SLICE, ZEROS_LIKE and BROADCAST_ARGS."""

from __future__ import annotations

import numpy as np

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.codegen.layers.movement import SOURCES, check_rank, strided_copy
from mcudeploy.ir import DType
from mcudeploy.params.gather import (
    MAX_INDICES_ND,
    dequantization_scale,
    embedding_lookup_params,
    gather_nd_params,
    gather_params,
)
from mcudeploy.params.rearrange import (
    batch_to_space_params,
    broadcast_view,
    depth_to_space_view,
    mirror_pad_params,
    reverse_view,
    slice_view,
    space_to_batch_params,
    space_to_depth_view,
    update_slice_params,
)

GATHER_SOURCES = ("md_gather.c",)
STRIDED_VIEWS = {
    "SLICE": slice_view,
    "REVERSE_V2": reverse_view,
    "BROADCAST_TO": broadcast_view,
    "SPACE_TO_DEPTH": space_to_depth_view,
    "DEPTH_TO_SPACE": depth_to_space_view,
}
AXIS_GATHERS = {"MIRROR_PAD": mirror_pad_params, "BATCH_TO_SPACE_ND": batch_to_space_params}


@emits(*STRIDED_VIEWS)
def strided(ctx: LayerContext) -> LayerCode:
    view = ctx.prepared(STRIDED_VIEWS[ctx.op.op_type])
    return strided_copy(ctx, list(view.shape), list(view.strides), view.start)


def int32_array(name: str, values: np.ndarray) -> str:
    return f"static const int32_t {name}[{len(values)}] = {{{', '.join(str(int(v)) for v in values)}}};"


@emits(*AXIS_GATHERS)
def axis_gather(ctx: LayerContext) -> LayerCode:
    check_rank(ctx, len(ctx.output_tensor().shape))
    params = ctx.prepared(AXIS_GATHERS[ctx.op.op_type])
    declarations = [ctx.params("md_axis_gather_params", params), int32_array("tables", np.concatenate(params.tables))]
    call = f"md_axis_gather(&params, tables, {ctx.input_ref(0)}, {ctx.output_ref()})"
    return LayerCode(GATHER_SOURCES, call, declarations)


@emits("SPACE_TO_BATCH_ND")
def space_to_batch(ctx: LayerContext) -> LayerCode:
    params = ctx.prepared(space_to_batch_params)
    call = f"md_space_to_batch(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
    return LayerCode(GATHER_SOURCES, call, [ctx.params("md_space_to_batch_params", params)])


@emits("GATHER")
def gather(ctx: LayerContext) -> LayerCode:
    params = ctx.prepared(gather_params)
    call = f"md_gather(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.output_ref()})"
    return LayerCode(GATHER_SOURCES, call, [ctx.params("md_gather_params", params)])


@emits("GATHER_ND")
def gather_nd(ctx: LayerContext) -> LayerCode:
    params = ctx.prepared(gather_nd_params)
    if params.index_length > MAX_INDICES_ND:
        raise ctx.unsupported(f"indices of length {params.index_length} above {MAX_INDICES_ND}")
    call = f"md_gather_nd(&params, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.output_ref()})"
    return LayerCode(GATHER_SOURCES, call, [ctx.params("md_gather_nd_params", params)])


@emits("EMBEDDING_LOOKUP")
def embedding_lookup(ctx: LayerContext) -> LayerCode:
    """md_gather of whole rows, or dequantized into float32 (int8 rows, float32 output)."""
    params = ctx.prepared(embedding_lookup_params)
    declarations = [ctx.params("md_gather_params", params)]
    lookup, values, output = ctx.input_ref(0), ctx.input_ref(1), ctx.output_ref()
    if ctx.input_tensor(1).dtype == ctx.output_tensor().dtype:
        return LayerCode(GATHER_SOURCES, f"md_gather(&params, {values}, {lookup}, {output})", declarations)
    scale = float(ctx.prepared(dequantization_scale))
    call = f"md_gather_dequantize_s8(&params, {values}, {lookup}, {scale!r}f, {output})"
    return LayerCode(GATHER_SOURCES, call, declarations)


@emits("DYNAMIC_UPDATE_SLICE")
def dynamic_update_slice(ctx: LayerContext) -> LayerCode:
    check_rank(ctx, len(ctx.output_tensor().shape))
    params = ctx.prepared(update_slice_params)
    operands = ", ".join([ctx.input_ref(0), ctx.input_ref(1), ctx.input_ref(2), ctx.output_ref()])
    call = f"md_dynamic_update_slice(&params, {operands})"
    return LayerCode(GATHER_SOURCES, call, [ctx.params("md_update_slice_params", params)])


@emits("ZEROS_LIKE")
def zeros_like(ctx: LayerContext) -> LayerCode:
    """`size` copies of an all-zero element (0 and 0.0 are zero bytes in every type it takes)."""
    output = ctx.output_tensor()
    declarations = [f"static const uint8_t zero[{output.dtype.itemsize}] = {{0}};"]
    call = f"md_fill(zero, {ctx.output_ref()}, {output.size}, {output.dtype.itemsize})"
    return LayerCode(SOURCES, call, declarations)


@emits("BROADCAST_ARGS")
def broadcast_args(ctx: LayerContext) -> LayerCode:
    output = ctx.output_tensor()
    if output.dtype not in (DType.INT32, DType.INT64):
        raise ctx.dtype_error(output)
    lengths = [ctx.input_tensor(i).size for i in (0, 1)]
    call = (
        f"md_broadcast_args({ctx.input_ref(0)}, {lengths[0]}, {ctx.input_ref(1)}, {lengths[1]}, "
        f"{ctx.output_ref()}, {output.size}, {output.dtype.itemsize})"
    )
    return LayerCode(GATHER_SOURCES, call)
