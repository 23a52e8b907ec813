"""A keyword-spotting DS-CNN with seeded random weights, shaped like MLPerf Tiny's KWS model.

It needs no file or download, so demos and tests can build it anywhere. The
weights are random, so its "keywords" mean nothing, but the arithmetic is a real
int8 network: per-channel weights, int32 biases, and activation scales calibrated
on a float forward pass so every layer uses the int8 range.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.ir import DType, Graph, GraphBuilder, Padding
from mcudeploy.ir.options import (
    Activation,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    FullyConnectedOptions,
    OperatorOptions,
    Pool2DOptions,
    ReshapeOptions,
    SoftmaxOptions,
)

INPUT_SHAPE = (1, 49, 10, 1)
"""49 frames of 10 MFCC coefficients."""
INPUT_SCALE = 0.04
INPUT_ZERO_POINT = 0
CHANNELS = 64
BLOCKS = 4
LABELS = ("silence", "unknown", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")

CALIBRATION_INPUTS = 16
CALIBRATION_PERCENTILE = 99.9
"""Clip the rarest 0.1% of activation values rather than waste range on them."""
LOGIT_SPREAD = 2.5
"""Standard deviation of the logits across inputs: softmax neither flat nor one-hot."""


def build_kws_model(seed: int = 0) -> Graph:
    """The int8 DS-CNN for `seed`; the same seed gives the same graph (and the same .tflite bytes)."""
    rng = np.random.default_rng(seed)
    net = _Network(rng, calibration=_quantize_input(_features(rng, CALIBRATION_INPUTS)))
    net.conv((10, 4), CHANNELS, stride=2, name="conv_0")
    for block in range(1, BLOCKS + 1):
        net.conv((3, 3), CHANNELS, stride=1, name=f"depthwise_{block}", depthwise=True)
        net.conv((1, 1), CHANNELS, stride=1, name=f"pointwise_{block}")
    net.global_average_pool()
    net.flatten()
    net.classifier(len(LABELS))
    net.softmax()
    return net.graph()


KWS_CNNS = {"cnn_s": ((28, 30), 16), "cnn_m": ((64, 48), 16), "cnn_l": ((60, 76), 58)}
"""Arm's keyword-spotting CNNs (ML-KWS-for-MCU, S/M/L): the channels of their two 10x4 VALID
convolutions (the second of stride 2 along time), then the width of their linear bottleneck."""


def build_kws_cnn(size: str = "cnn_s", seed: int = 0) -> Graph:
    """The int8 KWS CNN of `size`: large kernels over few channels (each im2col column of the
    second convolution holds 10 x 4 x its input channels values)."""
    (first, second), bottleneck = KWS_CNNS[size]
    rng = np.random.default_rng(seed)
    net = _Network(rng, calibration=_quantize_input(_features(rng, CALIBRATION_INPUTS)), name=f"kws_{size}")
    net.conv((10, 4), first, stride=(1, 1), name="conv_1", padding=Padding.VALID)
    net.conv((10, 4), second, stride=(2, 1), name="conv_2", padding=Padding.VALID)
    net.flatten()
    net.classifier(bottleneck, name="linear")
    net.classifier(len(LABELS))
    net.softmax()
    return net.graph()


def build_demo_input(seed: int = 0) -> np.ndarray:
    """One int8 input [1, 49, 10, 1]: MFCC-like features quantized as the model's input expects."""
    return _quantize_input(_features(np.random.default_rng(seed), 1)).astype(np.int8)


def _features(rng: np.random.Generator, count: int) -> np.ndarray:
    """MFCC-like float features: a per-utterance level per coefficient plus frame-to-frame variation."""
    level = rng.standard_normal((count, 1, INPUT_SHAPE[2], 1))
    frames = 0.6 * rng.standard_normal((count, *INPUT_SHAPE[1:]))
    return level + frames


def _quantize_input(features: np.ndarray) -> np.ndarray:
    return _quantize(features, INPUT_SCALE, INPUT_ZERO_POINT)


def _quantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return np.clip(np.rint(values / scale) + zero_point, -128, 127)


def _three_digits(value: float) -> float:
    """Round a calibrated scale so that last-bit float differences (another BLAS, another CPU) leave it unchanged."""
    return float(f"{value:.3g}")


