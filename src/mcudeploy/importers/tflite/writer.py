"""Graph IR → TFLite flatbuffer, the reader's inverse.

Options go through the same `schema.OPTIONS` table the reader decodes with.
Constant data are 16-byte aligned in the file, as TFLite Micro expects.
"""

from __future__ import annotations

from collections.abc import Sequence

import flatbuffers
import numpy as np
import tflite

from mcudeploy.importers.tflite import schema
from mcudeploy.ir import DType, Graph, Operator, Quantization, Tensor, pack_int4
from mcudeploy.ir.options import HIDDEN_STATE, CustomOptions, OperatorOptions

SCHEMA_VERSION = 3
BUFFER_ALIGNMENT = 16
MAX_DEPRECATED_CODE = 127
"""`deprecated_builtin_code` is an int8: codes above it are stored as 127 there, as TFLite does."""
LSTM_GATES = ("input", "forget", "cell", "output")
GATE_INPUT_SCALE = 2.0**-12
"""An integer LSTM without layer normalisation feeds its gates in Q3.12."""

_ENUM_CODES: dict[type, dict[object, int]] = {
    kind: {value: code for code, value in codes.items()} for kind, codes in schema.ENUMS.items()
}


def write_tflite(graph: Graph, signature: str | None = None) -> bytes:
    """Serialize a graph as a .tflite model: its subgraphs in order, buffer 0 empty, one buffer per constant.

    `signature` names a SignatureDef over the graph's inputs and outputs (TensorFlow's converter
    writes "serving_default"), which LiteRT's signature runners and tools built on them need.
    """
    return _Writer(graph, signature).model()


