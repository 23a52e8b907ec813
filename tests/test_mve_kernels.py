"""The MVE (Helium) kernel paths, `mdnn/Source/*/md_*_mve.c`, on the emulated Cortex-M55 (QEMU
mps3-an547): every int8 model and the convolution families agree with the reference engine bit
for bit. (That an M55 build compiles the MVE paths and only them: test_codegen's
test_each_core_compiles_one_isa_path_per_family.)"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from conftest import INT8_MODELS, MODELS
from mcudeploy.codegen.generator import render
from mcudeploy.importers import load_model
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import NO_TENSOR, Activation, Graph, Padding
from mcudeploy.ir.options import Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions
from mcudeploy.memory import plan_memory
from mcudeploy.validation.runner import Validator
from test_codegen import Family, _conv, _conv_size, _depthwise, conv_family

SEEDS = (0, 1, 2)
TARGET = "m55"


@pytest.fixture
def validator(request) -> Iterator[Validator]:
    graph, planner = request.param
    checker = Validator(graph, planner=planner)
    yield checker
    checker.close()


def _assert_bit_exact(checker: Validator) -> None:
    result = checker.validate_target(TARGET, [random_inputs(checker.graph, seed) for seed in SEEDS])
    differing = [(i, r.divergence) for i, r in enumerate(result.inputs) if not r.agrees]
    assert not differing, f"M55 outputs differ from the engine: {differing}"


def _model(path: str) -> Graph:
    return load_model(MODELS / path)


@pytest.mark.parametrize("validator", [(_model(m), "mcudeploy") for m in INT8_MODELS], ids=INT8_MODELS, indirect=True)
def test_real_int8_models_are_bit_exact_on_m55(validator):
    _assert_bit_exact(validator)


@pytest.mark.parametrize(
    "validator",
    [
        (conv_family("int8")(), "mcudeploy"),  # odd channel counts, padding, dilation, groups, depth multipliers
        (conv_family("int16")(), "mcudeploy"),  # 16x8: the variants' portable fallbacks
        (conv_family("int8")(), "tflm"),  # no scratch: the convolutions' direct path
    ],
    ids=["conv_int8", "conv_int16", "conv_int8_without_scratch"],
    indirect=True,
)
def test_convolution_families_are_bit_exact_on_m55(validator):
    _assert_bit_exact(validator)


def _conv_paths() -> Graph:
    """One layer per path of md_conv_mve.c: 1x1 convolutions read in place (their output apart from
    the input) or interleaved; with a bias, its starts folded when the code is generated
    (md_conv_s8_folded); without, folded at run time into the scratch or on the stack and, past
    those, summed in the loop (long, interleaved and short depths); depths of at most 16 (columns in
    registers), depths with and without a tail, pixel counts that leave a partial group of four, a
    single output pixel, one output channel, per-tensor scales; four pixels' receptive fields copied
    in one pass; windows of a few short rows read from padded rows on the stack; 1x1 pixels of whole
    vectors held in registers; ragged depths of a few input channels interleaved on the stack."""
    f = Family("conv_paths", 3)
    _conv(f, "int8", (1, 5, 7, 40), 24, (1, 1), Conv2DOptions())  # folded starts, depth tail of 8
    _conv(f, "int8", (2, 3, 3, 32), 6, (1, 1), Conv2DOptions(Padding.VALID, 2, 2))  # strided, in place
    _conv(f, "int8", (1, 3, 3, 20), 40, (1, 1), Conv2DOptions(), bias=None)  # starts too big: summed in place
    _conv(f, "int8", (1, 1, 3, 24), 3, (1, 1), Conv2DOptions())  # 3 pixels: one partial group
    _conv(f, "int8", (1, 3, 5, 32), 70, (1, 1), Conv2DOptions())  # interleaved, 70 starts folded at generation
    _conv(f, "int8", (1, 3, 5, 32), 70, (1, 1), Conv2DOptions(), bias=None)  # interleaved; 64 folded, 6 summed
    _conv(f, "int8", (1, 4, 3, 20), 67, (1, 1), Conv2DOptions(Padding.VALID, 1, 2), bias=None)  # 64 + 3 summed
    _conv(f, "int8", (1, 4, 4, 12), 70, (1, 1), Conv2DOptions(Padding.VALID, 2, 1), bias=None)  # short, 6 summed
    _conv(f, "int8", (1, 1, 1, 20), 5, (3, 3), Conv2DOptions(Padding.SAME))  # one pixel: one column
    _conv(f, "int8", (1, 6, 6, 16), 1, (3, 3), Conv2DOptions(Padding.SAME))  # one output channel
    _conv(f, "int8", (1, 8, 9, 32), 5, (3, 3), Conv2DOptions(Padding.SAME, 2, 2))  # interleaved columns
    _conv(f, "int8", (1, 7, 7, 16), 3, (3, 3), Conv2DOptions(Padding.SAME, dilation_h=2, dilation_w=2))
    # four pixels of a row inside the image copied in one pass (strided, dilated rows), beside edge pixels
    _conv(f, "int8", (1, 9, 13, 16), 48, (3, 3), Conv2DOptions(Padding.SAME, 1, 2, dilation_h=2))
    # a pixel of whole vectors in registers (3 and 4 vectors, strided, no bias)
    _conv(f, "int8", (1, 5, 6, 48), 44, (1, 1), Conv2DOptions())
    _conv(f, "int8", (1, 7, 7, 64), 12, (1, 1), Conv2DOptions(Padding.VALID, 2, 2), bias=None)
    # windows of 4 rows of 15 bytes: padded rows on the stack, a partial vector of output channels
    _conv(f, "int8", (1, 9, 8, 5), 22, (4, 3), Conv2DOptions(Padding.SAME, 2, 1, dilation_h=2))
    # the same rows by whole vectors of output channels in assembly (1, 3 and 4 filter rows)
    _conv(f, "int8", (1, 9, 8, 3), 8, (3, 3), Conv2DOptions(Padding.SAME, 2, 2))
    _conv(f, "int8", (1, 5, 6, 4), 12, (1, 3), Conv2DOptions(Padding.SAME), bias=None)
    _conv(f, "int8", (1, 8, 7, 2), 4, (4, 2), Conv2DOptions(Padding.VALID, 1, 2))
    # ragged depths (40, 27: a first layer's few channels) interleaved on the stack, the last channel in C
    _conv(f, "int8", (1, 13, 6, 1), 9, (10, 4), Conv2DOptions(Padding.SAME, 2, 2))
    _conv(f, "int8", (1, 7, 9, 3), 5, (3, 3), Conv2DOptions(Padding.SAME, 2, 1), bias=None)
    for kernel, channels in (((2, 2), 12), ((1, 1), 12)):  # per-tensor scales, deep and short
        x = f.input((1, 4, 4, channels))
        w = f.weights((7, *kernel, channels))
        out = 4 - kernel[0] + 1
        y = f.output((1, out, out, 7), scale=0.5)
        f.op("CONV_2D", [x, w, NO_TENSOR], [y], Conv2DOptions(Padding.VALID))
    return f.graph()


@pytest.mark.parametrize("validator", [(_conv_paths(), "mcudeploy")], ids=["conv_paths"], indirect=True)
def test_convolution_paths_are_bit_exact_on_m55(validator):
    _assert_bit_exact(validator)


def test_folded_biases_take_the_bias_place_on_mve_builds_only():
    """A convolution the MVE kernel runs stores bias + input_offset * sum(weights) for MVE builds
    (MD_CONV_FOLDS_OFFSET) and the plain bias for the others, in the same member: the same flash,
    which network_data.c checks against the layout analyze reports on either build."""
    f = Family("folded", 6)
    _conv(f, "int8", (1, 4, 4, 24), 5, (1, 1), Conv2DOptions())  # 1x1 with a bias: folded
    _conv(f, "int8", (1, 4, 4, 24), 5, (1, 1), Conv2DOptions(), bias=None)  # none: folded at run time
    graph = f.graph()
    files = render(graph, plan_memory(graph)).files
    assert files["network.c"].count("md_conv_s8_folded(") == 1
    assert files["network_data.c"].count("#if MD_CONV_FOLDS_OFFSET") == 1
    op = graph.operators[0]
    tensors = graph.tensors
    offset = -int(tensors[op.inputs[0]].quantization.zero_point[0])
    sums = tensors[op.inputs[1]].data.reshape(tensors[op.inputs[1]].shape[0], -1).astype(np.int64).sum(axis=1)
    expected = ", ".join(map(str, (tensors[op.inputs[2]].data + offset * sums).tolist()))
    mve, plain = files["network_data.c"].split("#if MD_CONV_FOLDS_OFFSET\n", 1)[1].split("\n#else\n", 1)
    assert " ".join(mve.split()) == expected
    assert " ".join(plain.split("\n#endif")[0].split()) == ", ".join(map(str, tensors[op.inputs[2]].data.tolist()))


def _depthwise_5x5(f: Family, shape: tuple[int, int, int, int], options: DepthwiseConv2DOptions) -> None:
    batch, height, width, channels = shape
    out_h = _conv_size(height, 5, options.stride_h, options.dilation_h, options.padding)
    out_w = _conv_size(width, 5, options.stride_w, options.dilation_w, options.padding)
    x = f.input(shape, "int8")
    w = f.weights((1, 5, 5, channels), axis=3)
    y = f.output((batch, out_h, out_w, channels), "int8", scale=0.3)
    f.op("DEPTHWISE_CONV_2D", [x, w, f.bias(channels, "int32")], [y], options)


def depthwise_lane_paths() -> Graph:
    """Depthwise shapes for the Helium kernels that hold a window in the lanes of one vector (gathered, or
    one load of a single input channel's rows interleaved)."""
    f = Family("depthwise_lanes", 4)
    depthwise = DepthwiseConv2DOptions
    _depthwise(f, "int8", (1, 8, 8, 24), 1, depthwise(Padding.SAME, depth_multiplier=1))  # rows of whole vectors
    _depthwise_5x5(f, (1, 9, 10, 16), depthwise(Padding.SAME, depth_multiplier=1))  # 25 taps: more than a vector
    _depthwise(f, "int8", (1, 9, 7, 2), 12, depthwise(Padding.VALID, 2, 2, depth_multiplier=12))  # 8-bit weight steps
    _depthwise(f, "int8", (1, 6, 5, 3), 16, depthwise(Padding.SAME, depth_multiplier=16))  # beyond 8 bits
    # one input channel: its windows' rows interleaved on the stack (padding, strides, dilation, 2x4 taps)
    _depthwise(f, "int8", (2, 11, 13, 1), 8, depthwise(Padding.SAME, 2, 2, depth_multiplier=8))
    _depthwise(f, "int8", (1, 9, 21, 1), 16, depthwise(Padding.SAME, 1, 3, dilation_h=2, depth_multiplier=16))
    _depthwise(f, "int8", (1, 6, 7, 1), 4, depthwise(Padding.VALID, depth_multiplier=4), bias=None, kernel=(2, 4))
    return f.graph()


@pytest.mark.parametrize("validator", [(depthwise_lane_paths(), "mcudeploy")], ids=["depthwise_lanes"], indirect=True)
def test_depthwise_lane_paths_are_bit_exact_on_m55(validator):
    _assert_bit_exact(validator)


def _without_scratch_paths() -> Graph:
    """Layers the Helium kernels run without scratch (the TFLM planner gives none). Streaming depthwise:
    more channels than the folded starts (64 folded, then blocks of 16, 8 and a partial 4), a channel
    count below a vector, strides, dilation, valid padding, a 5x5 window, no bias, a per-tensor scale;
    3x3 windows two output pixels at a time (16 channels, strided, an odd run of inside pixels).
    1x1 convolutions read in place: 64 starts folded and 6 summed (a partial block of 4), strided, batched,
    a depth with a tail, per-tensor scales. int8 pools a vector of channels at a time, with a partial one."""
    f = Family("without_scratch", 5)
    depthwise = DepthwiseConv2DOptions
    _depthwise(f, "int8", (1, 5, 6, 92), 1, depthwise(Padding.SAME, depth_multiplier=1))  # 64 + 16 + 8 + 4
    _depthwise(f, "int8", (2, 7, 6, 13), 1, depthwise(Padding.SAME, 2, 2, depth_multiplier=1))  # 8 + 4 + 1
    _depthwise(f, "int8", (1, 8, 7, 3), 1, depthwise(Padding.SAME, dilation_h=2, dilation_w=2))  # a partial vector
    _depthwise(f, "int8", (1, 9, 9, 16), 1, depthwise(Padding.SAME, 2, 2, depth_multiplier=1))  # pairs and one alone
    _depthwise(f, "int8", (1, 6, 9, 20), 1, depthwise(Padding.VALID, 1, 2), bias=None, kernel=(5, 5))
    x = f.input((1, 5, 5, 8), "int8")
    w = f.weights((1, 3, 3, 8), axis=None)
    y = f.output((1, 5, 5, 8), "int8", scale=0.4)
    f.op("DEPTHWISE_CONV_2D", [x, w, NO_TENSOR], [y], depthwise(Padding.SAME, depth_multiplier=1))
    _conv(f, "int8", (1, 3, 3, 40), 70, (1, 1), Conv2DOptions())  # 64 folded, 6 summed
    pools = (("AVERAGE_POOL_2D", Padding.SAME, 3, 1), ("MAX_POOL_2D", Padding.VALID, 2, 2))
    for op_type, padding, size, stride in pools:
        x = f.input((2, 5, 6, 20), "int8", scale=0.05)
        y = f.output((2, *(_conv_size(s, size, stride, 1, padding) for s in (5, 6)), 20), "int8", scale=0.05)
        f.op(op_type, [x], [y], Pool2DOptions(padding, stride, stride, size, size, Activation.RELU6))
    _conv(f, "int8", (2, 5, 4, 21), 9, (1, 1), Conv2DOptions(Padding.VALID, 2, 2))  # strided, batched
    x = f.input((1, 2, 3, 36), "int8")
    w = f.weights((5, 1, 1, 36))
    y = f.output((1, 2, 3, 5), scale=0.5)
    f.op("CONV_2D", [x, w, NO_TENSOR], [y], Conv2DOptions(Padding.VALID))  # per tensor, no bias
    return f.graph()


@pytest.mark.parametrize("validator", [(_without_scratch_paths(), "tflm")], ids=["without_scratch"], indirect=True)
def test_paths_without_scratch_are_bit_exact_on_m55(validator):
    _assert_bit_exact(validator)
