"""The grouped stride-1 planes whose rows take an md_dw_fused_rows routine (`md_depthwise_rows_dsp.c`:
widths and depths 12x64, 24x32 and 48x8, 6 blocks a chunk at immediate offsets, or 3 in their rolled
twins, a plane's constants once for all its rows) or an md_dw_fused_tall one (kws' 25x5x64 transposed:
rows of 25, the last column and the odd last row alone) agree bit for bit with the reference engine on
the host, the M3 (the portable kernel) and every DSP core: SAME and VALID windows, one row pair, two
batches, outputs saturated both ways; beside them the shapes just outside the routines (an odd last row,
a wider row, another depth, a tall image transposed, a clamp inside int8's range), which take
md_dw_fused_blocks or the other plane paths."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import divergences, library_symbol_sizes
from mcudeploy.codegen import render
from mcudeploy.codegen.library import library_text
from mcudeploy.ir import Graph, KernelVariant, Loops, Schedule
from mcudeploy.ir.options import Activation, DepthwiseConv2DOptions, Padding
from mcudeploy.kernels.depthwise_routines import FUSED_ROWS, FUSED_TALL, SUMS_CHUNK
from mcudeploy.kernels.loops import has_rolled_loops
from mcudeploy.memory import plan_memory
from mcudeploy.validation.runner import Validator
from test_codegen import Family, _depthwise


def fused_rows() -> Graph:
    f = Family("fused_rows", 7)
    same = DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=1)
    valid = DepthwiseConv2DOptions(Padding.VALID, depth_multiplier=1)
    _depthwise(f, "int8", (1, 12, 12, 64), 1, same)  # one chunk a row, 6 row pairs
    _depthwise(f, "int8", (2, 24, 24, 32), 1, same)  # two chunks a row, two batches
    _depthwise(f, "int8", (1, 48, 48, 8), 1, same, out_scale=0.02)  # four chunks a row, saturated
    _depthwise(f, "int8", (1, 14, 14, 64), 1, valid)  # 12x12 outputs from VALID windows
    _depthwise(f, "int8", (1, 2, 12, 64), 1, same)  # one row pair
    _depthwise(f, "int8", (2, 25, 5, 64), 1, same)  # tall: two batches
    _depthwise(f, "int8", (1, 27, 7, 64), 1, valid)  # tall: 25x5 outputs from VALID windows
    _depthwise(f, "int8", (1, 25, 5, 64), 1, same, out_scale=0.02)  # tall, saturated, rolled
    # rolled (md_dw_fused_rows' _rolled twins): each width, saturated both ways, two batches, VALID windows
    _depthwise(f, "int8", (1, 12, 12, 64), 1, same, out_scale=0.02)
    _depthwise(f, "int8", (2, 24, 24, 32), 1, same)
    _depthwise(f, "int8", (1, 48, 48, 8), 1, same, out_scale=0.02)
    _depthwise(f, "int8", (1, 14, 14, 64), 1, valid)
    # just outside: an odd last row, a row of 13, a depth of 68, a tall image, a clamp
    _depthwise(f, "int8", (1, 11, 12, 64), 1, same)
    _depthwise(f, "int8", (1, 12, 13, 64), 1, same)
    _depthwise(f, "int8", (1, 12, 12, 68), 1, same)
    _depthwise(f, "int8", (1, 24, 12, 64), 1, same)
    relu6 = DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=1, activation=Activation.RELU6)
    _depthwise(f, "int8", (1, 12, 12, 64), 1, relu6)
    graph = f.graph()
    for op in graph.operators:
        loops = Loops.ROLLED if op.index in ROLLED else Loops.UNROLLED
        op.variant = KernelVariant(schedule=Schedule.GROUPED, loops=loops)
    return graph


ROLLED = range(7, 12)
"""fused_rows' layers given rolled loops."""


@pytest.mark.parametrize("target", ["host", "m3", "m4", "m7", "m33"])
def test_fused_rows_are_bit_exact(target: str):
    with Validator(fused_rows()) as checker:
        assert divergences(checker, target) == []


