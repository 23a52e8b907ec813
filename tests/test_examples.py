"""The built-in example model: deterministic, a valid TFLite model, and a network whose int8 layers are alive."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.examples import build_demo_input, build_kws_model
from mcudeploy.examples.kws import INPUT_SHAPE, LABELS
from mcudeploy.importers.tflite import read_tflite, write_tflite
from mcudeploy.validation.oracles import litert_run, tflm_run

DEMO_SEEDS = range(4)


@pytest.fixture(scope="module")
def kws_graph():
    return build_kws_model(seed=0)


@pytest.fixture(scope="module")
def kws_bytes(kws_graph) -> bytes:
    return write_tflite(kws_graph)


@pytest.fixture(scope="module")
def tflm_runs(kws_graph, kws_bytes):
    return [tflm_run(kws_bytes, [build_demo_input(seed)], len(kws_graph.tensors)) for seed in DEMO_SEEDS]


def test_same_seed_gives_byte_identical_model(kws_bytes) -> None:
    assert write_tflite(build_kws_model(seed=0)) == kws_bytes
    assert write_tflite(build_kws_model(seed=1)) != kws_bytes


def test_demo_input_is_seeded_int8_mfcc_shape() -> None:
    first = build_demo_input(3)
    assert first.dtype == np.int8 and first.shape == INPUT_SHAPE
    assert np.array_equal(first, build_demo_input(3))
    assert not np.array_equal(first, build_demo_input(4))


def test_model_has_the_ds_cnn_shape(kws_graph) -> None:
    ops = [op.op_type for op in kws_graph.operators]
    assert ops == [
        "CONV_2D",
        *["DEPTHWISE_CONV_2D", "CONV_2D"] * 4,
        "AVERAGE_POOL_2D",
        "RESHAPE",
        "FULLY_CONNECTED",
        "SOFTMAX",
    ]
    (graph_input,) = kws_graph.graph_inputs
    (graph_output,) = kws_graph.graph_outputs
    assert graph_input.shape == INPUT_SHAPE and graph_output.shape == (1, len(LABELS))
    assert graph_output.quantization.single_scale == 1 / 256 and graph_output.quantization.single_zero_point == -128
    conv_weights = [kws_graph.tensors[op.inputs[1]] for op in kws_graph.operators if "CONV" in op.op_type]
    assert all(w.quantization.per_channel and np.abs(w.data).max() == 127 for w in conv_weights)


def test_written_model_reads_back_as_built(kws_graph, kws_bytes) -> None:
    read_back = read_tflite(kws_bytes)
    read_back.name = kws_graph.name  # the reader names a graph after its file
    assert write_tflite(read_back) == kws_bytes


def test_tflm_and_litert_agree_on_the_written_model(kws_bytes, tflm_runs) -> None:
    for seed, run in zip(DEMO_SEEDS, tflm_runs, strict=True):
        (litert_output,) = litert_run(kws_bytes, [build_demo_input(seed)]).outputs
        assert np.array_equal(litert_output, run.outputs[0])


def test_outputs_differ_between_inputs(tflm_runs) -> None:
    outputs = [run.outputs[0] for run in tflm_runs]
    assert len({output.tobytes() for output in outputs}) == len(outputs)
    assert len({int(np.argmax(output)) for output in outputs}) > 1, "every input gives the same keyword"


def test_activations_use_the_int8_range_without_saturating(kws_graph, tflm_runs) -> None:
    for op in kws_graph.operators:
        if op.op_type not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        values = np.concatenate([run.tensors[op.outputs[0]].ravel() for run in tflm_runs]).astype(int)
        assert np.mean(values == 127) < 0.01, f"{op.label} saturates"
        assert values.max() - values.min() > 64, f"{op.label} uses only {values.min()}..{values.max()}"
