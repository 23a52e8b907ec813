"""Every path of the DSP kernels (`mdnn/Source/conv/md_conv_dsp.c`, `md_depthwise_dsp.c`, `md_fully_connected_dsp.c`,
`md_lstm_dsp.c`) on the emulated Cortex-M4 (QEMU mps2-an386), and of their Helium variants on the
Cortex-M55 (mps3-an547), agrees bit for bit with the reference engine: depthwise from
padded channel planes (stride-1 2x2 output blocks with an odd last row and column and rows beyond
a strip, tall images transposed, one strip of a few rows, stride 2, dilated windows, the
folded constants of a narrow layer with and without a clamp inside int8's range, and the exact
requantization of layers that are not narrow),
streaming (whole 3x3 windows, runs of a row over the filter rows inside the image at strides 1
and 2, edges, VALID, channels beyond a multiple of 4), depth multipliers
of 4 and 8, im2col columns of channel counts that are not a multiple of 4 (inside and edge windows, 135 values
long, an odd count of 4-value groups, an odd last output channel), Helium's interleaved columns
with edges and dilation, pointwise convolutions (`md_conv_1x1_dsp.c`: rows of 4 + 16k and 8 + 16k values,
odd channel and pixel counts, mixed narrow and wide channels, all-zero filter rows), fully connected
layers four and three rows at a time with their remainders, over spans of unpacked input and chunks
of outputs, and the LSTM's gate products (int8: two rows at a
time over blocks of 8 with an odd last row; 16x8: SMLALD two rows at a time, VMLALDAVA row by row;
depths beyond whole words and vectors in both)."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from conftest import divergences
from mcudeploy.codegen import render
from mcudeploy.codegen.library import library_text
from mcudeploy.examples.kws import build_kws_cnn
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Columns, Graph, KernelVariant, Loops, Schedule, WeightLayout
from mcudeploy.ir.options import (
    Activation,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    FullyConnectedOptions,
    Padding,
    SequenceLSTMOptions,
)
from mcudeploy.kernels import kernel_contract
from mcudeploy.kernels.loops import NARROW_BOTH_WAYS, has_rolled_loops
from mcudeploy.memory import plan_memory
from mcudeploy.params.constant_inputs import pair_interleaved
from mcudeploy.params.requantization import WALK_RECORD, requantization
from mcudeploy.validation.runner import Validator
from test_codegen import Family, _conv, _conv_size, _depthwise, _fully_connected, lstm_layer


def dsp_paths() -> Graph:
    f = Family("dsp_paths", 3)
    depthwise = DepthwiseConv2DOptions
    _depthwise(f, "int8", (1, 6, 7, 32), 1, depthwise(Padding.SAME, depth_multiplier=1))  # planes, pairs
    _depthwise(f, "int8", (1, 3, 6, 128), 1, depthwise(Padding.SAME, 1, 2, depth_multiplier=1))  # planes, stride 2
    _depthwise(f, "int8", (1, 5, 7, 128), 1, depthwise(Padding.SAME, 2, 1))  # planes, row by row in pairs, one past
    _depthwise(f, "int8", (1, 3, 107, 16), 1, depthwise(Padding.SAME))  # planes, a last row wider than a strip: 104 + 3
    _depthwise(f, "int8", (1, 7, 9, 20), 1, depthwise(Padding.VALID, depth_multiplier=1))  # streaming, inside
    dilated = depthwise(Padding.SAME, dilation_h=2, dilation_w=2, depth_multiplier=1)
    _depthwise(f, "int8", (1, 8, 7, 20), 1, dilated, bias=None)  # planes, any window
    _depthwise(f, "int8", (1, 12, 11, 6), 1, depthwise(Padding.SAME, depth_multiplier=1))  # streaming
    _depthwise(f, "int8", (1, 11, 10, 1), 8, depthwise(Padding.SAME, 2, 2, depth_multiplier=8))
    _depthwise(f, "int8", (1, 7, 6, 2), 4, depthwise(Padding.SAME, depth_multiplier=4))
    relu6 = depthwise(Padding.SAME, depth_multiplier=1, activation=Activation.RELU6)
    _depthwise(f, "int8", (1, 6, 7, 32), 1, relu6)  # planes, folded constants, clamped below int8's range
    _depthwise(f, "int8", (1, 5, 6, 8), 1, depthwise(Padding.VALID, activation=Activation.RELU6))  # streaming, clamped
    _depthwise(f, "int8", (1, 6, 7, 8), 1, depthwise(Padding.SAME))  # streaming runs over 2 and 3 filter rows
    _depthwise(f, "int8", (1, 6, 6, 12), 1, depthwise(Padding.SAME, 2, 2))  # streaming runs at stride 2, bottom edge
    # planes at stride 1 in 2x2 blocks: odd last row and column, rows of 52 + 3 columns, odd channels;
    # tall images transposed (rows of 9, of 52 + 3)
    _depthwise(f, "int8", (1, 5, 5, 64), 1, depthwise(Padding.SAME, depth_multiplier=1))
    _depthwise(f, "int8", (1, 4, 55, 32), 1, relu6)
    _depthwise(f, "int8", (1, 9, 5, 8), 1, depthwise(Padding.SAME, depth_multiplier=1))
    _depthwise(f, "int8", (1, 55, 6, 8), 1, relu6)
    _depthwise(f, "int8", (1, 3, 4, 64), 1, depthwise(Padding.SAME, depth_multiplier=1))
    _depthwise(f, "int8", (1, 7, 6, 13), 1, depthwise(Padding.SAME, depth_multiplier=1))
    _conv(f, "int8", (1, 10, 9, 3), 8, (3, 3), Conv2DOptions(Padding.SAME, 2, 2))  # 27-value columns
    _conv(f, "int8", (1, 8, 9, 1), 6, (3, 3), Conv2DOptions(Padding.SAME))  # 9-value columns (im2col: 72 B in)
    _conv(f, "int8", (1, 4, 5, 8), 6, (1, 1), Conv2DOptions(activation=Activation.RELU6))  # clamped below int8's range
    _conv(f, "int8", (1, 12, 10, 15), 16, (3, 3), Conv2DOptions(Padding.SAME))  # 135-value columns
    _conv(f, "int8", (1, 9, 8, 4), 8, (3, 3), Conv2DOptions(Padding.SAME))  # 12-value runs, 4-value edge taps
    clamped_conv = Conv2DOptions(Padding.VALID, activation=Activation.RELU6)
    _conv(f, "int8", (1, 6, 7, 8), 7, (3, 3), clamped_conv, bias=None)  # odd last channel, no bias, clamped
    _conv(f, "int8", (1, 5, 6, 16), 6, (3, 3), Conv2DOptions(Padding.SAME))  # Helium: interleaved, edge columns
    dilated_conv = Conv2DOptions(Padding.SAME, dilation_h=2, dilation_w=2)
    _conv(f, "int8", (1, 6, 7, 16), 5, (3, 3), dilated_conv)  # interleaved tap by tap; DSP: an odd last channel
    # an output scale below input x weight scale: left shifts, so the exact requantization, not the
    # one-SMMULR path of narrow layers (right shifts of 1 to 22 only)
    _depthwise(f, "int8", (1, 6, 7, 32), 1, depthwise(Padding.SAME, depth_multiplier=1), out_scale=5e-5)  # planes
    _depthwise(f, "int8", (1, 12, 11, 6), 1, depthwise(Padding.SAME, depth_multiplier=1), out_scale=5e-5)  # streaming
    # right shifts past 22: streaming takes the exact requantization, not folded_output's addend
    _depthwise(f, "int8", (1, 5, 6, 8), 1, depthwise(Padding.VALID), out_scale=5e3)
    _conv(f, "int8", (1, 8, 9, 5), 6, (3, 3), Conv2DOptions(Padding.SAME), out_scale=5e-5)
    # pointwise (md_conv_1x1_dsp.c): odd channel and pixel counts; no bias; narrow and wide channels mixed
    _conv(f, "int8", (1, 5, 5, 36), 9, (1, 1), Conv2DOptions(Padding.VALID))  # 36 = 4 + 2 x 16 values a row
    _conv(f, "int8", (1, 2, 3, 28), 6, (1, 1), Conv2DOptions())  # 28 = 4 + 8 + 16
    _conv(f, "int8", (1, 1, 1, 32), 8, (1, 1), Conv2DOptions())  # one pixel: a one-column scratch
    _conv(f, "int8", (1, 3, 4, 12), 6, (1, 1), Conv2DOptions(), bias=None)
    _conv(f, "int8", (1, 4, 4, 8), 10, (1, 1), Conv2DOptions(), out_scale=1.5e-3)
    _pruned_pointwise(f, 12, Activation.RELU6)  # a clamp inside int8's range: the C pairs
    _pruned_pointwise(f, 44, Activation.NONE)  # 44 = 4 + 8 + 2 x 16: the assembly pairs
    _fully_connected(f, "int8", (2, 23), 8, per_channel=True)  # 3 rows at a time, then 2, depth tail
    _fully_connected(f, "int8", (1, 40), 7, per_channel=False, bias=None)  # then an odd last row
    _fully_connected(f, "int8", (2, 17), 6, per_channel=True)  # 4 rows, then 2
    _fully_connected(f, "int8", (1, 36), 5, per_channel=False)  # 4 rows, then 1
    _fully_connected(f, "int8", (1, 600), 9, per_channel=True)  # unpacked in spans of 192, 192, 192, 24
    _fully_connected(f, "int8", (2, 30), 134, per_channel=False)  # 7 groups; chunks of 64, 64, 4 outputs, then 2
    _unclamped_fully_connected(f, 48, 12)  # all of int8's range: the clamp by SSAT
    lstm_layer(f, "int8", (2, 3, 37), 11, SequenceLSTMOptions())  # rows 8 + 3, depths 37 and 11
    lstm_layer(f, "int16", (3, 2, 13), 9, SequenceLSTMOptions(time_major=True))  # rows 8 + 1, depths 13 and 9
    graph = f.graph()
    for op in graph.operators:  # the tall images from planes
        if op.op_type == "DEPTHWISE_CONV_2D" and tuple(graph.tensors[op.inputs[0]].shape) in TALL:
            op.variant = KernelVariant(schedule=Schedule.PLANES)
    return graph


TALL = {(1, 9, 5, 8), (1, 55, 6, 8)}


def _unclamped_fully_connected(f: Family, depth: int, units: int) -> None:
    """A per-tensor fully connected layer without activation: its outputs clamped to int8's range only."""
    x = f.input((1, depth), "int8")
    y = f.output((1, units), "int8", scale=0.5, zero_point=-3)
    options = FullyConnectedOptions(Activation.NONE)
    f.op("FULLY_CONNECTED", [x, f.weights((units, depth)), f.bias(units)], [y], options)