class _Network:
    """Adds layers to a GraphBuilder while running the calibration batch through them in float.

    `self.values` holds the calibration batch as the int8 model sees it at the current
    tensor: quantized, then dequantized, so each layer is calibrated on what it will get.
    """

    def __init__(self, rng: np.random.Generator, calibration: np.ndarray, name: str = "kws_dscnn") -> None:
        self.rng = rng
        kind = "DS-CNN" if name == "kws_dscnn" else "CNN"
        self.builder = GraphBuilder(name, description=f"mcudeploy example: {kind} keyword spotter, random weights")
        self.input = self.builder.tensor(
            INPUT_SHAPE, DType.INT8, scale=INPUT_SCALE, zero_point=INPUT_ZERO_POINT, name="input"
        )
        self.current = self.input
        self.scale, self.zero_point = INPUT_SCALE, INPUT_ZERO_POINT
        self.values = (calibration - INPUT_ZERO_POINT) * INPUT_SCALE

    def conv(
        self,
        kernel: tuple[int, int],
        channels: int,
        stride: int | tuple[int, int],
        name: str,
        depthwise: bool = False,
        padding: Padding = Padding.SAME,
    ) -> None:
        """CONV_2D or DEPTHWISE_CONV_2D, fused RELU, per-channel int8 weights."""
        stride_h, stride_w = (stride, stride) if isinstance(stride, int) else stride
        in_channels = self.values.shape[3]
        fan_in = kernel[0] * kernel[1] * (1 if depthwise else in_channels)
        weight_shape = (1, *kernel, channels) if depthwise else (channels, *kernel, in_channels)
        axis = 3 if depthwise else 0
        weights = self.rng.normal(0.0, np.sqrt(2.0 / fan_in), weight_shape)
        weights, weight_scales = _quantize_per_channel(weights, axis)
        bias = self.rng.normal(0.0, 0.1, channels)
        weight_index, bias, bias_index = self._weights_and_bias(name, weights, weight_scales, axis, bias)
        real_weights = weights * np.expand_dims(weight_scales, tuple(d for d in range(4) if d != axis))
        output = _conv_float(self.values, real_weights, (stride_h, stride_w), depthwise, padding) + bias
        options_class = DepthwiseConv2DOptions if depthwise else Conv2DOptions
        options = options_class(padding=padding, stride_h=stride_h, stride_w=stride_w, activation=Activation.RELU)
        op_type = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
        self._layer(
            op_type, [self.current, weight_index, bias_index], np.maximum(output, 0.0), options, name, relu=True
        )

    def global_average_pool(self) -> None:
        """AVERAGE_POOL_2D over the whole map; TFLite keeps the input's quantization."""
        _, height, width, _ = self.values.shape
        options = Pool2DOptions(padding=Padding.VALID, stride_h=height, stride_w=width, filter_h=height, filter_w=width)
        pooled = self.values.mean(axis=(1, 2), keepdims=True)
        self._same_quantization_layer("AVERAGE_POOL_2D", [self.current], pooled, options, "average_pool")

    def flatten(self) -> None:
        shape = (1, int(np.prod(self.values.shape[1:])))
        shape_index = self.builder.tensor((2,), DType.INT32, data=shape, name="flatten/shape")
        self._same_quantization_layer(
            "RESHAPE", [self.current, shape_index], self.values.reshape(-1, shape[1]), ReshapeOptions(shape), "flatten"
        )

    def classifier(self, classes: int, name: str = "classifier") -> None:
        """FULLY_CONNECTED to the logits, per-tensor weights as TFLite's converter makes them.

        Random features differ little between inputs, so the weights are scaled to give the
        logits a useful spread across the calibration batch, and the bias centres them.
        """
        features = self.values
        weights = self.rng.standard_normal((classes, features.shape[1]))
        centred = (features - features.mean(axis=0)) @ weights.T
        weights *= LOGIT_SPREAD / centred.std()
        bias = self.rng.normal(0.0, 0.5, classes) - features.mean(axis=0) @ weights.T
        weight_scale = _three_digits(np.abs(weights).max() / 127)
        weights = _quantize_weights(weights, weight_scale)
        weight_index, bias, bias_index = self._weights_and_bias(name, weights, [weight_scale], None, bias)
        logits = features @ (weights * weight_scale).T + bias
        inputs = [self.current, weight_index, bias_index]
        self._layer("FULLY_CONNECTED", inputs, logits, FullyConnectedOptions(), name, relu=False)

    def softmax(self) -> None:
        """Probabilities in steps of 1/256 from -128: the quantization TFLite requires of an int8 softmax."""
        shape = _one_sample(self.values)
        output = self.builder.tensor(shape, DType.INT8, scale=1 / 256, zero_point=-128, name="softmax")
        self.builder.op("SOFTMAX", [self.current], [output], SoftmaxOptions(beta=1.0))
        self.current = output

    def graph(self) -> Graph:
        return self.builder.build(inputs=[self.input], outputs=[self.current])

    def _weights_and_bias(
        self, name: str, weights: np.ndarray, weight_scales, axis: int | None, bias: np.ndarray
    ) -> tuple[int, np.ndarray, int]:
        """Add the int8 weights and the int32 bias (scale: input scale x weight scale).

        Returns the weight tensor, the bias as the model will see it (dequantized), and the bias tensor.
        """
        weight_scales = np.asarray(weight_scales, dtype=np.float32)
        per_channel = axis is not None
        weight_index = self.builder.tensor(
            weights.shape,
            DType.INT8,
            scale=weight_scales if per_channel else float(weight_scales[0]),
            axis=axis,
            data=weights,
            name=f"{name}/weights",
        )
        bias_scales = np.float32(self.scale) * weight_scales
        quantized_bias = np.rint(bias / bias_scales)
        bias_index = self.builder.tensor(
            bias.shape,
            DType.INT32,
            scale=bias_scales if per_channel else float(bias_scales[0]),
            axis=0 if per_channel else None,
            data=quantized_bias,
            name=f"{name}/bias",
        )
        return weight_index, quantized_bias * bias_scales, bias_index

    def _layer(
        self, op_type: str, inputs: list[int], output: np.ndarray, options: OperatorOptions, name: str, relu: bool
    ) -> None:
        """Add the operator with an output quantization calibrated on `output`, the float result."""
        high = np.percentile(output, CALIBRATION_PERCENTILE)
        low = 0.0 if relu else min(np.percentile(output, 100 - CALIBRATION_PERCENTILE), 0.0)
        scale = _three_digits((high - low) / 255)
        zero_point = int(np.clip(np.rint(-128 - low / scale), -128, 127))
        self._add(op_type, inputs, output, options, name, scale, zero_point)

    def _same_quantization_layer(
        self, op_type: str, inputs: list[int], output: np.ndarray, options: OperatorOptions, name: str
    ) -> None:
        self._add(op_type, inputs, output, options, name, self.scale, self.zero_point)

    def _add(
        self,
        op_type: str,
        inputs: list[int],
        output: np.ndarray,
        options: OperatorOptions,
        name: str,
        scale: float,
        zero_point: int,
    ) -> None:
        index = self.builder.tensor(_one_sample(output), DType.INT8, scale=scale, zero_point=zero_point, name=name)
        self.builder.op(op_type, inputs, [index], options)
        self.current, self.scale, self.zero_point = index, scale, zero_point
        self.values = (_quantize(output, scale, zero_point) - zero_point) * np.float32(scale)


