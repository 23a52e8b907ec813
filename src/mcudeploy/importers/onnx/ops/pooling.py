"""MaxPool, AveragePool, global pooling and ReduceMean/Max/Sum, on NHWC data."""

from __future__ import annotations

import numpy as np

from mcudeploy.importers.onnx.convert import Context, Int8, converts
from mcudeploy.importers.onnx.layout import NHWC, ir_axis, without_axes
from mcudeploy.importers.onnx.window import Geometry, padded_input
from mcudeploy.ir.options import Pool2DOptions, ReducerOptions

_POOLS = {"MaxPool": "MAX_POOL_2D", "AveragePool": "AVERAGE_POOL_2D"}


@converts("MaxPool", "AveragePool", int8=Int8.PASS_THROUGH)
def pool(ctx: Context) -> None:
    name = ctx.input_name(0)
    shape = ctx.shape(name)
    if len(shape) != 4 or len(ctx.node.outputs) != 1:
        raise ctx.unsupported("only 2-D pooling with one output (no indices) is supported")
    kernel = ctx.attr("kernel_shape", (), tuple)
    if len(kernel) != 2 or min(kernel) <= 0:
        raise ctx.malformed(f"kernel_shape {list(kernel)} is not two positive sizes")
    if ctx.node.op_type == "AveragePool":
        counts_padding = bool(ctx.attr("count_include_pad", 0, int))
        geometry = Geometry.of(ctx, shape[2:], kernel, ctx.out_shape()[2:], padding_counts=counts_padding)
        x = padded_input(ctx, ctx.tensor(name, NHWC), geometry, 0.0)
    else:
        if ctx.attr("storage_order", 0, int):
            raise ctx.unsupported("storage_order=1")
        geometry = Geometry.of(ctx, shape[2:], kernel, ctx.out_shape()[2:])
        x = padded_input(ctx, ctx.tensor(name, NHWC), geometry, -np.inf)
    if geometry.dilations != (1, 1):
        raise ctx.unsupported("dilated pooling")
    options = Pool2DOptions(
        padding=geometry.padding,
        stride_h=geometry.strides[0],
        stride_w=geometry.strides[1],
        filter_h=kernel[0],
        filter_w=kernel[1],
    )
    ctx.emit(_POOLS[ctx.node.op_type], [x], [ctx.output(0, NHWC)], options)


@converts("GlobalAveragePool", "GlobalMaxPool", int8=Int8.PASS_THROUGH)
def global_pool(ctx: Context) -> None:
    """A mean (maximum) over every spatial axis, kept as size-1 axes."""
    name = ctx.input_name(0)
    rank = len(ctx.shape(name))
    kind = "ReduceMean" if ctx.node.op_type == "GlobalAveragePool" else "ReduceMax"
    _reduce(ctx, name, list(range(2, rank)), True, kind)


_REDUCERS = {"ReduceMean": "MEAN", "ReduceMax": "REDUCE_MAX", "ReduceSum": "SUM"}


@converts("ReduceMean", "ReduceMax", int8=Int8.PASS_THROUGH)
@converts("ReduceSum")
def reduce(ctx: Context) -> None:
    name = ctx.input_name(0)
    rank = len(ctx.shape(name))
    axes = ctx.attr("axes", (), tuple) if "axes" in ctx.node.attributes else None
    if axes is None and ctx.input_name(1):
        axes = tuple(int(a) for a in np.ravel(ctx.constant(ctx.input_name(1))))
    if not axes:
        if ctx.attr("noop_with_empty_axes", 0, int):
            raise ctx.unsupported("an empty reduction (noop_with_empty_axes)")
        axes = tuple(range(rank))
    if any(not -rank <= a < rank for a in axes):
        raise ctx.malformed(f"axes {list(axes)} outside rank {rank}")
    _reduce(ctx, name, sorted({a % rank for a in axes}), bool(ctx.attr("keepdims", 1, int)), ctx.node.op_type)


def _reduce(ctx: Context, name: str, axes: list[int], keep_dims: bool, kind: str) -> None:
    op_type = _REDUCERS[kind]
    layout = ctx.layout(name)
    x = ctx.tensor(name, layout)
    ir_axes = sorted(ir_axis(a, layout) for a in axes)
    out_layout = layout if keep_dims else without_axes(layout, axes)
    ctx.emit(op_type, [x, ctx.int32_constant(ir_axes)], [ctx.output(0, out_layout)], ReducerOptions(keep_dims))