def _pruned_pointwise(f: Family, depth: int, activation: Activation) -> None:
    """A pointwise convolution with all-zero filter rows (pruned channels, one value for every pixel),
    an odd count of the other channels, an odd pixel count."""
    x = f.input((1, 3, 5, depth), "int8")
    values = f.rng.integers(-127, 128, (11, 1, 1, depth))
    values[[1, 2, 4, 7, 9]] = 0
    w = f.constant(values, "int8", scale=list(f.rng.uniform(0.002, 0.02, 11)), axis=0)
    y = f.output((1, 3, 5, 11), "int8", scale=0.3 if activation == Activation.RELU6 else 0.5)
    f.op("CONV_2D", [x, w, f.bias(11)], [y], Conv2DOptions(activation=activation))


@pytest.fixture(scope="module")
def validator():
    checker = Validator(dsp_paths())
    yield checker
    checker.close()


@pytest.mark.parametrize("target", ["m4", "m55"])
def test_kernel_paths_are_bit_exact(validator, target: str):
    result = validator.validate_target(target, [random_inputs(validator.graph, seed) for seed in (0, 1, 2)])
    assert [r.divergence for r in result.inputs if not r.agrees] == []


def test_both_depthwise_loop_orders_are_exercised(validator):
    network = validator.code_for("m4").directory / "network.c"
    scratch = re.findall(
        r"md_depthwise_s8\(\s*&params,[^;]*?,\s*(NULL|NET_TENSOR\(int8_t, NET_ARENA_\w+\))\);", network.read_text()
    )
    assert "NULL" in scratch and any(s != "NULL" for s in scratch)


@pytest.fixture(scope="module")
def kws_cnn():
    checker = Validator(build_kws_cnn("cnn_s"))
    yield checker
    checker.close()


@pytest.mark.parametrize("target", ["host", "m4", "m55"])
def test_direct_convolution_over_its_own_input_is_bit_exact(kws_cnn, target: str):
    # The second 10x4 convolution runs without im2col (its columns would cost more than the overlap
    # saves), its output written over the input it still reads from: the contract's direct path.
    graph, plan = kws_cnn.graph, kws_cnn.plan
    conv = graph.operators[1]
    assert kernel_contract(graph, conv).scratch_bytes == 0
    source, result = (plan.tensor_offset(i) for i in (conv.inputs[0], conv.outputs[0]))
    assert (
        source < result + graph.tensors[conv.outputs[0]].nbytes
        and result < source + graph.tensors[conv.inputs[0]].nbytes
    )
    checked = kws_cnn.validate_target(target, [random_inputs(graph, seed) for seed in (0, 1)])
    assert [r.divergence for r in checked.inputs if not r.agrees] == []


