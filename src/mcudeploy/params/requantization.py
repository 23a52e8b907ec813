"""The per-channel requantization of weighted layers: the int32 multipliers and shifts their
kernels read from flash (PopulateConvolutionQuantizationParams). The constant layout of the
memory budget and the generated weights block both take these arrays from here."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import NO_TENSOR, DType, Graph, Operator, Schedule, Tensor, WeightLayout
from mcudeploy.params.activation_range import quantized_activation_range
from mcudeploy.params.quantization import (
    multiply_by_quantized_multiplier,
    quantize_multipliers,
    wrap_int32,
    zero_point,
)
from mcudeploy.params.window import Window, window_of


@dataclass(frozen=True, eq=False)
class Requantization:
    """QuantizeMultiplier of each output channel's real multiplier (one for a per-tensor filter)."""

    multipliers: np.ndarray
    """int32"""
    shifts: np.ndarray
    """int32"""
    walk: np.ndarray | None = None
    """int32, the channel pairs' records of an int16-weight CONV_2D's walk (`walk_records`); None without."""
    live: np.ndarray | None = None
    """int32, the live channels and pruned channels' outputs of an int8 pointwise CONV_2D (`live_records`)."""
    folds: np.ndarray | None = None
    """int32, the folded 3x3 constants of an int8 DEPTHWISE_CONV_2D's grouped planes (`fold_records`)."""

    @classmethod
    def of(cls, real_multipliers: np.ndarray) -> Requantization:
        multipliers, shifts = quantize_multipliers(np.asarray(real_multipliers, dtype=np.float64))
        return cls(multipliers.astype(np.int32), shifts.astype(np.int32))

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The flash arrays by kind, in the order the constant layout stores them."""
        arrays = {"multipliers": self.multipliers, "shifts": self.shifts}
        extra = {"walk": self.walk, "live": self.live, "folds": self.folds}
        return {**arrays, **{kind: array for kind, array in extra.items() if array is not None}}


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
    record = Requantization.of(conv_real_multipliers(input_t, filter_t, output_t, channels))
    return replace(
        record,
        walk=walk_records(op, graph, record),
        live=live_records(op, graph, record),
        folds=fold_records(op, graph, record),
    )


WALK_RECORD = 8
"""int32 values of a channel pair's walk record: {bias0, bias1, addend0, exponent0, multiplier0,
addend1, exponent1, multiplier1}, each channel's three in the order one LDM loads them."""


def walk_records(op: Operator, graph: Graph, record: Requantization) -> np.ndarray | None:
    """The constants of each pair of output channels of an int16-weight CONV_2D, in the order
    md_conv_s8_w16's DSP walk reads them (`WALK_RECORD`): the biases, and per channel its exponent
    e = -shift, its multiplier, and SMMLAR's addend with the output offset folded in,
    half + (offset << e) = (2 * offset + 1) << (e - 1). A channel whose filter is all zero outputs
    its requantized bias whatever the input, so its record makes that constant c: bias 0, multiplier
    0, e = 1 and addend 2c (such channels are common in pruned models, and their 2^30 biases and
    30-bit shifts would keep the layer off the walk). None unless every channel's output is the
    walk's exactly (the walk is taken where the records are): an int8 input, an int32 bias, per-channel
    scales, 2 channels and a depth of 2 or more, an output range of all int8 (one SSAT), and each
    other channel narrow (|bias| + depth * MD_DSP_PRODUCT_BOUND < 2^30, e from 1 to WALK_SHIFT).
    A one-channel DEPTHWISE_CONV_2D with int16 weights is that convolution: filter [1, H, W, M]."""
    if op.op_type not in ("CONV_2D", "DEPTHWISE_CONV_2D") or op.variant is None:
        return None
    if op.variant.weights != WeightLayout.INT16_PAIRS:
        return None
    input_t, filter_t, output_t = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    bias_t = graph.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] != NO_TENSOR else None
    shape = filter_t.shape if op.op_type == "CONV_2D" else (filter_t.shape[3], *filter_t.shape[:3])
    channels, depth = shape[0], int(np.prod(shape[1:]))
    if (
        input_t.dtype != DType.INT8
        or filter_t.data is None
        or bias_t is None
        or bias_t.dtype != DType.INT32
        or bias_t.data is None
        or record.shifts.size != channels
        or channels < 2
        or depth < 2
        or quantized_activation_range(op.options.activation, output_t) != (-128, 127)
    ):
        return None
    offset = zero_point(output_t)
    biases = bias_t.data.astype(np.int64)
    exponents = -record.shifts.astype(np.int64)
    multipliers = record.multipliers.astype(np.int64)
    rows = filter_t.data.reshape(channels, -1) if op.op_type == "CONV_2D" else filter_t.data.reshape(-1, channels).T
    dead = ~np.any(rows, axis=1)
    room = max((1 << 30) - depth * DSP_PRODUCT_BOUND, 0)
    live = ~dead
    if np.any(live & ((np.abs(biases) >= room) | (exponents < 1) | (exponents > WALK_SHIFT))):
        return None
    constants = _constant_outputs(biases, record, offset)
    biases = np.where(dead, 0, biases)
    exponents = np.where(dead, 1, exponents)
    multipliers = np.where(dead, 0, multipliers)
    addends = np.where(dead, 2 * constants, (2 * offset + 1) << np.clip(exponents - 1, 0, WALK_SHIFT))
    pairs = channels // 2 * 2
    per_channel = np.stack([addends, exponents, multipliers], axis=1)[:pairs]
    records = np.concatenate([biases[:pairs].reshape(-1, 2), per_channel.reshape(-1, 6)], axis=1)
    return records.astype(np.int32).reshape(-1)


