"""The DSP depthwise path's routines made for one shape (md_nn.h): which one a grouped int8 layer with a
folded record (`fold_records`) takes, decided here as md_depthwise_dsp.c's planes_s8 would, so that only
the generated code of such a layer names it and a model links none its layers do not take."""

from __future__ import annotations

from typing import NamedTuple

from mcudeploy.ir import Loops
from mcudeploy.kernels.contracts import padded_plane_extents
from mcudeploy.params.conv import WindowParams
from mcudeploy.params.requantization import small_image

FUSED_ROWS = ((12, 64), (24, 32), (48, 8))
"""(width, depth) of the md_dw_fused_rows instances (md_dw_fused_rows_<width>_<depth>)."""

FUSED_TALL = ((25, 5, 64),)
"""(height, width, depth) of the tall images whose transposed planes take an md_dw_fused_tall instance
(md_dw_fused_tall_<height>x<width>_<depth>: plane rows of 12k + 1 outputs, an odd count of them)."""

SUMS_CHUNK = 104
"""md_depthwise_dsp.c DW_CHUNK: sums of a plane's strip of windows."""


class FoldedEntry(NamedTuple):
    """The kernel entry a layer's generated code calls, the routine it passes (None: none) and the
    library source that defines what only this entry reaches (None: md_depthwise_dsp.c's)."""

    entry: str
    routine: str | None = None
    source: str | None = None


def folded_entry(params: WindowParams, loops: Loops = Loops.UNROLLED) -> FoldedEntry:
    """The kernel entry of a grouped int8 layer with a folded record: md_depthwise_s8_small (3x3
    outputs; `loops` rolled at stride 2, its _rolled twin), md_depthwise_s8_grouped_six (6x6 planes;
    `loops` rolled, its _rolled twin), md_depthwise_s8_grouped_rows with its md_dw_fused_rows or
    md_dw_fused_tall instance (`loops` rolled, its _rolled twin), md_depthwise_s8_grouped_wide with
    md_dw_copy_wide_4, else md_depthwise_s8_grouped_folded."""
    if small_image(params.window, (params.batches, params.input_h, params.input_w, params.input_c), params.output_c):
        rolled = small_rolled(params) and loops == Loops.ROLLED
        return FoldedEntry("md_depthwise_s8_small" + ("_rolled" if rolled else ""), source="md_depthwise_small_dsp.c")
    if six_by_six(params):
        return FoldedEntry("md_depthwise_s8_grouped_six" + ("_rolled" if loops == Loops.ROLLED else ""))
    rows = rows_of_blocks_routine(params)
    if rows is not None:
        rows += "_rolled" if loops == Loops.ROLLED else ""
        return FoldedEntry("md_depthwise_s8_grouped_rows", rows, "md_depthwise_rows_dsp.c")
    if wide_copy(params):
        return FoldedEntry("md_depthwise_s8_grouped_wide", "md_dw_copy_wide_4", "md_depthwise_copy_dsp.c")
    return FoldedEntry("md_depthwise_s8_grouped_folded")


def small_rolled(params: WindowParams) -> bool:
    """Whether a folded layer takes md_depthwise_s8_small from a 6x6 image at stride 2 (`small_image`),
    whose md_dw_small_s2_layer (2.6 KB unrolled, run once a group of 4 channels: a 1 KB flash cache
    misses its every line on every group) has a rolled twin (0.7 KB): a layer that has both ways, `Loops`."""
    shape = (params.batches, params.input_h, params.input_w, params.input_c)
    return params.stride_w == 2 and small_image(params.window, shape, params.output_c)


def _oriented(params: WindowParams) -> tuple[WindowParams, int, int]:
    """planes_s8's orientation of a folded layer (a tall image transposed where the strides agree) with
    its padded plane's rows and columns."""
    rows, columns = padded_plane_extents(params.window, params.input_h, params.input_w)
    if params.stride_h != params.stride_w or params.output_h <= params.output_w:
        return params, rows, columns
    swapped = WindowParams(
        params.batches, params.input_w, params.input_h, params.input_c,
        params.filter_w, params.filter_h, params.filter_c,
        params.output_w, params.output_h, params.output_c,
        params.stride_w, params.stride_h, params.dilation_w, params.dilation_h,
        params.pad_left, params.pad_top,
        act_min=params.act_min, act_max=params.act_max,
    )  # fmt: skip
    return swapped, columns, rows


