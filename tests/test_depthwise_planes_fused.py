"""The stride-1 planes of narrow int8 DEPTHWISE_CONV_2D layers over the whole of int8's range
(`md_depthwise_dsp.c`: md_dw_fused_blocks, 2x2 blocks requantized as they are summed) agree bit for
bit with the reference engine on the host, the M3 (the portable kernel) and every DSP core: even
and odd rows and columns, one row pair with an odd last row beyond a strip, a tall image
transposed, VALID windows, depths of 4k (grouped: 4 channels copied and folded at once, a group a
call, 6x6 outputs unrolled; one plane at a time) and not; beside them a clamp inside int8's range
and left shifts, which take the other plane paths."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import divergences
from mcudeploy.codegen import render
from mcudeploy.ir import Graph, KernelVariant, Loops, Schedule
from mcudeploy.ir.options import Activation, DepthwiseConv2DOptions, Padding
from mcudeploy.kernels.depthwise_routines import six_by_six
from mcudeploy.memory import plan_memory
from mcudeploy.params.conv import prepare
from mcudeploy.params.requantization import requantization
from mcudeploy.validation.runner import Validator
from test_codegen import Family, _depthwise


def fused_planes() -> Graph:
    f = Family("fused_planes", 5)
    same = DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=1)
    _depthwise(f, "int8", (1, 8, 8, 8), 1, same)  # 4 row pairs of 4 blocks
    _depthwise(f, "int8", (1, 6, 6, 16), 1, same)  # 3 blocks a row pair: the first in the loop's second half
    _depthwise(f, "int8", (1, 7, 5, 4), 1, same)  # odd last row and column
    _depthwise(f, "int8", (1, 3, 61, 4), 1, same)  # one row pair, then a row; 31 blocks, the last of one column
    _depthwise(f, "int8", (1, 11, 4, 8), 1, same)  # tall: transposed, 2 row pairs of 5 blocks and 1 column
    _depthwise(f, "int8", (1, 7, 8, 4), 1, DepthwiseConv2DOptions(Padding.VALID, depth_multiplier=1))
    # groups of 4 channels (copy_planes_4, fold_3x3_4): 3 groups in one call each, rows of 4 + 2 pixels;
    # 2 groups of odd rows, rows of 4 + 4 + 1; a depth of 6, one channel at a time
    _depthwise(f, "int8", (1, 4, 6, 12), 1, same)
    _depthwise(f, "int8", (1, 5, 9, 8), 1, same)
    _depthwise(f, "int8", (1, 6, 6, 6), 1, same)
    # 6x6 outputs of 4k channels: 4 planes a call, unrolled (md_dw_fused_6x6), from SAME and VALID
    # windows, the second with larger multipliers and smaller shifts
    _depthwise(f, "int8", (1, 8, 8, 8), 1, DepthwiseConv2DOptions(Padding.VALID, depth_multiplier=1))
    _depthwise(f, "int8", (1, 6, 6, 8), 1, same, out_scale=0.02)
    # the same two rolled (md_dw_fused_6x6_rolled: the blocks in a loop)
    _depthwise(f, "int8", (1, 8, 8, 8), 1, DepthwiseConv2DOptions(Padding.VALID, depth_multiplier=1))
    _depthwise(f, "int8", (1, 6, 6, 8), 1, same, out_scale=0.02)
    relu6 = DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=1, activation=Activation.RELU6)
    _depthwise(f, "int8", (1, 6, 7, 8), 1, relu6)  # clamped inside int8's range
    _depthwise(f, "int8", (1, 6, 7, 4), 1, same, out_scale=5e-5)  # left shifts: not narrow
    # the least-memory schedule: one plane at a time over depths of 4k
    _depthwise(f, "int8", (1, 8, 8, 8), 1, same)
    _depthwise(f, "int8", (1, 5, 9, 8), 1, same)
    graph = f.graph()
    for op in graph.operators:
        one_plane = op.index >= len(graph.operators) - 2
        loops = Loops.ROLLED if op.index in ROLLED else Loops.UNROLLED
        op.variant = KernelVariant(schedule=Schedule.PLANES if one_plane else Schedule.GROUPED, loops=loops)
    return graph


SIX = (1, 9, 10, 11, 12)
"""fused_planes' layers of 6x6 outputs over a depth of 4k: md_depthwise_s8_grouped_six unrolled, the last
two rolled (its _rolled twin)."""
ROLLED = SIX[-2:]


@pytest.mark.parametrize("target", ["host", "m3", "m4", "m7", "m33"])
def test_fused_stride_1_planes_are_bit_exact(target: str):
    with Validator(fused_planes()) as checker:
        assert divergences(checker, target) == []


def test_fold_records_are_made_where_the_kernel_folds():
    """Grouped narrow layers take md_depthwise_s8_grouped_folded with their folded constants
    (fold_records: fold_3x3's 9 values a channel, a tall image's taps transposed); left shifts and
    one plane at a time take none."""
    graph = fused_planes()
    folds = [requantization(op, graph).folds for op in graph.operators]
    assert [f is not None for f in folds] == [True] * 14 + [False] * 3
    assert [f.size for f in folds[:3]] == [8 * 9, 16 * 9, 4 * 9]
    for index, transposed in ((0, False), (4, True)):  # channel 1 of a square and of a tall image
        op = graph.operators[index]
        taps = graph.tensors[op.inputs[1]].data.reshape(3, 3, -1)[:, :, 1].astype(np.int64)
        taps = taps.T if transposed else taps
        record = folds[index].reshape(-1, 9)[1]
        halves = record[:5].astype(np.uint32).view(np.int16).reshape(5, 2)
        middles = [[2 * taps[0, 1], 2 * taps[1, 1]], [2 * taps[2, 1], 0]]
        assert halves.tolist() == [*(2 * taps[:, [0, 2]]).tolist(), *middles]
        offset = -int(graph.tensors[op.inputs[0]].quantization.zero_point[0])
        assert record[5] == 2 * (graph.tensors[op.inputs[2]].data[1] + offset * taps.sum())
    network = render(graph, plan_memory(graph)).files["network.c"]
    grouped_folded = network.count("md_depthwise_s8_grouped_folded(")
    assert grouped_folded == 14 - len(SIX) and network.count("md_depthwise_s8_grouped(") == 1


def test_six_by_six_layers_name_the_unrolled_entry_unless_rolled():
    """The Python mirror of planes_s8's six_by_six: the 6x6 layers over a depth of 4k name
    md_depthwise_s8_grouped_six (md_dw_fused_6x6 linked), or its _rolled twin (md_dw_fused_6x6_rolled)
    where their variant's loops are rolled; the others md_depthwise_s8_grouped_folded."""
    graph = fused_planes()
    assert [i for i in range(len(graph.operators)) if six_by_six(prepare(graph.operators[i], graph))] == list(SIX)
    network = render(graph, plan_memory(graph)).files["network.c"]
    entries = re.findall(r"(md_depthwise_s8\w*)\(\s", network)
    assert [i for i, entry in enumerate(entries) if entry == "md_depthwise_s8_grouped_six"] == list(SIX[:-2])
    assert [i for i, entry in enumerate(entries) if entry == "md_depthwise_s8_grouped_six_rolled"] == list(ROLLED)
