"""The geometry of a sliding window (convolutions, pooling): TFLite's padding rule."""

from __future__ import annotations

from dataclasses import dataclass

from mcudeploy.ir import Graph, Operator, Padding
from mcudeploy.ir.options import Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions
from mcudeploy.ir.shapes import window_output_size

POOLS = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D")
"""The sliding-window operators whose window size is in their options."""


@dataclass(frozen=True)
class Window:
    """Where each output pixel of a sliding-window operator reads its input (NHWC)."""

    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_top: int
    pad_left: int
    out_h: int
    out_w: int

    @property
    def taps(self) -> list[tuple[int, int]]:
        """Kernel positions (row, column) in the order TFLite's loops visit them."""
        return [(fy, fx) for fy in range(self.filter_h) for fx in range(self.filter_w)]


def make_window(
    options: Conv2DOptions | DepthwiseConv2DOptions | Pool2DOptions,
    input_shape: tuple[int, ...],
    filter_hw: tuple[int, int],
    output_shape: tuple[int, ...],
) -> Window:
    """The window of a conv/pool operator: TFLite's ComputePaddingHeightWidth.

    The leading padding is half the total (rounded down), the total being
    derived from the output size the padding rule implies; the loops then run
    over the output tensor's own size.
    """
    dilation_h = getattr(options, "dilation_h", 1)
    dilation_w = getattr(options, "dilation_w", 1)
    return Window(
        filter_h=filter_hw[0],
        filter_w=filter_hw[1],
        stride_h=options.stride_h,
        stride_w=options.stride_w,
        dilation_h=dilation_h,
        dilation_w=dilation_w,
        pad_top=_leading_padding(options.padding, input_shape[1], filter_hw[0], options.stride_h, dilation_h),
        pad_left=_leading_padding(options.padding, input_shape[2], filter_hw[1], options.stride_w, dilation_w),
        out_h=output_shape[1],
        out_w=output_shape[2],
    )


def window_of(op: Operator, graph: Graph) -> Window:
    """The window of a convolution (filter size from input 1) or a pooling (from its options)."""
    options = op.options
    input_t, output_t = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    pool = op.op_type in POOLS
    filter_hw = (options.filter_h, options.filter_w) if pool else graph.tensors[op.inputs[1]].shape[1:3]
    return make_window(options, input_t.shape, filter_hw, output_t.shape)


def _leading_padding(padding: Padding, in_size: int, filter_size: int, stride: int, dilation: int) -> int:
    effective_filter = (filter_size - 1) * dilation + 1
    out_size = window_output_size(padding, in_size, filter_size, stride, dilation)
    total = (out_size - 1) * stride + effective_filter - in_size
    return max(total, 0) // 2
