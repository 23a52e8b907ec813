"""The int8 AVERAGE_POOL_2D kernel of the DSP cores (`mdnn/Source/pool/md_pool_dsp.c`: 8 and 4
channels a word pair by SXTAB16, the channels past the last 4 one by one, windows over whole rows
summed as one run) agrees bit for bit with the reference engine on the emulated Cortex-M4, M7 and
M33, and the portable kernel on the M3: whole-plane averages (kws's 25x5, a window that is the
whole image), edges of SAME windows (fewer taps inside), strides, batches, clamped activations,
channel counts of 8k + 4 + a tail, and a window of more than 256 taps (the portable fallback)."""

from __future__ import annotations

import pytest

from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Activation, Graph, Padding
from mcudeploy.ir.options import Pool2DOptions
from mcudeploy.validation.runner import Validator
from test_codegen import Family, _conv_size


def pool_paths() -> Graph:
    f = Family("pool_paths", 4)
    cases = (  # input shape, padding, filter (h, w), stride, activation
        ((1, 25, 5, 64), Padding.VALID, (25, 5), 1, Activation.NONE),  # kws: one run of 125 taps
        ((2, 7, 6, 29), Padding.SAME, (3, 3), 1, Activation.RELU6),  # 8 + 8 + 8 + 4 + 1, edges
        ((1, 9, 3, 15), Padding.SAME, (3, 3), 2, Activation.NONE),  # whole rows inside: one run; 8 + 4 + 3
        ((1, 6, 8, 6), Padding.VALID, (2, 2), 2, Activation.RELU),  # 4 + 2
        ((1, 17, 16, 5), Padding.VALID, (17, 16), 1, Activation.NONE),  # 272 taps: the portable kernel
    )
    for shape, padding, (height, width), stride, activation in cases:
        out_h = _conv_size(shape[1], height, stride, 1, padding)
        out_w = _conv_size(shape[2], width, stride, 1, padding)
        x = f.input(shape, "int8", scale=0.05)
        y = f.output((shape[0], out_h, out_w, shape[3]), "int8", scale=0.03, zero_point=-5)
        f.op("AVERAGE_POOL_2D", [x], [y], Pool2DOptions(padding, stride, stride, height, width, activation))
    return f.graph()


@pytest.fixture(scope="module")
def validator():
    checker = Validator(pool_paths())
    yield checker
    checker.close()


@pytest.mark.parametrize("target", ["m3", "m4", "m7", "m33"])
def test_pool_paths_are_bit_exact(validator, target: str):
    result = validator.validate_target(target, [random_inputs(validator.graph, seed) for seed in (0, 1)])
    assert [r.divergence for r in result.inputs if not r.agrees] == []
