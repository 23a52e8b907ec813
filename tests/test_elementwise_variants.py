"""The integer ADD, SUB and MUL kernels of every core agree bit for bit with the reference engine:
the operator family of tests/test_codegen.py (broadcasts, activations, int8/int16/int32) on the
emulated Cortex-M4 and M33 (`md_elementwise_dsp.c`: int8 ADD/SUB tables 4 elements a word, with whole
words only, a tail of 1 or 3, full-range and clamped outputs, tables filled by SMMULR; the portable
row loop otherwise) and Cortex-M55 (MVE rows, `mdnn/Source/elementwise/md_elementwise_mve.c`, its
software-pipelined table loop, with the portable fallbacks)."""

from __future__ import annotations

import pytest

from mcudeploy.inputs import random_inputs
from mcudeploy.validation.runner import Validator
from test_codegen import elementwise_family


@pytest.mark.parametrize("target", ["m4", "m33", "m55"])
def test_elementwise_family_is_bit_exact(target: str) -> None:
    checker = Validator(elementwise_family())
    try:
        result = checker.validate_target(target, [random_inputs(checker.graph, seed) for seed in (0, 1, 2)])
        assert [r.divergence for r in result.inputs if not r.agrees] == []
    finally:
        checker.close()
