"""The kernels whose hot loop the C library has both ways (`ir.variants.Loops`): unrolled, and rolled
into a loop that fits a small flash cache (ST's 1 KB ART); which layers have the choice, decided as the
kernels decide, so that a rolled variant is timed only where it changes the code."""

from __future__ import annotations

from mcudeploy.ir import Graph, Operator
from mcudeploy.kernels.contracts import narrow_pointwise_records_bytes, stem_records_bytes
from mcudeploy.kernels.depthwise_routines import rows_of_blocks_routine, six_by_six, small_rolled
from mcudeploy.params.conv import WindowParams, prepare
from mcudeploy.params.requantization import requantization

NARROW_BOTH_WAYS = ((8, 16), (16, 32), (32, 32), (32, 64), (64, 64), (64, 128))
"""(input, output) channels of md_conv_1x1_narrow_dsp.c's fixed walks (fixed_walk: the channel counts
built in; walk_8_to_16 unrolls all 8 pairs of output channels, 3.4 KB on the M4), which
md_conv_s8_w16_rolled takes on the M4 and M33 rolled (rolled_fixed_walk): one pair of output channels a
pass for 8 -> 16 and 16 -> 32 (0.6 and 0.8 KB, the latter's fill in a loop), with 32 or 64 input channels
the fill and each pair's products in loops too (0.9 KB where walk_64_to_64 takes 5 KB); their lone pixels
walked by a compact walk of their input channels."""


ROLLED_WALK_DEPTH = 16
"""md_conv_w16_dsp.c's walk_pairs_rolled takes columns of a multiple of this many values (its products
one eight pairs a pass, 0.75 KB on the M4 where walk_pairs_int8 takes 1.6 KB; its copies with 128 and
256 output channels built in 0.8 KB): the walk of the layers without a narrow one (3x3 filters over 16
input channels or more), md_conv_s8_w16_rolled's on the M4 and M33. The stems' depths (27, 9, 40) are
none."""


ROLLED_STEMS = ((3, 9), (10, 4), (3, 3))
"""(filter rows, bytes a filter row) of md_conv_stem_dsp.c's stems whose walk (walk_stem_27, walk_stem_40:
1 and 1.4 KB on the M4) md_conv_s8_w16_rolled takes rolled (0.6 and 0.9 KB), the 3x3 over RGB with its
windows' fill in a loop too (0.2 KB where rgb_block takes 0.7 KB): a 3x3 over RGB, a 10x4 over one
channel, and a 3x3 over one channel to 8 walked over its records (walk_grey_records_of_8's channel pairs
in a loop, 0.4 KB where it takes 1.6 KB: person_detect's stem)."""


def rolled_stem(params: WindowParams) -> bool:
    """Whether an int16-weight convolution is a stem that md_conv_s8_w16_rolled walks rolled
    (md_conv_stem_fits' shapes of ROLLED_STEMS, an even output channel count, not grouped; the grey one
    only with its records, stem_records_bytes)."""
    run = params.filter_w * params.input_c
    grey = run == 3
    return (
        params.input_c % 4 != 0
        and params.dilation_w == 1
        and params.filter_c == params.input_c
        and params.output_c % 2 == 0
        and (params.filter_h, run) in ROLLED_STEMS
        and (not grey or stem_records_bytes(params.window, params.input_c, params.output_c) > 0)
    )


def narrow_both_ways(params: WindowParams) -> bool:
    """Whether an int16-weight convolution with the walk's records takes a narrow walk made both ways."""
    records = narrow_pointwise_records_bytes(params.window, params.input_c, params.output_c)
    return records > 0 and (params.input_c, params.output_c) in NARROW_BOTH_WAYS


def walk_both_ways(params: WindowParams) -> bool:
    """Whether an int16-weight convolution with the walk's records takes a walk made both ways: a narrow
    one (narrow_both_ways), or md_conv_w16_dsp.c's general walk over a depth of ROLLED_WALK_DEPTH k."""
    if narrow_pointwise_records_bytes(params.window, params.input_c, params.output_c) > 0:
        return narrow_both_ways(params)
    depth = params.window.filter_h * params.window.filter_w * params.input_c
    return depth % ROLLED_WALK_DEPTH == 0


def has_rolled_loops(graph: Graph, op: Operator) -> bool:
    """Whether a layer, on the variant set on it, takes a kernel with its hot loop both ways: a grouped
    int8 depthwise layer with a folded record and 6x6 planes (md_depthwise_s8_grouped_six, its _rolled
    twin), a 3x3 output from a 6x6 image (md_depthwise_s8_small, its _rolled twin) or rows or a tall
    image's planes made for (md_dw_fused_rows, md_dw_fused_tall, else their _rolled twin), or an int16-weight
    convolution with the walk's records of a walk made both ways or a stem of ROLLED_STEMS (md_conv_s8_w16,
    md_conv_s8_w16_rolled; the M7 takes its one dual-issue walk either way), a depthwise layer of one
    channel run as that convolution among them (person_detect's grey stem)."""
    record = requantization(op, graph) if op.op_type in ("CONV_2D", "DEPTHWISE_CONV_2D") else None
    if record is None:
        return False
    if op.op_type == "DEPTHWISE_CONV_2D" and record.folds is not None:
        params = prepare(op, graph)
        return six_by_six(params) or small_rolled(params) or rows_of_blocks_routine(params) is not None
    if record.walk is None:
        return False
    params = prepare(op, graph)
    if op.op_type == "DEPTHWISE_CONV_2D":  # of one channel with int16 weights: the convolution it is
        return rolled_stem(params)
    return walk_both_ways(params) or rolled_stem(params)
