"""MobileNetV2 0.35 at 96x96, int8, with seeded random weights: the model of the seed's latency table.

Built layer for layer as the published architecture (Sandler et al. 2018) as Keras'
`MobileNetV2(alpha=0.35, input_shape=(96, 96, 3))` lays it out: a 3x3 stride-2 stem, 17 inverted
residual blocks (expand 1x1, depthwise 3x3, linear project 1x1, a residual ADD where the shape
allows), a 1x1 convolution to 1280 channels, global average pooling and 1000 classes. Batch
normalisation is folded into each convolution's bias, as a converted model has it. The weights are
random: latency and memory do not depend on them, the classes mean nothing.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.ir import DType, Graph, GraphBuilder, Padding
from mcudeploy.ir.options import (
    Activation,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    ElementwiseOptions,
    FullyConnectedOptions,
    Pool2DOptions,
    ReshapeOptions,
    SoftmaxOptions,
)

ALPHA = 0.35
SIZE = 96
INPUT_SHAPE = (1, SIZE, SIZE, 3)
CLASSES = 1000
STEM_CHANNELS = 32
BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
"""(expansion t, channels c, repeats n, first stride s) of the published architecture."""
LAST_CHANNELS = 1280
"""Kept at 1280 for alpha up to 1, as Keras does."""

INPUT_SCALE, INPUT_ZERO = 1 / 128, 0
RELU6_SCALE, RELU6_ZERO = 6 / 255, -128
LINEAR_SCALE, LINEAR_ZERO = 0.1, 0
SUM_SCALE = 0.15
WEIGHT_SCALE = 0.02


def make_divisible(value: float, divisor: int = 8) -> int:
    """Keras' channel rounding: to the nearest multiple of 8, never below 90 % of the value."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def build_mobilenet_v2(seed: int = 0) -> Graph:
    """MobileNetV2 0.35 at 96x96 int8 for `seed`; the same seed gives the same graph."""
    net = _Network(np.random.default_rng(seed))
    net.conv(3, make_divisible(STEM_CHANNELS * ALPHA), 2, relu6=True)
    for expansion, channels, repeats, stride in BLOCKS:
        for repeat in range(repeats):
            net.inverted_residual(expansion, make_divisible(int(channels * ALPHA)), stride if repeat == 0 else 1)
    net.head()
    return net.graph()


def build_image_input(seed: int = 0) -> np.ndarray:
    """One int8 input [1, 96, 96, 3]: random pixels quantized as the model's input expects."""
    return np.random.default_rng(seed).integers(-128, 128, INPUT_SHAPE, dtype=np.int8)


class _Network:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.b = GraphBuilder(
            f"mobilenet_v2_{ALPHA}_{SIZE}", description="mcudeploy example: MobileNetV2 0.35, 96x96, random weights"
        )
        self.input = self.b.tensor(INPUT_SHAPE, DType.INT8, scale=INPUT_SCALE, zero_point=INPUT_ZERO, name="input")
        self.current, self.shape, self.scale = self.input, INPUT_SHAPE, INPUT_SCALE

    def conv(self, kernel: int, channels: int, stride: int, relu6: bool, depthwise: bool = False) -> None:
        _, height, width, in_channels = self.shape
        shape = (1, kernel, kernel, channels) if depthwise else (channels, kernel, kernel, in_channels)
        weights = self.b.tensor(
            shape, DType.INT8, scale=[WEIGHT_SCALE] * channels, zero_point=[0] * channels,
            axis=3 if depthwise else 0, data=self.rng.integers(-127, 128, shape),
        )  # fmt: skip
        bias = self.b.tensor(
            (channels,), DType.INT32, scale=[self.scale * WEIGHT_SCALE] * channels, zero_point=[0] * channels,
            axis=0, data=self.rng.integers(-2000, 2000, channels),
        )  # fmt: skip
        out_shape = (1, -(-height // stride), -(-width // stride), channels)
        scale, zero = (RELU6_SCALE, RELU6_ZERO) if relu6 else (LINEAR_SCALE, LINEAR_ZERO)
        output = self.b.tensor(out_shape, DType.INT8, scale=scale, zero_point=zero)
        common = {
            "padding": Padding.SAME,
            "stride_h": stride,
            "stride_w": stride,
            "activation": Activation.RELU6 if relu6 else Activation.NONE,
        }
        options = DepthwiseConv2DOptions(**common) if depthwise else Conv2DOptions(**common)
        self.b.op("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", [self.current, weights, bias], [output], options)
        self.current, self.shape, self.scale = output, out_shape, scale

    def inverted_residual(self, expansion: int, channels: int, stride: int) -> None:
        block_input, in_shape = self.current, self.shape
        if expansion != 1:
            self.conv(1, in_shape[3] * expansion, 1, relu6=True)
        self.conv(3, self.shape[3], stride, relu6=True, depthwise=True)
        self.conv(1, channels, 1, relu6=False)
        if stride == 1 and in_shape[3] == channels:
            total = self.b.tensor(self.shape, DType.INT8, scale=SUM_SCALE, zero_point=0)
            self.b.op("ADD", [block_input, self.current], [total], ElementwiseOptions())
            self.current, self.scale = total, SUM_SCALE

    def head(self) -> None:
        self.conv(1, LAST_CHANNELS, 1, relu6=True)
        _, height, width, channels = self.shape
        pooled = self.b.tensor((1, 1, 1, channels), DType.INT8, scale=self.scale, zero_point=RELU6_ZERO)
        options = Pool2DOptions(padding=Padding.VALID, stride_h=height, stride_w=width, filter_h=height, filter_w=width)
        self.b.op("AVERAGE_POOL_2D", [self.current], [pooled], options)
        flat = self.b.tensor((1, channels), DType.INT8, scale=self.scale, zero_point=RELU6_ZERO)
        shape = self.b.tensor((2,), DType.INT32, data=[1, channels])
        self.b.op("RESHAPE", [pooled, shape], [flat], ReshapeOptions((1, channels)))
        weights = self.b.tensor(
            (CLASSES, channels), DType.INT8, scale=WEIGHT_SCALE, data=self.rng.integers(-127, 128, (CLASSES, channels))
        )
        bias = self.b.tensor(
            (CLASSES,), DType.INT32, scale=self.scale * WEIGHT_SCALE, data=self.rng.integers(-2000, 2000, CLASSES)
        )
        logits = self.b.tensor((1, CLASSES), DType.INT8, scale=0.2, zero_point=0)
        self.b.op("FULLY_CONNECTED", [flat, weights, bias], [logits], FullyConnectedOptions())
        probabilities = self.b.tensor((1, CLASSES), DType.INT8, scale=1 / 256, zero_point=-128, name="probabilities")
        self.b.op("SOFTMAX", [logits], [probabilities], SoftmaxOptions(beta=1.0))
        self.current = probabilities

    def graph(self) -> Graph:
        return self.b.build([self.input], [self.current])