def widened_paths() -> Graph:
    """Convolutions with int16 weights (md_conv_s8_w16: 4 pixels x 2 channels, two channels interleaved):
    an odd depth (27: its last value past the blocks) and an odd channel count, whole words with an odd
    last channel and a last group of one pixel (the assembly channel walk for the groups of 4), taps of
    2 channels (filled value by value) without bias, an output of one pixel, a depth of 7 pairs
    (the walk's odd pair and 2 more before its loop), a clamp within int8 (the C path), and stems
    whose filter rows cross the padding (assembled on the stack, or byte by byte past 64 bytes); the
    stems' shapes of md_conv_stem_dsp.c (3x3 over 3 channels, 10x4 over 1: a last group of 3 or no
    values; groups of 4 windows inside a row, groups across rows or touching the padding, windows
    ending the image; batches, a lone last pixel, a last group of 3 in the stems' loop)."""
    f = Family("widened_paths", 5)
    _conv(f, "int8", (1, 10, 9, 3), 7, (3, 3), Conv2DOptions(Padding.SAME, 2, 2))
    _conv(f, "int8", (1, 5, 5, 32), 9, (1, 1), Conv2DOptions(Padding.VALID))  # 1x1: blocks of 4 across rows
    _conv(f, "int8", (1, 4, 6, 2), 4, (2, 3), Conv2DOptions(Padding.SAME), bias=None)
    _conv(f, "int8", (1, 3, 3, 4), 6, (3, 3), Conv2DOptions(Padding.VALID))
    _conv(f, "int8", (1, 4, 4, 14), 6, (1, 1), Conv2DOptions(Padding.VALID))
    _conv(f, "int8", (1, 3, 5, 8), 5, (1, 1), Conv2DOptions(activation=Activation.RELU6))
    _conv(f, "int8", (1, 9, 10, 1), 6, (10, 4), Conv2DOptions(Padding.SAME, 2, 2))  # kws's stem: padded rows
    _conv(f, "int8", (1, 2, 26, 3), 4, (1, 23), Conv2DOptions(Padding.SAME))  # padded rows of 69 B: byte by byte
    _conv(f, "int8", (1, 9, 13, 3), 6, (3, 3), Conv2DOptions(Padding.VALID))  # RGB stride 1: rows ending the image
    # blocks of 4 pixels in a row, filled pixel by pixel into every column reading it: groups of 16
    # values inside the image and at its left and right edges at strides 1 and 2; 3 words a pixel
    # under dilated rows; a 5-wide filter (a pixel in 4 columns)
    _conv(f, "int8", (1, 5, 12, 16), 6, (3, 3), Conv2DOptions(Padding.SAME))
    _conv(f, "int8", (1, 2, 4, 16), 3, (3, 3), Conv2DOptions(Padding.SAME))  # both edges in one block
    _conv(f, "int8", (1, 6, 15, 16), 4, (3, 3), Conv2DOptions(Padding.SAME, 2, 2))
    _conv(f, "int8", (1, 4, 10, 12), 3, (2, 3), Conv2DOptions(Padding.VALID, dilation_h=2))
    _conv(f, "int8", (1, 3, 8, 4), 4, (1, 5), Conv2DOptions(Padding.SAME))
    # the stems' own loop and walks (depths 27, 9, 40): two images of 25 pixels at stride 2 (4 windows
    # of a row read by rgb_column, a lone last pixel), a grey 3x3 at stride 1 (a last group of 3), a
    # depth of 40 that is no stem
    _conv(f, "int8", (2, 11, 11, 3), 6, (3, 3), Conv2DOptions(Padding.VALID, 2, 2))
    _conv(f, "int8", (1, 7, 9, 1), 4, (3, 3), Conv2DOptions(Padding.SAME))
    _conv(f, "int8", (1, 3, 3, 40), 4, (1, 1), Conv2DOptions(Padding.VALID))
    # the RGB stem walk of 8 output channels (vww's, its channel pairs unrolled): groups across rows of
    # an odd image, a lone last pixel; the stem's fills before the C path: per-tensor weights (no walk
    # records) with groups at the right and bottom padding, a clamp within int8
    _conv(f, "int8", (1, 9, 13, 3), 8, (3, 3), Conv2DOptions(Padding.VALID, 2, 2))
    _conv(f, "int8", (1, 10, 10, 3), 8, (3, 3), Conv2DOptions(Padding.SAME, 2, 2))
    _per_tensor_conv(f, (1, 16, 15, 3), 8, Conv2DOptions(Padding.SAME, 2, 2))
    _conv(f, "int8", (1, 8, 8, 3), 8, (3, 3), Conv2DOptions(Padding.SAME, 2, 2, activation=Activation.RELU6))
    _conv(f, "int8", (1, 6, 10, 3), 8, (3, 3), Conv2DOptions(Padding.SAME))  # stride 1: padding on all sides
    # the stems rolled (ROLLED_STEM_LAYERS: walk_stem_27_rolled over rgb_block_rolled's columns,
    # walk_stem_40_rolled): RGB to 6 channels at stride 2 over two images, to 8 at stride 1 (runs of groups
    # inside a row, groups at the padding and across rows), kws's 10x4 over 1 channel (windows inside
    # the image and across its padding, a last group of 3)
    _conv(f, "int8", (2, 11, 11, 3), 6, (3, 3), Conv2DOptions(Padding.VALID, 2, 2))
    _conv(f, "int8", (1, 9, 21, 3), 8, (3, 3), Conv2DOptions(Padding.SAME))
    _conv(f, "int8", (1, 21, 10, 1), 6, (10, 4), Conv2DOptions(Padding.SAME, 2, 2))
    graph = f.graph()
    for op in graph.operators:
        loops = Loops.ROLLED if op.index in ROLLED_STEM_LAYERS else Loops.UNROLLED
        op.variant = KernelVariant(Columns.IM2COL, WeightLayout.INT16_PAIRS, loops=loops)
    _prune(graph, 1, [2, 5])  # the walk: each pruned channel's constant output in its record
    _prune(graph, 9, [0, 1])
    return graph


