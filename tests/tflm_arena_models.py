"""Models of the custom operators TFLM's arena holds (CIRCULAR_BUFFER, TFLite_Detection_PostProcess,
TFLM_DECODE): tests/test_tflm_arena.py compares our arena with the tflite-micro wheel's, and with TFLM on
QEMU (bench/tflm_arena.py measures these too)."""

from __future__ import annotations

import numpy as np

from mcudeploy.ir import GraphBuilder, Padding
from mcudeploy.ir.options import Conv2DOptions, CustomOptions, FullyConnectedOptions
from mcudeploy.ir.shapes import DECODE
from test_ops_decode import huffman_pair, lut_pair, pruned_pair
from test_ops_detection import detection_graph


def streaming_conv_graph():
    """A CIRCULAR_BUFFER (its OpData; the history a variable tensor in the tail) before a convolution;
    every frame a complete run (cycles_max 1: Invoke() succeeds on the first)."""
    rng = np.random.default_rng(3)
    b = GraphBuilder("streaming")
    frame = b.tensor((1, 1, 2, 3), "int8", name="frame", scale=0.5, zero_point=-5)
    history = b.tensor((1, 4, 2, 3), "int8", name="history", scale=0.5, zero_point=-5, is_variable=True)
    weights = b.tensor((5, 4, 1, 3), "int8", scale=[0.02, 0.03, 0.01, 0.02, 0.04], axis=0,
                       data=rng.integers(-100, 100, (5, 4, 1, 3)))  # fmt: skip
    bias = b.tensor((5,), "int32", scale=[0.01, 0.015, 0.005, 0.01, 0.02], axis=0, data=rng.integers(-99, 99, 5))
    y = b.tensor((1, 1, 2, 5), "int8", name="y", scale=0.3, zero_point=2)
    b.op("CIRCULAR_BUFFER", [frame], [history], CustomOptions.from_map({"cycles_max": 1}))
    b.op("CONV_2D", [history, weights, bias], [y], Conv2DOptions(Padding.VALID))
    return b.build([frame], [y])


def decoded_weights_graph():
    """One TFLM_DECODE of three pairs (a LUT, pruning with per-channel zero points, whose copy TFLM
    allocates, and Huffman), the LUT's output a FULLY_CONNECTED's weights, the others model outputs."""
    rng = np.random.default_rng(3)
    b = GraphBuilder("decode")
    lut = lut_pair(rng.integers(-100, 100, (1, 8)).astype(np.int8), rng.integers(0, 8, (4, 8)), 3)
    pruned = pruned_pair(rng.integers(1, 100, (4, 21)).astype(np.int8), rng.uniform(size=(4, 21)) < 0.4)
    huffman = huffman_pair(rng.integers(-3, 4, 40).astype(np.int8), 3, False)
    pairs = [b.tensor(array.shape, "uint8", data=array) for pair in (lut, pruned, huffman) for array in pair]
    weights = b.tensor((4, 8), "int8", name="weights", scale=0.02, zero_point=0)
    zero_points = {"scale": [0.1, 0.2, 0.3, 0.4], "zero_point": [3, -4, 0, 9], "axis": 0}
    kept = b.tensor((4, 21), "int8", name="pruned", **zero_points)
    symbols = b.tensor((40,), "int8", name="huffman", scale=0.1, zero_point=0)
    b.op(DECODE, pairs, [weights, kept, symbols], CustomOptions())
    x = b.tensor((1, 8), "int8", name="x", scale=0.1, zero_point=1)
    y = b.tensor((1, 4), "int8", name="y", scale=0.5, zero_point=-2)
    bias = b.tensor((4,), "int32", data=rng.integers(-99, 99, 4).astype(np.int32), scale=0.002, zero_point=0)
    b.op("FULLY_CONNECTED", [x, weights, bias], [y], FullyConnectedOptions())
    return b.build([x], [y, kept, symbols])


CUSTOM_OPERATOR_GRAPHS = {
    "circular_buffer": streaming_conv_graph,
    "detection_fast": lambda: detection_graph(40, num_classes=7, detections_per_class=4),
    "detection_regular": lambda: detection_graph(20, use_regular_nms=True),
    "decode": decoded_weights_graph,
}
