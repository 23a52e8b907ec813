"""Narrow int8 DEPTHWISE_CONV_2D layers of 6x6 outputs at stride 1 from 8x8 padded planes over a depth of
4k (vww's and person_detect's 6x6x128 layers) take md_depthwise_s8_grouped_six: a group of 4 planes a
call of md_dw_fused_6x6 (its 9 blocks unrolled, 2.3 KB) or, with the layer's loops rolled, of
md_dw_fused_6x6_rolled (a block a pass, 0.4 KB: with the group's copy and loop in the L4R5's 1 KB flash
cache). Both agree bit for bit with the reference engine on the host, the M3 (the portable kernel) and
every DSP core: SAME windows from a 6x6 image (md_dw_copy_6x6) and VALID ones from an 8x8 image, two
batches, no bias, outputs saturated both ways; beside them the 6x6 shapes the routines do not take (a
depth of 6, a ReLU6 clamp inside int8's range), which keep the other plane paths."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import divergences, library_symbol_sizes
from mcudeploy.codegen import render
from mcudeploy.ir import Graph, KernelVariant, Loops, Schedule
from mcudeploy.ir.options import Activation, DepthwiseConv2DOptions, Padding
from mcudeploy.kernels.loops import has_rolled_loops
from mcudeploy.memory import plan_memory
from mcudeploy.validation.runner import Validator
from test_codegen import Family, _depthwise


def six_planes(loops: Loops) -> Graph:
    f = Family("six_planes", 11)
    same = DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=1)
    valid = DepthwiseConv2DOptions(Padding.VALID, depth_multiplier=1)
    relu6 = DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=1, activation=Activation.RELU6)
    _depthwise(f, "int8", (1, 6, 6, 128), 1, same)  # the models' shape: 32 groups
    _depthwise(f, "int8", (2, 6, 6, 8), 1, same, bias=None)  # two batches, no bias
    _depthwise(f, "int8", (1, 6, 6, 12), 1, same, out_scale=0.02)  # saturated both ways
    _depthwise(f, "int8", (1, 8, 8, 4), 1, valid)  # from an 8x8 image: copy_planes_4
    # not taken: a depth of 6, a clamp inside int8's range
    _depthwise(f, "int8", (1, 6, 6, 6), 1, same)
    _depthwise(f, "int8", (1, 6, 6, 8), 1, relu6)
    graph = f.graph()
    for op in graph.operators:
        op.variant = KernelVariant(schedule=Schedule.GROUPED, loops=loops)
    return graph


SIX = [0, 1, 2, 3]
"""six_planes' layers that take md_depthwise_s8_grouped_six (or its _rolled twin)."""


@pytest.mark.parametrize(
    ("target", "loops"),
    [
        *((t, Loops.UNROLLED) for t in ("host", "m3", "m4", "m7", "m33")),
        *((t, Loops.ROLLED) for t in ("host", "m4", "m7", "m33")),
    ],
)
def test_six_planes_are_bit_exact(target: str, loops: Loops):
    with Validator(six_planes(loops)) as checker:
        assert divergences(checker, target) == []


@pytest.mark.parametrize(("loops", "suffix"), [(Loops.UNROLLED, ""), (Loops.ROLLED, "_rolled")])
def test_only_the_six_layers_name_the_six_entry(loops: Loops, suffix: str):
    """The 6x6 layers over a depth of 4k have their loop both ways (`has_rolled_loops`) and name
    md_depthwise_s8_grouped_six, or its _rolled twin; the others md_depthwise_s8_grouped_folded."""
    graph = six_planes(loops)
    assert [op.index for op in graph.operators if has_rolled_loops(graph, op)] == SIX
    network = render(graph, plan_memory(graph)).files["network.c"]
    entries = re.findall(r"(md_depthwise_s8\w*)\(\s", network)
    folded = "md_depthwise_s8_grouped_folded"
    assert entries == [f"md_depthwise_s8_grouped_six{suffix}"] * len(SIX) + [folded] * 2


def test_the_rolled_group_fits_a_1_kb_flash_cache(tmp_path: Path):
    """What a group of 4 planes runs rolled (planes_six_rolled, md_dw_copy_6x6, md_dw_fused_6x6_rolled)
    is under 1 KB on the M4, so the L4R5's ART holds it from group to group; md_dw_fused_6x6 alone is not."""
    sizes = library_symbol_sizes(tmp_path, "md_depthwise_dsp.c")
    group = sizes["planes_six_rolled"] + sizes["md_dw_copy_6x6"] + sizes["md_dw_fused_6x6_rolled"]
    assert group < 1024 < sizes["md_dw_fused_6x6"]