def rolled_walks() -> Graph:
    """Convolutions with int16 weights rolled (md_conv_s8_w16_rolled: on the M4 and M33 the walk with its
    products one eight pairs a pass, walk_pairs_rolled, over depths of 16k values): 3x3 over 16 channels
    at stride 1 (groups at the edges, an odd last channel) and 2, over 32 channels (2 groups, 2 lone
    pixels) with pruned channels, a 1x1 over 128 (no narrow walk); then a depth of 72 values, which the
    rolled walk does not take (the walk unrolled either way); then the shapes rolled_rows fills with
    fill_group_rolled: 3x3s over 16 and 32 channels (first and last rows and groups, groups inside), a
    5x5 (two pixels outside), a 7x7 (a first group whose zeros take more runs than FILL_RUNS, filled by
    fill_columns), a 3x3 dilated 2 rows apart and one at stride 2; then 1x1s to 128 and 256 channels
    (walk_pairs_rolled's copies with the stride built in) over depths of 48 (2 groups, a lone pixel) and 80
    values (an odd count of passes); a 1x1 over two images of 5x3 pixels (groups_1x1_rolled's groups across
    rows, 3 lone pixels an image)."""
    f = Family("rolled_walks", 13)
    _conv(f, "int8", (1, 5, 12, 16), 7, (3, 3), Conv2DOptions(Padding.SAME))
    _conv(f, "int8", (1, 6, 15, 16), 4, (3, 3), Conv2DOptions(Padding.SAME, 2, 2))
    _conv(f, "int8", (1, 4, 7, 32), 8, (3, 3), Conv2DOptions(Padding.VALID))
    _conv(f, "int8", (1, 3, 3, 128), 4, (1, 1), Conv2DOptions(Padding.VALID))
    _conv(f, "int8", (1, 4, 6, 8), 6, (3, 3), Conv2DOptions(Padding.SAME))
    _conv(f, "int8", (1, 6, 12, 16), 8, (3, 3), Conv2DOptions(Padding.SAME))
    _conv(f, "int8", (1, 5, 12, 32), 6, (3, 3), Conv2DOptions(Padding.SAME))
    _conv(f, "int8", (1, 7, 12, 16), 4, (5, 5), Conv2DOptions(Padding.SAME))
    _conv(f, "int8", (1, 4, 16, 16), 4, (7, 7), Conv2DOptions(Padding.SAME))
    _conv(f, "int8", (1, 7, 12, 16), 4, (3, 3), Conv2DOptions(Padding.SAME, dilation_h=2))
    _conv(f, "int8", (1, 6, 23, 16), 4, (3, 3), Conv2DOptions(Padding.SAME, 2, 2))
    _conv(f, "int8", (1, 3, 3, 48), 128, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 2, 4, 80), 256, (1, 1), Conv2DOptions())
    _conv(f, "int8", (2, 3, 5, 48), 6, (1, 1), Conv2DOptions())
    graph = f.graph()
    for op in graph.operators:
        op.variant = KernelVariant(Columns.IM2COL, WeightLayout.INT16_PAIRS, loops=Loops.ROLLED)
    _prune(graph, 2, [1, 6])
    return graph


def test_rolled_walks_are_the_layers_of_depths_of_16k_values():
    """walk_both_ways: the layers with the walk's records and a depth of ROLLED_WALK_DEPTH k have rolled
    loops, and name md_conv_s8_w16_rolled where rolled."""
    graph = rolled_walks()
    having = [op.index for op in graph.operators if has_rolled_loops(graph, op)]
    assert having == [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    network = render(graph, plan_memory(graph)).files["network.c"]
    assert re.findall(r"(md_conv_s8_w16\w*)\(", network) == ["md_conv_s8_w16_rolled"] * 14


@pytest.mark.parametrize("target", ["host", "m4", "m7", "m33"])
def test_rolled_walks_are_bit_exact(target: str):
    with Validator(rolled_walks()) as checker:
        assert divergences(checker, target) == []


ROLLED_STEM_LAYERS = (22, 23, 24)
"""widened_paths' stems with rolled loops."""


def test_rgb_and_10x4_stems_with_walk_records_have_rolled_loops():
    """The stems md_conv_s8_w16_rolled walks rolled (`rolled_stem`: 3x3 over RGB, 10x4 over one channel,
    an even channel count) have rolled loops where they have walk records, and name md_conv_s8_w16_rolled
    where rolled; the grey 3x3 to 4 channels (no stem records: rolled_grey_stems' to 8 have them), the odd
    channel count and the clamped layer (no records) do not.
    Layers 1 and 9 to 11 have them as layers of depths of 16k values (walk_both_ways)."""
    graph = widened_paths()
    having = [op.index for op in graph.operators if has_rolled_loops(graph, op)]
    assert having == [1, 6, 8, 9, 10, 11, 14, 17, 18, 21, *ROLLED_STEM_LAYERS]
    network = render(graph, plan_memory(graph)).files["network.c"]
    entries = re.findall(r"(md_conv_s8_w16\w*)\(", network)
    assert [i for i, entry in enumerate(entries) if entry == "md_conv_s8_w16_rolled"] == list(ROLLED_STEM_LAYERS)


def _per_tensor_conv(f: Family, shape: tuple[int, int, int, int], filters: int, options: Conv2DOptions) -> None:
    """A 3x3 convolution with one weight scale for all its output channels."""
    batch, height, width, channels = shape
    out_h = _conv_size(height, 3, options.stride_h, 1, options.padding)
    out_w = _conv_size(width, 3, options.stride_w, 1, options.padding)
    x = f.input(shape, "int8")
    w = f.weights((filters, 3, 3, channels))
    y = f.output((batch, out_h, out_w, filters), "int8", scale=0.5)
    f.op("CONV_2D", [x, w, f.bias(filters)], [y], options)


def _prune(graph: Graph, layer: int, channels: list[int]) -> None:
    """Channels of a layer pruned as vww_96's are: an all-zero filter, a bias near 2^30 (or -2^30) and
    a real multiplier of 2^-28 (a right shift of 27), which no narrow requantization takes."""
    op = graph.operators[layer]
    x, w, b, y = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.inputs[2], op.outputs[0]))
    data, bias, scale = w.data.copy(), b.data.copy(), w.quantization.scale.copy()
    data[channels] = 0
    bias[channels] = [(1 << 30) - 7 if n % 2 == 0 else 3 - (1 << 30) for n in range(len(channels))]
    scale[channels] = y.quantization.single_scale / x.quantization.single_scale * 2.0**-28
    graph.tensors[w.index] = replace(w, data=data, quantization=replace(w.quantization, scale=scale))
    graph.tensors[b.index] = replace(b, data=bias)


def test_pruned_channels_keep_the_int16_weight_walk():
    """md_conv_s8_w16's walk takes layers whose pruned channels would make them general: those channels'
    records hold their constant outputs (`walk_records`); widened_paths' bit-exact runs check them."""
    graph = widened_paths()
    calls = re.findall(r"md_conv_s8_w16\([^;]*;", render(graph, plan_memory(graph)).files["network.c"])
    assert [re.search(r"_shifts,\s*net_weights\.\w+_walk,", calls[layer]) is not None for layer in (1, 9)] == [True] * 2
    record = requantization(graph.operators[9], graph)
    assert record is not None and record.walk is not None
    biases, (addend_0, exponent_0, multiplier_0, addend_1, exponent_1, multiplier_1) = np.split(
        record.walk[:WALK_RECORD], [2]
    )
    assert biases.tolist() == [0, 0] and [exponent_0, multiplier_0, exponent_1, multiplier_1] == [1, 0, 1, 0]
    assert addend_0 % 2 == 0 and addend_1 % 2 == 0 and max(abs(addend_0), abs(addend_1)) <= 256


def test_int16_weights_are_stored_two_channels_interleaved_in_pair_order():
    """md_nn.h's layout of md_conv_s8_w16's filter (md_w16_index): 3 channels of depth 7."""
    rows = np.arange(21).reshape(3, 7)  # channel c holds 7c .. 7c + 6
    pairs = [0, 2, 7, 9, 1, 3, 8, 10, 4, 5, 11, 12]  # {v0, v2}, {v1, v3} of a group of 4, then {v4, v5}
    assert pair_interleaved(rows).tolist() == [*pairs, 6, 13, *range(14, 21)]  # odd depth, odd channel


