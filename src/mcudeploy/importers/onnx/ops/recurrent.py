"""LSTM → float UNIDIRECTIONAL_SEQUENCE_LSTM.

What TFLite's LSTM computes, and only that: one forward direction, the default
activations (sigmoid gates, tanh cell and output), no peepholes, no coupled
input-forget gate, no clip (ONNX clips the gates' pre-activations, TFLite the
cell state), every sequence at full length. The states start from zero: TFLite
keeps them in variable tensors that an MCU resets to zero and then carries from
one invocation to the next, so an initial_h/initial_c is taken only when it is
all zeros. Y is the op's output reshaped (one direction); Y_h is its last time
step; Y_c lives only in the cell-state variable, so a model that reads it is refused.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.importers.onnx.convert import Context, Weights, converts
from mcudeploy.importers.onnx.layout import identity
from mcudeploy.ir import NO_TENSOR, DType
from mcudeploy.ir.options import (
    BIASES,
    CELL_STATE,
    HIDDEN_STATE,
    INPUT_WEIGHTS,
    RECURRENT_WEIGHTS,
    SequenceLSTMOptions,
    StridedSliceOptions,
)

DEFAULT_ACTIVATIONS = ("Sigmoid", "Tanh", "Tanh")
TFLITE_GATES = ("i", "f", "c", "o")
"""TFLite's order of the gates (input, forget, cell, output); ONNX stacks them as i, o, f, c."""
ONNX_GATES = ("i", "o", "f", "c")
LSTM_INPUTS = 24


