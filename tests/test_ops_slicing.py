"""STRIDED_SLICE, SPLIT, SPLIT_V, PACK, UNPACK and CONCATENATION against TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Activation, GraphBuilder
from mcudeploy.ir.options import (
    ConcatenationOptions,
    PackOptions,
    SplitOptions,
    StridedSliceOptions,
    UnpackOptions,
)
from mcudeploy.validation.oracles import tflm_run
from single_op import assert_matches_tflm, constant

# --- STRIDED_SLICE ---------------------------------------------------------------------------

# shape, begin, end, strides, begin_mask, end_mask, shrink_axis_mask
SLICES = [
    ((10,), [2], [8], [2], 0, 0, 0),
    ((10,), [-3], [-9], [-2], 0, 0, 0),
    ((10,), [8], [1], [-1], 1, 0, 0),
    ((10,), [0], [0], [-3], 1, 1, 0),
    ((10,), [-20], [20], [1], 0, 0, 0),
    ((10,), [20], [-20], [-1], 0, 0, 0),
    ((4, 6), [1, -5], [3, 100], [1, 2], 0, 0, 0),
    ((4, 6), [1, 0], [2, 6], [1, 1], 0, 0, 0b01),
    ((4, 6), [-1, 2], [0, 5], [1, 1], 0, 0, 0b01),
    ((4, 6), [0, -2], [4, 0], [1, 1], 0, 0b01, 0b10),
    ((3, 4, 5), [0, 0, 0], [0, 0, 0], [1, 1, 1], 0b111, 0b111, 0),
    ((3, 4, 5), [2, -1, 4], [0, 0, 0], [-1, 1, -1], 0, 0b101, 0b010),
    ((3, 4, 5), [1, 3, 1], [3, 0, 5], [1, -2, 3], 0, 0, 0),
    ((2, 5, 6, 3), [0, 1, 0, 0], [1, 5, 6, 2], [1, 2, -2, 1], 0b0100, 0b0100, 0),
    ((1, 8, 8, 4), [0, 0, 0, 1], [1, 8, 8, 3], [1, 3, 3, 1], 0, 0, 0b0001),
    ((2, 3, 4, 5), [1, 0, -1, 0], [2, 3, 0, 5], [1, 1, 1, 2], 0b0010, 0b1000, 0b0101),
]


def _numpy_index(shape, begin, end, strides, begin_mask, end_mask, shrink_mask) -> tuple:
    """The same selection as numpy indexing, whose clamping rules TFLM's match."""
    index = []
    for axis in range(len(shape)):
        masked_begin = None if begin_mask >> axis & 1 else begin[axis]
        if shrink_mask >> axis & 1:
            index.append(0 if masked_begin is None else masked_begin)
        else:
            index.append(slice(masked_begin, None if end_mask >> axis & 1 else end[axis], strides[axis]))
    return tuple(index)


def _strided_slice(shape, begin, end, strides, options: StridedSliceOptions, out_shape, dtype: str = "int8"):
    b = GraphBuilder("strided_slice")
    x = b.tensor(shape, dtype)
    params = [constant(b, values) for values in (begin, end, strides)]
    y = b.tensor(out_shape, dtype)
    b.op("STRIDED_SLICE", [x, *params], [y], options)
    return b.build([x], [y])


@pytest.mark.parametrize("case", SLICES, ids=str)
def test_strided_slice(case):
    shape, begin, end, strides, begin_mask, end_mask, shrink_mask = case
    out_shape = np.empty(shape)[_numpy_index(*case)].shape
    options = StridedSliceOptions(begin_mask=begin_mask, end_mask=end_mask, shrink_axis_mask=shrink_mask)
    assert_matches_tflm(_strided_slice(shape, begin, end, strides, options, out_shape))


@pytest.mark.parametrize("dtype", ["int16", "int32", "float32", "bool"])
def test_strided_slice_types(dtype):
    options = StridedSliceOptions(begin_mask=0b0100, end_mask=0b0100)
    graph = _strided_slice((2, 5, 6, 3), [0, 1, 0, 0], [1, 5, 6, 2], [1, 2, -2, 1], options, (1, 2, 3, 2), dtype)
    assert_matches_tflm(graph)


