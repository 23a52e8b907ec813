"""Conv → CONV_2D (groups too) or DEPTHWISE_CONV_2D, weights transposed to TFLite's order at import."""

from __future__ import annotations

import numpy as np

from mcudeploy.importers.onnx.convert import Context, Int8, Weights, converts
from mcudeploy.importers.onnx.layout import NHWC
from mcudeploy.importers.onnx.window import Geometry, padded_input
from mcudeploy.ir.options import Conv2DOptions, DepthwiseConv2DOptions

OHWI = (0, 2, 3, 1)
"""ONNX weights (O, I, kh, kw) → TFLite CONV_2D (O, kh, kw, I)."""
DEPTHWISE = (1, 2, 3, 0)
"""ONNX depthwise weights (C·m, 1, kh, kw) → TFLite (1, kh, kw, C·m)."""


def symmetric(ctx: Context, weights: Weights) -> Weights:
    """TFLite's int8 kernels take weights with zero point 0 only."""
    if weights.zero_point is not None and np.any(weights.zero_point != 0):
        raise ctx.unsupported("int8 weights with a nonzero zero point (TFLite kernels need symmetric weights)")
    return weights


@converts("Conv", int8=Int8.BETWEEN_QDQ, bias_inputs=(2,))
def conv(ctx: Context) -> None:
    x_name, w_name, b_name = (ctx.input_name(i) for i in range(3))
    x_shape = ctx.shape(x_name)
    if len(x_shape) != 4:
        raise ctx.unsupported(f"a {len(x_shape) - 2}-D convolution (only 2-D is supported)")
    weights = symmetric(ctx, ctx.weights(w_name))
    if weights.data.ndim != 4:
        raise ctx.malformed(f"weights of shape {list(weights.data.shape)}, expected 4-D")
    out_channels, group_depth = weights.data.shape[:2]
    group = ctx.attr("group", 1, int)
    if group <= 0 or x_shape[1] != group_depth * group or out_channels % group:
        raise ctx.malformed(f"group {group} does not fit input channels {x_shape[1]} and weights {weights.data.shape}")
    geometry = Geometry.of(ctx, x_shape[2:], weights.data.shape[2:], ctx.out_shape()[2:])
    x = padded_input(ctx, ctx.tensor(x_name, NHWC), geometry, 0.0)
    common = dict(
        padding=geometry.padding,
        stride_h=geometry.strides[0],
        stride_w=geometry.strides[1],
        dilation_h=geometry.dilations[0],
        dilation_w=geometry.dilations[1],
        activation=ctx.activation,
    )
    if group > 1 and group == x_shape[1]:
        op_type, options = "DEPTHWISE_CONV_2D", DepthwiseConv2DOptions(**common, depth_multiplier=out_channels // group)
        filters = weights.transposed(DEPTHWISE)
    else:
        op_type, options, filters = "CONV_2D", Conv2DOptions(**common), weights.transposed(OHWI)
    inputs = [x, ctx.add_constant(filters, w_name), ctx.bias(b_name, x_name, weights, out_channels)]
    ctx.emit(op_type, inputs, [ctx.output(0, NHWC)], options)
