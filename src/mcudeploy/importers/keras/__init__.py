"""Keras .h5 and .keras → graph IR, through TensorFlow's TFLite converter (the optional `keras` extra).

Keras safe mode, enforced before anything is loaded: the model's configuration is
read as JSON (the HDF5 file's `model_config` attribute, or a .keras archive's
config.json) and a Lambda layer or any class that is not a built-in Keras layer
(a custom object) is refused with the layer's name; Keras never deserializes it,
so no code from the file runs. Keras 2 files are read by Keras 3, with the one
Keras 2 option it no longer takes (DepthwiseConv2D's groups=1, a no-op) dropped.
The float .tflite the converter writes is then read by the TFLite importer; LSTM layers
go through stand-ins (lstm.py). The converter lists a model's outputs in its own order: they are
put back in the order the Keras model declares, through the converted file's signature, and
named as Keras names them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import tflite

from mcudeploy.errors import ModelError
from mcudeploy.files import read_regular
from mcudeploy.importers.tflite import read_tflite
from mcudeploy.importers.tflite.reader import MAX_MODEL_BYTES
from mcudeploy.ir import Graph

KERAS2_NO_OPS = {"DepthwiseConv2D": {"groups": 1}}
"""Keras 2 layer options Keras 3 refuses, with the value at which they do nothing (then dropped)."""
MODEL_CLASSES = {"Functional", "Sequential", "Model"}
MAX_CONFIG_BYTES = 16 << 20
_MODULES = ("keras.layers", "keras.src.layers", "keras")
"""Where a .keras archive says built-in layers come from."""


def read_keras(path: str | Path) -> Graph:
    path = Path(path)
    subject = str(path)
    data = read_regular(path, MAX_MODEL_BYTES, ModelError)  # a regular file of bounded size, as every model
    _require_tensorflow(subject)
    with tempfile.TemporaryDirectory(prefix="mcudeploy-keras-") as folder:
        copy = Path(folder) / f"model{path.suffix.lower()}"
        copy.write_bytes(data)
        if copy.suffix == ".h5":
            _check_h5(copy, subject)
        else:
            _check_config(_keras_archive_config(data, subject), subject)
        converted, lstms, output_names = _convert(copy, subject)
    from mcudeploy.importers.keras.lstm import place_lstms

    graph = read_tflite(converted)
    declared = _declared_positions(converted, graph.outputs, subject)
    graph = place_lstms(graph, lstms, subject)  # keeps the outputs' positions
    graph.outputs = tuple(graph.outputs[position] for position in declared)
    if len(output_names) == len(graph.outputs):
        for index, name in zip(graph.outputs, output_names, strict=True):
            graph.tensors[index].name = name
    graph.name, graph.source = path.stem, subject
    graph.metadata["format"] = "keras"
    return graph


def _check_h5(copy: Path, subject: str) -> None:
    """Check the HDF5 model's configuration, dropping the Keras 2 no-op options (in our copy)."""
    import h5py

    try:
        with h5py.File(copy, "r+") as file:
            if "model_config" not in file.attrs:
                raise ModelError(subject, "an HDF5 file without a Keras model configuration (weights only?)")
            config = json.loads(file.attrs["model_config"])
            _check_config(config, subject)
            file.attrs["model_config"] = json.dumps(config)
    except (OSError, ValueError, TypeError) as error:
        raise ModelError(subject, f"not a readable Keras HDF5 model ({_first_line(error)})") from None


def _keras_archive_config(data: bytes, subject: str) -> dict:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if archive.getinfo("config.json").file_size > MAX_CONFIG_BYTES:
                raise ModelError(subject, "the archive's config.json unpacks to more than 16 MiB: not plausible")
            return json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ModelError(subject, f"not a readable .keras archive ({_first_line(error)})") from None


