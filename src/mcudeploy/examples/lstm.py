"""An int8 LSTM unrolled over time into plain operators, as converters emit it without a fused LSTM kernel.

Each time step is 13 operators (two FULLY_CONNECTED for the input and recurrent
gates, ADD, SPLIT into four gates, three LOGISTIC and two TANH, three MUL, one
ADD for the cell state), so a few dozen steps make a graph of hundreds of operators
whose cell and hidden states chain from step to step: the shape that stresses an
arena planner. Weights are seeded random; the arithmetic is a valid int8 network.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.ir import Graph, GraphBuilder
from mcudeploy.ir.options import ElementwiseOptions, FullyConnectedOptions, SplitOptions, UnpackOptions

OPS_PER_STEP = 13
GATE_SCALE = 0.05
STATE_SCALE = 1 / 128  # TANH's int8 output scale in TFLite Micro, reused for the states


def build_unrolled_lstm(steps: int = 54, features: int = 16, units: int = 32, seed: int = 0) -> Graph:
    """An LSTM over `steps` frames of `features` values with `units` cells: 2 + 13 x steps operators."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder(f"unrolled_lstm_{steps}x{features}x{units}", f"int8 LSTM unrolled over {steps} steps")

    def activation(width: int, scale: float = GATE_SCALE, zero_point: int = 0) -> int:
        return b.tensor((1, width), "int8", scale=scale, zero_point=zero_point)

    def fully_connected(x: int, inputs: int, outputs: int) -> int:
        weights = b.tensor((outputs, inputs), "int8", scale=0.01, data=rng.integers(-127, 128, (outputs, inputs)))
        bias = b.tensor((outputs,), "int32", scale=0.01 * b.tensors[x].quantization.scale[0], data=np.zeros(outputs))
        y = activation(outputs)
        b.op("FULLY_CONNECTED", [x, weights, bias], [y], FullyConnectedOptions())
        return y

    frames = b.tensor((steps, 1, features), "int8", scale=0.05, name="frames")
    inputs = [activation(features) for _ in range(steps)]
    b.op("UNPACK", [frames], inputs, UnpackOptions(num=steps, axis=0))
    split_axis = b.tensor((), "int32", data=np.array(1, dtype=np.int32))
    hidden = b.tensor((1, units), "int8", scale=STATE_SCALE, data=np.zeros((1, units)), name="h0")
    cell = b.tensor((1, units), "int8", scale=STATE_SCALE, data=np.zeros((1, units)), name="c0")
    for x in inputs:
        gates = activation(4 * units)
        b.op("ADD", [fully_connected(x, features, 4 * units), fully_connected(hidden, units, 4 * units)], [gates],
             ElementwiseOptions())  # fmt: skip
        raw = [activation(units) for _ in range(4)]
        b.op("SPLIT", [split_axis, gates], raw, SplitOptions(num_splits=4))
        kinds = ["LOGISTIC", "LOGISTIC", "TANH", "LOGISTIC"]
        squashed = []
        for kind, gate in zip(kinds, raw, strict=True):
            y = activation(units, 1 / 256, -128) if kind == "LOGISTIC" else activation(units, STATE_SCALE)
            b.op(kind, [gate], [y])
            squashed.append(y)
        input_gate, forget_gate, candidate, output_gate = squashed
        kept, added, new_cell = (activation(units, STATE_SCALE) for _ in range(3))
        b.op("MUL", [forget_gate, cell], [kept], ElementwiseOptions())
        b.op("MUL", [input_gate, candidate], [added], ElementwiseOptions())
        b.op("ADD", [kept, added], [new_cell], ElementwiseOptions())
        squashed_cell, new_hidden = activation(units, STATE_SCALE), activation(units, STATE_SCALE)
        b.op("TANH", [new_cell], [squashed_cell])
        b.op("MUL", [output_gate, squashed_cell], [new_hidden], ElementwiseOptions())
        hidden, cell = new_hidden, new_cell
    logits = fully_connected(hidden, units, 12)
    return b.build(inputs=[frames], outputs=[logits])
