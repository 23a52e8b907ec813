"""Keras .h5/.keras through TensorFlow's converter: Keras 2 files import, and a file's code is never run."""

from __future__ import annotations

import json
import shutil
import zipfile

import h5py
import numpy as np
import pytest

from conftest import MODELS
from mcudeploy.engine.interpreter import run
from mcudeploy.errors import McuDeployError
from mcudeploy.importers import load_model
from mcudeploy.inputs import random_inputs


def test_keras2_h5_imports_and_matches_its_published_float_tflite():
    """ic_resnet8 (in CI; vww_96 measured the same way: 1.3e-7). ad01.h5 holds other BatchNorm statistics
    than ad01_fp32.tflite was converted from (weights equal to 1e-7, biases 0.6 apart), so it cannot match."""
    graph = load_model(MODELS / "mlperf_tiny/keras/ic_resnet8.h5")
    twin = load_model(MODELS / "mlperf_tiny/ic_resnet8_float.tflite")
    assert graph.graph_inputs[0].shape == (1, 32, 32, 3) and graph.metadata["format"] == "keras"
    assert "SHAPE" not in {op.op_type for op in graph.operators}  # batch fixed to 1 before converting
    for seed in range(2):
        inputs = random_inputs(twin, seed)
        ours, published = run(graph, inputs).outputs[0], run(twin, inputs).outputs[0]
        assert np.max(np.abs(ours - published)) <= 1e-5 * np.max(np.abs(published))


def _h5_with_layer(tmp_path, class_name: str):
    path = tmp_path / "edited.h5"
    shutil.copyfile(MODELS / "mlperf_tiny/keras/ad01.h5", path)
    with h5py.File(path, "r+") as file:
        config = json.loads(file.attrs["model_config"])
        config["config"]["layers"][1]["class_name"] = class_name
        file.attrs["model_config"] = json.dumps(config)
    return path


@pytest.mark.parametrize(
    ("class_name", "message"),
    [("Lambda", "is a Lambda layer: its Python code is refused"), ("MyLayer", "'MyLayer', not a built-in Keras layer")],
)
def test_lambda_layers_and_custom_objects_are_refused_before_loading(class_name, message, tmp_path):
    with pytest.raises(McuDeployError, match=message):
        load_model(_h5_with_layer(tmp_path, class_name))


def test_a_keras_archive_with_a_lambda_is_refused(tmp_path):
    path = tmp_path / "model.keras"
    config = {
        "class_name": "Functional",
        "config": {"layers": [{"class_name": "Lambda", "config": {"name": "run_me"}}]},
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    with pytest.raises(McuDeployError, match="layer 'run_me' is a Lambda layer"):
        load_model(path)


def test_weights_only_h5_is_explained(tmp_path):
    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as file:
        file.create_dataset("kernel", data=np.zeros(3))
    with pytest.raises(McuDeployError, match="without a Keras model configuration"):
        load_model(path)


def test_lstm_layers_become_tflite_lstms_matching_keras(tmp_path):
    """Stacked LSTMs (the sequence, then the last step) and a Dense; a backwards LSTM is refused."""
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((6, 3)), keras.layers.LSTM(5, return_sequences=True), keras.layers.LSTM(4), keras.layers.Dense(2)]
    )
    model.save(tmp_path / "lstm.keras")
    graph = load_model(tmp_path / "lstm.keras")
    lstm = "UNIDIRECTIONAL_SEQUENCE_LSTM"
    assert [op.op_type for op in graph.operators] == [lstm, lstm, "STRIDED_SLICE", "FULLY_CONNECTED"]
    for seed in range(2):
        (inputs,) = random_inputs(graph, seed)
        want = model.predict(inputs, verbose=0)
        assert np.max(np.abs(run(graph, [inputs]).outputs[0] - want)) <= 1e-5 * np.max(np.abs(want))
    backwards = keras.Sequential([keras.Input((6, 3)), keras.layers.LSTM(5, go_backwards=True, name="back")])
    backwards.save(tmp_path / "backwards.keras")
    with pytest.raises(McuDeployError, match="LSTM layer 'back': go_backwards=True"):
        load_model(tmp_path / "backwards.keras")


def test_outputs_keep_the_order_and_names_keras_declares(tmp_path):
    """The converter lists outputs in its own order (here alpha, zeta, mid's tensors come out
    reordered); they are put back in declared order, checked output by output against Keras."""
    import keras

    keras.utils.set_random_seed(5)
    features = keras.Input((4,))
    hidden = keras.layers.Dense(6, activation="relu", name="hidden")(features)
    outputs = [
        keras.layers.Dense(3, name="zeta")(hidden),
        keras.layers.Dense(5, name="alpha")(hidden),
        keras.layers.Dense(2, name="mid")(features),
    ]
    model = keras.Model(features, outputs)
    model.save(tmp_path / "three.keras")
    graph = load_model(tmp_path / "three.keras")
    assert [t.name for t in graph.graph_outputs] == ["zeta", "alpha", "mid"]
    assert [t.shape for t in graph.graph_outputs] == [(1, 3), (1, 5), (1, 2)]
    (inputs,) = random_inputs(graph, 0)
    for ours, want in zip(run(graph, [inputs]).outputs, model.predict(inputs, verbose=0), strict=True):
        assert np.max(np.abs(ours - want)) <= 1e-5 * np.max(np.abs(want))
