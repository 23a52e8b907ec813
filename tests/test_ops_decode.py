"""TFLM_DECODE against TFLite Micro, whose interpreter (built with compression) registers it: LUT,
Huffman and pruning pairs encoded here as TFLM's compression tools lay them out (params.decode),
every decoded tensor bit for bit."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from mcudeploy.engine.interpreter import Engine
from mcudeploy.errors import McuDeployError
from mcudeploy.ir import GraphBuilder, Padding
from mcudeploy.ir.options import Conv2DOptions, CustomOptions, DepthwiseConv2DOptions, FullyConnectedOptions
from mcudeploy.ir.shapes import DECODE
from mcudeploy.params.decode import HUFFMAN, LUT, PRUNING
from single_op import assert_matches_tflm

RNG = np.random.default_rng(12)


def header(kind: int, byte5: int = 0, byte6: int = 0) -> bytes:
    """TFLM's 16-byte DECODE Common Metadata, with the type's version (1) at byte 4."""
    data = bytearray(16)
    data[0], data[1], data[4], data[5], data[6] = kind, 1, 1, byte5, byte6
    return bytes(data)


def bit_string(fields, width: int) -> np.ndarray:
    """Unsigned fields of `width` bits, big-endian, padded to whole 32-bit words (as TFLM's tools pad)."""
    bits = "".join(format(int(v), f"0{width}b") for v in fields)
    bits += "0" * (-len(bits) % 32)
    return np.array([int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)], np.uint8)


