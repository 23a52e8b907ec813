"""The streaming DEPTHWISE_CONV_2D kernel of the DSP cores (`md_depthwise_dsp.c`: stream_row_3x3, the
window sums and narrow outputs in assembly) agrees bit for bit with the reference engine on the
Cortex-M4, M7 and M33: many channels over small images (windows cut by the padding on every side),
runs of pixels, strides 1 and 2, images one pixel wide or high, clamped and unclamped outputs, exact (wide shifts)
and folded requantization, per-tensor and per-channel scales, no bias, a depth multiplier."""

from __future__ import annotations

import pytest

from mcudeploy.devices import find_device
from mcudeploy.estimate.stack import measure_stack_layers
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Graph, KernelVariant, Schedule
from mcudeploy.ir.options import Activation, DepthwiseConv2DOptions, Padding
from mcudeploy.validation.runner import Validator
from test_codegen import Family, _depthwise


def _per_tensor(f: Family, shape: tuple[int, ...]) -> None:
    """A 3x3 SAME depthwise layer with one scale for the whole filter."""
    x = f.input(shape, "int8")
    y = f.output(shape, "int8", scale=0.2)
    weights = f.weights((1, 3, 3, shape[3]))
    f.op("DEPTHWISE_CONV_2D", [x, weights, f.bias(shape[3])], [y], DepthwiseConv2DOptions(Padding.SAME))


def streaming_paths() -> Graph:
    f = Family("depthwise_streaming", 11)
    same = DepthwiseConv2DOptions(Padding.SAME)
    relu6 = DepthwiseConv2DOptions(Padding.SAME, activation=Activation.RELU6)
    _depthwise(f, "int8", (1, 6, 6, 128), 1, relu6, out_scale=0.05)  # two chunks of 64 channels, clamped
    _depthwise(f, "int8", (1, 3, 3, 72), 1, same, bias=None)  # every window cut but one; a chunk of 8
    _depthwise(f, "int8", (1, 5, 7, 32), 1, relu6)  # runs of 2 pixels
    _depthwise(f, "int8", (1, 4, 9, 16), 1, same, bias=None)  # no bias: a pixel at a time
    _depthwise(f, "int8", (1, 5, 4, 16), 1, DepthwiseConv2DOptions(Padding.SAME, 2, 2, activation=Activation.RELU6))
    _depthwise(f, "int8", (1, 7, 7, 8), 1, DepthwiseConv2DOptions(Padding.SAME, 2, 2))  # cut right and bottom
    _depthwise(f, "int8", (1, 5, 1, 8), 1, same)  # one column: windows of one tap a row
    _depthwise(f, "int8", (1, 1, 6, 12), 1, same)  # one row
    _depthwise(f, "int8", (1, 6, 5, 12), 1, DepthwiseConv2DOptions(Padding.VALID))
    _depthwise(f, "int8", (1, 4, 5, 8), 1, same, out_scale=5e-5)  # left shifts: the exact requantization
    _per_tensor(f, (1, 4, 4, 8))
    _depthwise(f, "int8", (1, 4, 5, 4), 4, DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=4))
    graph = f.graph()
    for op in graph.operators:
        op.variant = KernelVariant(schedule=Schedule.STREAMING)
    return graph


@pytest.fixture(scope="module")
def validator():
    checker = Validator(streaming_paths())
    yield checker
    checker.close()


@pytest.mark.parametrize("target", ["host", "m4", "m7", "m33"])
def test_streaming_depthwise_is_bit_exact(validator, target: str):
    result = validator.validate_target(target, [random_inputs(validator.graph, seed) for seed in (0, 1)])
    assert [r.divergence for r in result.inputs if not r.agrees] == []


def chained() -> Graph:
    """Two streaming depthwise layers of 32 channels (runs of 2 pixels), the second over the first's
    output: the planner may place the second's output over its own input, as the contract allows."""
    f = Family("depthwise_chained", 12)
    shape = (1, 6, 7, 32)
    x = f.input(shape)
    middle = f._tensor(shape, "int8", 0.05, -3)
    y = f.output(shape, scale=0.05)
    relu6 = DepthwiseConv2DOptions(Padding.SAME, activation=Activation.RELU6)
    for source, result in ((x, middle), (middle, y)):
        weights = f.weights((1, 3, 3, 32), axis=3)
        f.op("DEPTHWISE_CONV_2D", [source, weights, f.bias(32)], [result], relu6)
    graph = f.graph()
    for op in graph.operators:
        op.variant = KernelVariant(schedule=Schedule.STREAMING)
    return graph


def test_streaming_depthwise_over_its_own_input_is_bit_exact():
    checker = Validator(chained())
    try:
        graph, plan = checker.graph, checker.plan
        second = graph.operators[1]
        source, result = (plan.tensor_offset(i) for i in (second.inputs[0], second.outputs[0]))
        assert result < source < result + graph.tensors[second.outputs[0]].nbytes  # written over its input
        checked = checker.validate_target("m4", [random_inputs(graph, seed) for seed in (0, 1)])
        assert [r.divergence for r in checked.inputs if not r.agrees] == []
    finally:
        checker.close()


def test_static_stack_bound_derives_the_assembly_frames(tmp_path):
    """md_dw_window_RxC and md_dw_narrow_outputs push their registers and their loop state: the
    static bound derives their frames and stays above the painted figure."""
    measure = measure_stack_layers(streaming_paths(), find_device("STM32F446RE"), tmp_path)
    assert measure.left_out == () and measure.used <= measure.static
