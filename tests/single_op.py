"""Checks one-operator models against TFLite Micro: build with GraphBuilder, write a .tflite,
run it in TFLM and (read back from the same bytes) in our engine, compare every tensor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mcudeploy.engine.interpreter import Engine
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import random_array
from mcudeploy.ir import DType, Graph, Tensor, pack_int4
from mcudeploy.validation.oracles import tflm_runs

FLOAT_RTOL = 1e-5


def assert_matches_tflm(
    graph: Graph,
    seed: int = 0,
    float_exact: bool = False,
    inputs: Sequence[np.ndarray] | None = None,
    invocations: int = 1,
) -> None:
    """Every tensor bit for bit equal to TFLM's (floats within FLOAT_RTOL unless `float_exact`),
    on the given inputs or seeded random ones; with several `invocations` (new random inputs each
    time), one interpreter and one engine run them all, so that variable tensors carry over."""
    rng = np.random.default_rng(seed)
    input_sets = [
        list(inputs) if inputs is not None else [random_array(t, rng) for t in graph.graph_inputs]
        for _ in range(invocations)
    ]
    model = write_tflite(graph)
    handles = frozenset(t.index for t in graph.tensors if t.dtype == DType.RESOURCE)
    theirs = tflm_runs(model, input_sets, len(graph.tensors), len(graph.outputs), unreadable=handles)
    engine = Engine(read_tflite(model))
    for step, (step_inputs, their_run) in enumerate(zip(input_sets, theirs, strict=True)):
        ours = engine.run(step_inputs)
        for tensor in (t for t in graph.tensors if t.index not in handles):
            where = f"invocation {step}, tensor {tensor.index} '{tensor.name}'"
            _assert_tensor_equal(
                where, tensor, ours.tensors[tensor.index], their_run.tensors[tensor.index], float_exact
            )


def _assert_tensor_equal(where: str, tensor: Tensor, ours: np.ndarray, theirs: np.ndarray, float_exact: bool) -> None:
    if tensor.dtype == DType.INT4:  # TFLM shows the packed bytes, as int8 elements, at the tensor's start
        ours, theirs = pack_int4(ours), np.ascontiguousarray(theirs).reshape(-1)[: tensor.nbytes]
    assert ours.dtype == theirs.dtype, f"{where}: {ours.dtype} vs TFLM {theirs.dtype}"
    assert ours.size == theirs.size, f"{where}: {ours.size} values vs TFLM {theirs.size}"
    ours, theirs = np.ascontiguousarray(ours).reshape(-1), np.ascontiguousarray(theirs).reshape(-1)
    if tensor.dtype.is_float and not float_exact:
        # the project's stated float bar: within 1e-5 of the tensor's largest magnitude (README), so a
        # value near zero after cancellation (an LSTM's cell update) is held to the tensor's scale
        finite = np.abs(theirs[np.isfinite(theirs)])
        scale = float(finite.max()) if finite.size else 0.0
        np.testing.assert_allclose(ours, theirs, rtol=FLOAT_RTOL, atol=FLOAT_RTOL * scale, err_msg=where)
    else:  # bit patterns, so that float NaNs and signed zeros count too
        np.testing.assert_array_equal(ours.view(np.uint8), theirs.view(np.uint8), err_msg=where)


def constant(builder, values: Sequence[int] | np.ndarray, dtype: str = "int32") -> int:
    """A constant parameter tensor (axes, paddings, perm...) of the given values."""
    array = np.asarray(values)
    return builder.tensor(array.shape, dtype, data=array)