@pytest.mark.parametrize("target", ["host", "m4", "m7", "m33", "m55"])
def test_int16_weight_convolutions_are_bit_exact(target: str):
    with Validator(widened_paths()) as checker:
        assert checker.code_for(target).directory.joinpath("network.c").read_text().count("md_conv_s8_w16(") == 22
        assert divergences(checker, target) == []


def lone_pixels() -> Graph:
    """The last 1 to 3 pixels of an int16-weight convolution with walk records (not the narrow
    pointwise walk's), one at a time (md_conv_w16_dsp.c walk_lone_pixel: 1 pixel x 4 channels,
    blocks of 16 values): 9 pixels (2 groups, 1 alone) at a depth of 128 (8 blocks) over 5 channel
    pairs (two pairs a pass, then the last two again) and at a depth of 16 (one block) over 3 pairs;
    5 pixels at a depth of 48 with an odd last channel and pruned channels; 15 pixels (3 alone) at a
    depth of 80; a 3x3 filter over 16 channels (144 values, windows in the padding); 2 pixels of 3
    channels (values packed byte by byte); a clamp inside int8 and a per-tensor scale (no records:
    the C path); then 128 and 256 output channels (the walk's copies with the stride built in)."""
    f = Family("lone_pixels", 17)
    _conv(f, "int8", (1, 3, 3, 128), 10, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 4, 4, 4), 6, (2, 2), Conv2DOptions(Padding.VALID))
    _conv(f, "int8", (1, 5, 1, 48), 7, (1, 1), Conv2DOptions(Padding.VALID))
    _conv(f, "int8", (1, 3, 5, 80), 4, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 3, 3, 16), 4, (3, 3), Conv2DOptions(Padding.SAME))
    _conv(f, "int8", (1, 4, 5, 3), 4, (4, 4), Conv2DOptions(Padding.VALID))
    _conv(f, "int8", (1, 3, 3, 48), 6, (1, 1), Conv2DOptions(activation=Activation.RELU6))
    x = f.input((1, 3, 3, 48), "int8")
    y = f.output((1, 3, 3, 4), "int8", scale=0.5)
    f.op("CONV_2D", [x, f.weights((4, 1, 1, 48), axis=None), f.bias(4, "int32")], [y], Conv2DOptions())
    # the walks with 128 and 256 output channels built in (M4, M33; depths of 32k): a depth of 128 with a
    # lone last pixel, of 96 (three passes of sixteen pairs); 144 (an odd eight first) takes the generic walk
    _conv(f, "int8", (1, 3, 3, 128), 128, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 2, 4, 96), 256, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 3, 4, 16), 128, (3, 3), Conv2DOptions(Padding.SAME))
    graph = f.graph()
    for op in graph.operators:
        op.variant = KernelVariant(Columns.IM2COL, WeightLayout.INT16_PAIRS)
    _prune(graph, 2, [1, 6])
    return graph


def test_lone_pixels_have_walk_records_where_the_walk_takes_them():
    graph = lone_pixels()
    walked = [op.index for op in graph.operators if requantization(op, graph).walk is not None]
    assert walked == [0, 1, 2, 3, 4, 5, 8, 9, 10]
    columns = {op.index: 4 * 2 * graph.tensors[op.inputs[1]].data[0].size for op in graph.operators}
    assert [op.index for op in graph.operators if kernel_contract(graph, op).scratch_bytes > columns[op.index]] == []


@pytest.mark.parametrize("target", ["host", "m3", "m4", "m7", "m33"])
def test_lone_pixels_are_bit_exact(target: str):
    with Validator(lone_pixels()) as checker:
        assert divergences(checker, target) == []


def depthwise_as_convolutions() -> Graph:
    """DEPTHWISE_CONV_2D layers of one input channel with int16 weights, run as the convolution they
    are (md_conv_s8_w16, the filter [1, H, W, M] stored as [M, H, W, 1]): person_detect's stem (3x3,
    stride 2, multiplier 8; windows in the padding, groups of 4 across rows and inside one: the grey
    stem copy of md_conv_stem_dsp.c, its rows read by words), an odd multiplier over a 2x3 window
    without bias and a clamp within int8, a 3x3 at stride 1 inside the image."""
    f = Family("depthwise_as_convolutions", 13)
    _depthwise(f, "int8", (1, 11, 12, 1), 8, DepthwiseConv2DOptions(Padding.SAME, 2, 2, depth_multiplier=8))
    relu6 = DepthwiseConv2DOptions(Padding.VALID, depth_multiplier=3, activation=Activation.RELU6)
    _depthwise(f, "int8", (1, 5, 7, 1), 3, relu6, bias=None, kernel=(2, 3))
    _depthwise(f, "int8", (1, 6, 10, 1), 4, DepthwiseConv2DOptions(depth_multiplier=4))  # stride 1, inside
    # the grey stem walk of 8 output channels (person_detect's, its channel pairs unrolled): an odd
    # image with a lone last pixel, groups across rows of a VALID one, a clamp within int8 (the C path)
    _depthwise(f, "int8", (1, 13, 13, 1), 8, DepthwiseConv2DOptions(Padding.SAME, 2, 2, depth_multiplier=8))
    _depthwise(f, "int8", (1, 9, 14, 1), 8, DepthwiseConv2DOptions(Padding.VALID, 2, 2, depth_multiplier=8))
    clamped = DepthwiseConv2DOptions(Padding.SAME, 2, 2, depth_multiplier=8, activation=Activation.RELU6)
    _depthwise(f, "int8", (1, 10, 12, 1), 8, clamped)
    # its records walk after the assembly grey_block: runs of groups inside rows of 18 and 20 outputs
    # at strides 2 and 1 (the last group of a row's run, the padded group after it)
    _depthwise(f, "int8", (1, 5, 36, 1), 8, DepthwiseConv2DOptions(Padding.SAME, 2, 2, depth_multiplier=8))
    _depthwise(f, "int8", (1, 4, 20, 1), 8, DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=8))
    # a row's last group past its end at stride 2 (grey_block reads the next row's bytes, then zeroes them)
    _depthwise(f, "int8", (1, 7, 24, 1), 8, DepthwiseConv2DOptions(Padding.SAME, 2, 2, depth_multiplier=8))
    graph = f.graph()
    for op in graph.operators:
        op.variant = KernelVariant(weights=WeightLayout.INT16_PAIRS)
    return graph