def _check_config(config: dict, subject: str) -> None:
    """Refuse Lambda layers and custom objects, anywhere in nested models; drop Keras 2 no-op options."""
    import keras

    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ModelError(subject, "the model configuration is not a Keras model")
    for layer in config["config"].get("layers", []):
        kind, options = layer.get("class_name"), layer.get("config", {})
        name = options.get("name", "?") if isinstance(options, dict) else "?"
        if kind == "Lambda":
            raise ModelError(subject, f"layer '{name}' is a Lambda layer: its Python code is refused (Keras safe mode)")
        if kind in MODEL_CLASSES:
            _check_config(layer, subject)
            continue
        if not isinstance(kind, str) or not hasattr(keras.layers, kind) or layer.get("module") not in (None, *_MODULES):
            raise ModelError(subject, f"layer '{name}' is of class {kind!r}, not a built-in Keras layer: refused")
        for option, no_op in KERAS2_NO_OPS.get(kind, {}).items():
            if options.get(option, no_op) != no_op:
                raise ModelError(subject, f"layer '{name}': {option}={options[option]} is not supported by Keras 3")
            options.pop(option, None)


def _require_tensorflow(subject: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow's first import
    try:
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    except ModuleNotFoundError:
        raise ModelError(subject, "reading Keras models needs TensorFlow: pip install 'mcudeploy[keras]'") from None


def _convert(model_file: Path, subject: str) -> tuple[bytes, list, list[str]]:
    """The float .tflite of the model with stand-ins for its LSTM layers, those layers (lstm.py) and
    the names of the model's outputs in declared order; TensorFlow's chatter kept off stdout (where
    --json goes). The outputs are handed to the converter as a flat list, which it keys output_0,
    output_1, ... in that order (the order of model.outputs, dict outputs included)."""
    import keras
    import tensorflow as tf

    from mcudeploy.importers.keras.lstm import swap_lstms

    with contextlib.redirect_stdout(io.StringIO()):
        try:
            model, lstms = swap_lstms(keras.models.load_model(model_file, compile=False, safe_mode=True), subject)
            # Batch 1, as an MCU runs: a free batch size leaves SHAPE/PACK arithmetic before each Flatten.
            inputs = [keras.Input(batch_shape=(1, *t.shape[1:]), dtype=t.dtype) for t in model.inputs]
            outputs = keras.tree.flatten(model(inputs if len(inputs) > 1 else inputs[0]))
            batch_of_one = keras.Model(inputs, outputs)
            return tf.lite.TFLiteConverter.from_keras_model(batch_of_one).convert(), lstms, _output_names(model)
        except ModelError:
            raise
        except Exception as error:  # Keras and the converter raise many kinds on files they cannot take
            raise ModelError(subject, f"Keras or TensorFlow's converter cannot take it: {_first_line(error)}") from None


def _output_names(model) -> list[str]:
    """Keras' names of the outputs: their layers' (a Functional model's output_names; a Sequential
    model's one output is its last layer's)."""
    return list(getattr(model, "output_names", None) or [model.layers[-1].name])


def _declared_positions(converted: bytes, outputs: tuple[int, ...], subject: str) -> list[int]:
    """For each output in Keras' order, its position among the converted graph's outputs: the
    signature maps key output_<k> to the tensor of the k-th declared output."""
    model = tflite.Model.GetRootAs(converted, 0)
    signature = model.SignatureDefs(0) if model.SignatureDefsLength() == 1 else None
    keyed = {}
    for j in range(signature.OutputsLength() if signature is not None else 0):
        output = signature.Outputs(j)
        keyed[output.Name().decode()] = output.TensorIndex()
    declared = [keyed.get(f"output_{k}") for k in range(len(outputs))]
    if len(keyed) != len(outputs) or sorted(i for i in declared if i is not None) != sorted(outputs):
        found = ", ".join(sorted(keyed)) or "no signature"
        raise ModelError(subject, f"cannot match the converted outputs to the Keras outputs ({found})")
    return [outputs.index(i) for i in declared]


def _first_line(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return " ".join(text.splitlines()[0].split())[:300]


__all__ = ["read_keras"]
