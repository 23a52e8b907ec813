"""The integer ADD, SUB and MUL kernels of every core agree bit for bit with the reference engine:
the operator family of tests/test_codegen.py (broadcasts, activations, int8/int16/int32) on the
emulated Cortex-M4 (portable C with the int8 ADD/SUB row loop) and Cortex-M55 (MVE rows,
`mdnn/Source/elementwise/md_elementwise_mve.c`, with the portable fallbacks)."""

from __future__ import annotations

import pytest

from mcudeploy.inputs import random_inputs
from mcudeploy.validation.runner import Validator
from test_codegen import elementwise_family


@pytest.mark.parametrize("target", ["m4", "m55"])
def test_elementwise_family_is_bit_exact(target: str) -> None:
    checker = Validator(elementwise_family())
    try:
        result = checker.validate_target(target, [random_inputs(checker.graph, seed) for seed in (0, 1, 2)])
        assert [r.divergence for r in result.inputs if not r.agrees] == []
    finally:
        checker.close()
