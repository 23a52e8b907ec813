"""Models of the custom operators TFLM's arena holds (CIRCULAR_BUFFER, TFLite_Detection_PostProcess,
TFLM_DECODE) and of its control flow (IF, WHILE, CALL_ONCE: several subgraphs): tests/test_tflm_arena.py
compares our arena with the tflite-micro wheel's, and with TFLM on QEMU (bench/tflm_arena.py measures
these too)."""

from __future__ import annotations

import numpy as np

from mcudeploy.ir import GraphBuilder, Padding
from mcudeploy.ir.options import (
    CallOnceOptions,
    Conv2DOptions,
    CustomOptions,
    ElementwiseOptions,
    FullyConnectedOptions,
)
from mcudeploy.ir.shapes import DECODE
from test_codegen_control_flow import branched_convolutions
from test_control_flow_waiting import waiting_if, waiting_while
from test_ops_control_flow import VALUES, counting_loop, if_graph, nested_loop
from test_ops_decode import huffman_pair, lut_pair, pruned_pair
from test_ops_detection import detection_graph


def streaming_conv_graph(cycles_max: int = 1):
    """A CIRCULAR_BUFFER (its OpData; the history a variable tensor in the tail) before a convolution;
    every frame a complete run (cycles_max 1: Invoke() succeeds on the first), or every cycles_max-th
    (the others end in kTfLiteAbort, waiting for frames)."""
    rng = np.random.default_rng(3)
    b = GraphBuilder("streaming")
    frame = b.tensor((1, 1, 2, 3), "int8", name="frame", scale=0.5, zero_point=-5)
    history = b.tensor((1, 4, 2, 3), "int8", name="history", scale=0.5, zero_point=-5, is_variable=True)
    weights = b.tensor((5, 4, 1, 3), "int8", scale=[0.02, 0.03, 0.01, 0.02, 0.04], axis=0,
                       data=rng.integers(-100, 100, (5, 4, 1, 3)))  # fmt: skip
    bias = b.tensor((5,), "int32", scale=[0.01, 0.015, 0.005, 0.01, 0.02], axis=0, data=rng.integers(-99, 99, 5))
    y = b.tensor((1, 1, 2, 5), "int8", name="y", scale=0.3, zero_point=2)
    b.op("CIRCULAR_BUFFER", [frame], [history], CustomOptions.from_map({"cycles_max": cycles_max}))
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


def initialised_once_graph():
    """CALL_ONCE of a subgraph of one ADD of constants (float32), before the main graph's ADD: the
    called subgraph's tensors planned in the CALL_ONCE's scope."""
    init = GraphBuilder("init")
    ones = init.tensor(VALUES, "float32", data=np.ones(VALUES, np.float32), name="ones")
    twos = init.tensor(VALUES, "float32", name="twos")
    init.op("ADD", [ones, ones], [twos], ElementwiseOptions())
    b = GraphBuilder("once")
    x, y = b.tensor(VALUES, "float32", name="x"), b.tensor(VALUES, "float32", name="y")
    b.op("CALL_ONCE", [], [], CallOnceOptions(init_subgraph=1))
    b.op("ADD", [x, x], [y], ElementwiseOptions())
    return b.build([x], [y], [init.build([], [])])


CONTROL_FLOW_GRAPHS = {
    "if_add_mul": if_graph,  # int8 ADD and MUL branches
    "if_convolutions": branched_convolutions,  # CONV_2D branches: CMSIS-NN's scratch in a subgraph
    "while_counting": lambda: counting_loop(start=0),  # LESS; ADD of int32 and float32
    "while_if_nested": lambda: nested_loop(start=0),  # an IF inside the WHILE's body
    "call_once": initialised_once_graph,
}
ARENA_MODEL_GRAPHS = {**CUSTOM_OPERATOR_GRAPHS, **CONTROL_FLOW_GRAPHS}
WAITING_GRAPHS = {
    "waiting_if": waiting_if,  # a CIRCULAR_BUFFER in each branch; RELU
    "waiting_while": waiting_while,  # in the WHILE's body; MAXIMUM
    "waiting_nested": lambda: waiting_while(nested=True),  # in an IF inside the body
}
"""Streaming models whose first inferences end waiting for frames (so not in bench/tflm_arena.py,
which runs one Invoke() to completion): their arena is compared with the wheel's only."""
