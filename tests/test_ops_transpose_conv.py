"""TRANSPOSE_CONV against TFLite Micro: int8 (per-channel and per-tensor), 16x8 (int64, int16 or no
bias), float32; SAME and VALID padding, strides 1 to 3, output sizes that crop the scatter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mcudeploy.errors import ModelError
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import NO_TENSOR, Activation, Graph, GraphBuilder, Padding
from mcudeploy.ir.options import TransposeConvOptions
from mcudeploy.ir.validate import validate_graph
from mcudeploy.params.window import make_window
from single_op import assert_matches_tflm, constant
from test_codegen import Family, assert_invocations_match_engine, build


def transpose_conv_graph(
    dtype: str,
    in_hw=(4, 5),
    out_hw=(8, 10),
    kernel=(3, 3),
    stride=(2, 2),
    padding=Padding.SAME,
    channels=(3, 4),
    bias: str | None = "int32",
    per_channel: bool = True,
    activation: Activation = Activation.NONE,
    batch: int = 1,
    seed: int = 0,
):
    rng = np.random.default_rng(seed)
    in_c, out_c = channels
    b = GraphBuilder("transpose_conv")
    shape = (batch, *out_hw, out_c)
    weights = rng.integers(-127, 128, (out_c, *kernel, in_c))
    if dtype == "float32":
        x = b.tensor((batch, *in_hw, in_c), "float32")
        w = b.tensor(weights.shape, "float32", data=(weights / 64).astype(np.float32))
        bias_t = b.tensor((out_c,), "float32", data=rng.normal(0, 1, out_c).astype(np.float32)) if bias else NO_TENSOR
        y = b.tensor(shape, "float32")
    else:
        zero = 0 if dtype == "int16" else -5
        x = b.tensor((batch, *in_hw, in_c), dtype, scale=0.05, zero_point=zero)
        scales = list(rng.uniform(0.002, 0.02, out_c)) if per_channel else 0.01
        w = b.tensor(weights.shape, "int8", data=weights, scale=scales, axis=0 if per_channel else None)
        span = 1 << 10 if dtype == "int8" else 1 << 14
        bias_scale = {"scale": 1e-4, "zero_point": 0} if bias == "int16" else {}
        bias_t = b.tensor((out_c,), bias, data=rng.integers(-span, span, out_c), **bias_scale) if bias else NO_TENSOR
        y = b.tensor(shape, dtype, scale=0.1 if dtype == "int8" else 0.002, zero_point=3 if dtype == "int8" else 0)
    options = TransposeConvOptions(padding=padding, stride_h=stride[0], stride_w=stride[1], activation=activation)
    inputs = [constant(b, shape), w, x] + ([bias_t] if bias else [])
    b.op("TRANSPOSE_CONV", inputs, [y], options)
    return b.build([x], [y])


@pytest.mark.parametrize(
    ("in_hw", "out_hw", "kernel", "stride", "padding"),
    [
        ((4, 5), (8, 10), (3, 3), (2, 2), Padding.SAME),
        ((4, 5), (9, 11), (3, 3), (2, 2), Padding.VALID),
        ((3, 3), (7, 8), (2, 4), (3, 2), Padding.SAME),
        ((5, 4), (5, 4), (3, 1), (1, 1), Padding.SAME),
        ((2, 3), (4, 5), (4, 4), (2, 2), Padding.VALID),
    ],
)
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_transpose_conv(dtype, in_hw, out_hw, kernel, stride, padding):
    bias = {"int8": "int32", "int16": "int64", "float32": "float32"}[dtype]
    graph = transpose_conv_graph(dtype, in_hw, out_hw, kernel, stride, padding, bias=bias)
    assert_matches_tflm(graph, float_exact=True)


@pytest.mark.parametrize(
    ("dtype", "bias", "per_channel", "activation", "batch"),
    [
        ("int8", None, False, Activation.RELU, 2),
        ("int8", "int32", True, Activation.RELU6, 1),
        ("int16", "int16", True, Activation.NONE, 2),
        ("int16", None, False, Activation.RELU, 1),
        ("float32", None, False, Activation.RELU_N1_TO_1, 2),
    ],
)
def test_transpose_conv_variants(dtype, bias, per_channel, activation, batch):
    graph = transpose_conv_graph(dtype, bias=bias, per_channel=per_channel, activation=activation, batch=batch)
    assert_matches_tflm(graph, float_exact=True)


def test_int32_bias_with_int16_input_is_refused():
    """TFLM's 16x8 kernel would read an int32 bias as int64."""
    with pytest.raises(ModelError, match="int32 bias for int16 input"):
        validate_graph(transpose_conv_graph("int16", bias="int32"))


