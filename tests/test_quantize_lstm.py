"""`quantize` of a float UNIDIRECTIONAL_SEQUENCE_LSTM, TensorFlow's way: the int8 (8x8_16) and 16x8 LSTMs
it writes run in TFLite Micro bit for bit like our engine over invocations that carry the states, stay
close to the float model, and take an int16 cell state scaled by the power of two over its calibrated
range of every time step."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import Engine
from mcudeploy.importers.tflite import read_tflite, write_tflite
from mcudeploy.ir import DType
from mcudeploy.ir.options import CELL_STATE, HIDDEN_STATE
from mcudeploy.quantization import Method, observe_ranges, quantize_graph
from mcudeploy.quantization.quality import compare_outputs
from mcudeploy.quantization.rebuild import cell_state_quantization
from mcudeploy.quantization.report import calibration_report
from single_op import assert_matches_tflm
from test_ops_lstm import lstm_graph

SHAPE = {"batches": 1, "input_size": 6, "cells": 8, "seed": 1}
"""A small seeded float LSTM (its weights depend on these, not on the number of time steps)."""


def sequences(graph, count: int, seed: int) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(graph.graph_inputs[0].shape).astype(np.float32)] for _ in range(count)]


@pytest.mark.parametrize(("activations", "least_sqnr_db"), [(DType.INT8, 33), (DType.INT16, 38)])
def test_quantized_lstm_runs_in_tflite_micro_as_in_our_engine_close_to_float(activations, least_sqnr_db):
    graph = lstm_graph(time_steps=8, **SHAPE)
    quantized = quantize_graph(graph, sequences(graph, 16, seed=0), activations=activations).graph
    assert_matches_tflm(quantized, seed=5, invocations=3)
    written = read_tflite(write_tflite(quantized))
    (lstm,) = [op for op in written.operators if op.op_type == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    hidden, cell, output = (
        written.tensors[i] for i in (lstm.inputs[HIDDEN_STATE], lstm.inputs[CELL_STATE], lstm.outputs[0])
    )
    assert (hidden.dtype, cell.dtype, output.dtype) == (activations, DType.INT16, activations)
    assert hidden.quantization == output.quantization and hidden.is_variable and cell.is_variable
    (quality,) = compare_outputs(graph, written, sequences(graph, 4, seed=100))
    assert quality.sqnr_db > least_sqnr_db


def test_the_cell_state_range_covers_every_time_step_not_only_the_last():
    """Against the same LSTM run one step per invocation: its cell state after each one."""
    graph, one_step = lstm_graph(time_steps=8, **SHAPE), lstm_graph(time_steps=1, **SHAPE)
    calibration = sequences(graph, 3, seed=0)
    cell = graph.operators[0].inputs[CELL_STATE]
    engine = Engine(one_step)
    steps = [
        engine.run([inputs[0][:, step : step + 1]]).tensors[one_step.operators[0].inputs[CELL_STATE]]
        for inputs in calibration
        for step in range(8)
    ]
    low, high = observe_ranges(graph, calibration)[cell]
    assert np.isclose(low, min(0.0, np.min(steps)), rtol=1e-6) and np.isclose(high, max(0.0, np.max(steps)), rtol=1e-6)
    assert max(-low, high) > np.abs(steps[-1]).max(), "the last step alone would give a narrower range"


@pytest.mark.parametrize(
    ("low", "high", "scale"),
    [(-0.3, 0.2, 2**-15), (-1.0, 0.5, 2**-15), (-1.01, 0.5, 2**-14), (0.0, 3.47, 2**-13), (-5000.0, 0.0, 2**-5)],
)
def test_the_cell_state_scale_is_the_power_of_two_over_its_range(low, high, scale):
    """TensorFlow's GetPowerOfTwoScale: 2^p ≥ the larger end, p from 0 to 10, over 32768 steps."""
    assert cell_state_quantization(low, high).single_scale == scale


def test_the_calibration_report_gives_the_cell_state_its_int16_range():
    graph = lstm_graph(time_steps=8, **SHAPE)
    quantized = quantize_graph(graph, sequences(graph, 16, seed=0))
    reports, _ = calibration_report(graph, quantized, sequences(graph, 4, seed=100), held_out=True)
    (cell,) = [r for r in reports if r.name == "cell"]
    assert max(-cell.calibrated[0], cell.calibrated[1]) > 2  # so 2^2 is the least power of two over it
    assert (cell.quantized, cell.clipped) == ((-4.0, 32767 * 2**-13), 0.0)


@pytest.mark.parametrize("activations", [DType.INT8, DType.INT16])
def test_a_time_major_lstm_with_cell_clip_calibrated_by_entropy_runs_as_in_tflite_micro(activations):
    graph = lstm_graph(batches=2, time_steps=5, input_size=4, cells=6, time_major=True, cell_clip=1.0)
    quantized = quantize_graph(graph, sequences(graph, 8, seed=0), Method.ENTROPY, activations).graph
    assert_matches_tflm(quantized, seed=2, invocations=3)
