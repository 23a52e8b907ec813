"""The scratch sizes the memory contracts plan (`kernels/contracts.py`) are the C library's own:
`md_*_get_buffer_size()` in `mdnn/Include`, the source of truth, compiled into a host program
and asked for a few hundred random windows and reductions."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mcudeploy.codegen.library import library_root
from mcudeploy.ir import DType, GraphBuilder
from mcudeploy.ir.options import ReducerOptions
from mcudeploy.kernels import kernel_contract
from mcudeploy.kernels.contracts import im2col_bytes, plane_bytes, wide_im2col_bytes
from mcudeploy.params.window import Window
from test_ops_detection import detection_graph

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="no host C compiler")

PROGRAM = r"""
#include <stdio.h>

#include "md_nn.h"

/* Per line in: input_h input_w input_c filter_h filter_w output_h output_w stride_h stride_w
 * dilation_h dilation_w pad_top pad_left reduce_outputs. Per line out: the buffer sizes. */
int main(void)
{
    md_window_params p = {0};
    md_reduce_params r = {0};
    while (scanf("%d %d %d %d %d %d %d %d %d %d %d %d %d %d", &p.input_h, &p.input_w, &p.input_c, &p.filter_h,
                 &p.filter_w, &p.output_h, &p.output_w, &p.stride_h, &p.stride_w, &p.dilation_h, &p.dilation_w,
                 &p.pad_top, &p.pad_left, &r.output_count) == 14) {
        printf("%d %d %d %d %d %d %d %d %d\n", (int)md_conv_s8_get_buffer_size(&p),
               (int)md_conv_s16_get_buffer_size(&p),
               (int)md_conv_f32_get_buffer_size(&p), (int)md_conv_hybrid_f32_get_buffer_size(&p),
               (int)md_depthwise_s8_get_buffer_size(&p), (int)md_depthwise_s16_get_buffer_size(&p),
               (int)md_depthwise_f32_get_buffer_size(&p), (int)md_depthwise_s8_grouped_get_buffer_size(&p),
               (int)md_sum_int_get_buffer_size(&r));
    }
    return 0;
}
"""


def _random_case(rng: random.Random) -> tuple[Window, int, int, int]:
    """A window over an input that yields at least one output pixel, with its input (h, w, c)."""
    filter_h, filter_w = rng.randint(1, 5), rng.randint(1, 5)
    dilation_h, dilation_w = rng.randint(1, 2), rng.randint(1, 2)
    stride_h, stride_w = rng.randint(1, 3), rng.randint(1, 3)
    pad_top, pad_left = rng.randint(0, filter_h - 1), rng.randint(0, filter_w - 1)
    height = rng.randint(dilation_h * (filter_h - 1) + 1, 24)
    width = rng.randint(dilation_w * (filter_w - 1) + 1, 24)
    out_h = (height + 2 * pad_top - dilation_h * (filter_h - 1) - 1) // stride_h + 1
    out_w = (width + 2 * pad_left - dilation_w * (filter_w - 1) - 1) // stride_w + 1
    window = Window(filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, out_h, out_w)
    return window, height, width, rng.randint(1, 64)


def _mean_contract_bytes(input_shape: tuple[int, ...], axes: list[int], dtype: DType) -> tuple[int, int]:
    """(output elements, scratch bytes the contract declares) of a MEAN over `axes`."""
    b = GraphBuilder("mean")
    quant = {} if dtype.is_float else {"scale": 0.1, "zero_point": 0}
    x = b.tensor(input_shape, dtype, name="x", **quant)
    axis = b.tensor((len(axes),), DType.INT32, data=np.array(axes), name="axes")
    shape = tuple(1 if d in axes else n for d, n in enumerate(input_shape))
    y = b.tensor(shape, dtype, name="y", **quant)
    b.op("MEAN", [x, axis], [y], ReducerOptions(keep_dims=True))
    graph = b.build(inputs=[x], outputs=[y])
    return int(np.prod(shape)), kernel_contract(graph, graph.operators[0]).scratch_bytes


def _sizes_program(folder: Path, source: str) -> Path:
    """`source` (a C program printing md_nn.h's buffer sizes) built with host gcc in `folder`."""
    (folder / "sizes.c").write_text(source)
    include = library_root() / "Include"
    command = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{include}", "sizes.c", "-o", "sizes"]
    subprocess.run(command, cwd=folder, check=True)
    return folder / "sizes"


@pytest.fixture(scope="module")
def buffer_sizes(tmp_path_factory) -> Path:
    return _sizes_program(tmp_path_factory.mktemp("buffer-sizes"), PROGRAM)


def test_contracts_plan_the_c_librarys_buffer_sizes(buffer_sizes):
    rng = random.Random(10)
    cases = [_random_case(rng) for _ in range(300)]
    # int8's grouped wide planes (3x3 at stride 2): an odd padded width rounded up, an even one kept
    cases += [(Window(3, 3, 2, 2, 1, 1, 0, 0, 24, 24), 48, 48, 16), (Window(3, 3, 2, 2, 1, 1, 1, 1, 5, 4), 9, 8, 3)]
    means = [((2, 5, 7, 3), [1, 2]), ((4, 6), [0]), ((3, 4, 6), [0, 2]), ((1, 9, 9, 16), [1, 2])]
    mean_cases = [_mean_contract_bytes(shape, axes, DType.INT8) for shape, axes in means]
    lines = []
    for n, (w, height, width, channels) in enumerate(cases):
        outputs = mean_cases[n % len(mean_cases)][0]
        fields = (height, width, channels, w.filter_h, w.filter_w, w.out_h, w.out_w, w.stride_h, w.stride_w)
        fields += (w.dilation_h, w.dilation_w, w.pad_top, w.pad_left, outputs)
        lines.append(" ".join(map(str, fields)))
    answer = subprocess.run([buffer_sizes], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    rows = [list(map(int, line.split())) for line in answer.stdout.splitlines()]
    assert len(rows) == len(cases)
    for n, ((w, height, width, channels), row) in enumerate(zip(cases, rows, strict=True)):
        python = [im2col_bytes(w, channels, 2), im2col_bytes(w, channels, 2)]
        python += [im2col_bytes(w, channels, 4), im2col_bytes(w, channels, 4)]
        python += [plane_bytes(w, height, width, channels, element) for element in (1, 2, 4)]
        python.append(plane_bytes(w, height, width, channels, 1, grouped=True))
        python.append(mean_cases[n % len(mean_cases)][1])
        assert row == python, (w, height, width, channels)


def test_float_mean_takes_no_scratch():
    """md_sum_f32 accumulates in its output: the contract plans no scratch for it."""
    assert _mean_contract_bytes((2, 5, 7, 3), [1, 2], DType.FLOAT32)[1] == 0


DETECTION_PROGRAM = r"""
#include <stdio.h>

#include "md_nn.h"

/* Per line in: num_boxes max_detections regular_nms. Per line out: the buffer size. */
int main(void)
{
    md_detection_params p = {0};
    while (scanf("%d %d %d", &p.num_boxes, &p.max_detections, &p.regular_nms) == 3) {
        printf("%d\n", (int)md_detection_postprocess_get_buffer_size(&p));
    }
    return 0;
}
"""


def test_detection_contract_plans_the_c_librarys_buffer_size(tmp_path):
    program = _sizes_program(tmp_path, DETECTION_PROGRAM)
    cases = [
        (boxes, detections, regular) for boxes in (1, 3, 4, 5, 1917) for detections in (1, 10) for regular in (0, 1)
    ]
    lines = [" ".join(map(str, case)) for case in cases]
    answer = subprocess.run([program], input="\n".join(lines) + "\n", capture_output=True, text=True)
    assert len(answer.stdout.splitlines()) == len(cases)
    for (boxes, detections, regular), line in zip(cases, answer.stdout.splitlines(), strict=True):
        graph = detection_graph(boxes, max_detections=detections, use_regular_nms=bool(regular))
        assert kernel_contract(graph, graph.operators[0]).scratch_bytes == int(line), (boxes, detections, regular)


WIDE_PROGRAM = r"""
#include <stdio.h>

#include "md_nn.h"

/* Per line in: filter_h filter_w pad_top pad_left input_c output_c. Per line out: the buffer size. */
int main(void)
{
    md_window_params p = {0};
    while (scanf("%d %d %d %d %d %d", &p.filter_h, &p.filter_w, &p.pad_top, &p.pad_left, &p.input_c, &p.output_c) ==
           6) {
        printf("%d\n", (int)md_conv_s8_w16_get_buffer_size(&p));
    }
    return 0;
}
"""


def test_int16_weight_contract_plans_the_c_librarys_buffer_size(tmp_path):
    """md_conv_s8_w16's columns, and the records of pointwise layers with 4 to 16, 32 or 64 input channels
    and of a 3x3 stem over one channel to 8."""
    program = _sizes_program(tmp_path, WIDE_PROGRAM)
    shapes = [(1, 1, 0, 0), (1, 1, 1, 0), (3, 3, 1, 1), (1, 3, 0, 1)]
    channel_counts = (1, 3, 4, 8, 16, 20, 32, 64)
    cases = [(*shape, channels, filters) for shape in shapes for channels in channel_counts for filters in (6, 7, 8)]
    answer = subprocess.run(
        [program], input="".join(" ".join(map(str, c)) + "\n" for c in cases), capture_output=True, text=True
    )
    sizes = list(map(int, answer.stdout.split()))
    assert len(sizes) == len(cases)
    for (filter_h, filter_w, pad_top, pad_left, channels, filters), size in zip(cases, sizes, strict=True):
        window = Window(filter_h, filter_w, 1, 1, 1, 1, pad_top, pad_left, 4, 4)
        assert wide_im2col_bytes(window, channels, filters) == size, (window, channels, filters)
    assert sizes[cases.index((1, 1, 0, 0, 8, 6))] == 4 * 8 * 2 + 3 * (8 + 8) * 4  # 8 -> 6: 3 records
    assert sizes[cases.index((3, 3, 1, 1, 1, 8))] == 4 * 10 * 2 + 4 * 17 * 4  # person_detect's stem: 4 records
