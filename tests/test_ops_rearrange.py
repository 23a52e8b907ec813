"""SLICE, REVERSE_V2, BROADCAST_TO, ZEROS_LIKE, BROADCAST_ARGS, MIRROR_PAD, SPACE_TO_DEPTH,
DEPTH_TO_SPACE, SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND against TFLite Micro, in every element
type its kernels take."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import McuDeployError, ModelError, UnsupportedOperatorError
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import BlockSizeOptions, MirrorPadMode, MirrorPadOptions
from mcudeploy.validation.oracles import tflm_run
from single_op import assert_matches_tflm, constant


def _quant(dtype: str) -> dict:
    return (
        {"scale": 0.05, "zero_point": 3 if dtype in ("int8", "uint8") else 0}
        if dtype in ("int8", "int16", "uint8")
        else {}
    )


def _single(op_type, shape, dtype, out_shape, parameters=(), options=None, out_dtype=None):
    """One operator: a graph input, then constant parameter inputs, one output."""
    b = GraphBuilder(op_type.lower())
    x = b.tensor(shape, dtype, **_quant(dtype))
    inputs = [x] + [constant(b, values, kind) for values, kind in parameters]
    out_dtype = out_dtype or dtype
    y = b.tensor(out_shape, out_dtype, **_quant(out_dtype))
    b.op(op_type, inputs, [y], options)
    return b.build([x], [y])


SLICE_CASES = [((10,), [2], [5]), ((4, 6), [1, 0], [2, -1]), ((2, 3, 4, 5, 2), [1, 0, 2, 1, 0], [1, 3, -1, 3, 2])]


@pytest.mark.parametrize("dtype", ["float32", "int32", "int8", "int16", "bool"])
@pytest.mark.parametrize("index_type", ["int32", "int64"])
def test_slice(dtype, index_type):
    for shape, begin, size in SLICE_CASES:
        out_shape = [d - b if s == -1 else s for d, b, s in zip(shape, begin, size, strict=True)]
        graph = _single("SLICE", shape, dtype, out_shape, [(begin, index_type), (size, index_type)])
        assert_matches_tflm(graph)


def test_slice_outside_the_input_is_refused():
    with pytest.raises(ModelError, match="reach outside the input"):
        run(_single("SLICE", (4,), "int8", (3,), [([2], "int32"), ([3], "int32")]), [np.zeros(4, np.int8)])


@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8", "int8", "int16", "int64", "bool"])
def test_reverse(dtype):
    for shape, axes in (((7,), [0]), ((3, 4, 5), [0]), ((3, 4, 5), [2, 1]), ((2, 3, 4, 2), [-1, 1, 2])):
        assert_matches_tflm(_single("REVERSE_V2", shape, dtype, shape, [(axes, "int32")]))


def test_reverse_of_axes_apart_is_refused():
    with pytest.raises(UnsupportedOperatorError, match="not adjacent"):
        run(_single("REVERSE_V2", (2, 3, 4), "int8", (2, 3, 4), [([0, 2], "int32")]), [np.zeros((2, 3, 4), np.int8)])


@pytest.mark.parametrize("dtype", ["float32", "int32", "int8", "int16", "int64", "bool"])
def test_broadcast_to(dtype):
    for shape, target, shape_type in (
        ((3,), (2, 3), "int32"),
        ((4, 1, 2), (3, 4, 5, 2), "int64"),
        ((1,), (2, 1, 3), "int32"),
    ):
        assert_matches_tflm(_single("BROADCAST_TO", shape, dtype, target, [(target, shape_type)]))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "float32"])
def test_zeros_like(dtype):
    assert_matches_tflm(_single("ZEROS_LIKE", (3, 5), dtype, (3, 5)))


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_broadcast_args(dtype):
    b = GraphBuilder("broadcast_args")
    first, second, y = b.tensor((4,), dtype), b.tensor((2,), dtype), b.tensor((4,), dtype)
    b.op("BROADCAST_ARGS", [first, second], [y])
    graph = b.build([first, second], [y])
    assert_matches_tflm(graph, inputs=[np.array([2, 1, 3, 1], dtype), np.array([3, 7], dtype)])
    with pytest.raises(McuDeployError, match="do not broadcast"):
        run(graph, [np.array([2, 1, 5, 4], dtype), np.array([3, 7], dtype)])


@pytest.mark.parametrize(("dtype", "padding_type"), [("float32", "int32"), ("int8", "int64")])
@pytest.mark.parametrize("mode", [MirrorPadMode.REFLECT, MirrorPadMode.SYMMETRIC])
def test_mirror_pad(dtype, padding_type, mode):
    for shape, paddings in (
        ((5,), [[2, 3]]),
        ((3, 4, 2), [[1, 2], [3, 0], [0, 1]]),
        ((1, 3, 3, 2), [[0, 0], [2, 2], [1, 2], [0, 0]]),
    ):
        if mode == MirrorPadMode.REFLECT and any(max(p) >= s for p, s in zip(paddings, shape, strict=True)):
            continue
        out_shape = [s + sum(p) for s, p in zip(shape, paddings, strict=True)]
        assert_matches_tflm(
            _single("MIRROR_PAD", shape, dtype, out_shape, [(paddings, padding_type)], MirrorPadOptions(mode))
        )


def test_mirror_pad_past_the_edge_is_refused():
    graph = _single("MIRROR_PAD", (3,), "int8", (6,), [([[3, 0]], "int32")], MirrorPadOptions(MirrorPadMode.REFLECT))
    with pytest.raises(ModelError, match="reach past the edges"):
        run(graph, [np.zeros(3, np.int8)])


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_space_to_depth_and_back(dtype):
    for shape, block in (((1, 4, 6, 3), 2), ((2, 6, 3, 1), 3)):
        n, h, w, c = shape
        options = BlockSizeOptions(block)
        assert_matches_tflm(
            _single("SPACE_TO_DEPTH", shape, dtype, (n, h // block, w // block, c * block * block), options=options)
        )
        depth_shape = (n, h // block, w // block, c * block * block)
        assert_matches_tflm(_single("DEPTH_TO_SPACE", depth_shape, dtype, shape, options=options))


BATCH_SPACE_CASES = [
    ((1, 4, 6, 2), [2, 2], [[0, 0], [0, 0]]),
    ((2, 5, 3, 3), [2, 3], [[1, 2], [0, 3]]),
    ((3, 5, 2), [2], [[1, 0]]),
]


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_space_to_batch_and_back(dtype):
    """Padded blocks hold the zero point (TFLite's padding), TFLite Micro's whatever its params held:
    every other value must be TFLite Micro's."""
    for seed, (shape, block, pads) in enumerate(BATCH_SPACE_CASES):
        padded = [s + sum(p) for s, p in zip(shape[1:-1], pads, strict=True)]
        spatial = [s // b for s, b in zip(padded, block, strict=True)]
        batches = shape[0] * int(np.prod(block))
        out_shape = (batches, *spatial, shape[-1])
        parameters = [(block, "int32"), (pads, "int32")]
        graph = _single("SPACE_TO_BATCH_ND", shape, dtype, out_shape, parameters)
        x = random_inputs(graph, seed)
        ours = run(graph, x).outputs[0]
        theirs = tflm_run(write_tflite(graph), x, len(graph.tensors)).outputs[0]
        marked = run(graph, [np.full(shape, 7, x[0].dtype)]).outputs[0] == 7  # where input values land
        np.testing.assert_array_equal(ours[marked], theirs[marked])
        assert np.all(ours[~marked] == (3 if dtype == "int8" else 0)) and (~marked).any() == any(map(any, pads))
        assert_matches_tflm(_single("BATCH_TO_SPACE_ND", out_shape, dtype, shape, parameters))


@pytest.mark.parametrize("op_type", ["SPACE_TO_DEPTH", "MIRROR_PAD"])
def test_int16_is_refused_as_tflite_micro_refuses_it(op_type):
    parameters, options, out_shape = (
        ([], BlockSizeOptions(2), (1, 1, 1, 8))
        if op_type == "SPACE_TO_DEPTH"
        else ([([[0, 0], [0, 0], [1, 1], [0, 0]], "int32")], MirrorPadOptions(), (1, 2, 4, 2))
    )
    graph = _single(op_type, (1, 2, 2, 2), "int16", out_shape, parameters, options)
    with pytest.raises(UnsupportedOperatorError, match="not supported by TFLite Micro"):
        run(graph, [np.zeros((1, 2, 2, 2), np.int16)])


@pytest.mark.parametrize("dtype", ["float32", "int8", "int16", "int32"])
@pytest.mark.parametrize("index_type", ["int32", "int64"])
def test_dynamic_update_slice(dtype, index_type):
    """Start indices clamped so that the update fits, as TFLite Micro clamps them."""
    b = GraphBuilder("dynamic_update_slice")
    operand, update = b.tensor((4, 5, 3), dtype, **_quant(dtype)), b.tensor((2, 3, 3), dtype, **_quant(dtype))
    starts, y = b.tensor((3,), index_type), b.tensor((4, 5, 3), dtype, **_quant(dtype))
    b.op("DYNAMIC_UPDATE_SLICE", [operand, update, starts], [y])
    graph = b.build([operand, update, starts], [y])
    for seed, start in enumerate(([1, 2, 0], [-3, 4, 1], [7, 0, -1])):
        values = random_inputs(graph, seed)[:2]
        assert_matches_tflm(graph, inputs=[*values, np.array(start, index_type)])
