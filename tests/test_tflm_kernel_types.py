"""`mcudeploy ops` against the element types TFLite Micro's kernels accept.

tests/data/tflm_kernel_types.json records, per operator its MicroMutableOpResolver registers,
the value types each kernel's Prepare and Eval let through, read from the kernel sources at the
TFLM commit it names (index, axis, shape and weight tensors apart: FILL's int16 and int64 are its
dims tensor's, GATHER's int32 its coords', MIRROR_PAD's int32 and int64 its paddings'), and the
packed filter types (int4 filters of int8 inputs for CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mcudeploy.cli.app import app
from mcudeploy.codegen.generator import render
from mcudeploy.engine.interpreter import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import ConcatenationOptions, PackOptions, SplitOptions
from mcudeploy.memory import plan_memory
from mcudeploy.reports.ops import TFLM_RESOLVER_OPERATORS

KERNEL_TYPES = json.loads((Path(__file__).parent / "data" / "tflm_kernel_types.json").read_text())["operators"]
NOT_APPLICABLE = {"ethos-u"}  # runs Vela's command stream on the NPU: no element type of its own
REFUSED = {("GREATER", "int16")}
"""TFLM types mcudeploy refuses: int16 GREATER compares with scaling parameters TFLM never sets
(comparisons.cc: its Prepare sets them for int8 only, so the result depends on what the arena last held)."""


def _listing() -> dict[str, dict]:
    result = CliRunner().invoke(app, ["ops", "--json", "--all"])
    assert result.exit_code == 0, result.output
    return {entry["op"]: entry for entry in json.loads(result.output)}


def test_the_data_names_every_operator_of_the_resolver():
    assert set(KERNEL_TYPES) == TFLM_RESOLVER_OPERATORS


def test_ops_lists_every_type_tflm_accepts():
    listing = _listing()
    missing, refused_but_listed = [], []
    for op_type, facts in KERNEL_TYPES.items():
        entry = listing[op_type]
        assert entry["c_kernel"], op_type
        if op_type in NOT_APPLICABLE:
            continue
        assert entry["engine"], op_type
        missing += [
            (op_type, f"{t} filters") for t in facts.get("filter_types", ()) if t not in entry.get("filter_types", ())
        ]
        ours = entry["types"]
        if facts["types"] == "any":
            assert ours == "any", f"{op_type}: TFLM moves any type, mcudeploy lists {ours}"
            continue
        for dtype in facts["types"]:
            listed = ours == "any" or dtype in ours
            if (op_type, dtype) in REFUSED:
                refused_but_listed += [(op_type, dtype)] if listed else []
            elif not listed:
                missing.append((op_type, dtype))
    assert not missing, f"TFLM accepts these, `mcudeploy ops` does not list them: {missing}"
    assert not refused_but_listed, f"now supported, drop them from REFUSED: {refused_but_listed}"


def _int16_comparison(op_type: str):
    b = GraphBuilder(op_type.lower())
    first = b.tensor((6,), "int16", scale=0.5, zero_point=0)
    second = b.tensor((6,), "int16", scale=0.25, zero_point=0)
    output = b.tensor((6,), "bool")
    b.op(op_type, [first, second], [output])
    return b.build([first, second], [output])


def test_int16_greater_is_refused_with_the_reason_by_the_engine_and_the_code_generator():
    graph = _int16_comparison("GREATER")
    with pytest.raises(UnsupportedOperatorError, match="TFLite Micro never sets its int16 scaling"):
        run(graph, [np.zeros(6, np.int16)] * 2)
    with pytest.raises(UnsupportedOperatorError, match="TFLite Micro never sets its int16 scaling"):
        render(graph, plan_memory(graph))
    with pytest.raises(UnsupportedOperatorError, match="LESS of int16 is not supported by TFLite Micro"):
        render(_int16_comparison("LESS"), plan_memory(graph))


BIG = 2**40


def _c_type_graph():
    """The TFLM types whose C kernels came last (int64 MAXIMUM, MINIMUM and comparisons, values
    apart only above bit 31, broadcasting too; CAST between uint32 and float32) or had no test
    (int64 PACK and CONCATENATION, int16 SPLIT_V)."""
    b = GraphBuilder("c_types")
    inputs, outputs = [], []

    def op(op_type, shapes, dtypes, out_shape, out_dtype, options=None):
        sources = [b.tensor(shape, dtype) for shape, dtype in zip(shapes, dtypes, strict=True)]
        result = b.tensor(out_shape, out_dtype)
        b.op(op_type, sources, [result], options)
        inputs.extend(sources)
        outputs.append(result)

    op("MAXIMUM", [(2, 3), (2, 3)], ["int64"] * 2, (2, 3), "int64")
    op("MINIMUM", [(2, 1), (1, 3)], ["int64"] * 2, (2, 3), "int64")
    for op_type in ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"):
        op(op_type, [(2, 3), (3,)], ["int64"] * 2, (2, 3), "bool")
    op("CAST", [(8,)], ["uint32"], (8,), "float32")
    op("CAST", [(8,)], ["float32"], (8,), "uint32")
    op("PACK", [(2, 3)] * 2, ["int64"] * 2, (2, 2, 3), "int64", PackOptions(values_count=2, axis=1))
    op("CONCATENATION", [(2, 1), (2, 2)], ["int64"] * 2, (2, 3), "int64", ConcatenationOptions(axis=1))
    split = b.tensor((3, 5), "int16")
    parts = [b.tensor((3, width), "int16") for width in (2, 3)]
    sizes, axis = (b.tensor(np.shape(c), "int32", data=np.int32(c)) for c in ([2, 3], [1]))
    b.op("SPLIT_V", [split, sizes, axis], parts, SplitOptions(num_splits=2))
    return b.build([*inputs, split], [*outputs, *parts])


def _c_type_inputs() -> list[np.ndarray]:
    pair = np.int64([[BIG, -BIG, 5, 2**33 + 1, -7, 0], [BIG + 1, BIG, 5 + 2**32, 1, -7, -(2**63)]])
    row = np.int64([BIG, 5, 1])
    arrays = [pair[0].reshape(2, 3), pair[1].reshape(2, 3), np.int64([[BIG], [-5]]), np.int64([[-BIG, 2**32, -4]])]
    arrays += [pair[0].reshape(2, 3), row] * 6
    arrays.append(np.uint32([0, 1, 2**31, 2**32 - 1, 16777217, 3000000001, 255, 2**24 + 3]))
    arrays.append(np.float32([-1.5, 0.7, 3e9, 5e9, np.nan, 123.9, 4294967040.0, -0.0]))
    arrays += [pair[0].reshape(2, 3), pair[1].reshape(2, 3), pair[1, :2].reshape(2, 1), pair[0, :4].reshape(2, 2)]
    arrays.append(np.arange(-32768, 32767, 4369, dtype=np.int16).reshape(3, 5))
    return arrays


@pytest.mark.parametrize("target", ["host", "m4"])
def test_int64_comparisons_and_uint32_casts_in_c_match_the_engine(target):
    from mcudeploy.validation.runner import Validator

    checker = Validator(_c_type_graph())
    try:
        result = checker.validate_target(target, [_c_type_inputs()])
    finally:
        checker.close()
    assert [r.divergence for r in result.inputs if not r.agrees] == []