def test_macs_count_the_taps_landing_inside_the_output():
    """Each (input pixel, tap) pair inside the output costs in_c x out_c MACs: counted by brute force."""
    from mcudeploy.analysis.costs import layer_macs

    graph = transpose_conv_graph("int8", in_hw=(3, 3), out_hw=(7, 8), kernel=(2, 4), stride=(3, 2))
    op = graph.operators[0]
    window = make_window(op.options, (1, 7, 8, 4), (2, 4), (1, 7, 8, 4))
    inside = sum(
        0 <= y * 3 - window.pad_top + fy < 7 and 0 <= x * 2 - window.pad_left + fx < 8
        for y in range(3) for x in range(3) for fy in range(2) for fx in range(4)
    )  # fmt: skip
    assert layer_macs(graph, op) == inside * 3 * 4


def transpose_conv_paths(dtype: str) -> Graph:
    """int8 (or 16x8) layers for the C kernels' paths: depths of whole vectors, with a tail and below
    one (16 values a vector on Helium, 4 a word on DSP cores), output channels in groups of four, a pair
    and one left, a single channel; strides 1 to 3, SAME and VALID padding, a cropped output,
    kernels larger than their stride, per-channel and per-tensor scales, no bias, two batches."""
    f = Family(f"transpose_conv_paths_{dtype}", 21)
    for shape, filters, out_hw, kernel, stride, padding, per_channel, bias, activation in (
        ((1, 5, 6, 33), 7, (10, 12), (3, 3), (2, 2), Padding.SAME, True, True, Activation.NONE),
        ((2, 4, 4, 16), 5, (8, 8), (2, 2), (2, 2), Padding.VALID, False, False, Activation.RELU),
        ((1, 6, 5, 3), 9, (6, 5), (3, 3), (1, 1), Padding.SAME, True, True, Activation.RELU6),
        ((1, 3, 4, 20), 6, (9, 5), (4, 2), (3, 1), Padding.VALID, True, True, Activation.NONE),
        ((1, 2, 2, 48), 2, (6, 6), (5, 5), (3, 3), Padding.SAME, False, True, Activation.NONE),
        ((1, 4, 4, 8), 1, (8, 8), (3, 3), (2, 2), Padding.SAME, True, False, Activation.NONE),
    ):
        x = f.input(shape, dtype, scale=0.05, zero_point=0 if dtype == "int16" else None)
        w = f.weights((filters, *kernel, shape[3]), axis=0 if per_channel else None)
        b = f.bias(filters, "int64" if dtype == "int16" else "int32") if bias else NO_TENSOR
        out_shape = (shape[0], *out_hw, filters)
        spread = 0.04 * math.sqrt(shape[3] * kernel[0] * kernel[1])  # few outputs saturate
        y = f.output(out_shape, dtype, scale=spread, zero_point=0 if dtype == "int16" else None)
        options = TransposeConvOptions(padding, stride[0], stride[1], activation)
        f.op("TRANSPOSE_CONV", [f.constant(out_shape, "int32"), w, x, b], [y], options)
    return f.graph()


@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("target", [None, "m4", "m55"], ids=["host", "m4", "m55"])
def test_transpose_conv_paths_are_bit_exact_in_c(tmp_path, target: str | None, dtype: str):
    """The int8 and 16x8 kernels' portable paths (md_transpose_conv.c) on the host, their DSP paths
    (md_transpose_conv_dsp.c) on the emulated Cortex-M4 and their Helium paths
    (md_transpose_conv_mve.c) on the M55 agree with the reference engine bit for bit."""
    graph = transpose_conv_paths(dtype)
    program = build(graph, tmp_path, invocations=3, target_name=target)
    assert_invocations_match_engine(program, [random_inputs(graph, seed) for seed in range(3)])


def test_estimate_prices_the_helium_paths(tmp_path):
    """On a Cortex-M55 part, `estimate` prices the Helium kernels that run: a 32-deep int8 layer and
    its 16x8 twin cost well under their portable builds (3.6x and 1.8x fewer cycles when written)."""
    from mcudeploy.estimate import estimate_model

    f = Family("transpose_conv_estimate", 22)
    for dtype in ("int8", "int16"):
        x = f.input((1, 4, 4, 32), dtype, scale=0.05, zero_point=0 if dtype == "int16" else None)
        w = f.weights((8, 3, 3, 32), axis=0)
        b = f.bias(8, "int64" if dtype == "int16" else "int32")
        y = f.output((1, 8, 8, 8), dtype, scale=0.7, zero_point=0 if dtype == "int16" else None)
        options = TransposeConvOptions(Padding.SAME, 2, 2)
        f.op("TRANSPOSE_CONV", [f.constant((1, 8, 8, 8), "int32"), w, x, b], [y], options)
    graph = f.graph()
    fast = estimate_model(graph, "STM32N657X0", workdir=tmp_path)
    slow = estimate_model(graph, "STM32N657X0", workdir=tmp_path, portable=True)
    ratios = [a.cycles.total / b.cycles.total for a, b in zip(fast.layers, slow.layers, strict=True)]
    assert fast.device.core == "cortex-m55" and max(ratios) < 0.65, ratios