def _assert_both_refuse(graph) -> None:
    inputs = random_inputs(graph, 0)
    with pytest.raises(RuntimeError):
        tflm_run(write_tflite(graph), inputs, tensor_count=len(graph.tensors))
    with pytest.raises(UnsupportedOperatorError):
        run(graph, inputs)


@pytest.mark.parametrize(
    ("options", "out_shape"),
    [
        (StridedSliceOptions(offset=True), (3, 6)),  # end taken relative to begin: rows 1..3
        (StridedSliceOptions(new_axis_mask=0b01), (1, 4, 6)),
    ],
    ids=["offset", "new_axis_mask"],
)
def test_strided_slice_refuses_what_tflm_ignores(options, out_shape):
    """TFLM never reads offset, ellipsis_mask or new_axis_mask: a model needing them fails its Prepare."""
    _assert_both_refuse(_strided_slice((4, 6), [1, 0], [3, 6], [1, 1], options, out_shape))


def test_strided_slice_refuses_shrinking_with_a_negative_stride():
    """TFLM's loop visits no index on such an axis and leaves the output unwritten."""
    options = StridedSliceOptions(shrink_axis_mask=0b01)
    graph = _strided_slice((4, 6), [1, 0], [2, 6], [-1, 1], options, (6,))
    with pytest.raises(UnsupportedOperatorError):
        run(graph, [np.zeros((4, 6), np.int8)])


# --- SPLIT, SPLIT_V, UNPACK --------------------------------------------------------------------


def _multi_output(op_type, in_shape, out_shapes, dtype, options, params_before=(), params_after=()):
    b = GraphBuilder(op_type.lower())
    before = [constant(b, values) for values in params_before]
    x = b.tensor(in_shape, dtype)
    after = [constant(b, values) for values in params_after]
    outputs = [b.tensor(shape, dtype) for shape in out_shapes]
    b.op(op_type, [*before, x, *after], outputs, options)
    return b.build([x], outputs)


def _split_shapes(shape, axis: int, widths) -> list[tuple[int, ...]]:
    return [tuple(w if i == axis % len(shape) else d for i, d in enumerate(shape)) for w in widths]


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32"])
@pytest.mark.parametrize(
    ("shape", "axis", "count"), [((6,), 0, 3), ((2, 8), -1, 4), ((2, 6, 3), 1, 2), ((4, 2, 2, 3), -4, 4)]
)
def test_split(shape, axis, count, dtype):
    widths = [shape[axis] // count] * count
    options = SplitOptions(num_splits=count)
    graph = _multi_output("SPLIT", shape, _split_shapes(shape, axis, widths), dtype, options, params_before=[[axis]])
    assert_matches_tflm(graph)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32"])
@pytest.mark.parametrize(
    ("shape", "axis", "widths"), [((7,), 0, [2, 5]), ((3, 9), -1, [4, 1, 4]), ((1, 4, 5, 2), 2, [1, 3, 1])]
)
def test_split_v(shape, axis, widths, dtype):
    graph = _multi_output(
        "SPLIT_V",
        shape,
        _split_shapes(shape, axis, widths),
        dtype,
        SplitOptions(num_splits=len(widths)),
        params_after=[widths, [axis]],
    )
    assert_matches_tflm(graph)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32"])
@pytest.mark.parametrize(("shape", "axis"), [((3,), 0), ((2, 4), 1), ((3, 2, 4), -2), ((2, 3, 2, 2), -1)])
def test_unpack(shape, axis, dtype):
    count = shape[axis]
    out_shape = tuple(d for i, d in enumerate(shape) if i != axis % len(shape))
    graph = _multi_output("UNPACK", shape, [out_shape] * count, dtype, UnpackOptions(num=count, axis=axis))
    assert_matches_tflm(graph)


# --- PACK, CONCATENATION -----------------------------------------------------------------------


def _many_inputs(op_type, in_shapes, out_shape, dtype, options, scales=None, zero_points=None):
    b = GraphBuilder(op_type.lower())
    scales = scales or [None] * (len(in_shapes) + 1)  # the inputs', then the output's
    zero_points = zero_points or [0] * (len(in_shapes) + 1)
    quantized = [dict(scale=q, zero_point=z) for q, z in zip(scales, zero_points, strict=True)]
    inputs = [b.tensor(shape, dtype, **q) for shape, q in zip(in_shapes, quantized[:-1], strict=True)]
    y = b.tensor(out_shape, dtype, **quantized[-1])
    b.op(op_type, inputs, [y], options)
    return b.build(inputs, [y])


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "float32"])
@pytest.mark.parametrize(("shape", "axis", "count"), [((4,), 0, 3), ((4,), -1, 2), ((2, 3), 1, 3), ((2, 3, 2), -3, 2)])
def test_pack(shape, axis, count, dtype):
    out_shape = list(shape)
    out_shape.insert(axis % (len(shape) + 1), count)
    graph = _many_inputs("PACK", [shape] * count, out_shape, dtype, PackOptions(values_count=count, axis=axis))
    assert_matches_tflm(graph)