def rolled_grey_stems() -> Graph:
    """depthwise_as_convolutions' grey stems of 8 channels rolled (md_conv_s8_w16_rolled: on the M4 and
    M33 walk_grey_records_rolled_of_8, its channel pairs in a loop): an odd image with a lone last pixel,
    groups across rows of a VALID one, runs of groups inside rows at strides 2 and 1; a clamp within int8
    (no records: the C path, no rolled loops); a row's last group past its end at stride 2."""
    f = Family("rolled_grey_stems", 13)
    _depthwise(f, "int8", (1, 13, 13, 1), 8, DepthwiseConv2DOptions(Padding.SAME, 2, 2, depth_multiplier=8))
    _depthwise(f, "int8", (1, 9, 14, 1), 8, DepthwiseConv2DOptions(Padding.VALID, 2, 2, depth_multiplier=8))
    _depthwise(f, "int8", (1, 5, 36, 1), 8, DepthwiseConv2DOptions(Padding.SAME, 2, 2, depth_multiplier=8))
    _depthwise(f, "int8", (1, 4, 20, 1), 8, DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=8))
    clamped = DepthwiseConv2DOptions(Padding.SAME, 2, 2, depth_multiplier=8, activation=Activation.RELU6)
    _depthwise(f, "int8", (1, 10, 12, 1), 8, clamped)
    _depthwise(f, "int8", (1, 7, 24, 1), 8, DepthwiseConv2DOptions(Padding.SAME, 2, 2, depth_multiplier=8))
    graph = f.graph()
    for op in graph.operators:
        op.variant = KernelVariant(weights=WeightLayout.INT16_PAIRS, loops=Loops.ROLLED)
    return graph


def test_grey_stems_with_walk_records_have_rolled_loops():
    """rolled_stem: the grey 3x3 to 8 channels with its records has rolled loops (the clamped one not)."""
    graph = rolled_grey_stems()
    assert [op.index for op in graph.operators if has_rolled_loops(graph, op)] == [0, 1, 2, 3, 5]


@pytest.mark.parametrize("target", ["host", "m4", "m7", "m33"])
def test_rolled_grey_stems_are_bit_exact(target: str):
    with Validator(rolled_grey_stems()) as checker:
        network = checker.code_for(target).directory.joinpath("network.c").read_text()
        assert network.count("md_conv_s8_w16_rolled(") == 6
        assert divergences(checker, target) == []


@pytest.mark.parametrize("target", ["host", "m3", "m4", "m7", "m33"])
def test_one_channel_depthwise_layers_run_as_int16_weight_convolutions(target: str):
    with Validator(depthwise_as_convolutions()) as checker:
        network = checker.code_for(target).directory.joinpath("network.c").read_text()
        assert network.count("md_conv_s8_w16(") == 9 and network.count("md_depthwise_s8(") == 0
        assert divergences(checker, target) == []


def stride_2_planes() -> Graph:
    """3x3 DEPTHWISE_CONV_2D layers at stride 2 from channel planes (md_depthwise_dsp.c: the whole of
    int8's range from two channels' wide planes at a time, md_dw_fused_blocks_s2; a clamp inside it from
    int8 planes, md_dw_folded_blocks_s2): odd last output row and column, VALID, a tall image
    transposed, rows of 52 + 3 and 52 + 1 columns, one block, row pairs beyond one call's sums, rows of
    8k + 1..7 values copied, odd channel counts (the last channel with the one before), one channel
    (an int8 plane); rows of 4k and 8k pixels (the copy's row loop in assembly) with 4 channels'
    constants at once, 4 channels widened at once from word loads, planes up to 64 values wide
    (md_dw_fused_blocks_s2_near) and wider; two layers
    on one int8 plane (Schedule.PLANES); layers that are not narrow (left
    shifts; right shifts past 22) take the exact requantization."""
    f = Family("stride_2_planes", 17)
    same, relu6 = DepthwiseConv2DOptions(Padding.SAME, 2, 2), Activation.RELU6
    _depthwise(f, "int8", (1, 9, 9, 8), 1, same)
    _depthwise(f, "int8", (1, 8, 10, 16), 1, DepthwiseConv2DOptions(Padding.VALID, 2, 2))
    _depthwise(f, "int8", (1, 12, 10, 4), 1, DepthwiseConv2DOptions(Padding.SAME, 2, 2, activation=relu6))
    _depthwise(f, "int8", (1, 14, 6, 8), 1, same)
    _depthwise(f, "int8", (1, 4, 110, 8), 1, same)
    _depthwise(f, "int8", (1, 6, 106, 4), 1, same)  # rows of 52 + 1: a last block of one column
    _depthwise(f, "int8", (1, 3, 3, 4), 1, same)  # one block, its windows in the padding
    _depthwise(f, "int8", (1, 41, 40, 2), 1, same)
    _depthwise(f, "int8", (1, 7, 9, 8), 1, same, out_scale=5e-5)
    _depthwise(f, "int8", (1, 7, 9, 8), 1, same, out_scale=5e3)
    _depthwise(f, "int8", (1, 10, 13, 5), 1, same)
    _depthwise(f, "int8", (1, 7, 12, 3), 1, DepthwiseConv2DOptions(Padding.VALID, 2, 2))
    _depthwise(f, "int8", (1, 9, 8, 1), 1, same)
    # rows of 4k pixels copied with the row loop in assembly (8k: two gathers a loop), 4 channels' constants at once;
    # a padded top row, an odd last output row, a tall image transposed to rows of 16
    _depthwise(f, "int8", (1, 9, 12, 8), 1, same)
    _depthwise(f, "int8", (1, 10, 16, 12), 1, same)
    _depthwise(f, "int8", (1, 16, 8, 4), 1, same)
    # 4 channels widened from one word a pixel (md_dw_copy_wide_4; 9x12x8 above: 3 groups of 4 pixels a
    # row, an odd last output row): a row of one group (the loop entered at its second half), of 5
    # (odd), a tall image transposed to rows of 20
    _depthwise(f, "int8", (1, 4, 4, 8), 1, same)
    _depthwise(f, "int8", (1, 6, 20, 4), 1, DepthwiseConv2DOptions(Padding.VALID, 2, 2))
    _depthwise(f, "int8", (1, 20, 7, 12), 1, same)
    # one int8 plane (the least memory, md_dw_folded_blocks_s2) over the whole of int8's range
    _depthwise(f, "int8", (1, 9, 9, 8), 1, same)
    _depthwise(f, "int8", (1, 6, 106, 4), 1, same)
    graph = f.graph()
    for op in graph.operators:
        one_plane = op.index >= len(graph.operators) - 2
        op.variant = KernelVariant(schedule=Schedule.PLANES if one_plane else Schedule.GROUPED)
    return graph


