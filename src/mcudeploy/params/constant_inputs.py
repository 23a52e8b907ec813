"""Which constant inputs of an operator the generated code keeps in flash.

Some inputs only parametrise the kernel: a reshape's target shape, the axes of a reduction,
paddings, a permutation, slice bounds, a split axis, a resize's size, FILL's dimensions, block
shapes, a transposed convolution's output shape. ZEROS_LIKE never reads its input. Their
values are read when the code is generated and land in the layer's parameter struct, so they
take no place among the constants (`memory.budget.constant_layout`). Every other constant input
is read by the kernel at run time.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.ir import DType, Operator, Tensor, WeightLayout
from mcudeploy.params.transpose_conv import BIAS as TRANSPOSE_CONV_BIAS

GENERATION_TIME_INPUTS: dict[str, frozenset[int]] = {
    "RESHAPE": frozenset({1}),
    "EXPAND_DIMS": frozenset({1}),
    "TRANSPOSE": frozenset({1}),
    "STRIDED_SLICE": frozenset({1, 2, 3}),
    "SPLIT": frozenset({0}),
    "SPLIT_V": frozenset({1, 2}),
    "PAD": frozenset({1}),
    "PADV2": frozenset({1, 2}),
    "MEAN": frozenset({1}),
    "SUM": frozenset({1}),
    "REDUCE_MAX": frozenset({1}),
    "REDUCE_MIN": frozenset({1}),
    "RESIZE_NEAREST_NEIGHBOR": frozenset({1}),
    "FILL": frozenset({0}),
    "SHAPE": frozenset({0}),
    "SLICE": frozenset({1, 2}),
    "REVERSE_V2": frozenset({1}),
    "BROADCAST_TO": frozenset({1}),
    "ZEROS_LIKE": frozenset({0}),
    "MIRROR_PAD": frozenset({1}),
    "SPACE_TO_BATCH_ND": frozenset({1, 2}),
    "BATCH_TO_SPACE_ND": frozenset({1, 2}),
    "ARG_MAX": frozenset({1}),
    "ARG_MIN": frozenset({1}),
    "CUMSUM": frozenset({1}),
    "TRANSPOSE_CONV": frozenset({0}),
    "RESIZE_BILINEAR": frozenset({1}),
    "REDUCE_ALL": frozenset({1}),
}
"""Input positions read only when the code is generated, by operator type."""


def read_at_run_time(op: Operator, position: int) -> bool:
    """Whether the kernel of `op` reads input `position` when it runs (so a constant one is stored)."""
    return position not in GENERATION_TIME_INPUTS.get(op.op_type, frozenset())


WIDENED_FILTERS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})
"""Layers whose filter a variant may pre-expand to int16 (`ir.variants.WeightLayout.INT16_PAIRS`): a
DEPTHWISE_CONV_2D of one input channel, computed as the CONV_2D it is."""

FC_ROW_BLOCK = 4
"""Rows of a widened FULLY_CONNECTED filter stored side by side (md_fully_connected_s8_w16)."""


def widened_filter(op: Operator, position: int) -> bool:
    """Whether input `position` of `op` is a filter its variant keeps as int16."""
    widened = op.variant is not None and op.variant.weights == WeightLayout.INT16_PAIRS
    return widened and op.op_type in WIDENED_FILTERS and position == 1


def stored_dtype(op: Operator, position: int, tensor: Tensor) -> DType:
    """The type a constant input is kept in flash: its own (int4 packed), except a filter its variant
    pre-expands to int16 (`ir.variants`: the same values, twice an int8 filter's bytes, four times an
    int4 one's), and a 16x8
    TRANSPOSE_CONV's int16 bias, stored as the int64 TFLite Micro widens it to before each run
    (the same values: the kernel reads one bias type)."""
    if widened_filter(op, position):
        return DType.INT16
    if op.op_type == "TRANSPOSE_CONV" and position == TRANSPOSE_CONV_BIAS and tensor.dtype == DType.INT16:
        return DType.INT64
    return tensor.dtype


def stored_values(op: Operator, position: int, data: np.ndarray) -> np.ndarray:
    """A constant input's values in the order its kernel reads them from flash: the model's, except
    a filter its variant widens to int16 (`stored_dtype`): a CONV_2D's in `pair_interleaved` order,
    a FULLY_CONNECTED's in `row_blocks`; a one-channel DEPTHWISE_CONV_2D's [1, H, W, M] transposed to
    the [M, H, W, 1] of the convolution it is, then as a CONV_2D's."""
    if not widened_filter(op, position):
        return data
    if op.op_type == "DEPTHWISE_CONV_2D":
        return pair_interleaved(np.asarray(data).reshape(-1, np.shape(data)[-1]).T)
    rows = np.asarray(data).reshape(np.shape(data)[0], -1)
    return pair_interleaved(rows) if op.op_type == "CONV_2D" else row_blocks(rows)


def row_blocks(rows: np.ndarray) -> np.ndarray:
    """The int16 filter layout of md_fully_connected_s8_w16 (md_nn.h), from its rows [outputs, depth]:
    per block of 4 rows, the 4 rows' values 4k to 4k + 3 side by side, group after group, then the
    4 rows' last depth % 4 values; the rows after the last whole block as they are."""
    outputs, depth = rows.shape
    blocks, whole = outputs // FC_ROW_BLOCK, depth & ~3
    blocked = rows[: blocks * FC_ROW_BLOCK].reshape(blocks, FC_ROW_BLOCK, depth)
    groups = blocked[:, :, :whole].reshape(blocks, FC_ROW_BLOCK, whole // 4, 4).transpose(0, 2, 1, 3)
    tails = blocked[:, :, whole:].reshape(blocks, FC_ROW_BLOCK * (depth - whole))
    parts = [groups.reshape(blocks, FC_ROW_BLOCK * whole), tails]
    return np.concatenate([np.concatenate(parts, axis=1).reshape(-1), rows[blocks * FC_ROW_BLOCK :].reshape(-1)])


INTERLEAVED = 2
"""Output channels whose int16 weights are interleaved (the DSP kernel's 4 pixels x 2 channels block)."""


def pair_interleaved(rows: np.ndarray) -> np.ndarray:
    """The int16 filter layout of md_conv_s8_w16 (md_w16_index in C), from its rows (one per output
    channel, `depth` values): the channels two by two, each pair's rows as, per pair of values k,
    k + 1, the two channels' pairs side by side (a word each), then an odd depth's last value of
    both; an odd last channel's row as it is. In each whole group of 4 values the pairs are {v0, v2}
    and {v1, v3}, the order SXTB16 unpacks the input's words in. The same count of values: flat, int16."""
    channels, depth = rows.shape
    order = np.arange(depth)
    order[: depth - depth % 4] = order[: depth - depth % 4].reshape(-1, 4)[:, [0, 2, 1, 3]].reshape(-1)
    rows = np.concatenate([rows[: channels - channels % INTERLEAVED, order], rows[channels - channels % INTERLEAVED :]])
    grouped, even = channels - channels % INTERLEAVED, depth - depth % 2
    groups = rows[:grouped].astype(np.int16).reshape(grouped // INTERLEAVED, INTERLEAVED, depth)
    pairs = groups[:, :, :even].reshape(grouped // INTERLEAVED, INTERLEAVED, even // 2, 2).transpose(0, 2, 1, 3)
    tails = groups[:, :, even:].reshape(grouped // INTERLEAVED, -1)
    blocks = np.concatenate([pairs.reshape(grouped // INTERLEAVED, -1), tails], 1)
    return np.concatenate([blocks.reshape(-1), rows[grouped:].astype(np.int16).reshape(-1)])
