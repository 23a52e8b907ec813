"""TFLM_DECODE (TFLM's kernels/decode*.cc): constant tensors stored compressed, decoded into the arena
on every inference. md_decode_params, one per (encoded, ancillary) input pair and its output.

The ancillary tensor starts with TFLM's 16-byte DECODE Common Metadata (byte 0 the decode type,
byte 1 its version, 1), then the type's own data:

- LUT (0): byte 4 the LUT version (1), byte 5 the index width (its low 3 bits, 1 to 7), byte 6 the
  value table's entries per channel; the tables after the header, one per channel, of the output's
  element type. The encoded tensor holds one index per element, a big-endian bit string.
- Huffman (1): byte 4 its version (1), byte 5 bit 0 set for 32-bit table entries (else 16-bit,
  int8 outputs only) and bits 4-7 the first lookup's width less one; the tables after the header,
  entries in the machine's byte order (little-endian on Cortex-M). An entry with bit 15 (31) set is
  a symbol: its low bits are the value, bits 11-14 (27-30) how many bits of the last lookup its code
  used (the rest are put back); otherwise those bits are the next lookup's width less one and the
  low 11 (27) bits the offset of the next table from this one. The encoded tensor is the code
  words' bit string, big-endian (TFLM reads it as byte-swapped 32-bit words on a little-endian core).
- Pruning (2): byte 4 its version (1); after the header the kept values, of the output's element
  type (float32 copied as its 32-bit pattern, bool as bytes). The encoded tensor is one bit per
  element, big-endian: 1 takes the next kept value, 0 the element's zero point.

Channels are the output's quantization scales (one without quantization), along axis 0 or, when more
than one, the last axis. Everything TFLM would read outside its tensors is refused here, where the
decoding runs once (the engine's values, and the check that lets the C kernel trust its parameters).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcudeploy.errors import ModelError
from mcudeploy.ir import DType, Graph, Operator, Tensor
from mcudeploy.params.record import BESIDE_STRUCT

LUT, HUFFMAN, PRUNING = 0, 1, 2
"""TFLM's decode types (byte 0 of the ancillary data)."""
KIND_NAMES = {LUT: "LUT", HUFFMAN: "Huffman", PRUNING: "pruning"}
HEADER_BYTES = 16
"""The DECODE Common Metadata before each type's tables."""
DECODED_TYPES = {
    LUT: (DType.BOOL, DType.FLOAT32, DType.INT8, DType.INT16, DType.INT32, DType.INT64),
    PRUNING: (DType.BOOL, DType.FLOAT32, DType.INT8, DType.INT16, DType.INT32, DType.INT64),
    HUFFMAN: (DType.INT8, DType.INT16),
}
"""The output types each decode type's TFLM kernel writes."""


@dataclass(frozen=True)
class DecodeParams:
    kind: int
    count: int
    """The output's elements."""
    element_bytes: int
    channels: int
    alternate_axis: bool
    """Channels along the last axis (element k is in channel k % channels), else along axis 0."""
    bit_width: int = 0
    """LUT: bits per index."""
    table_stride: int = 0
    """LUT: table entries per channel."""
    huffman_32bit: bool = False
    initial_bits: int = 0
    """Huffman: the first lookup's width."""
    encoded_bytes: int = 0
    zero_points: np.ndarray | None = field(default=None, metadata=BESIDE_STRUCT, compare=False)
    """Pruning of int8 with zero points that are not all 0: one per channel (else the zero fill)."""
    values: np.ndarray = field(default=None, metadata=BESIDE_STRUCT, compare=False, repr=False)
    """The decoded output, which the engine returns."""


def prepare(op: Operator, graph: Graph) -> list[DecodeParams]:
    """One record per output: its pair of inputs decoded and checked."""
    return [
        prepare_pair(op.label, graph.tensors[op.inputs[2 * i]], graph.tensors[op.inputs[2 * i + 1]], output)
        for i, output in enumerate(graph.tensors[index] for index in op.outputs)
    ]


