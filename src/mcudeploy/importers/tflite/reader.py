"""TFLite flatbuffer → graph IR.

Everything the file claims is checked before it is used: indices against table
sizes, vector lengths and tensor sizes against the file's size, so that a
corrupt or hostile file gives a one-line ModelError, never a traceback, a hang
or an attempt to allocate what the file merely claims. Constant data are
read-only numpy views of the file's bytes, never copies.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import tflite

from mcudeploy.errors import ModelError
from mcudeploy.files import read_regular
from mcudeploy.importers.tflite import schema
from mcudeploy.ir import NO_TENSOR, DType, Graph, Operator, Quantization, Tensor, unpack_int4
from mcudeploy.ir.options import CustomOptions, OperatorOptions
from mcudeploy.ir.shapes import MAX_TENSOR_BYTES

MAX_MODEL_BYTES = (1 << 31) - 1
"""A flatbuffer's offsets are 32-bit signed: no TFLite file is larger."""

# What the flatbuffers runtime raises on offsets and lengths that point outside the buffer.
_DECODE_ERRORS = (IndexError, struct.error, ValueError, TypeError, OverflowError, UnicodeDecodeError, RecursionError)

_KNOWN_MAGICS = {
    b"\x89PNG": "a PNG image",
    b"\x89HDF": "an HDF5 file (a Keras .h5 model?)",
    b"PK\x03\x04": "a ZIP archive",
    b"\x7fELF": "an ELF binary",
    b"\xff\xd8\xff": "a JPEG image",
    b"BM": "a BMP image",
}


def read_tflite(source: str | Path | bytes) -> Graph:
    """Read a .tflite file (a path, or the file's bytes) into a Graph."""
    if isinstance(source, bytes):
        return _Reader(source, "<bytes>").graph()
    return _Reader(read_regular(source, MAX_MODEL_BYTES, ModelError), str(source)).graph()