@converts("LSTM")
def lstm(ctx: Context) -> None:
    _check_attributes(ctx)
    x_name, w_name, r_name, b_name = (ctx.input_name(i) for i in range(4))
    batch_major = ctx.attr("layout", 0, int) == 1
    x_shape = ctx.shape(x_name)
    if len(x_shape) != 3:
        raise ctx.malformed(f"X of shape {list(x_shape)}, expected 3-D")
    steps, batch = (x_shape[1], x_shape[0]) if batch_major else x_shape[:2]
    input_weights, recurrent_weights = (_gates(ctx, name) for name in (w_name, r_name))
    hidden = recurrent_weights["i"].shape[0]
    if ctx.attr("hidden_size", hidden, int) != hidden or recurrent_weights["i"].shape != (hidden, hidden):
        raise ctx.malformed(f"R of shape {list(ctx.shape(r_name))} does not fit hidden_size {hidden}")
    if input_weights["i"].shape != (hidden, x_shape[2]):
        raise ctx.malformed(f"W of shape {list(ctx.shape(w_name))} does not fit X's {x_shape[2]} features")
    biases = _biases(ctx, b_name, hidden)
    _check_zero_or_absent(ctx, 7, "peephole weights P (TFLite Micro's LSTM has no peepholes)")
    for position, state in ((5, "initial_h"), (6, "initial_c")):
        _check_zero_or_absent(ctx, position, f"a nonzero {state} (TFLite's LSTM states start from zero)")
    _check_full_lengths(ctx, steps, batch)

    inputs = [NO_TENSOR] * LSTM_INPUTS
    inputs[0] = ctx.tensor(x_name, identity(3))
    for gate, w, r, b in zip(TFLITE_GATES, INPUT_WEIGHTS, RECURRENT_WEIGHTS, BIASES, strict=True):
        inputs[w] = ctx.add_constant(Weights(input_weights[gate]), f"{w_name}_{gate}")
        inputs[r] = ctx.add_constant(Weights(recurrent_weights[gate]), f"{r_name}_{gate}")
        inputs[b] = ctx.add_constant(Weights(biases[gate]), f"{ctx.node.name}_bias_{gate}")
    for position, state in ((HIDDEN_STATE, "hidden"), (CELL_STATE, "cell")):
        name = f"{ctx.node.name}_{state}_state"
        inputs[position] = ctx.builder.tensor((batch, hidden), DType.FLOAT32, is_variable=True, name=name)
    sequence_shape = (batch, steps, hidden) if batch_major else (steps, batch, hidden)
    sequence = ctx.new_tensor(sequence_shape, DType.FLOAT32, name=f"{ctx.node.name}_sequence")
    ctx.emit("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [sequence], SequenceLSTMOptions(time_major=not batch_major))
    _outputs(ctx, sequence, sequence_shape, batch_major)


def _check_attributes(ctx: Context) -> None:
    direction = ctx.attr("direction", "forward", str)
    if direction != "forward":
        raise ctx.unsupported(f"direction '{direction}' (TFLite's LSTM runs forward only)")
    activations = ctx.node.attributes.get("activations", list(DEFAULT_ACTIVATIONS))
    if tuple(activations) != DEFAULT_ACTIVATIONS:
        raise ctx.unsupported(f"activations {list(activations)} (only {list(DEFAULT_ACTIVATIONS)})")
    if "clip" in ctx.node.attributes:
        raise ctx.unsupported("clip (ONNX clips the gates' inputs, TFLite's LSTM only the cell state)")
    if ctx.attr("input_forget", 0, int):
        raise ctx.unsupported("input_forget=1 (a coupled input-forget gate)")
    if ctx.attr("layout", 0, int) not in (0, 1):
        raise ctx.malformed(f"layout {ctx.attr('layout', 0, int)}, expected 0 or 1")


def _gates(ctx: Context, name: str) -> dict[str, np.ndarray]:
    """A constant of one direction split into its four gates, by gate letter."""
    if not ctx.is_constant(name):
        raise ctx.unsupported(f"'{name}' must be a constant")
    values = np.asarray(ctx.constant(name), dtype=np.float32)
    if values.ndim != 3 or values.shape[0] != 1 or values.shape[1] % 4:
        raise ctx.malformed(f"'{name}' of shape {list(values.shape)} is not one direction's four gates")
    return dict(zip(ONNX_GATES, (np.ascontiguousarray(g) for g in np.split(values[0], 4)), strict=True))


def _biases(ctx: Context, name: str, hidden: int) -> dict[str, np.ndarray]:
    """Wb + Rb for each gate (zeros without B)."""
    if not name:
        return {gate: np.zeros(hidden, np.float32) for gate in ONNX_GATES}
    if not ctx.is_constant(name) or ctx.shape(name) != (1, 8 * hidden):
        raise ctx.unsupported(f"B must be a constant of shape [1, {8 * hidden}]")
    values = np.asarray(ctx.constant(name), dtype=np.float32)[0]
    summed = values[: 4 * hidden] + values[4 * hidden :]
    return dict(zip(ONNX_GATES, np.split(summed, 4), strict=True))


def _check_zero_or_absent(ctx: Context, position: int, what: str) -> None:
    name = ctx.input_name(position)
    if name and (not ctx.is_constant(name) or np.any(ctx.constant(name))):
        raise ctx.unsupported(what)


def _check_full_lengths(ctx: Context, steps: int, batch: int) -> None:
    name = ctx.input_name(4)
    if not name:
        return
    lengths = np.ravel(ctx.constant(name)) if ctx.is_constant(name) else None
    if lengths is None or lengths.size != batch or np.any(lengths != steps):
        raise ctx.unsupported(f"sequence_lens other than the full {steps} steps of every sequence")


def _outputs(ctx: Context, sequence: int, sequence_shape: tuple[int, int, int], batch_major: bool) -> None:
    """Y as the sequence with its direction axis, Y_h as the last step; Y_c is refused if read."""
    used = [bool(name) and (name in ctx.consumers or name in ctx.model.outputs) for name in ctx.node.outputs]
    used += [False] * (3 - len(used))
    if used[2]:
        raise ctx.unsupported("Y_c is read (TFLite's LSTM keeps the cell state in a variable, no output)")
    time_axis = 1 if batch_major else 0
    if used[0]:
        y = ctx.output(0, identity(4))
        shape = ctx.builder.tensors[y].shape
        ctx.emit("RESHAPE", [sequence, ctx.int32_constant(shape)], [y])
    if used[1]:
        steps = sequence_shape[time_axis]
        begin, end = [0, 0, 0], list(sequence_shape)
        begin[time_axis] = steps - 1
        bounds = [ctx.int32_constant(v) for v in (begin, end, [1, 1, 1])]
        ctx.emit("STRIDED_SLICE", [sequence, *bounds], [ctx.output(1, identity(3))], StridedSliceOptions())
