"""The 16x8 convolution kernels' DSP and Helium paths (`mdnn/Source/conv/md_conv_s16_dsp.c`,
`md_conv_s16_mve.c`, `mdnn/Source/depthwise/md_depthwise_s16_dsp.c`, `md_depthwise_s16_mve.c`) agree
bit for bit with the reference engine on the emulated Cortex-M4 and Cortex-M55: convolutions from
im2col columns and straight from the input (depth tails, odd channel and pixel counts, one pixel),
depthwise from channel planes (3x3, wider windows, dilated) and streaming (channels past a multiple
of 4); int32 sums where the bound proves them exact (or where an int32 bias makes TFLite accumulate
in int32), int64 sums where it does not, on an input set whose sums leave int32's range."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mcudeploy.inputs import random_inputs
from mcudeploy.ir import NO_TENSOR, Columns, Graph, KernelVariant
from mcudeploy.ir.options import Activation, Conv2DOptions, DepthwiseConv2DOptions, Padding
from mcudeploy.validation.runner import Validator
from test_codegen import Family, _conv, _depthwise

EXTREME = 32767
"""Every value of the input the last input set saturates: with weights of one sign, sums past int32."""


def _extreme_conv(f: Family, shape, filters: int, kernel) -> None:
    """Weights of +-127 with one sign a channel: sum(|w|) past 2^16, so the kernels sum in int64."""
    x = f.input(shape, "int16", scale=0.01)
    signs = np.where(np.arange(filters) % 2 == 0, 127, -127)[:, None, None, None]
    w = f.constant(np.broadcast_to(signs, (filters, *kernel, shape[3])).copy(), "int8", scale=[0.01] * filters, axis=0)
    out = (shape[1] - kernel[0] + 1, shape[2] - kernel[1] + 1)
    y = f.output((1, *out, filters), "int16", scale=300.0)
    f.op("CONV_2D", [x, w, f.bias(filters, "int64")], [y], Conv2DOptions(Padding.VALID))


def _extreme_depthwise(f: Family, width: int, channels: int, padding: Padding) -> None:
    """A 1 x `width` window of weights +-127: more than 511 taps, sum(|w|) past 2^16."""
    x = f.input((1, 1, width, channels), "int16", scale=0.01)
    signs = np.where(np.arange(channels) % 2 == 0, 127, -127)
    w = f.constant(np.broadcast_to(signs, (1, 1, width, channels)).copy(), "int8", scale=[0.01] * channels, axis=3)
    y = f.output((1, 1, width if padding == Padding.SAME else 1, channels), "int16", scale=300.0)
    f.op("DEPTHWISE_CONV_2D", [x, w, f.bias(channels, "int64")], [y], DepthwiseConv2DOptions(padding))


IM2COL, DIRECT = KernelVariant(Columns.IM2COL), KernelVariant(Columns.DIRECT)


def s16_paths() -> Graph:
    f = Family("s16_paths", 7)
    depthwise = DepthwiseConv2DOptions
    columns = [IM2COL, IM2COL, IM2COL, DIRECT, IM2COL, DIRECT, DIRECT, IM2COL, DIRECT]  # of the convolutions below
    _conv(f, "int16", (1, 9, 8, 5), 7, (3, 3), Conv2DOptions(Padding.SAME), bias="int64")  # depth 45: a tail of 1
    _conv(f, "int16", (1, 5, 5, 3), 4, (3, 3), Conv2DOptions(Padding.SAME, 2, 2))  # int32 bias: 9 pixels, one alone
    _conv(f, "int16", (1, 1, 1, 20), 5, (3, 3), Conv2DOptions(Padding.SAME), bias=None)  # one pixel: one column
    _conv(f, "int16", (1, 6, 5, 7), 5, (3, 3), Conv2DOptions(Padding.SAME, 1, 2), bias="int64")  # 7 channels a tap
    _conv(f, "int16", (1, 4, 4, 8), 6, (1, 1), Conv2DOptions(activation=Activation.RELU6), bias="int64")
    _conv(f, "int16", (1, 5, 5, 6), 3, (3, 3), Conv2DOptions(Padding.SAME, 2, 2))  # int32 bias
    _conv(f, "int16", (1, 4, 3, 64), 3, (3, 3), Conv2DOptions(Padding.VALID), bias="int64")  # depth 576, sum|w| small
    _extreme_conv(f, (1, 4, 3, 64), 3, (3, 3))  # depth 576, int64 sums, from columns
    _extreme_conv(f, (1, 4, 3, 64), 3, (3, 3))  # and from the input
    _depthwise(f, "int16", (1, 6, 7, 32), 1, depthwise(Padding.SAME, depth_multiplier=1))  # planes, 3x3
    _depthwise(f, "int16", (1, 8, 9, 48), 1, depthwise(Padding.SAME, depth_multiplier=1), kernel=(3, 5))  # planes
    _depthwise(f, "int16", (1, 9, 7, 6), 1, depthwise(Padding.SAME, 2, 2, depth_multiplier=1))  # 4 channels, then 2
    dilated = depthwise(Padding.SAME, dilation_h=2, dilation_w=2, depth_multiplier=1, activation=Activation.RELU)
    _depthwise(f, "int16", (1, 8, 7, 32), 1, dilated, bias=None)
    _depthwise(f, "int16", (1, 7, 9, 32), 1, depthwise(Padding.VALID, depth_multiplier=1), kernel=(5, 4))
    _depthwise(f, "int16", (1, 5, 6, 3), 2, depthwise(Padding.SAME, depth_multiplier=2))  # the portable kernel
    _extreme_depthwise(f, 520, 6, Padding.VALID)  # streaming, int64 sums
    _extreme_depthwise(f, 520, 16, Padding.SAME)  # planes, int64 sums
    x = f.input((1, 4, 4, 4), "int16")
    y = f.output((1, 4, 4, 4), "int16", scale=0.02)
    f.op("DEPTHWISE_CONV_2D", [x, f.weights((1, 3, 3, 4)), NO_TENSOR], [y], depthwise(Padding.SAME))  # per tensor
    graph = f.graph()
    for op, variant in zip((op for op in graph.operators if op.op_type == "CONV_2D"), columns, strict=True):
        op.variant = variant
    return graph


@pytest.fixture(scope="module")
def validator():
    checker = Validator(s16_paths())
    yield checker
    checker.close()


def _input_sets(graph: Graph) -> list[list[np.ndarray]]:
    extreme = [np.full_like(x, EXTREME) for x in random_inputs(graph, 2)]
    return [random_inputs(graph, 0), extreme]


@pytest.mark.parametrize("target", ["m4", "m55"])
def test_s16_kernel_paths_are_bit_exact(validator, target: str):
    code = validator.code_for(target)
    names = {str(source).rsplit("/", 1)[-1] for source in code.sources}
    assert {"md_conv_s16_dsp.c", "md_conv_s16_mve.c", "md_depthwise_s16_dsp.c", "md_depthwise_s16_mve.c"} <= names
    result = validator.validate_target(target, _input_sets(validator.graph))
    assert [r.divergence for r in result.inputs if not r.agrees] == []


def test_both_depthwise_loop_orders_are_exercised(validator):
    network = validator.code_for("m4").directory.joinpath("network.c").read_text()
    call = r"md_depthwise_s16\(\s*&params,[^;]*?,\s*(NULL|NET_TENSOR\(int16_t, NET_ARENA_\w+\))\);"
    scratch = re.findall(call, network)
    assert "NULL" in scratch and any(s != "NULL" for s in scratch)
