"""The MVE (Helium) kernel variants, `runtime/md_*_mve.c`, on the emulated Cortex-M55 (QEMU
mps3-an547): every int8 model and the convolution families agree with the reference engine bit
for bit, with the MVE sources actually shipped and run."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from conftest import INT8_MODELS, MODELS
from mcudeploy.importers import load_model
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Graph
from mcudeploy.validation.runner import Validator
from test_codegen import conv_family

SEEDS = (0, 1, 2)
TARGET = "m55"
MVE_FAMILIES = {
    "CONV_2D": "md_conv_mve.c",
    "DEPTHWISE_CONV_2D": "md_depthwise_mve.c",
    "FULLY_CONNECTED": "md_fully_connected_mve.c",
}
"""Operators with an MVE variant, and the source that must ship for them."""


@pytest.fixture
def validator(request) -> Iterator[Validator]:
    graph, planner = request.param
    checker = Validator(graph, planner=planner)
    yield checker
    checker.close()


def _assert_mve_sources_ship(checker: Validator) -> None:
    sources = {source.rsplit("/", 1)[-1] for source in checker.code_for(TARGET).sources}
    used = {op.op_type for op in checker.graph.operators}
    expected = {name for op_type, name in MVE_FAMILIES.items() if op_type in used}
    assert expected <= sources, f"{sorted(expected - sources)} not shipped for the M55"
    assert not any(re.fullmatch(r"md_\w+_dsp\.c", s) and s.replace("_dsp", "_mve") in sources for s in sources)


def _assert_bit_exact(checker: Validator) -> None:
    _assert_mve_sources_ship(checker)
    result = checker.validate_target(TARGET, [random_inputs(checker.graph, seed) for seed in SEEDS])
    differing = [(i, r.divergence) for i, r in enumerate(result.inputs) if not r.agrees]
    assert not differing, f"M55 outputs differ from the engine: {differing}"


def _model(path: str) -> Graph:
    return load_model(MODELS / path)


@pytest.mark.parametrize("validator", [(_model(m), "mcudeploy") for m in INT8_MODELS], ids=INT8_MODELS, indirect=True)
def test_real_int8_models_are_bit_exact_on_m55(validator):
    _assert_bit_exact(validator)


@pytest.mark.parametrize(
    "validator",
    [
        (conv_family("int8")(), "mcudeploy"),  # odd channel counts, padding, dilation, groups, depth multipliers
        (conv_family("int16")(), "mcudeploy"),  # 16x8: the variants' portable fallbacks
        (conv_family("int8")(), "tflm"),  # no scratch: the convolutions' direct path
    ],
    ids=["conv_int8", "conv_int16", "conv_int8_without_scratch"],
    indirect=True,
)
def test_convolution_families_are_bit_exact_on_m55(validator):
    _assert_bit_exact(validator)