class _Writer:
    def __init__(self, graph: Graph, signature: str | None = None) -> None:
        self.graph = graph
        self.signature = signature
        self.builder = flatbuffers.Builder(1024 + sum(t.nbytes for t in graph.constants()))
        self.opcode_keys: list[tuple[str, bool, int]] = []
        self.buffers: list[int] = [self._buffer(b"")]

    def model(self) -> bytes:
        b = self.builder
        subgraph_tables = [self._subgraph(subgraph) for subgraph in self.graph.subgraphs]
        opcodes = [self._opcode(*key) for key in self.opcode_keys]
        subgraphs, opcode_vector, buffer_vector = (
            _offset_vector(b, tables) for tables in (subgraph_tables, opcodes, self.buffers)
        )
        description = b.CreateString(self.graph.description)
        signatures = _offset_vector(b, [self._signature(self.signature)]) if self.signature else None
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, SCHEMA_VERSION)
        tflite.ModelAddOperatorCodes(b, opcode_vector)
        tflite.ModelAddSubgraphs(b, subgraphs)
        tflite.ModelAddDescription(b, description)
        tflite.ModelAddBuffers(b, buffer_vector)
        if signatures is not None:
            tflite.ModelAddSignatureDefs(b, signatures)
        b.Finish(tflite.ModelEnd(b), file_identifier=schema.TFLITE_IDENTIFIER)
        return bytes(b.Output())

    def _buffer(self, data: bytes) -> int:
        b = self.builder
        vector = _aligned_bytes(b, data) if data else None
        tflite.BufferStart(b)
        if vector is not None:
            tflite.BufferAddData(b, vector)
        return tflite.BufferEnd(b)

    def _tensor(self, tensor: Tensor) -> int:
        b = self.builder
        buffer_index = 0
        if tensor.is_constant:
            buffer_index = len(self.buffers)
            self.buffers.append(self._buffer(_stored_bytes(tensor)))
        name = b.CreateString(tensor.name)
        shape = b.CreateNumpyVector(np.asarray(tensor.shape, dtype=np.int32))
        quantization = self._quantization(tensor.quantization) if tensor.quantization else None
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tflite.TensorAddType(b, schema.TENSOR_TYPES[tensor.dtype])
        tflite.TensorAddBuffer(b, buffer_index)
        tflite.TensorAddName(b, name)
        if quantization is not None:
            tflite.TensorAddQuantization(b, quantization)
        tflite.TensorAddIsVariable(b, tensor.is_variable)
        return tflite.TensorEnd(b)

    def _quantization(self, quantization: Quantization) -> int:
        b = self.builder
        scales = b.CreateNumpyVector(quantization.scale.astype("<f4"))
        zero_points = b.CreateNumpyVector(quantization.zero_point.astype("<i8"))
        tflite.QuantizationParametersStart(b)
        tflite.QuantizationParametersAddScale(b, scales)
        tflite.QuantizationParametersAddZeroPoint(b, zero_points)
        tflite.QuantizationParametersAddQuantizedDimension(b, quantization.axis or 0)
        return tflite.QuantizationParametersEnd(b)

    def _operator(self, op: Operator, intermediates: Sequence[int]) -> int:
        b = self.builder
        inputs, outputs = (_int32_vector(b, indices) for indices in (op.inputs, op.outputs))
        intermediate_vector = _int32_vector(b, intermediates) if intermediates else None
        if op.is_custom:
            options_type, options = tflite.BuiltinOptions.NONE, None
            custom_data = op.options.data if isinstance(op.options, CustomOptions) else b""
            custom = b.CreateByteVector(custom_data) if custom_data else None
        else:
            options_type, options = _builtin_options(b, op)
            custom = None
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, self._opcode_index(op))
        tflite.OperatorAddInputs(b, inputs)
        tflite.OperatorAddOutputs(b, outputs)
        if intermediate_vector is not None:
            tflite.OperatorAddIntermediates(b, intermediate_vector)
        if options is not None:
            tflite.OperatorAddBuiltinOptionsType(b, options_type)
            tflite.OperatorAddBuiltinOptions(b, options)
        if custom is not None:
            tflite.OperatorAddCustomOptions(b, custom)
        return tflite.OperatorEnd(b)

    def _opcode_index(self, op: Operator) -> int:
        if not op.is_custom and op.op_type not in schema.BUILTIN_CODES:
            raise ValueError(f"{op.label}: '{op.op_type}' is not a TFLite builtin operator")
        key = (op.op_type, op.is_custom, op.version)
        if key not in self.opcode_keys:
            self.opcode_keys.append(key)
        return self.opcode_keys.index(key)

    def _opcode(self, op_type: str, is_custom: bool, version: int) -> int:
        b = self.builder
        code = schema.CUSTOM_CODE if is_custom else schema.BUILTIN_CODES[op_type]
        custom_code = b.CreateString(op_type) if is_custom else None
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, MAX_DEPRECATED_CODE))
        tflite.OperatorCodeAddBuiltinCode(b, code)
        if custom_code is not None:
            tflite.OperatorCodeAddCustomCode(b, custom_code)
        tflite.OperatorCodeAddVersion(b, version)
        return tflite.OperatorCodeEnd(b)

    def _signature(self, key: str) -> int:
        b = self.builder
        inputs, outputs = (
            _offset_vector(b, [self._tensor_map(i) for i in indices])
            for indices in (self.graph.inputs, self.graph.outputs)
        )
        signature_key = b.CreateString(key)
        tflite.SignatureDefStart(b)
        tflite.SignatureDefAddInputs(b, inputs)
        tflite.SignatureDefAddOutputs(b, outputs)
        tflite.SignatureDefAddSignatureKey(b, signature_key)
        tflite.SignatureDefAddSubgraphIndex(b, 0)
        return tflite.SignatureDefEnd(b)

    def _tensor_map(self, index: int) -> int:
        b = self.builder
        name = b.CreateString(self.graph.tensors[index].name)
        tflite.TensorMapStart(b)
        tflite.TensorMapAddName(b, name)
        tflite.TensorMapAddTensorIndex(b, index)
        return tflite.TensorMapEnd(b)

    def _subgraph(self, graph: Graph) -> int:
        b = self.builder
        tensors = [self._tensor(t) for t in graph.tensors]
        operators = []
        for op in graph.operators:
            intermediates = op.intermediates
            if not intermediates:
                carriers = _lstm_intermediates(op, graph)
                intermediates = tuple(range(len(tensors), len(tensors) + len(carriers)))
                tensors += [self._tensor(t) for t in carriers]
            operators.append(self._operator(op, intermediates))
        tensor_vector, operator_vector = _offset_vector(b, tensors), _offset_vector(b, operators)
        inputs, outputs = _int32_vector(b, graph.inputs), _int32_vector(b, graph.outputs)
        name = b.CreateString(graph.name)
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, tensor_vector)
        tflite.SubGraphAddInputs(b, inputs)
        tflite.SubGraphAddOutputs(b, outputs)
        tflite.SubGraphAddOperators(b, operator_vector)
        tflite.SubGraphAddName(b, name)
        return tflite.SubGraphEnd(b)