def _concat_shapes(shape, axis: int, widths):
    shapes = _split_shapes(shape, axis, widths)
    return shapes, _split_shapes(shape, axis, [sum(widths)])[0]


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "float32", "bool"])
@pytest.mark.parametrize(
    ("shape", "axis", "widths"),
    [((5,), 0, [2, 3]), ((2, 3), -1, [3, 1, 2]), ((1, 4, 4, 3), 3, [3, 5]), ((2, 2, 3, 1), -3, [1, 2, 1, 3])],
)
def test_concatenation(shape, axis, widths, dtype):
    in_shapes, out_shape = _concat_shapes(shape, axis, widths)
    count = len(widths) + 1
    scales = [0.05] * count if dtype in ("int8", "int16") else None
    zero_points = [-7 if dtype == "int8" else 0] * count
    options = ConcatenationOptions(axis=axis)
    graph = _many_inputs("CONCATENATION", in_shapes, out_shape, dtype, options, scales, zero_points)
    assert_matches_tflm(graph)


def test_concatenation_int16_copies_without_rescaling():
    """TFLM only asks int16 zero points to be 0: differing scales are copied as they are."""
    in_shapes, out_shape = _concat_shapes((2, 3), 1, [2, 3])
    options = ConcatenationOptions(axis=1)
    assert_matches_tflm(_many_inputs("CONCATENATION", in_shapes, out_shape, "int16", options, [0.1, 0.3, 0.2]))


@pytest.mark.parametrize(
    ("dtype", "scales", "zero_points", "activation"),
    [
        ("int8", [0.1, 0.2, 0.1], [0, 0, 0], Activation.NONE),
        ("int8", [0.1, 0.1, 0.1], [0, 3, 0], Activation.NONE),
        ("int16", [0.1, 0.1, 0.1], [0, 0, 4], Activation.NONE),
        ("float32", None, None, Activation.RELU),
    ],
    ids=["int8_scales", "int8_zero_points", "int16_zero_point", "fused_relu"],
)
def test_concatenation_refuses_what_tflm_refuses(dtype, scales, zero_points, activation):
    in_shapes, out_shape = _concat_shapes((2, 3), 1, [2, 3])
    options = ConcatenationOptions(axis=1, activation=activation)
    _assert_both_refuse(_many_inputs("CONCATENATION", in_shapes, out_shape, dtype, options, scales, zero_points))


def test_concatenation_refuses_more_inputs_than_tflm():
    in_shapes, out_shape = _concat_shapes((2, 1), 1, [1] * 11)
    _assert_both_refuse(_many_inputs("CONCATENATION", in_shapes, out_shape, "int8", ConcatenationOptions(axis=1)))