def lut_pair(tables: np.ndarray, indices: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """[channels, stride] value tables and one index per element."""
    ancillary = header(LUT, width, tables.shape[1]) + np.ascontiguousarray(tables).tobytes()
    return bit_string(indices.ravel(), width), np.frombuffer(ancillary, np.uint8)


def pruned_pair(values: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kept values (a mask per element) after the header; float32 as its bit pattern."""
    ancillary = header(PRUNING) + np.ascontiguousarray(values.ravel()[kept.ravel()]).tobytes()
    return bit_string(kept.ravel(), 1), np.frombuffer(ancillary, np.uint8)


def huffman_pair(symbols: np.ndarray, initial_bits: int, wide: bool) -> tuple[np.ndarray, np.ndarray]:
    """A Huffman code of the symbols' frequencies, in TFLM's lookup tables: a first table indexed by
    `initial_bits` bits, and for longer codes sub-tables indexed by the remaining bits."""
    lengths = _code_lengths(symbols.ravel())
    codes = _canonical(lengths)
    found, count_shift = (1 << 31, 27) if wide else (1 << 15, 11)
    mask = 0xFFFF if wide else 0xFF
    entries = [0] * (1 << initial_bits)
    long_codes: dict[int, list[tuple[int, int, int]]] = {}
    for symbol, (code, length) in codes.items():
        value = symbol & mask
        if length <= initial_bits:
            low = code << (initial_bits - length)
            for entry in range(low, low + (1 << (initial_bits - length))):
                entries[entry] = found | length << count_shift | value
        else:
            rest = length - initial_bits
            long_codes.setdefault(code >> rest, []).append((code & ((1 << rest) - 1), rest, value))
    for prefix, rest in long_codes.items():
        width = max(length for _, length, _ in rest)
        entries[prefix] = (width - 1) << count_shift | (len(entries) - prefix)
        table = [0] * (1 << width)
        for code, length, value in rest:
            low = code << (width - length)
            for entry in range(low, low + (1 << (width - length))):
                table[entry] = found | length << count_shift | value
        entries += table
    stream = "".join(format(codes[int(s)][0], f"0{codes[int(s)][1]}b") for s in symbols.ravel())
    stream += "0" * (-len(stream) % 32)
    encoded = np.array([int(stream[i : i + 8], 2) for i in range(0, len(stream), 8)], np.uint8)
    table_bytes = np.array(entries, "<u4" if wide else "<u2").tobytes()
    ancillary = header(HUFFMAN, (initial_bits - 1) << 4 | int(wide)) + table_bytes
    return encoded, np.frombuffer(ancillary, np.uint8)


def _code_lengths(symbols: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(symbols, return_counts=True)
    if len(values) == 1:
        return {int(values[0]): 1}
    heap = [(int(count), n, {int(value): 0}) for n, (value, count) in enumerate(zip(values, counts, strict=True))]
    heapq.heapify(heap)
    serial = len(heap)
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        merged = {symbol: depth + 1 for symbol, depth in (a[2] | b[2]).items()}
        heapq.heappush(heap, (a[0] + b[0], serial, merged))
        serial += 1
    return heap[0][2]


def _canonical(lengths: dict[int, int]) -> dict[int, tuple[int, int]]:
    code, previous, codes = 0, 0, {}
    for symbol, length in sorted(lengths.items(), key=lambda item: (item[1], item[0])):
        code <<= length - previous
        codes[symbol] = (code, length)
        code, previous = code + 1, length
    return codes


def decode_graph(pairs, outputs, consumer: bool = False):
    """One TFLM_DECODE of constant pairs into outputs given as (shape, dtype, quantization); with
    `consumer`, the first output also feeds an ADD with a graph input, else a RELU of its own gives
    the model the input it needs."""
    b = GraphBuilder("decode")
    inputs = []
    for encoded, ancillary in pairs:
        inputs += [b.tensor(encoded.shape, "uint8", data=encoded), b.tensor(ancillary.shape, "uint8", data=ancillary)]
    results = [b.tensor(shape, dtype, name=f"decoded{i}", **quant) for i, (shape, dtype, quant) in enumerate(outputs)]
    b.op(DECODE, inputs, results, CustomOptions())
    shape, dtype, quant = outputs[0] if consumer else ((2,), "float32", {})
    x = b.tensor(shape, dtype, name="x", **quant)
    y = b.tensor(shape, dtype, name="y", **quant)
    b.op("ADD", [x, results[0]], [y]) if consumer else b.op("RELU", [x], [y])
    return b.build([x], [*results, y])


def per_channel(count: int, axis: int, zero_points=None) -> dict:
    zero_points = [0] * count if zero_points is None else list(zero_points)
    return {"scale": list(RNG.uniform(0.01, 0.1, count)), "zero_point": zero_points, "axis": axis}


LUT_CASES = [
    ("int8", 1, None),
    ("int8", 2, None),
    ("int8", 3, 0),
    ("int8", 4, -1),
    ("int8", 5, None),
    ("int8", 6, 0),
    ("int8", 7, -1),
    ("int16", 4, -1),
    ("int32", 3, 0),
    ("int64", 2, None),
    ("float32", 5, None),
    ("bool", 1, None),
]


@pytest.mark.parametrize(("dtype", "width", "axis"), LUT_CASES)
def test_lut_decodes_as_tflm(dtype: str, width: int, axis: int | None) -> None:
    """Every index width, element type and channel layout (none, per channel along the first axis,
    along the last): 3 x 37 elements, so that channels start mid-byte and leave bit strings ragged."""
    shape = (3, 37) if axis != -1 else (37, 3)
    channels = 3 if axis is not None else 1
    stride = (1 << width) - 1  # one entry fewer than the width can hold, so that strides are not powers of two
    tables = RNG.integers(-100, 100, (channels, stride)).astype(dtype)
    if dtype == "float32":
        tables = RNG.normal(size=(channels, stride)).astype(np.float32)
    indices = RNG.integers(0, stride, shape)
    quant = per_channel(channels, 0 if axis == 0 else 1) if axis is not None else {}
    if dtype in ("int8", "int16") and axis is None:
        quant = {"scale": 0.05, "zero_point": 0}
    graph = decode_graph([lut_pair(tables, indices, width)], [(shape, dtype, quant)])
    assert_matches_tflm(graph, float_exact=True)
    elements = np.arange(indices.size).reshape(shape)
    channel = elements % 3 if axis == -1 else elements // (indices.size // channels)
    decoded = Engine(graph).run([np.zeros(2, np.float32)]).outputs[0]
    assert np.array_equal(decoded, tables.reshape(-1)[channel * stride + indices])


@pytest.mark.parametrize(
    ("dtype", "zero_points", "axis"),
    [
        ("int8", [-7], None),
        ("int8", [3, -4, 0, 9], 0),
        ("int8", [3, -4, 0, 9], -1),
        ("int8", [0, 0, 0, 0], 0),
        ("int16", [0, 0, 0, 0], -1),
        ("int32", None, None),
        ("int64", None, None),
        ("float32", None, None),
        ("bool", None, None),
    ],
)
def test_pruning_decodes_as_tflm(dtype: str, zero_points, axis) -> None:
    shape = (4, 21) if axis != -1 else (21, 4)
    values = RNG.integers(1, 100, shape).astype(dtype)
    if dtype == "float32":
        values = RNG.normal(size=shape).astype(np.float32)
    kept = RNG.uniform(size=shape) < 0.4
    if axis is not None:
        quant = per_channel(4, 0 if axis == 0 else 1, zero_points)
    elif zero_points is not None:
        quant = {"scale": 0.05, "zero_point": zero_points[0]}
    else:
        quant = {}
    graph = decode_graph([pruned_pair(values, kept)], [(shape, dtype, quant)])
    assert_matches_tflm(graph, float_exact=True)


@pytest.mark.parametrize(
    ("dtype", "initial_bits", "wide"),
    [("int8", 4, False), ("int8", 6, True), ("int8", 16, False), ("int16", 3, True), ("int16", 8, True)],
)
def test_huffman_decodes_as_tflm(dtype: str, initial_bits: int, wide: bool) -> None:
    """Skewed symbol counts (codes of 1 to about 11 bits): first lookups narrower than the longest
    code go through sub-tables, wider ones put their extra bits back."""
    symbols = np.round(RNG.standard_cauchy(300) * 3).clip(-120, 120).astype(dtype)
    encoded, ancillary = huffman_pair(symbols, initial_bits, wide)
    graph = decode_graph([(encoded, ancillary)], [((300,), dtype, {"scale": 0.1, "zero_point": 0})])
    assert_matches_tflm(graph)
    assert np.array_equal(Engine(graph).run([np.zeros(2, np.float32)]).outputs[0], symbols)


def test_several_pairs_and_a_consumer_as_tflm() -> None:
    """One DECODE of three pairs (LUT, pruning, Huffman), the first read by an ADD."""
    quant = {"scale": 0.05, "zero_point": 2}
    lut = lut_pair(RNG.integers(-50, 50, (1, 7)).astype(np.int8), RNG.integers(0, 7, 24), 3)
    pruned = pruned_pair(RNG.integers(-9, 9, 30).astype(np.int16), RNG.uniform(size=30) < 0.5)
    huffman = huffman_pair(RNG.integers(-3, 4, 40).astype(np.int8), 3, False)
    outputs = [((4, 6), "int8", quant), ((30,), "int16", {}), ((40,), "int8", {})]
    graph = decode_graph([lut, pruned, huffman], outputs, consumer=True)
    for seed in range(2):
        assert_matches_tflm(graph, seed=seed)


@pytest.mark.parametrize("layer", ["FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D"])
def test_decoded_weights_feed_a_layer_as_in_tflm(layer: str) -> None:
    """A layer's int8 weights from a 3-bit LUT, as TFLM's compression tools store them."""
    b = GraphBuilder("decoded_weights")
    shape = {"FULLY_CONNECTED": (4, 8), "CONV_2D": (4, 3, 3, 3), "DEPTHWISE_CONV_2D": (1, 3, 3, 3)}[layer]
    encoded, ancillary = lut_pair(RNG.integers(-100, 100, (1, 8)).astype(np.int8), RNG.integers(0, 8, shape), 3)
    pair = [b.tensor(array.shape, "uint8", data=array) for array in (encoded, ancillary)]
    weights = b.tensor(shape, "int8", name="weights", scale=0.02, zero_point=0)
    b.op(DECODE, pair, [weights], CustomOptions())
    if layer == "FULLY_CONNECTED":
        x, out, options = (1, 8), (1, 4), FullyConnectedOptions()
    else:
        x, out = (1, 5, 5, 3), (1, 5, 5, 4 if layer == "CONV_2D" else 3)
        depthwise = DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=1)
        options = Conv2DOptions(Padding.SAME) if layer == "CONV_2D" else depthwise
    x = b.tensor(x, "int8", name="x", scale=0.1, zero_point=1)
    y = b.tensor(out, "int8", name="y", scale=0.5, zero_point=-2)
    # (TFLM's convolutions with decoded weights and no bias crash the wheel's interpreter)
    bias = b.tensor(out[-1:], "int32", data=RNG.integers(-99, 99, out[-1]).astype(np.int32), scale=0.002, zero_point=0)
    b.op(layer, [x, weights, bias], [y], options)
    assert_matches_tflm(b.build([x], [y]))


@pytest.mark.parametrize(
    ("pair", "output", "reason"),
    [
        (lambda: (np.zeros(4, np.uint8), np.frombuffer(header(3), np.uint8)), ((8,), "int8"), "not version 1"),
        (lambda: (bit_string(np.full(8, 3), 2), np.frombuffer(header(LUT, 2, 4), np.uint8)), ((8,), "int8"), "of 0"),
        (lambda: lut_pair(np.zeros((1, 4), np.int8), np.zeros(8, int), 2), ((40,), "int8"), "need 10 encoded bytes"),
        (lambda: pruned_pair(np.ones(8, np.int8), np.ones(8, bool)), ((8,), "int32"), "keeps 8 values"),
        (lambda: huffman_pair(np.arange(4, dtype=np.int8), 2, False), ((4,), "int16"), "decode int8 only"),
        (lambda: huffman_pair(np.arange(4, dtype=np.int8), 2, True), ((100,), "int8"), "code words end"),
    ],
)
def test_refuses_what_tflm_fails_on_or_reads_outside(pair, output, reason: str) -> None:
    graph = decode_graph([pair()], [(*output, {})])
    with pytest.raises(McuDeployError, match=reason):
        Engine(graph).run([np.zeros(2, np.float32)])
