"""The kernels whose hot loop the C library has both ways (`ir.variants.Loops`): unrolled, and rolled
into a loop that fits a small flash cache (ST's 1 KB ART); which layers have the choice, decided as the
kernels decide, so that a rolled variant is timed only where it changes the code."""

from __future__ import annotations

from mcudeploy.ir import Graph, Operator
from mcudeploy.kernels.contracts import narrow_pointwise_records_bytes
from mcudeploy.kernels.depthwise_routines import six_by_six, tall_routine
from mcudeploy.params.conv import WindowParams, prepare
from mcudeploy.params.requantization import requantization

NARROW_BOTH_WAYS = ((8, 16), (16, 32), (32, 32), (32, 64), (64, 64), (64, 128))
"""(input, output) channels of md_conv_1x1_narrow_dsp.c's fixed walks (fixed_walk: the channel counts
built in; walk_8_to_16 unrolls all 8 pairs of output channels, 3.4 KB on the M4), which
md_conv_s8_w16_rolled leaves for the general walk of its input channels (the pairs in a loop, 0.7 KB
for 8), or with 32 or 64 on the M4 and M33 for a compact one (its fill and products in loops too,
0.9 KB where walk_64_to_64 takes 5 KB)."""


def narrow_both_ways(params: WindowParams) -> bool:
    """Whether an int16-weight convolution with the walk's records takes a narrow walk made both ways."""
    records = narrow_pointwise_records_bytes(params.window, params.input_c, params.output_c)
    return records > 0 and (params.input_c, params.output_c) in NARROW_BOTH_WAYS


def has_rolled_loops(graph: Graph, op: Operator) -> bool:
    """Whether a layer, on the variant set on it, takes a kernel with its hot loop both ways: a grouped
    int8 depthwise layer with a folded record and 6x6 planes (md_depthwise_s8_grouped_six unrolled, else
    md_dw_fused_blocks' loop) or a tall image's planes made for (md_dw_fused_tall, else the same loop), or
    an int16-weight convolution with the walk's records of a narrow walk made both ways (md_conv_s8_w16,
    md_conv_s8_w16_rolled; the M7 takes its one dual-issue walk either way)."""
    record = requantization(op, graph) if op.op_type in ("CONV_2D", "DEPTHWISE_CONV_2D") else None
    if record is None:
        return False
    if op.op_type == "DEPTHWISE_CONV_2D" and record.folds is not None:
        params = prepare(op, graph)
        return six_by_six(params) or tall_routine(params) is not None
    return op.op_type == "CONV_2D" and record.walk is not None and narrow_both_ways(prepare(op, graph))