def _lstm_intermediates(op: Operator, graph: Graph) -> list[Tensor]:
    """The five tensors TFLite's integer LSTM reads its gate and hidden scales from, and Vela
    refuses the model without: each gate's input in Q3.12, then the hidden state's scale (the
    effective hidden scale; with no projection, the hidden state's own). Empty (shape [0]) as
    TensorFlow's converter writes them. None for other operators and float LSTMs (unquantized states)."""
    if op.op_type != "UNIDIRECTIONAL_SEQUENCE_LSTM" or len(op.inputs) <= HIDDEN_STATE:
        return []
    hidden = graph.tensors[op.inputs[HIDDEN_STATE]] if op.inputs[HIDDEN_STATE] >= 0 else None
    if hidden is None or hidden.quantization is None:
        return []
    name = graph.tensors[op.outputs[0]].name
    gates = [
        Tensor(0, f"{name}/{gate}_gate_input", (0,), DType.INT16, Quantization.per_tensor(GATE_INPUT_SCALE, 0))
        for gate in LSTM_GATES
    ]
    return [*gates, Tensor(0, f"{name}/effective_hidden", (0,), hidden.dtype, hidden.quantization)]


def _builtin_options(b: flatbuffers.Builder, op: Operator) -> tuple[int, int | None]:
    """Encode `op.options` field by field through `schema.OPTIONS`; the mirror of the reader's decoding.

    An operator without options gets the IR defaults written out: TFLite Micro reads a missing
    table as all zeros (stride 0), not as the IR's defaults.
    """
    spec = schema.OPTIONS.get(op.op_type)
    if spec is None:
        if op.options is not None:
            raise ValueError(f"{op.label}: no TFLite options table for {type(op.options).__name__}")
        return tflite.BuiltinOptions.NONE, None
    options: OperatorOptions = op.options if op.options is not None else spec.ir_class()
    if not isinstance(options, spec.ir_class):
        raise ValueError(f"{op.label}: options are {type(options).__name__}, expected {spec.ir_class.__name__}")
    values = {ir_field: getattr(options, ir_field) for ir_field in spec.fields}
    if all(value is None for value in values.values()):
        return tflite.BuiltinOptions.NONE, None  # nothing to say: the reader reads an absent table as these defaults
    # Vectors must be complete before their table starts.
    vectors = {
        ir_field: _int32_vector(b, value)
        for ir_field, value in values.items()
        if spec.field_type(ir_field) is tuple and value is not None
    }
    strings = {
        ir_field: b.CreateString(value)
        for ir_field, value in values.items()
        if spec.field_type(ir_field) is str and value
    }
    getattr(tflite, f"{spec.table}Start")(b)
    for ir_field, fb_field in spec.fields.items():
        value, kind = values[ir_field], spec.field_type(ir_field)
        if value is None or (kind is str and not value):
            continue
        if kind is tuple:
            value = vectors[ir_field]
        elif kind is str:
            value = strings[ir_field]
        elif kind in _ENUM_CODES:
            value = _ENUM_CODES[kind][value]
        getattr(tflite, f"{spec.table}Add{fb_field}")(b, value)
    return spec.union_type, getattr(tflite, f"{spec.table}End")(b)


def _aligned_bytes(b: flatbuffers.Builder, data: bytes) -> int:
    """A byte vector whose first byte sits on a BUFFER_ALIGNMENT boundary of the finished file."""
    b.StartVector(1, len(data), BUFFER_ALIGNMENT)
    b.head -= len(data)
    b.Bytes[b.head : b.head + len(data)] = data
    return b.EndVector()


def _int32_vector(b: flatbuffers.Builder, values: Sequence[int]) -> int:
    return b.CreateNumpyVector(np.asarray(values, dtype="<i4"))


def _offset_vector(b: flatbuffers.Builder, offsets: Sequence[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return b.EndVector()


def _stored_bytes(tensor: Tensor) -> bytes:
    """A constant's buffer: little-endian elements, int4 packed two to a byte."""
    if tensor.dtype == DType.INT4:
        return pack_int4(tensor.data).tobytes()
    return np.ascontiguousarray(tensor.data, dtype=tensor.dtype.numpy.newbyteorder("<")).tobytes()