def _quantize_per_channel(weights: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per channel: each channel's largest weight becomes ±127."""
    other_axes = tuple(d for d in range(weights.ndim) if d != axis)
    scales = (np.abs(weights).max(axis=other_axes) / 127).astype(np.float32)
    return _quantize_weights(weights, np.expand_dims(scales, other_axes)), scales


def _quantize_weights(weights: np.ndarray, scales: float | np.ndarray) -> np.ndarray:
    """Symmetric int8 weights, in [-127, 127] as TFLite's int8 kernels assume."""
    return np.clip(np.rint(weights / scales), -127, 127)


def _one_sample(batch: np.ndarray) -> tuple[int, ...]:
    """The model's shape (batch 1) of a tensor the calibration batch fills."""
    return (1, *batch.shape[1:])


def _conv_float(
    values: np.ndarray, weights: np.ndarray, stride: tuple[int, int], depthwise: bool, padding: Padding
) -> np.ndarray:
    """Float convolution with TFLite's padding; `weights` are [O, H, W, I] or depthwise [1, H, W, C]."""
    _, height, width, _ = values.shape
    _, kernel_h, kernel_w, _ = weights.shape
    stride_h, stride_w = stride
    if padding == Padding.SAME:
        out_h, out_w = -(-height // stride_h), -(-width // stride_w)
    else:
        out_h, out_w = (height - kernel_h) // stride_h + 1, (width - kernel_w) // stride_w + 1
    pad_h = max((out_h - 1) * stride_h + kernel_h - height, 0)
    pad_w = max((out_w - 1) * stride_w + kernel_w - width, 0)
    padded = np.pad(values, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    total = 0.0
    for dy in range(kernel_h):
        for dx in range(kernel_w):
            window = padded[:, dy : dy + stride_h * out_h : stride_h, dx : dx + stride_w * out_w : stride_w, :]
            if depthwise:
                total = total + window * weights[0, dy, dx]
            else:
                total = total + np.einsum("nhwi,oi->nhwo", window, weights[:, dy, dx, :])
    return total
