"""The kernels that rearrange, gather, index and sum values (test_codegen's rearrange family: SLICE,
REVERSE_V2, BROADCAST_TO, SPACE_TO_DEPTH, DEPTH_TO_SPACE, MIRROR_PAD, SPACE_TO_BATCH_ND,
BATCH_TO_SPACE_ND, GATHER, GATHER_ND, EMBEDDING_LOOKUP, DYNAMIC_UPDATE_SLICE, ARG_MAX, ARG_MIN,
ADD_N, CUMSUM, ZEROS_LIKE, BROADCAST_ARGS) built once for the emulated Cortex-M4 (QEMU
mps2-an386): every output agrees with the reference engine (integers bit for bit)."""

from __future__ import annotations

from mcudeploy.inputs import random_inputs
from mcudeploy.validation.runner import Validator
from test_codegen import rearrange_family


def test_rearrange_family_on_cortex_m4():
    checker = Validator(rearrange_family())
    try:
        result = checker.validate_target("m4", [random_inputs(checker.graph, seed) for seed in (0, 1)])
    finally:
        checker.close()
    assert [r.divergence for r in result.inputs if not r.agrees] == []
