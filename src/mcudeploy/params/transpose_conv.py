"""TRANSPOSE_CONV: md_window_params of the transposed window (TFLite's ConvParams of the kernel).

Input position 2 is the data, 1 the OHWI filter, 3 the optional bias; position 0 holds the output
shape. TFLM derives the padding as a convolution of the *output* size would (stride, filter,
dilation 1): input pixel (y, x) then feeds output pixel (y * stride - pad + fy, x * stride - pad + fx)
through filter tap (fy, fx).
"""

from __future__ import annotations

from dataclasses import replace

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Graph, Operator
from mcudeploy.params.activation_range import float_clamp, quantized_activation_range
from mcudeploy.params.conv import WindowParams
from mcudeploy.params.quantization import zero_point
from mcudeploy.params.requantization import checked_requantization, wide_accumulator
from mcudeploy.params.window import make_window

DATA, FILTER, BIAS = 2, 1, 3


def prepare(op: Operator, graph: Graph) -> WindowParams:
    """The geometry (input_* the data's, output_* the output's), then the integer kernels' offsets,
    clamp and requantization, or the float kernel's clamp."""
    input_t, filter_t = graph.tensors[op.inputs[DATA]], graph.tensors[op.inputs[FILTER]]
    output_t = graph.tensors[op.outputs[0]]
    bias_t = graph.tensors[op.inputs[BIAS]] if len(op.inputs) > BIAS and op.inputs[BIAS] >= 0 else None
    window = make_window(op.options, output_t.shape, filter_t.shape[1:3], output_t.shape)
    batches, input_h, input_w, input_c = input_t.shape
    geometry = WindowParams(
        batches, input_h, input_w, input_c,
        window.filter_h, window.filter_w, input_c,
        window.out_h, window.out_w, output_t.shape[3],
        window.stride_h, window.stride_w, 1, 1,
        window.pad_top, window.pad_left,
        window=window,
    )  # fmt: skip
    activation = op.options.activation
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.FLOAT32:
        return replace(geometry, float_clamp=float_clamp(activation))
    if input_t.dtype not in (DType.INT8, DType.INT16) or filter_t.dtype != DType.INT8:
        raise UnsupportedOperatorError(
            op.label, f"{input_t.dtype} input with {filter_t.dtype} filter is not supported (TFLite Micro refuses it)"
        )
    act_min, act_max = quantized_activation_range(activation, output_t)
    wide = wide_accumulator(input_t, bias_t)
    int8 = input_t.dtype == DType.INT8
    return replace(
        geometry,
        input_offset=-zero_point(input_t) if int8 else 0,
        output_offset=zero_point(output_t) if int8 else 0,
        act_min=act_min,
        act_max=act_max,
        per_channel=int(filter_t.quantization is not None and filter_t.quantization.scale.size > 1),
        accumulator64=int(wide),
        requantization=checked_requantization(op, graph, wide),
    )
