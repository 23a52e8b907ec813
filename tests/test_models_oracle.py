"""Every real model against the oracles, every tensor.

int8 models: bit for bit equal to TensorFlow Lite Micro (reference kernels) on
seeded random inputs and, for person_detect, the two test images. Float models:
every tensor within 1e-5 of LiteRT's reference kernels, relative to the
tensor's largest magnitude.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import FLOAT_MODELS, INT8_MODELS, MODELS
from mcudeploy.engine import run
from mcudeploy.importers import load_model
from mcudeploy.inputs import load_inputs, random_inputs
from mcudeploy.ir import Graph
from mcudeploy.validation.oracles import litert_run, tflm_run

SEEDS = range(5)


def assert_bit_exact(graph: Graph, inputs: list[np.ndarray]) -> None:
    ours = run(graph, inputs)
    oracle = tflm_run(graph.source, inputs, len(graph.tensors), len(graph.outputs))
    for op in graph.operators:  # in execution order, so the first failure names the first diverging layer
        for index in op.outputs:
            expected = oracle.tensors[index].reshape(graph.tensors[index].shape)
            got = ours.tensors[index]
            differing = np.flatnonzero(got != expected)
            assert differing.size == 0, (
                f"{op.label} output '{graph.tensors[index].name}': {differing.size} of {got.size} elements differ, "
                f"first at flat index {differing[0]}: ours {got.flat[differing[0]]}, TFLM {expected.flat[differing[0]]}"
            )
    for got, expected in zip(ours.outputs, oracle.outputs, strict=True):
        np.testing.assert_array_equal(got, expected.reshape(got.shape))


@pytest.mark.parametrize("model", INT8_MODELS)
def test_int8_model_bit_exact_with_tflite_micro(model: str) -> None:
    graph = load_model(MODELS / model)
    for seed in SEEDS:
        assert_bit_exact(graph, random_inputs(graph, seed))


@pytest.mark.parametrize(("image", "expected"), [("person.bmp", [-113, 113]), ("no_person.bmp", [57, -57])])
def test_person_detect_images(image: str, expected: list[int]) -> None:
    graph = load_model(MODELS / "tflm" / "person_detect.tflite")
    inputs = load_inputs(MODELS / "testdata" / image, graph)
    assert_bit_exact(graph, inputs)
    assert run(graph, inputs).outputs[0].ravel().tolist() == expected


@pytest.mark.parametrize("model", FLOAT_MODELS)
def test_float_model_matches_litert(model: str) -> None:
    graph = load_model(MODELS / model)
    for seed in SEEDS:
        inputs = random_inputs(graph, seed)
        ours = run(graph, inputs)
        oracle = litert_run(graph.source, inputs)
        for op in graph.operators:
            for index in op.outputs:
                expected = oracle.tensors[index].reshape(graph.tensors[index].shape)
                tolerance = 1e-5 * max(float(np.max(np.abs(expected))), np.finfo(np.float32).tiny)
                error = float(np.max(np.abs(ours.tensors[index] - expected)))
                assert error <= tolerance, f"{op.label}: max |error| {error:.3g} > {tolerance:.3g}"