@pytest.mark.parametrize("target", ["host", "m4", "m7", "m33"])
def test_stride_2_depthwise_planes_are_bit_exact(target: str):
    checker = Validator(stride_2_planes())
    try:
        network = checker.code_for(target).directory.joinpath("network.c").read_text()
        assert network.count("md_depthwise_s8_grouped(") == 2 and network.count("md_depthwise_s8(") == 2
        # narrow: folded at generate time; 4 wide planes of a width of 4k copied by the routine the call names
        assert network.count("md_depthwise_s8_grouped_folded(") == 11
        assert network.count("md_depthwise_s8_grouped_wide(") == network.count("md_dw_copy_wide_4") == 6
        assert "NULL);" not in network  # every layer from planes
        checked = checker.validate_target(target, [random_inputs(checker.graph, seed) for seed in (0, 1, 2)])
        assert [r.divergence for r in checked.inputs if not r.agrees] == []
    finally:
        checker.close()


def widened_fully_connected() -> Graph:
    """Fully connected layers with int16 weights in blocks of 4 rows (md_fully_connected_s8_w16): a
    depth tail of 3 values over two input rows, an input longer than one unpacked span (600 values:
    3 x 192 + 24) with one row after the last block and no bias, an odd group count with one
    row after, a single group, more outputs than one requantized chunk (64 + 64 + 4, then 2 rows), a
    depth of 1 (no whole group) and 3 outputs (no whole block); then two with int8 weights (spans
    and 7 groups; the M7 and M33 run the same DSP code as the M4)."""
    f = Family("widened_fully_connected", 7)
    _fully_connected(f, "int8", (2, 23), 8, per_channel=True)
    _fully_connected(f, "int8", (1, 600), 9, per_channel=False, bias=None)
    _fully_connected(f, "int8", (1, 36), 5, per_channel=True)
    _fully_connected(f, "int8", (1, 4), 4, per_channel=False)
    _fully_connected(f, "int8", (3, 20), 134, per_channel=True)
    _fully_connected(f, "int8", (2, 1), 16, per_channel=False)
    _fully_connected(f, "int8", (1, 16), 3, per_channel=True)
    _fully_connected(f, "int8", (1, 600), 9, per_channel=True)
    _fully_connected(f, "int8", (2, 30), 6, per_channel=False)
    graph = f.graph()
    for op in graph.operators[:7]:
        op.variant = KernelVariant(weights=WeightLayout.INT16_PAIRS)
    return graph


@pytest.mark.parametrize("target", ["host", "m4", "m7", "m33"])
def test_int16_weight_fully_connected_layers_are_bit_exact(target: str):
    with Validator(widened_fully_connected()) as checker:
        network = checker.code_for(target).directory.joinpath("network.c").read_text()
        assert network.count("md_fully_connected_s8_w16(") == 7
        assert divergences(checker, target) == []


def narrow_pointwise() -> Graph:
    """Pointwise convolutions with int16 weights and 4 to 16, 32 or 64 input channels
    (md_conv_1x1_narrow_dsp.c: each column length's walk): 25 pixels (6 groups of 4, then one
    alone), stride 2 over rows and columns of odd sizes (SAME: no padding for 1x1), 15 pixels (3
    groups, 3 alone), stride 2 down the rows only; then an odd output channel count
    (md_conv_w16_dsp.c's walk), pruned channels (their records' constants, 8 and 32 input channels),
    a clamp inside int8's range (no records: md_conv_w16_dsp.c's general path); 64 input channels at
    strides 1 and 2."""
    f = Family("narrow_pointwise", 11)
    _conv(f, "int8", (1, 5, 5, 8), 16, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 7, 5, 16), 10, (1, 1), Conv2DOptions(Padding.SAME, 2, 2))
    _conv(f, "int8", (1, 3, 5, 4), 6, (1, 1), Conv2DOptions())
    _conv(f, "int8", (2, 5, 3, 12), 4, (1, 1), Conv2DOptions(Padding.VALID, 2, 1))
    _conv(f, "int8", (1, 3, 3, 8), 5, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 5, 3, 8), 6, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 5, 5, 32), 8, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 7, 5, 32), 6, (1, 1), Conv2DOptions(Padding.SAME, 2, 2))
    _conv(f, "int8", (1, 3, 5, 32), 10, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 3, 3, 32), 4, (1, 1), Conv2DOptions(activation=Activation.RELU6))
    _conv(f, "int8", (1, 3, 3, 64), 6, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 5, 3, 64), 4, (1, 1), Conv2DOptions(Padding.SAME, 2, 1))
    # the walks with the stride built in (8 -> 16 above, unrolled; 16 -> 32, 32 -> 32 and 32 -> 64 here):
    # 30 pixels, 7 groups then 2 lone (each written before the next is read: the arena overlaps the
    # 16 -> 32 layer's output with its input so that the first lone output covers the second's input
    # once the stride-2 32 -> 64 layer follows)
    _conv(f, "int8", (1, 5, 6, 16), 32, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 3, 16, 32), 64, (1, 1), Conv2DOptions(Padding.SAME, 2, 2))
    _conv(f, "int8", (1, 3, 5, 32), 32, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 2, 8, 32), 64, (1, 1), Conv2DOptions())
    # 64 -> 64 and 64 -> 128 with the stride built in: 9 pixels (2 groups, a lone one), 8 (2 groups)
    _conv(f, "int8", (1, 3, 3, 64), 64, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 2, 4, 64), 128, (1, 1), Conv2DOptions())
    # rolled (md_conv_s8_w16_rolled: their walks with the stride built in, lone pixels by a walk of their
    # input channels): 8 -> 16 and 16 -> 32 (one pair a pass), 64 -> 128, 64 -> 64, 32 -> 32 and 32 -> 64 at
    # stride 2 (each pair's products in passes of eight; the compact walks of 32 and 64 input channels' lone
    # pixels); 16 -> 32 at stride 2 (20 pixels: 5 groups)
    _conv(f, "int8", (1, 5, 5, 8), 16, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 5, 6, 16), 32, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 2, 4, 64), 128, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 3, 3, 64), 64, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 3, 5, 32), 32, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 3, 16, 32), 64, (1, 1), Conv2DOptions(Padding.SAME, 2, 2))
    _conv(f, "int8", (1, 7, 9, 16), 32, (1, 1), Conv2DOptions(Padding.SAME, 2, 2))
    graph = f.graph()
    for op in graph.operators:
        loops = Loops.ROLLED if op.index in ROLLED_NARROW else Loops.UNROLLED
        op.variant = KernelVariant(Columns.IM2COL, WeightLayout.INT16_PAIRS, loops=loops)
    _prune(graph, 5, [1, 4])
    _prune(graph, 8, [0, 3, 9])
    return graph


ROLLED_NARROW = (18, 19, 20, 21, 22, 23, 24)
"""narrow_pointwise's layers with rolled loops."""


