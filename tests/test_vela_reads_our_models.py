"""Vela reads what our TFLite writer writes (integer LSTMs with their five intermediates, `quantize`'s
output, float LSTMs quantized included, ONNX imports, the real models written back), and a model Vela
cannot compile is answered for the Cortex-M alone on an Ethos-U part, with a note, instead of stopping
the command."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest
import tflite

from conftest import MODELS, run_cli
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite import read_tflite, write_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import DType, Graph
from mcudeploy.npu.config import reference_target
from mcudeploy.npu.vela import compile_for_npu, vela_reason
from mcudeploy.quantization import quantize_graph
from mcudeploy.validation.oracles import litert_run
from onnx_models import branchy_cnn, small_cnn
from test_ops_lstm import int8_lstm_graph, lstm_graph

ETHOS_U_PART = "AE722F80F55D5"
"""Alif Ensemble E7: a Cortex-M55 with an Ethos-U55."""
REAL_MODELS = sorted(MODELS.rglob("*.tflite"))
HELLO_FLOAT = MODELS / "tflm/hello_world_float.tflite"
REASON = "UNIDIRECTIONAL_SEQUENCE_LSTM 'output': IFM must be INT8 or INT16; IFM type=FLOAT32"
"""Vela's report on a float LSTM (its TFLite semantic check wants int8 or int16), as we print it."""


def onnx_import(model: onnx.ModelProto, folder: Path) -> Graph:
    path = folder / f"{model.graph.name}.onnx"
    onnx.save(model, path)
    return load_model(path)


def quantized(graph: Graph, activations: DType) -> Graph:
    sets = [random_inputs(graph, seed=seed) for seed in range(2)]
    return quantize_graph(graph, sets, activations=activations).graph


WRITTEN: dict[str, Callable[[Path], Graph]] = {
    "lstm_int8": lambda _: int8_lstm_graph(),
    "lstm_16x8": lambda _: int8_lstm_graph(activations="int16"),
    "lstm_int8_time_major_clipped": lambda _: int8_lstm_graph(time_major=True, cell_clip=2.0),
    "onnx_small_cnn": lambda folder: onnx_import(small_cnn(), folder),
    "quantize_int8_onnx_branchy_cnn": lambda folder: quantized(onnx_import(branchy_cnn(), folder), DType.INT8),
    "quantize_int8_onnx_small_cnn": lambda folder: quantized(onnx_import(small_cnn(), folder), DType.INT8),
    "quantize_int16_hello_world": lambda _: quantized(read_tflite(HELLO_FLOAT), DType.INT16),
    "quantize_int8_lstm": lambda _: quantized(lstm_graph(), DType.INT8),
    "quantize_16x8_lstm": lambda _: quantized(lstm_graph(), DType.INT16),
    **{f"written_back_{p.stem}": lambda _, p=p: read_tflite(p) for p in REAL_MODELS},
}


@pytest.mark.parametrize("case", WRITTEN)
def test_vela_compiles_what_the_writer_writes(case, tmp_path):
    graph = WRITTEN[case](tmp_path)
    compilation = compile_for_npu(write_tflite(graph), graph.name, reference_target("ethos-u55-128"))
    assert len(compilation.operators) == len(graph.operators)
    if case.startswith(("lstm", "quantize")):
        assert compilation.npu_operator_count > 0


def test_an_integer_lstm_is_written_with_the_intermediates_tflite_and_vela_read():
    graph = int8_lstm_graph()
    written = write_tflite(graph)
    op = tflite.Model.GetRootAs(written, 0).Subgraphs(0).Operators(0)
    assert op.IntermediatesLength() == 5
    read = read_tflite(written)
    carriers = [read.tensors[i] for i in read.operators[0].intermediates]
    assert [t.shape for t in carriers] == [(0,)] * 5
    assert [t.quantization.single_scale for t in carriers[:4]] == [2.0**-12] * 4
    hidden = graph.tensors[graph.operators[0].inputs[18]]
    assert (carriers[4].dtype, carriers[4].quantization) == (hidden.dtype, hidden.quantization)
    again = read_tflite(write_tflite(read))
    assert len(again.tensors) == len(read.tensors), "written back as read: no second set of intermediates"
    assert again.operators[0].intermediates == read.operators[0].intermediates
    (output,) = litert_run(written, random_inputs(graph)).outputs  # LiteRT refuses an int8 LSTM without them
    assert output.shape == graph.tensors[graph.outputs[0]].shape


