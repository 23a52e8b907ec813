"""Multiply-accumulate and parameter counts per layer.

One MAC per multiply-accumulate of the layer's arithmetic definition:
convolution out_h·out_w·out_c·k_h·k_w·in_c/groups, transposed convolution in_c·out_c per
(input pixel, filter tap) that lands inside the output, batch matmul depth per output value,
fully connected in·out per batch row, SVDF the feature weights (filters·input) and the time weights
(filters·memory) per batch row, an LSTM its four gates' input and recurrent weights per step and
batch row. Other operators (pooling, element-wise, data movement) count 0.
"""

from __future__ import annotations

import math

import numpy as np

from mcudeploy.errors import ModelError
from mcudeploy.ir import NO_TENSOR, Graph, Operator
from mcudeploy.params.window import make_window


def layer_macs(graph: Graph, op: Operator) -> int:
    counter = _MAC_COUNTERS.get(op.op_type)
    if counter is None:
        return 0
    try:
        return counter(graph, op)
    except (ValueError, IndexError):  # a malformed file: filter or output of the wrong rank
        raise ModelError(graph.subject, f"layer {op.label} has inputs of unexpected shapes") from None


def layer_params(graph: Graph, op: Operator) -> int:
    """Elements of the constant inputs (weights, biases) the layer reads."""
    return sum(graph.tensors[i].size for i in op.inputs if i != NO_TENSOR and graph.tensors[i].is_constant)


def total_params(graph: Graph) -> int:
    """Constant elements read by any layer, each tensor counted once even if shared."""
    used = {i for op in graph.operators for i in op.inputs if i != NO_TENSOR}
    return sum(graph.tensors[i].size for i in used if graph.tensors[i].is_constant)


def total_macs(graph: Graph) -> int:
    return sum(layer_macs(graph, op) for op in graph.operators)


def _conv_macs(graph: Graph, op: Operator) -> int:
    # Filter [out_c, k_h, k_w, in_c / groups]: each output element takes k_h·k_w·(in_c/groups) MACs.
    out = graph.tensors[op.outputs[0]]
    _, k_h, k_w, group_depth = graph.tensors[op.inputs[1]].shape
    return math.prod(out.shape) * k_h * k_w * group_depth


def _depthwise_macs(graph: Graph, op: Operator) -> int:
    # Filter [1, k_h, k_w, out_c]: each output element reads one input channel.
    out = graph.tensors[op.outputs[0]]
    _, k_h, k_w, _ = graph.tensors[op.inputs[1]].shape
    return math.prod(out.shape) * k_h * k_w


def _transpose_conv_macs(graph: Graph, op: Operator) -> int:
    # Filter [out_c, k_h, k_w, in_c], data input 2: input pixel (y, x) reaches output row
    # y·stride - pad + fy through tap fy (TFLM's padding: params.transpose_conv); only the taps
    # landing inside the output count.
    filter_t, input_t, output_t = graph.tensors[op.inputs[1]], graph.tensors[op.inputs[2]], graph.tensors[op.outputs[0]]
    window = make_window(op.options, output_t.shape, filter_t.shape[1:3], output_t.shape)

    def landing(size: int, stride: int, pad: int, taps: int, out: int) -> int:
        rows = np.arange(size)[:, None] * stride - pad + np.arange(taps)[None, :]
        return int(((rows >= 0) & (rows < out)).sum())

    batches, height, width, channels = input_t.shape
    rows = landing(height, window.stride_h, window.pad_top, window.filter_h, window.out_h)
    cols = landing(width, window.stride_w, window.pad_left, window.filter_w, window.out_w)
    return batches * rows * cols * channels * filter_t.shape[0]


def _batch_matmul_macs(graph: Graph, op: Operator) -> int:
    # lhs' [..., rows, depth] times rhs' [..., depth, cols]: depth MACs per output value.
    lhs = graph.tensors[op.inputs[0]]
    depth = lhs.shape[-2] if op.options.adj_x else lhs.shape[-1]
    return math.prod(graph.tensors[op.outputs[0]].shape) * depth


def _fully_connected_macs(graph: Graph, op: Operator) -> int:
    out = graph.tensors[op.outputs[0]]
    depth = graph.tensors[op.inputs[1]].shape[-1]
    return math.prod(out.shape) * depth


def _svdf_macs(graph: Graph, op: Operator) -> int:
    # Feature weights [filters, input], time weights [filters, memory], input [batches, input].
    batches = graph.tensors[op.inputs[0]].shape[0]
    features, times = (graph.tensors[i].size for i in op.inputs[1:3])
    return batches * (features + times)


def _lstm_macs(graph: Graph, op: Operator) -> int:
    # Output [batch, time, cells] (or time-major): each of its rows runs the eight weight matrices.
    rows = math.prod(graph.tensors[op.outputs[0]].shape[:2])
    return rows * sum(graph.tensors[op.inputs[i]].size for i in range(1, 9))


_MAC_COUNTERS = {
    "CONV_2D": _conv_macs,
    "DEPTHWISE_CONV_2D": _depthwise_macs,
    "TRANSPOSE_CONV": _transpose_conv_macs,
    "BATCH_MATMUL": _batch_matmul_macs,
    "FULLY_CONNECTED": _fully_connected_macs,
    "SVDF": _svdf_macs,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _lstm_macs,
}
