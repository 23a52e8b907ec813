"""Small models with int4 (packed) filters: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, one at a
time or chained, per-channel or per-tensor, with odd element counts (a half-used last byte)."""

from __future__ import annotations

import numpy as np

from mcudeploy.ir import Activation, Graph, GraphBuilder, Padding
from mcudeploy.ir.options import Conv2DOptions, DepthwiseConv2DOptions, FullyConnectedOptions

INPUT_SCALE = 0.05


def _window(padding: Padding, stride: int, activation: Activation) -> dict:
    return {
        "padding": padding,
        "stride_h": stride,
        "stride_w": stride,
        "dilation_h": 1,
        "dilation_w": 1,
        "activation": activation,
    }


class Int4Builder:
    """A chain of int8 layers with int4 filters, each output feeding the next layer."""

    def __init__(self, name: str, input_shape: tuple[int, ...], seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.b = GraphBuilder(name)
        self.input = self.x = self.b.tensor(input_shape, "int8", scale=INPUT_SCALE, zero_point=-3, name="input")
        self.scale = INPUT_SCALE

    def _weights(self, shape: tuple[int, ...], channels: int, axis: int, per_channel: bool) -> tuple[int, int]:
        scales = list(self.rng.uniform(0.02, 0.05, channels)) if per_channel else 0.03
        w = self.b.tensor(
            shape, "int4", data=self.rng.integers(-8, 8, shape), scale=scales, axis=axis if per_channel else None
        )
        bias_scale = [s * self.scale for s in scales] if per_channel else 0.03 * self.scale
        bias = self.b.tensor(
            [channels], "int32", data=self.rng.integers(-300, 300, channels), scale=bias_scale,
            axis=0 if per_channel else None,
        )  # fmt: skip
        return w, bias

    def _layer(self, op_type: str, inputs: list[int], shape: tuple[int, ...], options) -> Int4Builder:
        self.scale = 0.12
        y = self.b.tensor(shape, "int8", scale=self.scale, zero_point=2)
        self.b.op(op_type, [self.x, *inputs], [y], options)
        self.x = y
        return self

    def conv(self, channels: int, kernel: int = 3, stride: int = 1, per_channel: bool = True) -> Int4Builder:
        n, h, w, depth = self.b.tensors[self.x].shape
        weights = self._weights((channels, kernel, kernel, depth), channels, 0, per_channel)
        shape = (n, -(-h // stride), -(-w // stride), channels)
        return self._layer(
            "CONV_2D", list(weights), shape, Conv2DOptions(**_window(Padding.SAME, stride, Activation.RELU))
        )

    def depthwise(self, multiplier: int = 1, per_channel: bool = True) -> Int4Builder:
        n, h, w, depth = self.b.tensors[self.x].shape
        channels = depth * multiplier
        weights = self._weights((1, 3, 3, channels), channels, 3, per_channel)
        options = DepthwiseConv2DOptions(depth_multiplier=multiplier, **_window(Padding.VALID, 1, Activation.NONE))
        return self._layer("DEPTHWISE_CONV_2D", list(weights), (n, h - 2, w - 2, channels), options)

    def fully_connected(self, units: int) -> Int4Builder:
        shape = self.b.tensors[self.x].shape
        depth = int(np.prod(shape[1:]))
        weights = self._weights((units, depth), units, 0, per_channel=False)
        options = FullyConnectedOptions(activation=Activation.RELU6)
        return self._layer("FULLY_CONNECTED", list(weights), (shape[0], units), options)

    def build(self) -> Graph:
        return self.b.build([self.input], [self.x])


def chain(seed: int = 0) -> Graph:
    """All three operators, per-channel and per-tensor filters, odd and even filter sizes, the last
    layer's rows unpacked in two blocks by the generated code (4 then 3 rows of 360)."""
    return (
        Int4Builder("int4_chain", (1, 9, 8, 3), seed)
        .conv(5)  # 135 filter values: odd
        .depthwise(2, per_channel=False)
        .conv(30, kernel=1, stride=2, per_channel=False)
        .fully_connected(7)
        .build()
    )


def wide_fully_connected(seed: int = 0) -> Graph:
    """A FULLY_CONNECTED whose int4 rows are unpacked in several blocks (4 rows of an odd depth at a time),
    over 3 batches."""
    return Int4Builder("wide_fc", (3, 301), seed).fully_connected(10).build()
