"""Operator parameter records (mcudeploy.params): their fields are those of the C structs the
kernels take, and the stages that serialise or read them do not reach into the engine."""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from mcudeploy.codegen.library import library_files, library_text
from mcudeploy.ir import DType, GraphBuilder, Padding
from mcudeploy.ir.options import Conv2DOptions, ElementwiseOptions
from mcudeploy.memory.budget import constant_layout
from mcudeploy.params import (
    activations,
    conv,
    elementwise,
    fully_connected,
    lstm,
    movement,
    quantize,
    reduce,
    softmax,
    svdf,
)
from mcudeploy.params.record import struct_fields
from mcudeploy.params.requantization import requantization

SRC = Path(__file__).resolve().parents[1] / "src" / "mcudeploy"

RECORDS = {
    conv.WindowParams: ("md_window_params", ()),
    fully_connected.FullyConnectedParams: ("md_fully_connected_params", ()),
    elementwise.ArithParams: ("md_arith_params", ("op", "dtype")),
    elementwise.ArithFloatParams: ("md_arith_f32_params", ("op",)),
    softmax.SoftmaxParams: ("md_softmax_params", ()),
    activations.ActivationParams: ("md_activation_params", ()),
    quantize.QuantizeParams: ("md_quantize_params", ()),
    reduce.ReduceParams: ("md_reduce_params", ()),
    movement.PadParams: ("md_pad_params", ()),
    movement.ResizeParams: ("md_resize_params", ()),
    svdf.SvdfParams: ("md_svdf_params", ()),
    lstm.LstmParams: ("md_lstm_params", ()),
}
"""Each record, its C struct, and the struct's leading fields the emitter writes itself (C enums)."""


def c_struct_fields(name: str) -> list[str]:
    """Field names of a typedef struct of the kernel library, in declaration order."""
    for header in (f for f in library_files() if f.endswith(".h")):
        match = re.search(r"typedef struct \{([^}]*)\}\s*" + name + ";", library_text(header))
        if match:
            body = re.sub(r"/\*.*?\*/", "", match.group(1), flags=re.DOTALL)
            declarations = [d.split(None, 1)[1] for d in (d.strip() for d in body.split(";")) if d]
            return [re.sub(r"\[.*\]", "", n).strip(" *") for d in declarations for n in d.split(",")]
    raise AssertionError(f"no struct {name} in the kernel library")


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.__name__)
def test_record_fields_are_the_c_struct(record):
    struct, written_by_emitter = RECORDS[record]
    in_struct = [f.name for f in fields(record) if f.metadata.get("in_struct", True)]
    expected = c_struct_fields(struct)
    assert sorted(in_struct) == sorted(n for n in expected if n not in written_by_emitter)
    if record is not elementwise.ArithParams:  # the one record kept in the order its emitter wrote it
        assert [*written_by_emitter, *in_struct] == expected


@pytest.mark.parametrize("package", ["codegen/layers", "kernels", "params", "memory/budget.py"])
def test_no_engine_internals_outside_the_engine(package):
    """Emitters, contracts, the budget and the parameters themselves take what they need from
    mcudeploy.params, never from the engine."""
    path = SRC / package
    for source in [path] if path.is_file() else sorted(path.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("mcudeploy.engine"), f"{source.name}: {node.module}"


def _conv_add_graph():
    """A per-channel int8 CONV_2D followed by an int8 ADD of its output with itself."""
    b = GraphBuilder("params")
    x = b.tensor((1, 5, 5, 2), DType.INT8, scale=0.05, zero_point=-3)
    w = b.tensor((3, 3, 3, 2), DType.INT8, scale=[0.01, 0.02, 0.03], axis=0, data=np.ones((3, 3, 3, 2)))
    bias = b.tensor((3,), DType.INT32, scale=[0.0005, 0.001, 0.0015], axis=0, data=np.zeros(3))
    y = b.tensor((1, 3, 3, 3), DType.INT8, scale=0.1, zero_point=2)
    b.op("CONV_2D", [x, w, bias], [y], Conv2DOptions(padding=Padding.SAME, stride_h=2, stride_w=2))
    z = b.tensor((1, 3, 3, 3), DType.INT8, scale=0.25, zero_point=-1)
    b.op("ADD", [y, y], [z], ElementwiseOptions())
    return b.build([x], [z])


def test_conv_record_and_the_constant_layout_agree():
    graph = _conv_add_graph()
    conv_op, add_op = graph.operators
    params = conv.prepare(conv_op, graph)
    assert (params.pad_top, params.pad_left, params.output_h, params.output_w) == (1, 1, 3, 3)
    assert (params.input_offset, params.output_offset, params.per_channel, params.accumulator64) == (3, 2, 1, 0)
    assert params.requantization.multipliers.tolist() == requantization(conv_op, graph).multipliers.tolist()
    layout = {a.name: a.count for a in constant_layout(graph).arrays if a.tensor is None}
    assert layout == {f"{conv_op.label} multipliers": 3, f"{conv_op.label} shifts": 3}
    assert requantization(add_op, graph) is None


def test_add_headroom_and_struct_fields():
    graph = _conv_add_graph()
    params = elementwise.prepare(graph.operators[1], graph)
    assert params.left_shift == 20 and params.input1_offset == params.input2_offset == -2
    assert list(struct_fields(params))[:4] == ["input1_offset", "input2_offset", "output_offset", "left_shift"]