def _constant_outputs(biases: np.ndarray, record: Requantization, offset: int) -> np.ndarray:
    """Each channel's output from its bias alone (a pruned channel's, whatever the input), in int8's range."""
    product = multiply_by_quantized_multiplier(biases, record.multipliers.astype(np.int64), record.shifts)
    return np.clip(product + offset, -128, 127)


def live_records(op: Operator, graph: Graph, record: Requantization) -> np.ndarray | None:
    """md_conv_s8_live's record of an int8-weight pointwise CONV_2D (1x1, stride 1, input channels a
    multiple of 4) with all-zero filter rows, made here so the DSP kernel does not scan its filter at
    every call: the count n of live (not all-zero) channels, their indices as bytes (an odd n's last
    twice) padded to whole words, then each channel's output byte (a pruned one's requantized bias,
    0 for a live one), bytes in little-endian words (md_nn.h). None unless the DSP kernel takes the
    list (at most 256 channels, per-channel scales, an int32 bias, an output range of all int8), every
    live channel is narrow (|bias| + depth * MD_DSP_PRODUCT_BOUND < 2^30, a right shift of 1 to 31) and
    a sixteenth of the channels or more are pruned (measured: vww_96's #10, 4 of 64 pruned, int8
    weights on the L4R5, 1.28 M cycles by the paired walk, 1.08 M by the live one; at run time,
    without the list, the kernel wants a quarter, as its scan costs too)."""
    if op.op_type != "CONV_2D" or (op.variant is not None and op.variant.weights != WeightLayout.INT8):
        return None
    input_t, filter_t, output_t = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    bias_t = graph.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] != NO_TENSOR else None
    channels, depth = filter_t.shape[0], filter_t.shape[3]
    if (
        input_t.dtype != DType.INT8
        or filter_t.dtype != DType.INT8
        or filter_t.data is None
        or tuple(filter_t.shape[1:3]) != (1, 1)
        or (op.options.stride_h, op.options.stride_w) != (1, 1)
        or depth != input_t.shape[3]
        or depth % 4
        or bias_t is None
        or bias_t.dtype != DType.INT32
        or bias_t.data is None
        or filter_t.quantization.scale.size < 2
        or record.shifts.size != channels
        or channels > 256
        or quantized_activation_range(op.options.activation, output_t) != (-128, 127)
    ):
        return None
    biases = bias_t.data.astype(np.int64)
    live = np.any(filter_t.data.reshape(channels, -1), axis=1)
    room = max((1 << 30) - depth * DSP_PRODUCT_BOUND, 0)
    narrow = (np.abs(biases) < room) & (record.shifts < 0) & (record.shifts > -32)
    if 16 * np.count_nonzero(~live) < channels or not np.all(narrow[live]):
        return None
    indices = np.flatnonzero(live)
    listed = np.append(indices, indices[-1:]) if indices.size % 2 else indices
    words = (listed.size + 3) // 4
    outputs = np.where(live, 0, _constant_outputs(biases, record, zero_point(output_t)))
    data = np.zeros(4 * (1 + words) + (channels + 3) // 4 * 4, dtype=np.uint8)
    data[:4] = np.array([indices.size], dtype="<i4").view(np.uint8)
    data[4 : 4 + listed.size] = listed
    data[4 * (1 + words) :][:channels] = outputs.astype(np.int8).view(np.uint8)
    return data.view("<i4").astype(np.int32)


FOLD_SHIFT = 22
"""The largest right shift of the depthwise planes' folded requantization (md_depthwise_dsp.c DW_FOLD_SHIFT)."""

FOLD_RECORD = 9
"""int32 values of a channel's folded record (md_depthwise_dsp.c dw_folded): {2 w0, 2 w2} halfword
pairs of rows 0..2, {2 w1} of rows 0 and 1, {2 w1, 0} of row 2, the doubled start, multiplier,
exponent, addend (the clamp is the layer's)."""


def fold_records(op: Operator, graph: Graph, record: Requantization) -> np.ndarray | None:
    """md_depthwise_s8_grouped_folded's record of an int8 3x3 undilated DEPTHWISE_CONV_2D on grouped
    planes (its variant's), made here so the DSP kernel neither checks the layer nor folds its filter
    and requantization at every call: per channel, what md_depthwise_dsp.c's fold_3x3 makes (FOLD_RECORD
    values) in the planes' orientation (a tall image's transposed when the strides agree), or where
    small_s8 computes a 3x3 output from the image in place (`small_image`), SMALL_RECORD values. None unless
    the kernel folds the layer: narrow (|bias| + 9 * MD_DSP_PRODUCT_BOUND < 2^30), shifts in
    [-FOLD_SHIFT, -1], multipliers >= 0."""
    if op.op_type != "DEPTHWISE_CONV_2D" or op.variant is None or op.variant.schedule != Schedule.GROUPED:
        return None
    input_t, filter_t, output_t = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    bias_t = graph.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] != NO_TENSOR else None
    window = window_of(op, graph)
    channels = output_t.shape[3]
    if (
        input_t.dtype != DType.INT8
        or filter_t.dtype != DType.INT8
        or filter_t.data is None
        or tuple(filter_t.shape) != (1, 3, 3, channels)
        or channels != input_t.shape[3]
        or (window.dilation_h, window.dilation_w) != (1, 1)
        or (bias_t is not None and (bias_t.dtype != DType.INT32 or bias_t.data is None))
    ):
        return None
    biases = np.zeros(channels, np.int64) if bias_t is None else bias_t.data.astype(np.int64)
    shifts = np.broadcast_to(record.shifts.astype(np.int64), (channels,))
    multipliers = np.broadcast_to(record.multipliers.astype(np.int64), (channels,))
    room = (1 << 30) - 9 * DSP_PRODUCT_BOUND
    if np.any(np.abs(biases) >= room) or np.any(shifts >= 0) or np.any(shifts < -FOLD_SHIFT) or np.any(multipliers < 0):
        return None
    taps = filter_t.data.reshape(3, 3, channels).astype(np.int64)
    if small_image(window, input_t.shape, channels):
        return _small_records(taps, biases, multipliers, -shifts, zero_point(output_t))
    if window.stride_h == window.stride_w and window.out_h > window.out_w:
        taps = taps.transpose(1, 0, 2)  # planes_s8's transposed orientation
    doubled = 2 * taps
    exponents = -shifts
    values = np.empty((channels, FOLD_RECORD), np.int64)
    values[:, 0:3] = _halfwords(doubled[:, 0], doubled[:, 2]).T  # rows 0..2
    values[:, 3] = _halfwords(doubled[0, 1], doubled[1, 1])
    values[:, 4] = _halfwords(doubled[2, 1], np.zeros(channels, np.int64))
    values[:, 5] = 2 * (biases - zero_point(input_t) * taps.sum(axis=(0, 1)))
    values[:, 6] = multipliers
    values[:, 7] = exponents
    values[:, 8] = (2 * zero_point(output_t) + 1) << (exponents - 1)
    return wrap_int32(values).astype(np.int32).reshape(-1)


