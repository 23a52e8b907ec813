"""Narrow int8 DEPTHWISE_CONV_2D layers whose output is 3x3 (vww's and person_detect's #25, 3x3x256 at
stride 1, and #23, 6x6 -> 3x3 at stride 2) on grouped planes take md_depthwise_small_dsp.c's small_s8 with
their generate-time record (`fold_records`: SMALL_RECORD values a channel), straight from the NHWC image:
bit for bit with the reference engine on the host, the M3 (the portable kernel) and every DSP core, the
whole of int8's range and a clamp inside it, with a bias and without, several batches, at stride 2 with
the layer's loops unrolled and rolled (md_depthwise_s8_small_rolled); a 3x3 output of another geometry
keeps the planes."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import divergences
from mcudeploy.codegen import render
from mcudeploy.ir import Graph, KernelVariant, Loops, Schedule
from mcudeploy.ir.options import Activation, DepthwiseConv2DOptions, Padding
from mcudeploy.kernels.loops import has_rolled_loops
from mcudeploy.memory import plan_memory
from mcudeploy.params.quantization import zero_point
from mcudeploy.params.requantization import FOLD_RECORD, SMALL_RECORD, requantization
from mcudeploy.validation.runner import Validator
from test_codegen import Family, _depthwise


def small_images(loops: Loops = Loops.UNROLLED) -> Graph:
    f = Family("small_images", 7)
    same = DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=1)
    same_2 = DepthwiseConv2DOptions(Padding.SAME, stride_h=2, stride_w=2, depth_multiplier=1)
    relu6 = DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=1, activation=Activation.RELU6)
    relu6_2 = DepthwiseConv2DOptions(
        Padding.SAME, stride_h=2, stride_w=2, depth_multiplier=1, activation=Activation.RELU6
    )
    _depthwise(f, "int8", (1, 3, 3, 256), 1, same)  # #25's shape
    _depthwise(f, "int8", (1, 6, 6, 128), 1, same_2)  # #23's shape
    _depthwise(f, "int8", (2, 3, 3, 8), 1, relu6, bias=None)  # clamped, no bias, two images
    _depthwise(f, "int8", (2, 6, 6, 4), 1, relu6_2, out_scale=0.02)
    _depthwise(f, "int8", (1, 5, 5, 8), 1, same_2)  # 3x3 from a 5x5 image: the planes
    graph = f.graph()
    for op in graph.operators:
        op.variant = KernelVariant(schedule=Schedule.GROUPED, loops=loops)
    return graph


@pytest.mark.parametrize(
    ("target", "loops"),
    [
        *((t, Loops.UNROLLED) for t in ("host", "m3", "m4", "m7", "m33")),
        *((t, Loops.ROLLED) for t in ("m4", "m7", "m33")),
    ],
)
def test_small_images_are_bit_exact(target: str, loops: Loops):
    with Validator(small_images(loops)) as checker:
        assert divergences(checker, target) == []


def test_small_records_hold_each_channels_pairs_and_requantization():
    graph = small_images()
    folds = [requantization(op, graph).folds for op in graph.operators]
    assert [f.size for f in folds] == [256 * SMALL_RECORD, 128 * SMALL_RECORD, 8 * SMALL_RECORD,
                                       4 * SMALL_RECORD, 8 * FOLD_RECORD]  # fmt: skip
    op = graph.operators[0]
    taps = graph.tensors[op.inputs[1]].data.reshape(3, 3, -1)[:, :, 5].astype(np.int64)
    record = folds[0].reshape(-1, SMALL_RECORD)[5]
    halves = record[:6].astype(np.uint32).view(np.int16).reshape(6, 2)
    assert halves.tolist() == [pair for row in 2 * taps for pair in (row[:2].tolist(), row[1:].tolist())]
    shift = int(requantization(op, graph).shifts[5])
    assert record[6] == 2 * graph.tensors[op.inputs[2]].data[5]
    assert record[8] == -shift
    assert record[9] == (2 * zero_point(graph.tensors[op.outputs[0]]) + 1) << (-shift - 1)
    network = render(graph, plan_memory(graph)).files["network.c"]
    assert network.count("md_depthwise_s8_small(") == 4 and network.count("md_depthwise_s8_grouped_folded(") == 1


def test_only_the_stride_2_layers_take_the_rolled_twin():
    graph = small_images(Loops.ROLLED)
    assert [has_rolled_loops(graph, op) for op in graph.operators] == [False, True, False, True, False]
    network = render(graph, plan_memory(graph)).files["network.c"]
    assert network.count("md_depthwise_s8_small(") == 2 and network.count("md_depthwise_s8_small_rolled(") == 2