def test_narrow_walks_with_their_channel_counts_built_in_are_the_layers_with_rolled_loops():
    """NARROW_BOTH_WAYS: the channel counts md_conv_1x1_narrow_dsp.c's FIXED_WALKS has walks for (both ways);
    the layers taking one have rolled loops (`has_rolled_loops`), and name md_conv_s8_w16_rolled where rolled."""
    table = re.search(r"FIXED_WALKS\[\] = \{(.*?)\n\};", library_text("md_conv_1x1_narrow_dsp.c"), re.S)
    fixed = re.findall(r"\{(\d+), (\d+), (walk_\w+), (walk_\w+)\}", table.group(1))
    assert all(rolled == f"{unrolled}_rolled" for _, _, unrolled, rolled in fixed)
    assert sorted((int(inputs), int(outputs)) for inputs, outputs, _, _ in fixed) == sorted(NARROW_BOTH_WAYS)
    graph = narrow_pointwise()
    having = [op.index for op in graph.operators if has_rolled_loops(graph, op)]
    assert having == [0, 12, 13, 14, 15, 16, 17, *ROLLED_NARROW]
    network = render(graph, plan_memory(graph)).files["network.c"]
    entries = re.findall(r"(md_conv_s8_w16\w*)\(", network)
    assert [i for i, entry in enumerate(entries) if entry == "md_conv_s8_w16_rolled"] == list(ROLLED_NARROW)


def test_narrow_pointwise_layers_have_the_walk_records_the_walk_takes():
    """md_conv_s8_w16 takes the narrow walk where the layer has walk records and the records'
    scratch (an even channel count): all but the odd channel count (4) and the clamped layer (9)."""
    graph = narrow_pointwise()
    walked = [op.index for op in graph.operators if requantization(op, graph).walk is not None]
    assert walked == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, *ROLLED_NARROW]
    columns = {op.index: 4 * 2 * graph.tensors[op.inputs[0]].shape[3] for op in graph.operators}
    recorded = [op.index for op in graph.operators if kernel_contract(graph, op).scratch_bytes > columns[op.index]]
    assert recorded == [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, *ROLLED_NARROW]


@pytest.mark.parametrize("target", ["host", "m3", "m4", "m7", "m33"])
def test_narrow_pointwise_convolutions_are_bit_exact(target: str):
    with Validator(narrow_pointwise()) as checker:
        assert divergences(checker, target) == []


def pruned_pointwise_paths() -> Graph:
    """Pointwise layers with all-zero filter rows (md_conv_1x1_dsp.c's live path): with the generated
    list (`live_records`): every channel pruned, an odd live count (the last listed twice), vww_96's
    pruned channels (biases near 2^30) over 9 pixels (a lone last pixel) and over one; without it
    (the list found at run time): a clamp inside int8's range, one scale for the tensor, none pruned."""
    f = Family("pruned_pointwise", 7)
    _pruned(f, (1, 2, 3, 16), 8, list(range(8)))
    _pruned(f, (1, 3, 5, 60), 9, [0, 3, 5, 6])  # 60 = 4 + 8 + 16 + 32 values a row
    _pruned(f, (1, 3, 3, 40), 32, [n for n in range(32) if n % 3])  # the constants four words a loop
    _pruned(f, (1, 1, 1, 20), 8, [1, 2, 5])
    _pruned(f, (1, 3, 5, 12), 9, [0, 3, 5, 6], Activation.RELU6)
    _pruned(f, (1, 3, 5, 12), 9, [0, 3, 5, 6], per_channel=False)
    _pruned(f, (1, 3, 5, 12), 9, [])
    graph = f.graph()
    _prune(graph, 2, [n for n in range(32) if n % 3])
    return graph


def _pruned(
    f: Family,
    shape: tuple[int, ...],
    channels: int,
    zero: list[int],
    activation: Activation = Activation.NONE,
    per_channel: bool = True,
) -> None:
    x = f.input(shape, "int8")
    values = f.rng.integers(-127, 128, (channels, 1, 1, shape[3]))
    values[zero] = 0
    scale = list(f.rng.uniform(0.002, 0.02, channels)) if per_channel else 0.01
    w = f.constant(values, "int8", scale=scale, axis=0) if per_channel else f.constant(values, "int8", scale=scale)
    y = f.output((*shape[:3], channels), "int8", scale=0.3 if activation == Activation.RELU6 else 0.5)
    f.op("CONV_2D", [x, w, f.bias(channels)], [y], Conv2DOptions(activation=activation))


def test_live_records_are_made_where_the_kernel_takes_them():
    graph = pruned_pointwise_paths()
    records = [requantization(op, graph).live for op in graph.operators]
    assert [r is not None for r in records] == [True] * 4 + [False] * 3
    assert records[0][0] == 0 and records[0].size == 1 + 2  # no live channel: its 8 outputs only
    odd = records[1].view(np.uint8)
    assert odd[:4].view("<i4")[0] == 5 and odd[4:10].tolist() == [1, 2, 4, 7, 8, 8]
    assert odd.size == 4 + 8 + 12 and odd[12 + np.array([1, 2, 4, 7, 8])].tolist() == [0] * 5  # live: 0
    network = render(graph, plan_memory(graph)).files["network.c"]
    assert len(re.findall(r"md_conv_s8(?:_folded)?_live\(", network)) == 4


@pytest.fixture(scope="module")
def pruned_validator():
    checker = Validator(pruned_pointwise_paths())
    yield checker
    checker.close()


@pytest.mark.parametrize("target", ["host", "m3", "m4", "m7", "m33", "m55"])
def test_pruned_pointwise_layers_are_bit_exact(pruned_validator, target: str):
    graph = pruned_validator.graph
    result = pruned_validator.validate_target(target, [random_inputs(graph, seed) for seed in (0, 1)])
    assert [r.divergence for r in result.inputs if not r.agrees] == []


def odd_width_rows() -> Graph:
    """Convolutions Helium takes output row by output row (md_conv_mve.c's rows_s8: a row's window rows
    padded on the stack, then its pixels written), each output one pixel wide: a pair of pixels spans
    two rows, so the second's window rows are read after the first's outputs are written. The arena
    places each output over its input at the shift the contract allows (pairs in order had allowed the
    first layer's output right on its input, the second row's window then read over)."""
    f = Family("odd_width_rows", 5)
    _conv(f, "int8", (1, 5, 3, 1), 8, (2, 2), Conv2DOptions(Padding.VALID, 2, 2))
    _conv(f, "int8", (1, 5, 3, 3), 8, (3, 3), Conv2DOptions(Padding.VALID))
    _conv(f, "int8", (1, 5, 3, 2), 4, (3, 3), Conv2DOptions(Padding.VALID))
    graph = f.graph()
    for op in graph.operators:
        op.variant = KernelVariant(Columns.IM2COL)
    return graph


def test_odd_width_rows_overlap_within_the_row_walk():
    graph = odd_width_rows()
    plan = plan_memory(graph)
    shifts = [plan.tensor_offset(op.outputs[0]) - plan.tensor_offset(op.inputs[0]) for op in graph.operators]
    assert shifts[0] < 0  # the output starts before its input: the first row's outputs miss the second row's windows


@pytest.mark.parametrize("target", ["m4", "m55"])
def test_odd_width_rows_are_bit_exact(target: str):
    with Validator(odd_width_rows()) as checker:
        assert divergences(checker, target) == []
