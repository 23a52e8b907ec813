"""Fused activations: the clamp ranges TFLite derives for quantized and float outputs."""

from __future__ import annotations

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import Activation, Tensor
from mcudeploy.params.quantization import quantize_scalar

# Real-valued bounds of each clamping activation; None = unbounded on that side.
_REAL_BOUNDS: dict[Activation, tuple[float | None, float | None]] = {
    Activation.NONE: (None, None),
    Activation.RELU: (0.0, None),
    Activation.RELU6: (0.0, 6.0),
    Activation.RELU_N1_TO_1: (-1.0, 1.0),
}


def quantized_activation_range(activation: Activation, output: Tensor) -> tuple[int, int]:
    """[min, max] in the output's integer domain (CalculateActivationRangeQuantized)."""
    info = np.iinfo(output.dtype.numpy)
    low, high = _bounds(activation)
    quant = output.quantization
    scale, zero_point = (quant.single_scale, quant.single_zero_point) if quant else (1.0, 0)
    act_min = info.min if low is None else max(info.min, quantize_scalar(low, scale, zero_point))
    act_max = info.max if high is None else min(info.max, quantize_scalar(high, scale, zero_point))
    return act_min, act_max


def float_activation_range(activation: Activation) -> tuple[float, float]:
    """[min, max] for float outputs (CalculateActivationRange)."""
    low, high = _bounds(activation)
    return (-np.inf if low is None else low, np.inf if high is None else high)


def float_clamp(activation: Activation) -> tuple[np.float32, np.float32]:
    """The float32 clamp of a fused activation: without a bound TFLite still clamps to the finite
    float range, so ±inf become ±FLT_MAX."""
    low, high = float_activation_range(activation)
    finite = np.finfo(np.float32)
    return max(np.float32(low), finite.min), min(np.float32(high), finite.max)


def _bounds(activation: Activation) -> tuple[float | None, float | None]:
    if activation not in _REAL_BOUNDS:
        raise UnsupportedOperatorError("activation", f"fused activation {activation} is not supported")
    return _REAL_BOUNDS[activation]
