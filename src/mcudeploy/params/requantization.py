"""The per-channel requantization of weighted layers: the int32 multipliers and shifts their
kernels read from flash (PopulateConvolutionQuantizationParams). The constant layout of the
memory budget and the generated weights block both take these arrays from here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import NO_TENSOR, DType, Graph, Operator, Tensor
from mcudeploy.params.quantization import quantize_multipliers


@dataclass(frozen=True, eq=False)
class Requantization:
    """QuantizeMultiplier of each output channel's real multiplier (one for a per-tensor filter)."""

    multipliers: np.ndarray
    """int32"""
    shifts: np.ndarray
    """int32"""

    @classmethod
    def of(cls, real_multipliers: np.ndarray) -> Requantization:
        multipliers, shifts = quantize_multipliers(np.asarray(real_multipliers, dtype=np.float64))
        return cls(multipliers.astype(np.int32), shifts.astype(np.int32))

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The flash arrays by kind, in the order the constant layout stores them."""
        return {"multipliers": self.multipliers, "shifts": self.shifts}


def conv_real_multipliers(input_t: Tensor, filter_t: Tensor, output_t: Tensor, channels: int) -> np.ndarray:
    """PopulateConvolutionQuantizationParams: input_scale · filter_scale / output_scale per
    output channel, in double (a per-tensor filter scale is broadcast to every channel)."""
    filter_scales = np.broadcast_to(filter_t.quantization.scale, (channels,))
    return input_t.quantization.single_scale * filter_scales / output_t.quantization.single_scale


def per_tensor_real_multiplier(input_t: Tensor, filter_t: Tensor, output_t: Tensor) -> np.ndarray:
    """GetQuantizedConvolutionMultipler: the scale product is taken in float32, then divided in double."""
    product = np.float32(input_t.quantization.single_scale) * np.float32(filter_t.quantization.single_scale)
    return np.array([float(product) / output_t.quantization.single_scale])


def requantization(op: Operator, graph: Graph) -> Requantization | None:
    """The multipliers and shifts of a quantized weighted layer, one per filter scale; None for
    float layers and other operators. A per-tensor FULLY_CONNECTED takes its one multiplier
    through float32 as TFLite does; convolutions and per-channel layers in double."""
    data_position = _WEIGHTED.get(op.op_type)
    if data_position is None or len(op.inputs) <= max(data_position, 1) or not op.outputs:
        return None
    positions = (op.inputs[data_position], op.inputs[1], op.outputs[0])
    if NO_TENSOR in positions:
        return None
    input_t, filter_t, output_t = (graph.tensors[i] for i in positions)
    if output_t.dtype.is_float or any(t.quantization is None for t in (input_t, filter_t, output_t)):
        return None
    channels = filter_t.quantization.scale.size
    if op.op_type == "FULLY_CONNECTED" and channels == 1:
        return Requantization.of(per_tensor_real_multiplier(input_t, filter_t, output_t))
    return Requantization.of(conv_real_multipliers(input_t, filter_t, output_t, channels))


MAX_SHIFT = {False: 31, True: 14}
"""The largest shift each requantization defines, by accumulator (int64: True): md_mbqm shifts the
int32 sum left by it, md_mbqm64 rounds by 15 - shift bits. (TFLite stops at 30, and at 7 for 16x8.)"""


def checked_requantization(op: Operator, graph: Graph, accumulator64: bool) -> Requantization | None:
    """`requantization`, refused when a multiplier is beyond what the layer's arithmetic defines."""
    record = requantization(op, graph)
    limit = MAX_SHIFT[accumulator64]
    if record is not None and record.shifts.size and int(record.shifts.max()) > limit:
        raise UnsupportedOperatorError(
            op.label,
            f"input scale x filter scale / output scale is 2^{int(record.shifts.max()) - 1} or more; "
            f"the requantization takes less than 2^{limit}",
        )
    return record


def wide_accumulator(input_t: Tensor, bias_t: Tensor | None) -> bool:
    """16x8 kernels accumulate in int64 unless their bias is int32."""
    return input_t.dtype == DType.INT16 and (bias_t is None or bias_t.dtype != DType.INT32)


_WEIGHTED = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 0, "FULLY_CONNECTED": 0, "TRANSPOSE_CONV": 2}
"""Operators whose quantized kernels requantize each output channel, and the position of their data input."""
