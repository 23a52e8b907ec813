"""Every command that reads a model takes .onnx directly; a float model runs as float and the output says so."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from onnx_models import quantized, small_cnn
from test_cli import invoke

COMMANDS = {
    "inspect": [],
    "analyze": [],
    "generate": ["-o", "{tmp}/code", "--force"],
    "validate": ["--target", "host", "--random", "1"],
    "estimate": [],
}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("onnx_cli")
    onnx.save(small_cnn(), folder / "float.onnx")
    int8 = quantized(folder / "float.onnx", folder / "int8.onnx", qoperator=False, per_channel=True)
    return {"float32": folder / "float.onnx", "int8": int8}


@pytest.mark.parametrize("command", COMMANDS)
def test_commands_take_a_float_onnx_model_and_say_it_runs_as_float(command, models, tmp_path):
    extra = [a.format(tmp=tmp_path) for a in COMMANDS[command]]
    code, text = invoke(command, str(models["float32"]), *extra)
    assert code == 0, text
    assert "ONNX model is float: it runs as float32" in " ".join(text.split())


@pytest.mark.parametrize(("model", "command"), [("float32", "inspect"), ("float32", "generate"), ("int8", "validate")])
def test_the_json_reports_say_what_the_model_runs_in(model, command, models, tmp_path):
    extra = [a.format(tmp=tmp_path) for a in COMMANDS[command]]
    code, text = invoke(command, str(models[model]), *extra, "--json")
    assert code == 0 and json.loads(text)["precision"] == model


def test_nchw_input_data_for_the_nhwc_model_is_refused_not_scrambled(models, tmp_path):
    np.save(tmp_path / "nchw.npy", np.zeros((1, 3, 12, 12), np.float32))
    code, text = invoke("run", str(models["float32"]), "--input", str(tmp_path / "nchw.npy"))
    assert code == 2 and "has shape [1, 3, 12, 12], the model takes [1, 12, 12, 3] (NHWC)" in text


def test_with_calibration_a_float_model_is_quantized_on_the_fly(models, tmp_path):
    np.savez(tmp_path / "data.npz", np.random.default_rng(0).uniform(-1, 1, (4, 1, 12, 12, 3)).astype(np.float32))
    code, text = invoke("analyze", str(models["float32"]), "--calibration", str(tmp_path / "data.npz"), "--json")
    assert code == 0 and json.loads(text)["precision"] == "int8"