def test_a_float_lstm_keeps_no_intermediates():
    op = tflite.Model.GetRootAs(write_tflite(lstm_graph()), 0).Subgraphs(0).Operators(0)
    assert op.IntermediatesLength() == 0


def test_vela_reports_read_as_one_line():
    semantics = RuntimeError(
        "Compilation failed: Error: UNIDIRECTIONAL_SEQUENCE_LSTM 'output' Does not have valid TFLite Semantics.\n"
        " - IFM must be INT8 or INT16\n   IFM type=FLOAT32\nFailed to parse TFLite file\n"
    )
    assert vela_reason(semantics) == REASON
    null = RuntimeError(
        "Compilation failed: Error: Null pointer exception encountered when reading TFLite file\n"
        "Failed to Parse TFLite file\n"
    )
    hard_swish = RuntimeError(
        "Compilation failed: Error: HARD_SWISH 'y' Does not have valid TFLite Semantics.\n"
        " - IFM has to be 8bit\n   IFM type=FLOAT32, \nFailed to parse TFLite file\n"
    )
    assert vela_reason(hard_swish) == "HARD_SWISH 'y': IFM has to be 8bit; IFM type=FLOAT32"
    assert vela_reason(null) == "its TFLite reader found a table or vector it requires missing"


# ------------------------------------------------ what Vela refuses: the Cortex-M alone, with a note

NOTE = f"Vela could not compile lstm ({REASON})"


@pytest.fixture(scope="module")
def float_lstm(tmp_path_factory) -> Path:
    """Vela refuses any float LSTM (its TFLite semantic check wants int8 or int16)."""
    path = tmp_path_factory.mktemp("vela") / "lstm.tflite"
    path.write_bytes(write_tflite(lstm_graph()))
    return path


def test_estimate_prices_what_vela_refuses_on_the_cortex_m55_alone(float_lstm, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "estimate", str(float_lstm), "--device", ETHOS_U_PART)
    assert code == 0, err
    assert f"note: {NOTE}: priced on the Cortex-M55 alone" in " ".join(out.split())
    assert "lstm on AE722F80F55D5 (Cortex-M55" in out
    code, out, err = run_cli(monkeypatch, capsys, "estimate", str(float_lstm), "--device", ETHOS_U_PART, "--json")
    assert code == 0
    assert json.loads(out)["core"] == "cortex-m55"
    assert err == f"mcudeploy: note: {NOTE}: priced on the Cortex-M55 alone\n"


def test_analyze_plans_what_vela_refuses_for_the_cortex_m55_alone(float_lstm, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "analyze", str(float_lstm), "--device", ETHOS_U_PART)
    assert code == 0, err
    assert f"note: {NOTE}: analyzed for the Cortex-M55 alone" in " ".join(out.split())
    _, cpu_alone, _ = run_cli(monkeypatch, capsys, "analyze", str(float_lstm), "--device", ETHOS_U_PART, "--no-npu")
    assert out.endswith(cpu_alone)


def test_generate_says_in_one_line_what_vela_refuses(float_lstm, tmp_path, monkeypatch, capsys):
    output = tmp_path / "out"
    code, _, err = run_cli(
        monkeypatch, capsys, "generate", str(float_lstm), "--device", ETHOS_U_PART, "--output", str(output)
    )
    assert code == 2
    hint = "--no-npu generates for the Cortex-M55 alone"
    assert err == f"mcudeploy: error: lstm: Vela could not compile it: {REASON} ({hint})\n"
    assert not output.exists()
