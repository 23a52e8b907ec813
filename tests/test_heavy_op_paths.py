"""The DSP and Helium paths of SVDF, BATCH_MATMUL (int8, int16) and int8 RESIZE_BILINEAR
(`mdnn/Source/svdf/md_svdf_{dsp,mve}.c`, `mdnn/Source/batch_matmul/md_batch_matmul_{dsp,mve}.c`,
`mdnn/Source/resize/md_resize_{dsp,mve}.c`) on the emulated Cortex-M4 and M55 agree with the
reference engine bit for bit, invocation after invocation (SVDF's state carries over):
SVDF with int8 and int16 state (zero points 0 and not), input sizes and unit spans with and without
a tail of a word or a vector; BATCH_MATMUL in its four operand layouts (adjoints), odd and even
row and column counts, a single row or column, depths with a tail, more columns than a block of 8,
broadcast batches, outputs requantized with a right and a left shift; RESIZE_BILINEAR up and down, with
half-pixel positions before the first pixel (negative weights), channel counts of 3, 9 and 16."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.devices import find_device
from mcudeploy.doctor.kernels import classify
from mcudeploy.emulation import core_target
from mcudeploy.emulation.elf import ElfImage
from mcudeploy.estimate import estimate_model
from mcudeploy.estimate.measure import build_model
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import NO_TENSOR, Graph
from mcudeploy.ir.options import BatchMatMulOptions, ResizeBilinearOptions, SVDFOptions
from mcudeploy.memory import plan_memory
from test_codegen import Family, assert_invocations_match_engine, build

INVOCATIONS = 4


def _svdf(f: Family, state_dtype: str, zero: int, input_size: int, units: int, rank: int, memory: int) -> None:
    filters = units * rank
    x = f.input((2, input_size), "int8", scale=0.05)
    info = np.iinfo(state_dtype)
    times = f.constant(f.rng.integers(info.min + 1, info.max + 1, (filters, memory)), state_dtype, scale=0.0004)
    bias = f.constant(f.rng.integers(-3000, 3000, units), "int32", scale=0.02 * 0.0004)
    state = f.builder.tensor(
        (2, filters * memory), state_dtype, scale=0.02, zero_point=zero, is_variable=True, name="svdf/state"
    )
    features = f.weights((filters, input_size))
    f.op("SVDF", [x, features, times, bias if zero else NO_TENSOR, state], [f.output((2, units))], SVDFOptions(rank))


def heavy_op_paths() -> Graph:
    f = Family("heavy_op_paths", 12)
    _svdf(f, "int8", 3, 13, 3, 2, 5)  # a word and a tail of 1; 6 filters in pairs; spans of 10
    _svdf(f, "int8", -4, 40, 2, 1, 20)  # 2 whole vectors and a tail of 8
    _svdf(f, "int16", 0, 9, 4, 1, 5)  # odd spans: a halfword tail
    _svdf(f, "int16", 5, 24, 1, 3, 7)  # zero point taken out as zero point * sum(w); 3 filters: 1 alone
    for lhs, rhs, out, adj_x, adj_y in (
        ((2, 3, 7), (7, 5), (2, 3, 5), False, False),  # odd rows and columns, depth tail 3
        ((1, 4, 6), (1, 6, 4), (1, 4, 4), False, False),  # output scale below the inputs': a left shift
        ((1, 13), (13, 11), (1, 11), False, False),  # one row; 8 + 3 columns
        ((4, 20), (20, 1), (4, 1), False, False),  # one column
        ((2, 1, 9, 6), (1, 3, 9, 8), (2, 3, 6, 8), True, False),  # adj_x: lhs' rows side by side
        ((3, 5, 18), (1, 4, 18), (3, 5, 4), False, True),  # adj_y: 2x2 dot products, vector tail 2
        ((1, 17), (3, 17), (1, 3), False, True),  # one row, odd columns
        ((2, 7, 3), (2, 6, 7), (2, 3, 6), True, True),  # both adjoints
        ((1, 5, 10), (1, 3, 5), (1, 10, 3), True, True),  # 8 + 2 rows side by side, odd columns
    ):
        a, b = f.input(lhs, "int8", 0.05, -7), f.input(rhs, "int8", 0.03, 5)
        y = f.output(out, "int8", 0.0005 if lhs == (1, 4, 6) else 0.4, 3)
        f.op("BATCH_MATMUL", [a, b], [y], BatchMatMulOptions(adj_x=adj_x, adj_y=adj_y))
        if lhs != (1, 4, 6):  # int16 in the same layouts (SMLALD pairs, VMLALDAVA with gathered lines)
            a, b = f.input(lhs, "int16", 0.05, 0), f.input(rhs, "int16", 0.03, 0)
            y = f.output(out, "int16", 150.0, 0)  # sums of about 10^9 onto int16
            f.op("BATCH_MATMUL", [a, b], [y], BatchMatMulOptions(adj_x=adj_x, adj_y=adj_y))
    for in_hw, out_hw, channels, align, half in (
        ((3, 4), (7, 9), 9, False, True),  # half-pixel positions before the first pixel: negative weights
        ((5, 6), (3, 4), 3, True, False),  # a partial vector
        ((4, 4), (8, 8), 16, False, False),
    ):
        x = f.input((2, *in_hw, channels), "int8", 0.1, -5)
        y = f.output((2, *out_hw, channels), "int8", 0.1, -5)
        f.op("RESIZE_BILINEAR", [x, f.constant(out_hw, "int32")], [y], ResizeBilinearOptions(align, half))
    return f.graph()


@pytest.mark.parametrize("target", ["m4", "m55"])
def test_svdf_batch_matmul_and_resize_paths_are_bit_exact(tmp_path, target: str):
    graph = heavy_op_paths()
    program = build(graph, tmp_path, invocations=INVOCATIONS, target_name=target)
    assert_invocations_match_engine(program, [random_inputs(graph, 5 * step) for step in range(INVOCATIONS)])


def test_estimate_and_doctor_see_the_dsp_paths(tmp_path):
    """`estimate` prices what runs: on a Cortex-M4 each of the three layers costs well under its
    portable build (1.9x, 2.6x and 3.2x fewer cycles when written); and `doctor` names the three
    families of a portable build as ones with a DSP path left unused."""
    f = Family("heavy_ops_estimate", 13)
    _svdf(f, "int8", 3, 40, 16, 1, 8)
    a, b = f.input((1, 2, 8, 32), "int8", 0.05, -7), f.input((1, 2, 32, 8), "int8", 0.03, 5)
    f.op("BATCH_MATMUL", [a, b], [f.output((1, 2, 8, 8), "int8", 0.4, 3)], BatchMatMulOptions())
    x = f.input((1, 6, 6, 8), "int8", 0.1, -5)
    y = f.output((1, 12, 12, 8), "int8", 0.1, -5)
    f.op("RESIZE_BILINEAR", [x, f.constant((12, 12), "int32")], [y], ResizeBilinearOptions(False, True))
    graph = f.graph()
    device = find_device("STM32F446RE")
    fast = estimate_model(graph, device, workdir=tmp_path)
    slow = estimate_model(graph, device, workdir=tmp_path, portable=True)
    ratios = {a.op: a.cycles.total / b.cycles.total for a, b in zip(fast.layers, slow.layers, strict=True)}
    assert set(ratios) == {"SVDF", "BATCH_MATMUL", "RESIZE_BILINEAR"} and max(ratios.values()) < 0.75, ratios
    portable = build_model(graph, plan_memory(graph), True, core_target(device.core), tmp_path / "portable")
    unused = classify(ElfImage(portable), graph, device.core).reference_ops
    assert {"md_svdf.c", "md_batch_matmul.c", "md_resize.c"} <= set(unused)
