"""The float graph rebuilt in TFLite's integer scheme, from calibrated activation ranges.

Activations int8 (asymmetric) or int16 (symmetric, zero point 0: TFLite's 16x8 scheme); weights int8
either way; biases int32 with int8 activations, int64 with int16 ones.

UNIDIRECTIONAL_SEQUENCE_LSTM (no peephole, projection or layer norm: TFLite Micro's) as TensorFlow's
quantizer does it (operator_property.cc): each of the eight gate weight matrices symmetric int8 of its
own scale, each gate's bias at the sequence's scale times that gate's input-weight scale (the finer of
the two products, the kernel adds it to the input's), the hidden state sharing the output's quantization,
and an int16 cell state of scale 2^p / 32768, 2^p the least power of two covering its calibrated range
(p at most 10). With int16 activations the same rules give TFLite Micro's 16x8 LSTM (int16 sequence
and hidden state, int64 biases), which TensorFlow's own quantizer does not offer for LSTMs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mcudeploy.errors import McuDeployError, UnsupportedOperatorError
from mcudeploy.ir import NO_TENSOR, DType, Graph, GraphBuilder, Operator, Quantization
from mcudeploy.ir.options import BIASES, CELL_STATE, HIDDEN_STATE, INPUT_WEIGHTS, RECURRENT_WEIGHTS
from mcudeploy.params.lstm import prepare as prepare_lstm
from mcudeploy.quantization.calibrate import Method, observe_ranges

INT8_MIN, INT8_MAX = -128, 127


@dataclass(frozen=True)
class Weighted:
    """Where a weighted operator takes its data, filter and bias, and its filter's per-channel axis
    (the output channels; None: one scale, TFLite's converter default for FULLY_CONNECTED)."""

    data: int
    weights: int
    bias: int
    axis: int | None


WEIGHTED = {
    "CONV_2D": Weighted(0, 1, 2, 0),
    "DEPTHWISE_CONV_2D": Weighted(0, 1, 2, 3),
    "FULLY_CONNECTED": Weighted(0, 1, 2, None),
    "TRANSPOSE_CONV": Weighted(2, 1, 3, 0),  # output shape, filter [out, h, w, in], data, bias
}
"""The operators whose float filter becomes symmetric int8 weights and whose bias is requantized."""
KEEPS_INPUT_SCALE = {
    "MAX_POOL_2D",
    "AVERAGE_POOL_2D",
    "RESHAPE",
    "SQUEEZE",
    "EXPAND_DIMS",
    "TRANSPOSE",
    "PAD",
    "PADV2",
    "RESIZE_NEAREST_NEIGHBOR",
    "REDUCE_MAX",
    "REDUCE_MIN",
    "STRIDED_SLICE",
    "SLICE",
    "REVERSE_V2",
    "BROADCAST_TO",
    "SPACE_TO_DEPTH",
    "DEPTH_TO_SPACE",
    "SPACE_TO_BATCH_ND",
    "BATCH_TO_SPACE_ND",
    "MIRROR_PAD",
    "GATHER",
    "GATHER_ND",
}
"""Operators that move or select values (their data is input 0): TFLite Micro's int8 kernels need
the input's quantization out."""
FIXED_OUTPUT = {
    DType.INT8: {
        "SOFTMAX": Quantization.per_tensor(1 / 256, -128),
        "LOGISTIC": Quantization.per_tensor(1 / 256, -128),
        "TANH": Quantization.per_tensor(1 / 128, 0),
    },
    DType.INT16: {
        "SOFTMAX": Quantization.per_tensor(1 / 32768, 0),
        "LOGISTIC": Quantization.per_tensor(1 / 32768, 0),
        "TANH": Quantization.per_tensor(1 / 32768, 0),
    },
}
"""The only output quantizations TFLite's integer kernels of these operators produce."""
BIAS_TYPE = {DType.INT8: DType.INT32, DType.INT16: DType.INT64}
OWN_RANGE = {
    "ADD",
    "SUB",
    "MUL",
    "MEAN",
    "RELU",
    "RELU6",
    "RELU_N1_TO_1",
    "LEAKY_RELU",
    "HARD_SWISH",
    "CONCATENATION",
    "BATCH_MATMUL",
    *WEIGHTED,
}


def activation_quantization(low: float, high: float, dtype: DType = DType.INT8) -> Quantization:
    """Asymmetric int8 covering [low, high] and 0 exactly (TFLite's ChooseQuantizationParams), or
    symmetric int16 (zero point 0) covering both ends."""
    low, high = min(low, 0.0), max(high, 0.0)
    if dtype == DType.INT16:
        largest = max(-low, high)
        return Quantization.per_tensor(largest / 32767 if largest > 0 else 1.0, 0)
    if high == low:
        return Quantization.per_tensor(1.0, INT8_MIN)
    scale = (high - low) / (INT8_MAX - INT8_MIN)
    zero_point = int(np.clip(_round(INT8_MIN - low / scale), INT8_MIN, INT8_MAX))
    return Quantization.per_tensor(scale, zero_point)


def cell_state_quantization(low: float, high: float) -> Quantization:
    """TensorFlow's LSTM cell state: int16 of scale 2^p / 32768, p the least of 0..10 with 2^p
    covering the range's larger end (10 if none does)."""
    bound = float(np.float32(max(abs(low), abs(high))))
    power = next((p for p in range(11) if 2.0**p >= bound), 10)
    return Quantization.per_tensor(2.0**power / 32768, 0)


def _round(values):
    """Round half away from zero, as the TFLite converter's std::round."""
    return np.sign(values) * np.floor(np.abs(values) + 0.5)


@dataclass
class Quantized:
    graph: Graph
    """The int8 graph."""
    ranges: dict[int, tuple[float, float]]
    """The range calibration chose for each float activation, by tensor index in the float graph."""
    tensors: dict[int, int]
    """Float graph activation → its int8 tensor in `graph`."""


def quantize_graph(
    graph: Graph,
    input_sets: Sequence[Sequence[np.ndarray]],
    method: Method = Method.MINMAX,
    activations: DType = DType.INT8,
    integer_io: bool = False,
) -> Quantized:
    """The integer graph of a float graph, calibrated on `input_sets` (see the package docstring).
    `integer_io`: inputs and outputs in the activation type, without QUANTIZE and DEQUANTIZE, as the
    published MLPerf Tiny int8 models (the firmware quantizes its inputs itself)."""
    if activations not in BIAS_TYPE:
        raise McuDeployError(graph.subject, f"{activations} activations: int8 or int16 only")
    ranges = observe_ranges(graph, input_sets, method)
    rebuild = _Rebuild(graph, ranges, activations, integer_io)
    return Quantized(rebuild.graph(), ranges, rebuild.new)


class _Rebuild:
    def __init__(
        self, graph: Graph, ranges: dict[int, tuple[float, float]], activations: DType, integer_io: bool
    ) -> None:
        self.source = graph
        self.dtype = activations
        self.integer_io = integer_io
        self.ranges = ranges
        self.builder = GraphBuilder(graph.name, graph.description)
        self.new: dict[int, int] = {}
        """Activation tensor of the float graph → its int8 tensor."""

    def graph(self) -> Graph:
        inputs = [self._quantized_input(t.index) for t in self.source.graph_inputs]
        for op in self.source.operators:
            self._operator(op)
        outputs = [self._dequantized_output(index) for index in self.source.outputs]
        result = self.builder.build(inputs, outputs)
        result.source = self.source.source
        result.metadata = {**self.source.metadata, "quantized_by": "mcudeploy min-max"}
        return result

    def _quantization(self, index: int) -> Quantization:
        return self.builder.tensors[self.new[index]].quantization

    def _activation(self, index: int, quantization: Quantization) -> int:
        tensor = self.source.tensors[index]
        new = self.builder.tensor(tensor.shape, self.dtype, name=tensor.name)
        self.builder.tensors[new].quantization = quantization
        self.new[index] = new
        return new

    def _calibrated(self, index: int) -> Quantization:
        if index not in self.ranges:
            name = self.source.tensors[index].name
            raise McuDeployError(self.source.subject, f"tensor '{name}' took no finite value during calibration")
        return activation_quantization(*self.ranges[index], self.dtype)

    def _quantized_input(self, index: int) -> int:
        tensor = self.source.tensors[index]
        if tensor.dtype != DType.FLOAT32:
            raise McuDeployError(self.source.subject, f"input '{tensor.name}' is {tensor.dtype}: not a float model")
        if self.integer_io:
            return self._activation(index, self._calibrated(index))
        real = self.builder.tensor(tensor.shape, DType.FLOAT32, name=tensor.name)
        self.builder.op("QUANTIZE", [real], [self._activation(index, self._calibrated(index))])
        return real

    def _dequantized_output(self, index: int) -> int:
        if self.integer_io:
            return self.new[index]
        tensor = self.source.tensors[index]
        real = self.builder.tensor(tensor.shape, DType.FLOAT32, name=f"{tensor.name}_float")
        self.builder.op("DEQUANTIZE", [self.new[index]], [real])
        return real

    def _operator(self, op: Operator) -> None:
        outputs = self.source.output_tensors(op)
        if op.op_type == "UNIDIRECTIONAL_SEQUENCE_LSTM" and outputs[0].dtype == DType.FLOAT32:
            return self._lstm(op)
        if op.op_type not in OWN_RANGE | KEEPS_INPUT_SCALE | set(FIXED_OUTPUT[self.dtype]) or any(
            t.dtype != DType.FLOAT32 for t in outputs
        ):
            raise UnsupportedOperatorError(self.source.subject, f"layer {op.label} cannot be quantized")
        inputs: list[int] = []
        for position, index in enumerate(op.inputs):
            inputs.append(self._input(op, position, index, inputs))
        new_outputs = [self._activation(t.index, self._output_quantization(op, t.index)) for t in outputs]
        if op.op_type == "CONCATENATION":  # TFLite Micro concatenates values of one quantization only
            inputs = [self._requantized(i, self.builder.tensors[new_outputs[0]].quantization) for i in inputs]
        self.builder.op(op.op_type, inputs, new_outputs, op.options, version=op.version)

    def _lstm(self, op: Operator) -> None:
        """The LSTM in TensorFlow's integer scheme (see the module docstring)."""
        prepare_lstm(op, self.source)  # refuses what TFLite Micro's LSTM does not run, by name
        source = self.source.tensors
        inputs = [NO_TENSOR] * len(op.inputs)
        inputs[0] = self.new[op.inputs[0]]
        for position in (*INPUT_WEIGHTS, *RECURRENT_WEIGHTS):
            inputs[position] = self._weights(source[op.inputs[position]], None)
        sequence_scale = self._quantization(op.inputs[0]).single_scale
        for bias, weights in zip(BIASES, INPUT_WEIGHTS, strict=True):
            gate_weights = self.builder.tensors[inputs[weights]].quantization
            inputs[bias] = self._bias(source[op.inputs[bias]], sequence_scale, gate_weights)
        output = self._calibrated(op.outputs[0])
        cell = op.inputs[CELL_STATE]
        inputs[HIDDEN_STATE] = self._state(op.inputs[HIDDEN_STATE], self.dtype, output)
        inputs[CELL_STATE] = self._state(cell, DType.INT16, cell_state_quantization(*self.ranges.get(cell, (0.0, 0.0))))
        outputs = [self._activation(op.outputs[0], output)]
        self.builder.op(op.op_type, inputs, outputs, op.options, version=op.version)

    def _state(self, index: int, dtype: DType, quantization: Quantization) -> int:
        """An integer copy of a float variable tensor (an LSTM's hidden or cell state)."""
        tensor = self.source.tensors[index]
        new = self.builder.tensor(tensor.shape, dtype, name=tensor.name, is_variable=True)
        self.builder.tensors[new].quantization = quantization
        self.new[index] = new
        return new

    def _output_quantization(self, op: Operator, index: int) -> Quantization:
        if op.op_type in FIXED_OUTPUT[self.dtype]:
            return FIXED_OUTPUT[self.dtype][op.op_type]
        if op.op_type in KEEPS_INPUT_SCALE:
            return self._quantization(op.inputs[0])
        return self._calibrated(index)

    def _input(self, op: Operator, position: int, index: int, built: list[int]) -> int:
        """Input `position` of `op` in the int8 graph (`built`: the inputs before it, already made)."""
        if index == NO_TENSOR:
            return NO_TENSOR
        tensor = self.source.tensors[index]
        if not tensor.is_constant:
            return self.new[index]
        if not tensor.dtype.is_float:  # shapes, permutations, axes, paddings; int8 weights of a hybrid model
            copy = self.builder.tensor(tensor.shape, tensor.dtype, data=tensor.data, name=tensor.name)
            self.builder.tensors[copy].quantization = tensor.quantization
            return copy
        weighted = WEIGHTED.get(op.op_type)
        if weighted is not None and position == weighted.weights:
            return self._weights(tensor, weighted.axis)
        if weighted is not None and position == weighted.bias:
            weights = self.builder.tensors[built[weighted.weights]].quantization
            return self._bias(tensor, self._quantization(op.inputs[weighted.data]).single_scale, weights)
        if op.op_type in KEEPS_INPUT_SCALE:  # PADV2's pad value: quantized like the data
            return self._constant(tensor, self._quantization(op.inputs[0]))
        # Any other float constant (BATCH_MATMUL's constant operand, an ADD's addend) is quantized as
        # the TFLite converter does: as an activation whose range is its own values.
        low, high = float(np.min(tensor.data, initial=0.0)), float(np.max(tensor.data, initial=0.0))
        return self._constant(tensor, activation_quantization(low, high, self.dtype))

    def _constant(self, tensor, quantization: Quantization) -> int:
        scaled = _round(tensor.data.astype(np.float64) / quantization.single_scale) + quantization.single_zero_point
        info = np.iinfo(self.dtype.numpy)
        data = np.clip(scaled, info.min, info.max).astype(self.dtype.numpy)
        index = self.builder.tensor(tensor.shape, self.dtype, data=data, name=tensor.name)
        self.builder.tensors[index].quantization = quantization
        return index

    def _weights(self, tensor, axis: int | None) -> int:
        """Symmetric int8 weights in [-127, 127]: one scale per channel along `axis`, or one for all."""
        data = tensor.data.astype(np.float64)
        reduce_axes = tuple(a for a in range(data.ndim) if a != axis) if axis is not None else None
        largest = np.max(np.abs(data), axis=reduce_axes, keepdims=True)
        scales = np.where(largest > 0, largest / INT8_MAX, 1.0)
        quantized = np.clip(_round(data / scales), -INT8_MAX, INT8_MAX).astype(np.int8)
        index = self.builder.tensor(tensor.shape, DType.INT8, data=quantized, name=tensor.name)
        flat = scales.reshape(-1)
        quantization = (
            Quantization.per_axis(flat, np.zeros(flat.size, np.int64), axis)
            if axis is not None
            else Quantization.per_tensor(float(flat[0]), 0)
        )
        self.builder.tensors[index].quantization = quantization
        return index

    def _bias(self, tensor, input_scale: float, weights: Quantization) -> int:
        """Biases (int32; int64 with int16 activations) at input scale x weight scale, per channel as the weights."""
        scales = input_scale * weights.scale
        values = _round(tensor.data.astype(np.float64) / np.broadcast_to(scales, tensor.shape))
        bias_type = BIAS_TYPE[self.dtype]
        info = np.iinfo(bias_type.numpy)
        data = np.clip(values, info.min, info.max).astype(bias_type.numpy)
        index = self.builder.tensor(tensor.shape, bias_type, data=data, name=tensor.name)
        self.builder.tensors[index].quantization = (
            Quantization.per_axis(scales, np.zeros(scales.size, np.int64), 0)
            if weights.per_channel
            else Quantization.per_tensor(float(scales[0]), 0)
        )
        return index

    def _requantized(self, index: int, quantization: Quantization) -> int:
        tensor = self.builder.tensors[index]
        if tensor.quantization == quantization:
            return index
        out = self.builder.tensor(tensor.shape, tensor.dtype)
        self.builder.tensors[out].quantization = quantization
        self.builder.op("QUANTIZE", [index], [out])
        return out
