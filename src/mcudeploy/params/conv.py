"""CONV_2D, DEPTHWISE_CONV_2D and the pools (AVERAGE, MAX, L2): md_window_params (TFLite's OpDataConv)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.params.activation_range import float_clamp, quantized_activation_range
from mcudeploy.params.quantization import zero_point
from mcudeploy.params.record import BESIDE_STRUCT
from mcudeploy.params.requantization import Requantization, checked_requantization, wide_accumulator
from mcudeploy.params.window import POOLS, Window, window_of


@dataclass(frozen=True, eq=False)
class WindowParams:
    """md_window_params: the window over NHWC tensors, then, for integer kernels, the offsets,
    the activation's clamp and the accumulator (None where the kernel does not read them)."""

    batches: int
    input_h: int
    input_w: int
    input_c: int
    filter_h: int
    filter_w: int
    filter_c: int
    """CONV_2D: input channels per group (input_c when not grouped); 1 for depthwise and pooling."""
    output_h: int
    output_w: int
    output_c: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_top: int
    pad_left: int
    input_offset: int | None = None
    """Added to every input value: -zero point for int8, 0 for int16 (whose zero point is 0)."""
    output_offset: int | None = None
    """Added after requantization: the int8 output zero point, 0 for int16."""
    act_min: int | None = None
    act_max: int | None = None
    per_channel: int | None = None
    accumulator64: int | None = None
    """16x8 kernels accumulate in int64 unless their bias is int32."""
    window: Window = field(default=None, metadata=BESIDE_STRUCT)
    float_clamp: tuple[np.float32, np.float32] | None = field(default=None, metadata=BESIDE_STRUCT)
    """Float kernels: the fused activation's clamp."""
    requantization: Requantization | None = field(default=None, metadata=BESIDE_STRUCT)
    """Quantized convolutions: the per-channel multipliers and shifts (flash arrays)."""


def prepare(op: Operator, graph: Graph) -> WindowParams:
    """The parameters of a convolution or pooling of NHWC tensors."""
    input_t, output_t = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if len(input_t.shape) != 4 or len(output_t.shape) != 4:
        raise UnsupportedOperatorError(op.label, "input and output must be NHWC (rank 4)")
    window = window_of(op, graph)
    filter_c = graph.tensors[op.inputs[1]].shape[3] if op.op_type == "CONV_2D" else 1
    activation = op.options.activation
    batches, input_h, input_w, input_c = input_t.shape
    geometry = WindowParams(
        batches, input_h, input_w, input_c,
        window.filter_h, window.filter_w, filter_c,
        window.out_h, window.out_w, output_t.shape[3],
        window.stride_h, window.stride_w, window.dilation_h, window.dilation_w,
        window.pad_top, window.pad_left,
        window=window,
    )  # fmt: skip
    if input_t.dtype.is_float:
        return replace(geometry, float_clamp=float_clamp(activation))
    act_min, act_max = quantized_activation_range(activation, output_t)
    if op.op_type in POOLS:
        return replace(geometry, act_min=act_min, act_max=act_max)
    _, filter_t, bias_t = [*graph.input_tensors(op), None][:3]
    wide = wide_accumulator(input_t, bias_t)
    return replace(
        geometry,
        input_offset=-zero_point(input_t) if input_t.dtype == DType.INT8 else 0,
        output_offset=zero_point(output_t) if output_t.dtype == DType.INT8 else 0,
        act_min=act_min,
        act_max=act_max,
        per_channel=int(filter_t.quantization is not None and filter_t.quantization.scale.size > 1),
        accumulator64=int(wide),
        requantization=checked_requantization(op, graph, wide),
    )