def prepare_pair(label: str, encoded: Tensor, ancillary: Tensor, output: Tensor) -> DecodeParams:
    def fail(reason: str) -> ModelError:
        return ModelError(label, f"output '{output.name}': {reason}")

    if encoded.data is None or ancillary.data is None:
        raise fail("TFLite Micro decodes constant tensors only")
    data, header = _bytes(encoded), _bytes(ancillary)
    if len(header) < HEADER_BYTES or header[1] != 1 or header[0] not in DECODED_TYPES or header[4] != 1:
        raise fail("ancillary data is not version 1 LUT, Huffman or pruning metadata (TFLite Micro fails)")
    kind = int(header[0])
    if output.dtype not in DECODED_TYPES[kind]:
        raise fail(f"TFLite Micro's {KIND_NAMES[kind]} decoding writes no {output.dtype}")
    channels, alternate = _channels(output, fail)
    common = {
        "kind": kind,
        "count": output.size,
        "element_bytes": output.dtype.itemsize,
        "channels": channels,
        "alternate_axis": alternate,
        "encoded_bytes": len(data),
    }
    tables = header[HEADER_BYTES:]
    if kind == LUT:
        bit_width, stride = int(header[5] & 0x07), int(header[6])
        if bit_width == 0:
            raise fail("LUT indices of 0 bits")
        indices = _bit_fields(data, bit_width, output.size, fail)
        channel = _channel_of_each(output.size, channels, alternate)
        entries = channel * stride + indices
        table = _typed(tables, output.dtype, fail)
        if entries.size and entries.max() >= len(table):
            raise fail(f"an index reaches entry {int(entries.max())} of a value table of {len(table)}")
        values = table[entries]
        return DecodeParams(**common, bit_width=bit_width, table_stride=stride, values=_shaped(values, output))
    if kind == PRUNING:
        return _pruned(common, data, tables, output, fail)
    return _huffman(common, data, header, output, fail)


def _bytes(tensor: Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.data).reshape(-1).view(np.uint8)


