"""ONNX LSTM → UNIDIRECTIONAL_SEQUENCE_LSTM against onnxruntime, the forms TFLite's LSTM cannot
compute refused in one line, and `mcudeploy quantize` of the imported LSTM bit-exact with TFLM."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from conftest import run_cli
from mcudeploy.engine.interpreter import run
from mcudeploy.errors import McuDeployError
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite import read_tflite
from mcudeploy.ir import DType
from onnx_models import Net, compare, literal_session, relative_error, weights
from single_op import assert_matches_tflm
from test_onnx_import import FLOAT_TOLERANCE

STEPS, BATCH, FEATURES, HIDDEN = 5, 2, 3, 4


def lstm_model(opset=14, layout=0, read=("Y", "Y_h"), squeeze=True, state=None, lengths=None, p=None, **attributes):
    """A PyTorch-style LSTM: Y with its direction axis squeezed (`squeeze`), and Y_h."""
    shape = (BATCH, STEPS, FEATURES) if layout else (STEPS, BATCH, FEATURES)
    net = Net(shape, opset)
    inputs = ["input", weights(1, 4 * HIDDEN, FEATURES), weights(1, 4 * HIDDEN, HIDDEN), weights(1, 8 * HIDDEN)]
    state_shape = (BATCH, 1, HIDDEN) if layout else (1, BATCH, HIDDEN)
    initial = "" if state is None else np.full(state_shape, state, np.float32)
    inputs += ["" if lengths is None else np.full(BATCH, lengths, np.int32), initial, initial]
    inputs += [] if p is None else [np.full((1, 3 * HIDDEN), p, np.float32)]
    layout_attribute = {"layout": layout} if layout else {}
    y = net.add("LSTM", inputs, outputs=3, hidden_size=HIDDEN, **layout_attribute, **attributes)
    names = {"Y": y, "Y_h": y[:-1] + "1", "Y_c": y[:-1] + "2"}
    if squeeze and "Y" in read:
        axes = np.array([2 if layout else 1], np.int64)
        squeezed = [y, axes] if opset >= 13 else [y]
        names["Y"] = net.add("Squeeze", squeezed, **({} if opset >= 13 else {"axes": axes.tolist()}))
    return net.model(*[names[r] for r in read])


@pytest.mark.parametrize(
    "options",
    [{"opset": 11}, {"opset": 14, "state": 0.0, "lengths": STEPS, "p": 0.0}, {"opset": 22, "squeeze": False}],
    ids=["opset11", "zero-state-full-lengths", "opset22-unsqueezed"],
)
def test_lstm_matches_onnxruntime(options, tmp_path):
    graph, expected, ours = compare(lstm_model(**options), tmp_path, samples=2)
    for want, got in zip(expected, ours, strict=True):
        assert [w.shape for w in want] == [g.shape for g in got]
        assert all(relative_error(w, g) < FLOAT_TOLERANCE for w, g in zip(want, got, strict=True))
    assert [op.op_type for op in graph.operators].count("UNIDIRECTIONAL_SEQUENCE_LSTM") == 1


def test_batch_first_layout_matches_onnxruntime_on_the_time_major_twin(tmp_path):
    """onnxruntime refuses layout=1; the same weights in layout 0 on the transposed input are the oracle."""
    onnx.save(lstm_model(layout=0), tmp_path / "time_major.onnx")
    onnx.save(lstm_model(layout=1), tmp_path / "batch_first.onnx")
    x = np.random.default_rng(3).uniform(-1, 1, (BATCH, STEPS, FEATURES)).astype(np.float32)
    y, y_h = literal_session(tmp_path / "time_major.onnx").run(None, {"input": x.transpose(1, 0, 2)})
    graph = load_model(tmp_path / "batch_first.onnx")
    ours = run(graph, [x]).outputs
    assert graph.operators[0].options.time_major is False
    assert relative_error(y.transpose(1, 0, 2), ours[0]) < FLOAT_TOLERANCE
    assert relative_error(y_h.transpose(1, 0, 2), ours[1]) < FLOAT_TOLERANCE


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"direction": "bidirectional"}, "direction 'bidirectional'"),
        ({"direction": "reverse"}, "direction 'reverse'"),
        ({"activations": ["Sigmoid", "Relu", "Tanh"]}, "activations"),
        ({"clip": 3.0}, "clip"),
        ({"input_forget": 1}, "input_forget=1"),
        ({"state": 0.5}, "nonzero initial_h"),
        ({"p": 0.1}, "peephole"),
        ({"lengths": STEPS - 1}, "sequence_lens"),
        ({"read": ("Y", "Y_c")}, "Y_c is read"),
    ],
)
def test_what_tflite_lstm_cannot_compute_is_refused_naming_the_node(options, message, tmp_path):
    model = lstm_model(**options) if "direction" not in options else _bidirectional(options["direction"])
    onnx.save(model, tmp_path / "lstm.onnx")
    with pytest.raises(McuDeployError, match=rf"node 'LSTM_1' \(LSTM\): .*{message}") as error:
        load_model(tmp_path / "lstm.onnx")
    assert "\n" not in str(error.value)


def _bidirectional(direction: str) -> onnx.ModelProto:
    directions = 2 if direction == "bidirectional" else 1
    net = Net((STEPS, BATCH, FEATURES), 14)
    inputs = ["input", weights(directions, 4 * HIDDEN, FEATURES), weights(directions, 4 * HIDDEN, HIDDEN)]
    return net.model(net.add("LSTM", inputs, hidden_size=HIDDEN, direction=direction))


@pytest.mark.parametrize("activations", ["int8", "int16"])
def test_quantize_command_on_an_onnx_lstm_runs_in_tflite_micro_as_in_our_engine(
    activations, monkeypatch, capsys, tmp_path
):
    onnx.save(lstm_model(opset=13), tmp_path / "lstm.onnx")
    calibration = np.random.default_rng(0).uniform(-1, 1, (16, STEPS, BATCH, FEATURES)).astype(np.float32)
    np.savez(tmp_path / "calibration.npz", calibration)
    args = ["quantize", str(tmp_path / "lstm.onnx"), "-c", str(tmp_path / "calibration.npz")]
    code, _, err = run_cli(monkeypatch, capsys, *args, "-o", str(tmp_path / "q.tflite"), "--activations", activations)
    assert code == 0, err
    quantized = read_tflite(tmp_path / "q.tflite")
    (lstm,) = [op for op in quantized.operators if op.op_type == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    assert quantized.tensors[lstm.outputs[0]].dtype == DType(activations)
    assert_matches_tflm(quantized, seed=4, invocations=2)
