"""Kernel memory contracts and tensor lifetimes: each declared overlap condition is the exact
boundary of what the kernel's access schedule makes safe, and the schedules match a brute-force
walk of the kernels' loops."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import MODELS
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.ir import Columns, Graph, GraphBuilder, KernelVariant, Padding, Tensor, WeightLayout
from mcudeploy.ir.options import Conv2DOptions, DepthwiseConv2DOptions, ElementwiseOptions, Pool2DOptions
from mcudeploy.kernels import kernel_contract
from mcudeploy.kernels.contracts import PLANE_SLACK, AccessSchedule, pixel_unit_schedule
from mcudeploy.memory import plan_memory
from mcudeploy.memory.lifetimes import last_step, tensor_lifetimes
from mcudeploy.memory.sharing import arena_tensors
from mcudeploy.params.window import Window, make_window


def _out_size(size: int, kernel: int, stride: int, dilation: int, padding: Padding) -> int:
    if padding == Padding.SAME:
        return -(-size // stride)
    return -(-(size - (kernel - 1) * dilation) // stride)


def window_graph(
    op_type: str,
    in_shape: tuple[int, int, int, int],
    out_c: int,
    kernel: tuple[int, int],
    stride: int,
    padding: Padding,
    dilation: int = 1,
    dtype: str = "int8",
) -> Graph:
    """One CONV_2D / DEPTHWISE_CONV_2D / pooling operator; only shapes and options matter here."""
    builder = GraphBuilder(op_type)
    out_h, out_w = (_out_size(in_shape[i], kernel[i - 1], stride, dilation, padding) for i in (1, 2))
    x = builder.tensor(in_shape, dtype, scale=0.1)
    y = builder.tensor((in_shape[0], out_h, out_w, out_c), dtype, scale=0.1)
    if op_type.endswith("POOL_2D"):
        options = Pool2DOptions(padding, stride, stride, kernel[0], kernel[1])
        builder.op(op_type, [x], [y], options)
    else:
        depthwise = op_type == "DEPTHWISE_CONV_2D"
        filter_shape = (1, *kernel, out_c) if depthwise else (out_c, *kernel, in_shape[3])
        w = builder.tensor(filter_shape, "int8", scale=0.1, data=np.zeros(filter_shape, np.int8))
        if depthwise:
            options = DepthwiseConv2DOptions(padding, stride, stride, dilation, dilation, out_c // in_shape[3])
        else:
            options = Conv2DOptions(padding, stride, stride, dilation, dilation)
        builder.op(op_type, [x, w], [y], options)
    return builder.build([x], [y])


WINDOW_CASES = [
    ("CONV_2D", (1, 9, 7, 3), 8, (3, 3), 2, Padding.SAME, 1),
    ("CONV_2D", (1, 8, 8, 4), 4, (3, 3), 1, Padding.SAME, 1),
    ("CONV_2D", (1, 8, 6, 4), 2, (3, 2), 1, Padding.VALID, 2),
    ("CONV_2D", (1, 6, 6, 8), 16, (1, 1), 1, Padding.VALID, 1),
    ("CONV_2D", (1, 6, 6, 16), 8, (1, 1), 1, Padding.VALID, 1),
    ("CONV_2D", (2, 5, 5, 2), 3, (3, 3), 2, Padding.VALID, 1),
    ("DEPTHWISE_CONV_2D", (1, 10, 10, 4), 4, (3, 3), 1, Padding.SAME, 1),
    ("DEPTHWISE_CONV_2D", (1, 10, 10, 4), 4, (3, 3), 2, Padding.SAME, 1),
    ("DEPTHWISE_CONV_2D", (1, 5, 5, 16), 16, (3, 3), 1, Padding.SAME, 1),
    ("DEPTHWISE_CONV_2D", (1, 6, 6, 2), 4, (3, 3), 1, Padding.VALID, 2),
    ("AVERAGE_POOL_2D", (1, 5, 4, 8), 8, (5, 4), 1, Padding.VALID, 1),
    ("MAX_POOL_2D", (1, 8, 8, 3), 3, (2, 2), 2, Padding.VALID, 1),
    ("AVERAGE_POOL_2D", (1, 7, 7, 2), 2, (3, 3), 2, Padding.SAME, 1),
]


@pytest.mark.parametrize("case", WINDOW_CASES, ids=lambda case: f"{case[0]}-{case[1]}-{case[3]}s{case[4]}")
def test_declared_overlap_is_the_exact_safe_boundary(case) -> None:
    graph = window_graph(*case)
    (rule,) = kernel_contract(graph, graph.operators[0]).overlaps
    schedule = rule.schedule
    in_bytes, out_bytes = len(schedule.last_read), len(schedule.write_unit)
    for shift in range(-out_bytes, min(rule.max_shift, in_bytes) + 1):
        assert schedule.is_safe(shift), shift
    if rule.max_shift < in_bytes:
        assert not schedule.is_safe(rule.max_shift + 1)
    if rule.period is not None:
        for shift in range(-out_bytes + 1, in_bytes, rule.period):
            assert schedule.is_safe(shift - shift % rule.period), shift


@pytest.mark.parametrize("case", [c for c in WINDOW_CASES if c[0] == "CONV_2D"], ids=str)
def test_conv_schedule_matches_the_loops(case) -> None:
    """Last unit reading each input pixel, as md_conv's loops run: a pair of output pixels per unit
    with im2col, one output value (pixel, channel) per unit without."""
    graph = window_graph(*case)
    op = graph.operators[0]
    contract = kernel_contract(graph, op)
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    batch, height, width, channels = x.shape
    _, out_h, out_w, out_c = y.shape
    _, _, _, (kernel_h, kernel_w), stride, _, dilation = case
    pad_top = max((out_h - 1) * stride + (kernel_h - 1) * dilation + 1 - height, 0) // 2
    pad_left = max((out_w - 1) * stride + (kernel_w - 1) * dilation + 1 - width, 0) // 2
    pixels = out_h * out_w
    if contract.scratch_bytes:
        unit = lambda n, pixel: n * (pixels + 1) // 2 + pixel // 2  # noqa: E731
    else:
        unit = lambda n, pixel: (n * pixels + pixel) * out_c + out_c - 1  # noqa: E731
    last = np.full((batch, height, width), -1)
    for n in range(batch):
        for pixel in range(pixels):
            for fy in range(kernel_h):
                for fx in range(kernel_w):
                    row = pixel // out_w * stride - pad_top + fy * dilation
                    col = pixel % out_w * stride - pad_left + fx * dilation
                    if 0 <= row < height and 0 <= col < width:
                        last[n, row, col] = max(last[n, row, col], unit(n, pixel))
    schedule = contract.overlaps[0].schedule
    np.testing.assert_array_equal(schedule.last_read, np.repeat(last.reshape(-1), channels))


def test_conv_scratch_is_two_int16_im2col_columns() -> None:
    graph = window_graph("CONV_2D", (1, 8, 8, 5), 4, (3, 3), 1, Padding.SAME)
    assert kernel_contract(graph, graph.operators[0]).scratch_bytes == 2 * 3 * 3 * 5 * 2
    single_pixel = window_graph("CONV_2D", (4, 3, 3, 5), 64, (3, 3), 1, Padding.VALID)
    assert kernel_contract(single_pixel, single_pixel.operators[0]).scratch_bytes == 1 * 3 * 3 * 5 * 2


def test_depthwise_picks_the_cheaper_kernel() -> None:
    wide = window_graph("DEPTHWISE_CONV_2D", (1, 48, 48, 8), 8, (3, 3), 1, Padding.SAME)
    deep = window_graph("DEPTHWISE_CONV_2D", (1, 6, 6, 128), 128, (3, 3), 1, Padding.SAME)
    wide_contract = kernel_contract(wide, wide.operators[0])
    deep_contract = kernel_contract(deep, deep.operators[0])
    assert wide_contract.scratch_bytes == 0 and wide_contract.overlaps[0].period is None
    # The plane with its SAME padding (8 x 8) and the word-read slack.
    assert deep_contract.scratch_bytes == 8 * 8 + PLANE_SLACK and deep_contract.overlaps[0].period == 128


def test_conv_without_im2col_where_its_columns_cost_more_than_they_share() -> None:
    # A KWS CNN's second layer: 10x4 windows over 28 channels, 4,480 bytes of columns; alone in
    # its model, so at the peak: planning chooses the direct path, which lowers the arena.
    graph = window_graph("CONV_2D", (1, 40, 7, 28), 30, (10, 4), 2, Padding.VALID)
    assert kernel_contract(graph, graph.operators[0]).scratch_bytes > 0  # im2col until chosen
    plan_memory(graph)
    contract = kernel_contract(graph, graph.operators[0])
    assert contract.scratch_bytes == 0 and contract.kernel.startswith("direct")
    assert contract.overlaps[0].max_shift > -graph.tensors[1].nbytes  # the output may still overlap the input


def _runs_of(x: Tensor, y: Tensor, window: Window, pixels: int = 2) -> AccessSchedule:
    """The schedule of a batch's output pixels taken `pixels` at a time, in order."""
    return pixel_unit_schedule(x, y, window, np.arange(window.out_h * window.out_w) // pixels)


def test_pixel_pair_schedule_writes_two_pixels_per_unit() -> None:
    graph = window_graph("CONV_2D", (1, 4, 4, 1), 2, (1, 1), 1, Padding.VALID)
    x, y, _ = graph.tensors
    window = make_window(graph.operators[0].options, x.shape, (1, 1), y.shape)
    schedule = _runs_of(x, y, window)
    np.testing.assert_array_equal(schedule.write_unit, np.repeat(np.arange(16) // 2, 2))
    # 1 -> 2 bytes per pixel: after pair k, 2k+2 output pixels are written and input pixel 2k+2 is still to read
    assert kernel_contract(graph, graph.operators[0]).overlaps[0].max_shift == min(-2 * (k + 1) for k in range(7))


def _walked_units(pixels: int, run: int) -> np.ndarray:
    """md_conv_s8_w16's loops over a batch's output pixels in runs of `run` (the whole image, or a row
    of a strided narrow pointwise layer): each run's groups of 4, then its last pixels one by one."""
    units, unit = [], 0
    for start in range(0, pixels, run):
        count = min(run, pixels - start)
        for k in range(count):
            units.append(unit + k // 4 if k < count - count % 4 else unit + count // 4 + k - (count - count % 4))
        unit = units[-1] + 1
    return np.array(units)


@pytest.mark.parametrize(
    ("in_shape", "out_c", "stride"),
    [((1, 5, 6, 16), 32, 1), ((1, 7, 5, 16), 10, 2), ((1, 5, 5, 32), 48, 2), ((1, 2, 5, 40), 48, 1)],
)
def test_int16_weight_contract_holds_for_the_kernels_loops(in_shape, out_c, stride) -> None:
    """The int16-weight kernel writes a group of 4 pixels after reading it, but a last 1-3 pixels one by
    one and a strided narrow pointwise image row by row: the declared shift is safe for every path the
    layer may take (a shift past groups of 4 in order let a lone output overwrite the next one's input)."""
    graph = window_graph("CONV_2D", in_shape, out_c, (1, 1), stride, Padding.SAME)
    graph.operators[0].variant = KernelVariant(Columns.IM2COL, WeightLayout.INT16_PAIRS)
    x, y, _ = graph.tensors
    window = make_window(graph.operators[0].options, x.shape, (1, 1), y.shape)
    pixels = window.out_h * window.out_w
    runs = {pixels, window.out_w if stride > 1 and in_shape[3] in (4, 8, 12, 16, 32, 64) else pixels}
    walked = min(pixel_unit_schedule(x, y, window, _walked_units(pixels, run)).max_safe_shift() for run in runs)
    declared = kernel_contract(graph, graph.operators[0]).overlaps[0].max_shift
    assert declared <= walked < _runs_of(x, y, window, 4).max_safe_shift()


def test_int16_weights_have_no_direct_schedule() -> None:
    """md_conv_s8_w16 always fills its 4-column scratch, so no variant may plan it without one."""
    with pytest.raises(ValueError, match="im2col columns only"):
        KernelVariant(Columns.DIRECT, WeightLayout.INT16_PAIRS)


def _conv_s8_loops(graph: Graph) -> dict[str, np.ndarray]:
    """md_conv_s8's loops over all batches' output pixels, each pixel's unit (reads, then writes): pairs of
    a batch's pixels (md_conv_int.h's conv_pairs, md_conv_dsp.c's conv_s8_pairs, Helium's pointwise_s8),
    Helium's groups of 4 (conv_s8_groups), and where the layer takes them, the DSP pointwise matrix
    multiply's pairs of all batches' pixels as one run (md_conv_1x1_s8_dsp) and Helium's output rows
    (rows_s8: a row's window rows padded on the stack, then its pixels)."""
    op = graph.operators[0]
    x, w, y = (graph.tensors[i] for i in (*op.inputs, *op.outputs))
    batch, out_h, out_w, _ = y.shape
    pixel = np.arange(batch * out_h * out_w)
    local = pixel % (out_h * out_w)
    loops = {"pairs": (pixel - local) + local // 2 * 2, "groups of 4": (pixel - local) + local // 4 * 4}
    _, kernel_h, kernel_w, _ = w.shape
    options = op.options
    if (kernel_h, kernel_w, options.stride_h, options.stride_w) == (1, 1, 1, 1) and x.shape[3] % 4 == 0:
        loops["pointwise over all batches"] = pixel // 2
    if kernel_h * kernel_w > 1 and kernel_h <= 4 and kernel_w * x.shape[3] <= 16 and y.shape[3] <= 32:
        loops["output rows"] = pixel // out_w
    return {name: np.unique(units, return_inverse=True)[1] for name, units in loops.items()}


@pytest.mark.parametrize(
    ("in_shape", "out_c", "kernel", "stride", "padding", "loop_past_pairs"),
    [
        ((1, 5, 3, 2), 4, (3, 3), 1, Padding.VALID, "output rows"),  # 3 rows of 1 pixel: a pair spans 2 rows
        ((1, 5, 3, 3), 8, (3, 3), 1, Padding.VALID, "output rows"),
        ((1, 5, 3, 1), 8, (2, 2), 2, Padding.VALID, "output rows"),
        ((1, 7, 9, 3), 8, (3, 3), 1, Padding.SAME, None),  # odd width: pairs over rows, held by the pairs' bound
        ((1, 9, 7, 3), 16, (3, 3), 2, Padding.SAME, None),  # stride 2, odd pixel count
        ((1, 7, 5, 16), 8, (3, 3), 2, Padding.VALID, None),  # groups of 4 with a lone last pixel
        ((2, 3, 3, 8), 4, (1, 1), 1, Padding.VALID, None),  # 9 pixels a batch: the DSP pairs across batches
        ((3, 1, 5, 16), 24, (1, 1), 1, Padding.VALID, None),
        ((1, 5, 5, 8), 12, (1, 1), 2, Padding.SAME, None),  # strided pointwise: pairs over rows
    ],
)
def test_int8_im2col_contract_holds_for_the_kernels_loops(in_shape, out_c, kernel, stride, padding, loop_past_pairs):
    """Every loop md_conv_s8 may run the layer with (portable, DSP, Helium) reads a unit's receptive
    fields before writing its outputs: the declared shift is safe for each; where a loop splits a pair
    (Helium's output rows of an odd width), pairs in order alone would have declared a shift too far."""
    graph = window_graph("CONV_2D", in_shape, out_c, kernel, stride, padding)
    x, y, _ = graph.tensors
    window = make_window(graph.operators[0].options, x.shape, kernel, y.shape)
    declared = kernel_contract(graph, graph.operators[0]).overlaps[0].max_shift
    walked = {
        name: pixel_unit_schedule(x, y, window, units).max_safe_shift() for name, units in _conv_s8_loops(graph).items()
    }
    assert all(declared <= shift for shift in walked.values()), (declared, walked)
    pairs = _runs_of(x, y, window).max_safe_shift()
    if loop_past_pairs:
        assert walked[loop_past_pairs] < pairs
    else:
        assert declared == pairs  # no loop needs less: the arena stays what it was


def test_elementwise_sizes_and_reshape_alias() -> None:
    builder = GraphBuilder("chain")
    x = builder.tensor((1, 10), "int8", scale=0.1)
    wide = builder.tensor((1, 10), "int16", scale=0.1)
    narrow = builder.tensor((1, 10), "int8", scale=0.1)
    flat = builder.tensor((10,), "int8", scale=0.1)
    builder.op("QUANTIZE", [x], [wide])
    builder.op("QUANTIZE", [wide], [narrow])
    builder.op("RESHAPE", [narrow], [flat])
    graph = builder.build([x], [flat])
    widen, shrink, reshape = (kernel_contract(graph, op) for op in graph.operators)
    assert widen.overlaps[0].max_shift == -9  # int8 -> int16: the output starts 9 bytes lower
    assert shrink.overlaps[0].max_shift == 1
    assert reshape.alias_of_input == 0 and reshape.scratch_bytes == 0
    tensors = arena_tensors(graph)
    assert tensors.root[flat] == narrow
    assert [(p.op, p.max_shift) for p in tensors.permits] == [(0, -9), (1, 1)]


def test_fully_connected_shares_nothing() -> None:
    graph = read_tflite(MODELS / "mlperf_tiny/ad01_int8.tflite")
    for op in graph.operators:
        contract = kernel_contract(graph, op)
        assert contract.overlaps == () and contract.scratch_bytes == 0


# ------------------------------------------------------------------ lifetimes


def test_lifetimes_of_a_residual_network() -> None:
    graph = read_tflite(MODELS / "mlperf_tiny/ic_resnet8_int8.tflite")
    lifetimes = tensor_lifetimes(graph)
    assert not any(graph.tensors[i].is_constant for i in lifetimes)
    (graph_input,) = graph.inputs
    assert lifetimes[graph_input].first == 0
    (graph_output,) = graph.outputs
    assert lifetimes[graph_output].last == last_step(graph)
    first_add = next(op for op in graph.operators if op.op_type == "ADD")
    skip = first_add.inputs[0]  # the first block's input, read again by the ADD two convolutions later
    assert (lifetimes[skip].first, lifetimes[skip].last) == (0, first_add.index)
    assert len(graph.consumers(skip)) == 2


def test_unread_output_still_lives_its_own_step() -> None:
    builder = GraphBuilder("dangling")
    x = builder.tensor((1, 4), "int8", scale=0.1)
    y = builder.tensor((1, 4), "int8", scale=0.1)
    z = builder.tensor((1, 4), "int8", scale=0.1)
    unused = builder.tensor((1, 4), "int8", scale=0.1)
    builder.op("RELU", [x], [y])
    builder.op("RELU", [x], [z])
    graph = builder.build([x], [z])
    lifetimes = tensor_lifetimes(graph)
    assert (lifetimes[x].first, lifetimes[x].last) == (0, 1)
    assert (lifetimes[y].first, lifetimes[y].last) == (0, 0)
    assert unused not in lifetimes


def test_no_overlap_when_the_same_bytes_are_also_read_without_a_declaration() -> None:
    builder = GraphBuilder("reshaped twice")
    x = builder.tensor((1, 16), "int8", scale=0.1)
    flat = builder.tensor((16,), "int8", scale=0.1)
    y = builder.tensor((1, 16), "int8", scale=0.1)
    builder.op("RESHAPE", [x, builder.tensor((1,), "int32", data=[16])], [flat])
    builder.op("ADD", [x, flat], [y], ElementwiseOptions())  # `flat` broadcasts: read again and again
    tensors = arena_tensors(builder.build([x], [y]))
    assert tensors.root[flat] == x
    assert tensors.permits == []