SMALL_RECORD = 10
"""int32 values of a channel's record where the layer's output is 3x3 (md_depthwise_dsp.c dw_small_folded):
for rows 0..2 the halfword pairs {2 w0, 2 w1} and {2 w1, 2 w2}, then the doubled bias, multiplier, exponent,
addend."""


def small_image(window: Window, input_shape: tuple[int, ...], channels: int) -> bool:
    """Whether an undilated 3x3 depthwise layer of one output channel an input channel takes
    md_depthwise_small_dsp.c's small_s8 (its generated code calls md_depthwise_s8_small): a depth of 4k,
    a 3x3 output from a 3x3 image at stride 1 with one pixel of padding each side, or from a 6x6 image at
    stride 2 unpadded at the top left."""
    _, height, width, _ = input_shape
    geometry = (window.stride_h, window.stride_w, height, width, window.pad_top, window.pad_left)
    return (
        (window.out_h, window.out_w) == (3, 3)
        and channels % 4 == 0
        and geometry in ((1, 1, 3, 3, 1, 1), (2, 2, 6, 6, 0, 0))
    )


def _small_records(
    taps: np.ndarray, biases: np.ndarray, multipliers: np.ndarray, exponents: np.ndarray, output_zero_point: int
) -> np.ndarray:
    """SMALL_RECORD values a channel: the input offset is added to the values by the kernel (the taps
    outside the image are not read), so each sum starts from the doubled bias."""
    doubled = 2 * taps
    values = np.empty((taps.shape[2], SMALL_RECORD), np.int64)
    values[:, 0:6:2] = _halfwords(doubled[:, 0], doubled[:, 1]).T
    values[:, 1:6:2] = _halfwords(doubled[:, 1], doubled[:, 2]).T
    values[:, 6] = 2 * biases
    values[:, 7] = multipliers
    values[:, 8] = exponents
    values[:, 9] = (2 * output_zero_point + 1) << (exponents - 1)
    return wrap_int32(values).astype(np.int32).reshape(-1)


def _halfwords(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The int32 words of halfword pairs {low, high} (halfword_pair), as non-negative int64."""
    return (low & 0xFFFF) | ((high & 0xFFFF) << 16)


WALK_SHIFT = 22
"""The largest right shift the int16-weight walk takes (md_conv_w16_dsp.c: no overflow up to it)."""

DSP_PRODUCT_BOUND = 255 * 128
"""The largest |(value + input offset) * weight| of an int8 layer (MD_DSP_PRODUCT_BOUND)."""


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