def _fused(oriented: WindowParams, width: int) -> bool:
    """fused_layer: rows in 2x2 blocks (stride 2, or stride 1 past one strip), at least 2x2 outputs,
    the whole of int8's range (the record says the multipliers are >= 0)."""
    strip = oriented.output_h < 4 and oriented.output_h * width <= SUMS_CHUNK
    in_blocks = oriented.stride_h == oriented.stride_w and (
        oriented.stride_w == 2 or (oriented.stride_w == 1 and not strip)
    )
    return (
        in_blocks
        and not (oriented.stride_w == 2 and oriented.input_c < 2)
        and oriented.output_h >= 2
        and oriented.output_w >= 2
        and (oriented.act_min, oriented.act_max) == (-128, 127)
    )


def six_by_six(params: WindowParams) -> bool:
    """Whether a folded layer's 4 grouped planes take md_dw_fused_6x6's 9 blocks unrolled
    (md_depthwise_s8_grouped_six, 2.3 KB) or in a loop (its _rolled twin: md_dw_fused_6x6_rolled, 0.4 KB):
    planes_s8's six_by_six, 6x6 outputs at stride 1 from 8x8 padded planes, fused, a depth of 4k. A layer
    that has both ways (`Loops`)."""
    rows, columns = padded_plane_extents(params.window, params.input_h, params.input_w)
    return (
        (params.output_h, params.output_w, params.stride_h, params.stride_w, rows, columns) == (6, 6, 1, 1, 8, 8)
        and params.input_c % 4 == 0
        and _fused(params, columns)
    )


def _rows_of_blocks(params: WindowParams) -> WindowParams | None:
    """The planes' orientation of a folded layer whose 4 grouped planes may take a routine of rows (stride
    1, a depth of 4k, fused, planes padded by one value each side), else None."""
    oriented, rows, columns = _oriented(params)
    if (oriented.stride_h, oriented.stride_w) != (1, 1) or params.input_c % 4 or not _fused(oriented, columns):
        return None
    return oriented if (rows, columns) == (oriented.output_h + 2, oriented.output_w + 2) else None


def rows_of_blocks_routine(params: WindowParams) -> str | None:
    """The md_dw_fused_rows or md_dw_fused_tall instance a folded layer's 4 grouped planes take, unrolled
    (chunks of 6 blocks, 1.5 KB and more); its `_rolled` twin of shorter chunks is made for a small flash
    cache: a layer that has both ways (`Loops`). None if none."""
    return rows_routine(params) or tall_routine(params)


def rows_routine(params: WindowParams) -> str | None:
    """The md_dw_fused_rows instance a folded layer's 4 grouped planes take (`_rows_of_blocks`, an even
    number of output rows, the instance's width and depth in the image's own orientation), None if none."""
    oriented = _rows_of_blocks(params)
    # transposed: an output column is a whole row of the image, not `depth` bytes (tall_routine)
    if oriented is None or oriented is not params or oriented.output_h % 2:
        return None
    made = (oriented.output_w, oriented.output_c) in FUSED_ROWS
    return f"md_dw_fused_rows_{oriented.output_w}_{oriented.output_c}" if made else None


def tall_routine(params: WindowParams) -> str | None:
    """The md_dw_fused_tall instance a tall image's transposed planes take (`_rows_of_blocks`, the
    instance's output shape), None if none."""
    oriented = _rows_of_blocks(params)
    tall = (params.output_h, params.output_w, params.output_c)
    if oriented is None or oriented is params or tall not in FUSED_TALL:
        return None
    return "md_dw_fused_tall_{}x{}_{}".format(*tall)


def wide_copy(params: WindowParams) -> bool:
    """Whether a folded layer's 4 wide planes (stride 2, fused, a depth of 4k) are copied by
    md_dw_copy_wide_4: an image width (in the planes' orientation) of a multiple of 4."""
    oriented, _, columns = _oriented(params)
    return (
        (oriented.stride_h, oriented.stride_w) == (2, 2)
        and _fused(oriented, columns)
        and params.input_c % 4 == 0
        and oriented.input_w % 4 == 0
    )