class _Reader:
    def __init__(self, data: bytes, subject: str) -> None:
        self.data = data
        self.subject = subject

    def fail(self, reason: str) -> ModelError:
        return ModelError(self.subject, reason)

    def graph(self) -> Graph:
        self._check_header()
        try:
            model = tflite.Model.GetRootAs(self.data, 0)
            return self._graph(model)
        except ModelError:
            raise
        except _DECODE_ERRORS as error:
            raise self.fail(f"corrupt TFLite flatbuffer ({type(error).__name__}: {error})") from None

    def _check_header(self) -> None:
        if len(self.data) < 8:
            raise self.fail(f"file is {len(self.data)} bytes, too short to be a TFLite model")
        if self.data[4:8] != schema.TFLITE_IDENTIFIER:
            kind = next((what for magic, what in _KNOWN_MAGICS.items() if self.data.startswith(magic)), None)
            found = f"this is {kind}" if kind else f"found {self.data[4:8]!r}"
            raise self.fail(f"not a TFLite model: no 'TFL3' file identifier ({found})")

    def _length(self, length: int, what: str, item_bytes: int = 4) -> int:
        """A vector length the file claims, checked against the file's size before any loop uses it."""
        if length < 0 or length * item_bytes > len(self.data):
            raise self.fail(f"{what} claims {length} entries, more than the {len(self.data)}-byte file can hold")
        return length

    def _graph(self, model: tflite.Model) -> Graph:
        count = self._length(model.SubgraphsLength(), "subgraph list")
        if count == 0:
            raise self.fail("the model has no subgraph")
        buffers = [model.Buffers(i) for i in range(self._length(model.BuffersLength(), "buffer list"))]
        opcodes = [model.OperatorCodes(i) for i in range(self._length(model.OperatorCodesLength(), "opcode list"))]
        main, *others = (self._subgraph(model.Subgraphs(i), i, buffers, opcodes) for i in range(count))
        main.name = Path(self.subject).stem
        main.description = _text(model.Description())
        main.metadata = {"subgraphs": str(count), "schema_version": str(model.Version())}
        main.other_subgraphs = tuple(others)
        return main

    def _subgraph(
        self, subgraph: tflite.SubGraph, number: int, buffers: list[tflite.Buffer], opcodes: list[tflite.OperatorCode]
    ) -> Graph:
        where = f" of subgraph {number}" if number else ""
        tensor_count = self._length(subgraph.TensorsLength(), f"tensor list{where}")
        tensors = [self._tensor(subgraph.Tensors(i), i, buffers) for i in range(tensor_count)]
        operators = [
            self._operator(subgraph.Operators(i), i, opcodes, tensor_count)
            for i in range(self._length(subgraph.OperatorsLength(), f"operator list{where}"))
        ]
        inputs = self._indices(subgraph.InputsAsNumpy(), subgraph.InputsLength(), tensor_count, f"inputs{where}")
        outputs = self._indices(subgraph.OutputsAsNumpy(), subgraph.OutputsLength(), tensor_count, f"outputs{where}")
        if NO_TENSOR in inputs or NO_TENSOR in outputs:
            raise self.fail(f"an input or output{where or ' of subgraph 0'} is not a tensor (index -1)")
        return Graph(
            name=_text(subgraph.Name()) or f"subgraph_{number}",
            tensors=tensors,
            operators=operators,
            inputs=inputs,
            outputs=outputs,
            source=self.subject,
        )

    def _indices(self, array: np.ndarray | int, length: int, tensor_count: int, what: str) -> tuple[int, ...]:
        self._length(length, what)
        indices = tuple(int(i) for i in array) if length else ()
        bad = [i for i in indices if not NO_TENSOR <= i < tensor_count]
        if bad:
            raise self.fail(f"{what} name tensor {bad[0]}, but the subgraph has {tensor_count} tensors")
        return indices

    def _tensor(self, table: tflite.Tensor, index: int, buffers: list[tflite.Buffer]) -> Tensor:
        name = _text(table.Name()) or f"tensor_{index}"
        type_code = table.Type()
        if type_code not in schema.DTYPES:
            type_name = schema.TENSOR_TYPE_NAMES.get(type_code, f"type code {type_code}")
            raise self.fail(f"tensor {index} '{name}' has element type {type_name}, which mcudeploy does not support")
        dtype = schema.DTYPES[type_code]
        rank = self._length(table.ShapeLength(), f"shape of tensor {index}")
        shape = tuple(int(d) for d in table.ShapeAsNumpy()) if rank else ()
        if any(d < 0 for d in shape):
            raise self.fail(f"tensor {index} '{name}' has a negative dimension in shape {list(shape)}")
        nbytes = dtype.nbytes(int(np.prod(shape, dtype=object)))
        if nbytes > MAX_TENSOR_BYTES:
            raise self.fail(f"tensor {index} '{name}' claims {nbytes:,} bytes (shape {list(shape)}): not plausible")
        tensor = Tensor(
            index=index,
            name=name,
            shape=shape,
            dtype=dtype,
            quantization=self._quantization(table.Quantization(), shape, name),
            is_variable=bool(table.IsVariable()),
        )
        tensor.data = self._constant(table.Buffer(), buffers, tensor)
        return tensor

    def _constant(self, buffer_index: int, buffers: list[tflite.Buffer], tensor: Tensor) -> np.ndarray | None:
        if not 0 <= buffer_index < len(buffers):
            raise self.fail(
                f"tensor {tensor.index} '{tensor.name}' uses buffer {buffer_index}, "
                f"but the model has {len(buffers)} buffers"
            )
        start, size = self._buffer_span(buffers[buffer_index])
        if size == 0:
            return None
        if size != tensor.nbytes:
            raise self.fail(
                f"tensor {tensor.index} '{tensor.name}' has {size} bytes of data, "
                f"its shape {list(tensor.shape)} of {tensor.dtype} needs {tensor.nbytes}"
            )
        if tensor.dtype == DType.INT4:
            packed = np.frombuffer(self.data, dtype=np.int8, count=size, offset=start)
            return unpack_int4(packed, tensor.size).reshape(tensor.shape)
        array = np.frombuffer(self.data, dtype=tensor.dtype.numpy.newbyteorder("<"), count=tensor.size, offset=start)
        return array.reshape(tensor.shape)

    def _buffer_span(self, buffer: tflite.Buffer) -> tuple[int, int]:
        """Where a buffer's bytes lie in the file: inline data, or (models over 2 GB) an offset and size."""
        if buffer.Offset() > 1:
            start, size = buffer.Offset(), buffer.Size()
        elif buffer.DataLength():
            size = self._length(buffer.DataLength(), "buffer data", item_bytes=1)
            vector = buffer._tab.Offset(4)  # the data vector's field slot
            start = buffer._tab.Vector(vector)
        else:
            return 0, 0
        if start < 0 or start + size > len(self.data):
            raise self.fail(f"a buffer spans bytes {start}..{start + size}, past the end of the file")
        return start, size

    def _quantization(
        self, table: tflite.QuantizationParameters | None, shape: tuple[int, ...], name: str
    ) -> Quantization | None:
        if table is None or table.ScaleLength() == 0:
            return None
        count = self._length(table.ScaleLength(), f"scales of '{name}'")
        with np.errstate(invalid="ignore"):  # a signalling NaN widens quietly; the graph checks refuse it
            scales = table.ScaleAsNumpy().astype(np.float64)
        zero_points = (
            table.ZeroPointAsNumpy().astype(np.int64)
            if self._length(table.ZeroPointLength(), f"zero points of '{name}'", 8)
            else np.zeros(count, dtype=np.int64)
        )
        if len(zero_points) not in (1, count):
            raise self.fail(f"tensor '{name}' has {count} scales but {len(zero_points)} zero points")
        zero_points = np.broadcast_to(zero_points, (count,)).copy()
        if count == 1:
            return Quantization(scale=scales, zero_point=zero_points)
        # Real files (person_detect) declare quantized_dimension 3 on 1-D biases: a 1-D tensor's axis can only be 0.
        axis = table.QuantizedDimension() if len(shape) > 1 else 0
        if not 0 <= axis < len(shape) or shape[axis] != count:
            raise self.fail(f"tensor '{name}' has {count} per-channel scales on axis {axis} of shape {list(shape)}")
        return Quantization(scale=scales, zero_point=zero_points, axis=axis)

    def _operator(
        self, table: tflite.Operator, index: int, opcodes: list[tflite.OperatorCode], tensor_count: int
    ) -> Operator:
        opcode_index = table.OpcodeIndex()
        if not 0 <= opcode_index < len(opcodes):
            raise self.fail(f"operator {index} uses opcode {opcode_index}, but the model has {len(opcodes)} opcodes")
        opcode = opcodes[opcode_index]
        # Old files store the code in the deprecated int8 field only; new ones in both.
        code = max(opcode.BuiltinCode(), opcode.DeprecatedBuiltinCode())
        is_custom = code == schema.CUSTOM_CODE
        if is_custom:
            op_type = _text(opcode.CustomCode()) or "custom"
        else:
            op_type = schema.BUILTIN_NAMES.get(code, f"BUILTIN_{code}")
        inputs = self._indices(table.InputsAsNumpy(), table.InputsLength(), tensor_count, f"inputs of operator {index}")
        outputs = self._indices(
            table.OutputsAsNumpy(), table.OutputsLength(), tensor_count, f"outputs of operator {index}"
        )
        intermediates = self._indices(
            table.IntermediatesAsNumpy(),
            table.IntermediatesLength(),
            tensor_count,
            f"intermediates of operator {index}",
        )
        return Operator(
            index=index,
            op_type=op_type,
            inputs=inputs,
            outputs=outputs,
            intermediates=intermediates,
            options=self._custom_options(table) if is_custom else _builtin_options(op_type, table),
            is_custom=is_custom,
            version=opcode.Version(),
        )

    def _custom_options(self, table: tflite.Operator) -> CustomOptions:
        length = self._length(table.CustomOptionsLength(), "custom options", item_bytes=1)
        return CustomOptions(data=table.CustomOptionsAsNumpy().tobytes() if length else b"")


def _builtin_options(op_type: str, table: tflite.Operator) -> OperatorOptions | None:
    spec = schema.OPTIONS.get(op_type)
    if spec is None:
        return None
    if table.BuiltinOptionsType() != spec.union_type:
        return spec.ir_class()  # absent options: the IR defaults
    raw = table.BuiltinOptions()
    options = getattr(tflite, spec.table)()
    options.Init(raw.Bytes, raw.Pos)
    values = {}
    for ir_field, fb_field in spec.fields.items():
        kind = spec.field_type(ir_field)
        if kind is tuple:
            length = getattr(options, f"{fb_field}Length")()
            values[ir_field] = tuple(int(v) for v in getattr(options, f"{fb_field}AsNumpy")()) if length else ()
        elif kind in schema.ENUMS:
            code = getattr(options, fb_field)()
            if code not in schema.ENUMS[kind]:
                raise ValueError(f"{op_type} has an unknown {ir_field} code {code}")
            values[ir_field] = schema.ENUMS[kind][code]
        elif kind is str:
            values[ir_field] = _text(getattr(options, fb_field)())
        else:
            values[ir_field] = kind(getattr(options, fb_field)())
    return spec.ir_class(**values)


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", errors="replace") if raw else ""