def test_only_the_layers_taking_a_routine_name_it():
    """The generated code names the md_dw_fused_rows or md_dw_fused_tall instance of each layer whose rows
    it was made for (`rows_routine`, as the kernel decided at run time before), so a model links no other;
    one row pair fits a strip and takes none."""
    network = render(fused_rows(), plan_memory(fused_rows())).files["network.c"]
    calls = re.findall(r"(md_depthwise_s8_grouped_\w+)\((?:[^;]*?(md_dw_fused_(?:rows|tall)_\w+))?[^;]*;", network)
    rows = [
        ("md_depthwise_s8_grouped_rows", f"md_dw_fused_rows_{shape}") for shape in ("12_64", "24_32", "48_8", "12_64")
    ]
    tall = [("md_depthwise_s8_grouped_rows", f"md_dw_fused_tall_25x5_64{suffix}") for suffix in ("", "", "_rolled")]
    rolled = [(call, f"{routine}_rolled") for call, routine in rows]
    folded = ("md_depthwise_s8_grouped_folded", "")
    assert calls == [*rows, folded, *tall, *rolled, *[folded] * 5]


def test_rows_and_tall_layers_have_their_loop_both_ways(tmp_path: Path):
    """The layers taking md_dw_fused_rows or md_dw_fused_tall (not the one row pair, nor those just outside)
    have their loop both ways (`has_rolled_loops`): chunks of 6 blocks (1.5 KB and more), or shorter ones
    (`_rolled`, under 1 KB: the L4R5's flash cache)."""
    graph = fused_rows()
    assert [op.index for op in graph.operators if has_rolled_loops(graph, op)] == [0, 1, 2, 3, *range(5, 12)]
    sizes = library_symbol_sizes(tmp_path, "md_depthwise_rows_dsp.c")
    routines = ["md_dw_fused_tall_25x5_64", *(f"md_dw_fused_rows_{w}_{d}" for w, d in FUSED_ROWS)]
    for routine in routines:
        assert sizes[f"{routine}_rolled"] < 1024 < sizes[routine], routine


def test_the_python_mirror_knows_the_instances_the_library_makes():
    """FUSED_ROWS and FUSED_TALL: the md_dw_fused_rows and md_dw_fused_tall instances md_depthwise_rows_dsp.c
    assembles and md_nn.h declares;
    SUMS_CHUNK: md_depthwise_dsp.c's DW_CHUNK, which decides whether a plane fits one strip."""
    rows = r'"md_dw_fused_rows (\d+), (\d+), \d+(?:, (_rolled))?\\n'
    made = re.findall(rows, library_text("md_depthwise_rows_dsp.c"))
    both = [(*shape, suffix) for shape in FUSED_ROWS for suffix in ("", "_rolled")]
    assert [(int(w), int(d), suffix) for w, d, suffix in made] == both
    declared = re.search(r"md_dw_rows_routine (md_dw_fused_rows_[^;]*);", library_text("md_nn.h")).group(1)
    assert re.split(r",\s+", declared) == ["md_dw_fused_rows_{}_{}{}".format(*made) for made in both]
    tall = r'"md_dw_fused_tall (\d+), (\d+), (\d+), \d+(?:, (_rolled))?\\n'
    made = re.findall(tall, library_text("md_depthwise_rows_dsp.c"))
    both = [(*shape, suffix) for shape in FUSED_TALL for suffix in ("", "_rolled")]
    assert [(int(h), int(w), int(d), suffix) for h, w, d, suffix in made] == both
    declared = re.search(r"md_dw_rows_routine (md_dw_fused_tall_[^;]*);", library_text("md_nn.h")).group(1)
    assert declared.split(", ") == ["md_dw_fused_tall_{}x{}_{}{}".format(*made) for made in both]
    assert f"#define DW_CHUNK {SUMS_CHUNK}\n" in library_text("md_depthwise_dsp.c")