def _typed(tables: np.ndarray, dtype: DType, fail) -> np.ndarray:
    """Table bytes read as `dtype` (little-endian, as Cortex-M cores store them), whole entries only."""
    size = dtype.itemsize
    usable = tables[: len(tables) // size * size]
    if dtype == DType.BOOL:
        return usable.view(np.bool_)  # the bytes as they are, as TFLM copies them
    return usable.view(np.dtype(dtype.numpy).newbyteorder("<")).astype(dtype.numpy)


def _channels(output: Tensor, fail) -> tuple[int, bool]:
    """TFLM's channel count and axis: the quantization's scales, along axis 0 or (several) the last."""
    quantization = output.quantization
    if quantization is None:
        return 1, False
    channels = len(quantization.scale)
    axis = quantization.axis or 0
    alternate = channels > 1 and axis == len(output.shape) - 1
    if not alternate and axis != 0:
        raise fail(f"channels along axis {axis}, neither the first nor the last (TFLite Micro fails)")
    if channels == 0 or output.size % channels:
        raise fail(f"{output.size} elements do not split into {channels} channels")
    return channels, alternate


def _channel_of_each(count: int, channels: int, alternate: bool) -> np.ndarray:
    elements = np.arange(count)
    return elements % channels if alternate else elements // (count // channels)


def _bit_fields(data: np.ndarray, width: int, count: int, fail) -> np.ndarray:
    """`count` unsigned fields of `width` bits from a big-endian bit string."""
    if count * width > 8 * len(data):
        raise fail(f"{count} indices of {width} bits need {-(-count * width // 8)} encoded bytes, it has {len(data)}")
    bits = np.unpackbits(data)[: count * width].reshape(count, width).astype(np.int64)
    return bits @ (1 << np.arange(width - 1, -1, -1, dtype=np.int64))


def _pruned(common: dict, data: np.ndarray, tables: np.ndarray, output: Tensor, fail) -> DecodeParams:
    kept = np.unpackbits(data)[: output.size].astype(bool)
    if len(kept) < output.size:
        raise fail(f"a mask of {8 * len(data)} bits for {output.size} elements")
    stored = DType.INT32 if output.dtype == DType.FLOAT32 else output.dtype
    table = _typed(tables, DType.INT8 if output.dtype == DType.BOOL else stored, fail)
    if kept.sum() > len(table):
        raise fail(f"the mask keeps {int(kept.sum())} values, the ancillary data holds {len(table)}")
    zero_points = np.zeros(common["channels"], np.int64)
    if output.quantization is not None:
        zero_points = np.resize(output.quantization.zero_point.astype(np.int64), common["channels"])
    if zero_points.any() and output.dtype != DType.INT8:
        raise fail("zero points that are not 0 for a type other than int8 (TFLite Micro fails)")
    per_channel = common["channels"] > 1 and zero_points.any()
    fill = zero_points[_channel_of_each(output.size, common["channels"], common["alternate_axis"])]
    if not per_channel:
        fill = np.full(output.size, zero_points[0])
    values = np.empty(output.size, dtype=table.dtype)
    values[kept] = table[: int(kept.sum())]
    values[~kept] = fill[~kept].astype(table.dtype)
    decoded = values.view(np.float32) if output.dtype == DType.FLOAT32 else values
    decoded = decoded.view(np.bool_) if output.dtype == DType.BOOL else decoded
    records = zero_points.astype(np.int8) if zero_points.any() else None
    return DecodeParams(**common, zero_points=records, values=_shaped(decoded.astype(output.dtype.numpy), output))


def _huffman(common: dict, data: np.ndarray, header: np.ndarray, output: Tensor, fail) -> DecodeParams:
    wide = bool(header[5] & 0x01)
    if not wide and output.dtype != DType.INT8:
        raise fail("16-bit Huffman tables decode int8 only (TFLite Micro fails)")
    initial_bits = int(header[5] >> 4) + 1
    entry = np.dtype("<u4" if wide else "<u2")
    tables = header[HEADER_BYTES:]
    table = tables[: len(tables) // entry.itemsize * entry.itemsize].view(entry).astype(np.int64)
    found, count_shift, value_mask = (1 << 31, 27, 0x07FFFFFF) if wide else (1 << 15, 11, 0x07FF)
    reader = _BitReader(data)
    values = np.empty(output.size, np.int64)
    for element in range(output.size):
        used = initial_bits
        offset = reader.take(used)
        while True:
            if offset >= len(table):
                raise fail(f"a code reaches entry {offset} of Huffman tables of {len(table)}")
            item = int(table[offset])
            if item & found:
                break
            used = ((item >> count_shift) & 0x0F) + 1
            offset += (item & value_mask) + reader.take(used)
        values[element] = item & 0xFFFF if wide else item & 0xFF
        residual = (item >> count_shift) & 0x0F
        if used > residual:
            reader.position -= used - residual
        if reader.position > 8 * len(data):
            raise fail(f"the code words end before element {element} (TFLite Micro reads past them)")
    decoded = values.astype(np.uint16 if output.dtype == DType.INT16 else np.uint8).view(output.dtype.numpy)
    return DecodeParams(**common, huffman_32bit=wide, initial_bits=initial_bits, values=_shaped(decoded, output))


class _BitReader:
    """A big-endian bit string; bits past its end read as 0 (only ever looked ahead at, then put back)."""

    def __init__(self, data: np.ndarray) -> None:
        self.bits = np.unpackbits(data)
        self.position = 0

    def take(self, count: int) -> int:
        field = self.bits[self.position : self.position + count]
        self.position += count
        value = 0
        for bit in field:
            value = value << 1 | int(bit)
        return value << (count - len(field))


def _shaped(values: np.ndarray, output: Tensor) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=output.dtype.numpy).reshape(output.shape)
