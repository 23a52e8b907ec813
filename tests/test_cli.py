"""The command line as a user drives it: inspect, run, example."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import MODELS
from mcudeploy.cli.app import app
from mcudeploy.errors import McuDeployError
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import DType
from mcudeploy.ir.builder import GraphBuilder
from mcudeploy.ir.options import UnpackOptions

runner = CliRunner()

# MACs of the MLPerf Tiny models and person_detect as published, in millions, to the digits given.
PUBLISHED_MACS = {
    "mlperf_tiny/kws_ref_model_int8.tflite": "2.66",
    "mlperf_tiny/vww_96_int8.tflite": "7.49",
    "mlperf_tiny/ic_resnet8_int8.tflite": "12.5",
    "mlperf_tiny/ad01_int8.tflite": "0.26",
    "tflm/person_detect.tflite": "7.16",
}


def invoke(*args: str) -> tuple[int, str]:
    """Exit code and output; a user error comes back as the one line `main()` would print, with code 2."""
    result = runner.invoke(app, list(args))
    if isinstance(result.exception, McuDeployError):
        return 2, f"mcudeploy: error: {result.exception}"
    return result.exit_code, result.output


@pytest.mark.parametrize(("model", "millions"), PUBLISHED_MACS.items())
def test_inspect_json_macs_match_published_figures(model: str, millions: str) -> None:
    code, output = invoke("inspect", str(MODELS / model), "--json")
    assert code == 0
    report = json.loads(output)
    assert {"layers", "total_macs", "total_params"} <= report.keys()
    decimals = len(millions.partition(".")[2])
    assert round(report["total_macs"] / 1e6, decimals) == float(millions)  # the published figure, rounded as published
    assert report["total_macs"] == sum(layer["macs"] for layer in report["layers"])


def test_inspect_table_names_custom_operators() -> None:
    code, output = invoke("inspect", str(MODELS / "tflm" / "person_detect_vela.tflite"))
    assert code == 0
    assert "ethos-u (custom)" in output


def test_run_bmp_prints_person_score() -> None:
    model = MODELS / "tflm" / "person_detect.tflite"
    code, output = invoke("run", str(model), "--input", str(MODELS / "testdata" / "person.bmp"), "--json")
    assert code == 0
    assert json.loads(output)["outputs"][0]["values"] == [[-113, 113]]


def test_run_npy_bin_and_float_quantization_agree(tmp_path: Path) -> None:
    model = MODELS / "tflm" / "hello_world_int8.tflite"
    np.save(tmp_path / "x.npy", np.array([[-128]], dtype=np.int8))
    (tmp_path / "x.bin").write_bytes(np.array([-128], dtype=np.int8).tobytes())
    # -128 is x = 0.0 for this input (zero point -128): a float .npy is quantized the same way.
    np.save(tmp_path / "real.npy", np.array([[0.0]], dtype=np.float32))
    outputs = {
        name: json.loads(invoke("run", str(model), "--input", str(tmp_path / name), "--json")[1])["outputs"]
        for name in ("x.npy", "x.bin", "real.npy")
    }
    values = {name: output[0]["values"] for name, output in outputs.items()}
    assert values["x.npy"] == values["x.bin"] == values["real.npy"]


def test_run_writes_npz_for_several_outputs(tmp_path: Path) -> None:
    builder = GraphBuilder("unpack")
    x = builder.tensor((2, 3), DType.INT8, scale=0.5, zero_point=0, name="x")
    a = builder.tensor((3,), DType.INT8, scale=0.5, zero_point=0, name="a")
    b = builder.tensor((3,), DType.INT8, scale=0.5, zero_point=0, name="b")
    builder.op("UNPACK", [x], [a, b], UnpackOptions(num=2, axis=0))
    model = tmp_path / "unpack.tflite"
    model.write_bytes(write_tflite(builder.build(inputs=[x], outputs=[a, b])))
    np.save(tmp_path / "x.npy", np.arange(6, dtype=np.int8).reshape(2, 3))

    code, output = invoke("run", str(model), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy"))
    assert code == 2 and "npz" in output

    code, _ = invoke("run", str(model), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npz"))
    assert code == 0
    with np.load(tmp_path / "y.npz") as saved:
        assert saved["a"].tolist() == [0, 1, 2] and saved["b"].tolist() == [3, 4, 5]


def test_run_rejects_input_of_wrong_size(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros(5, dtype=np.int8))
    code, output = invoke("run", str(MODELS / "tflm" / "hello_world_int8.tflite"), "--input", str(tmp_path / "x.npy"))
    assert code == 2 and "needs 1 values" in output


def test_run_names_an_unsupported_operator(tmp_path: Path) -> None:
    code, output = invoke(
        "run", str(MODELS / "tflm" / "person_detect_vela.tflite"), "--input", str(MODELS / "testdata" / "person.bmp")
    )
    assert code == 2 and "layer #0 is an Ethos-U command stream" in output


def test_example_writes_a_model_that_runs(tmp_path: Path) -> None:
    model = tmp_path / "demo.tflite"
    assert invoke("example", "--output", str(model))[0] == 0
    code, output = invoke("run", str(model), "--input", str(tmp_path / "demo_input.npy"), "--json")
    assert code == 0
    assert len(json.loads(output)["outputs"][0]["values"][0]) == 12


def test_ops_lists_each_operator_with_its_types_from_the_registries() -> None:
    from mcudeploy.codegen.layers import EMITTERS
    from mcudeploy.engine.registry import KERNEL_TYPES, KERNELS

    assert set(KERNEL_TYPES) == set(KERNELS)  # every kernel declares the types it accepts
    result = runner.invoke(app, ["ops", "--json"])
    assert result.exit_code == 0, result.output
    entries = {entry["op"]: entry for entry in json.loads(result.output)}
    assert set(entries) == set(KERNELS) | set(EMITTERS)
    assert entries["LOG_SOFTMAX"] == {
        "op": "LOG_SOFTMAX",
        "types": ["int8", "float32"],
        "filter_types": [],
        "engine": True,
        "c_kernel": True,
        "memory_contract": True,
        "runs_subgraphs": False,
        "tflm_resolver": True,
    }
    assert entries["WHILE"]["engine"] and entries["WHILE"]["c_kernel"] and entries["WHILE"]["runs_subgraphs"]
    assert entries["RESHAPE"]["types"] == "any" and entries["SHAPE"]["types"] == ["int32"]
    assert entries["UNIDIRECTIONAL_SEQUENCE_LSTM"]["types"] == ["float32", "int8", "int16"]
    everything = {entry["op"]: entry for entry in json.loads(runner.invoke(app, ["ops", "--json", "--all"]).output)}
    assert everything["SVDF"]["engine"] and everything["SVDF"]["c_kernel"] and "CUSTOM" not in everything
    assert (
        not everything["BIDIRECTIONAL_SEQUENCE_LSTM"]["engine"]
        and not everything["BIDIRECTIONAL_SEQUENCE_LSTM"]["c_kernel"]
    )
    assert everything["TFLM_DECODE"]["tflm_resolver"] and entries["TFLite_Detection_PostProcess"]["tflm_resolver"]
    table = runner.invoke(app, ["ops"])
    assert table.exit_code == 0 and "LOG_SOFTMAX" in table.output and "int8, float32" in table.output
    assert "its subgraphs in a region" in table.output
    # the resolver's operators with both engine and C kernel
    covered = sum(e["engine"] and e["c_kernel"] for e in everything.values() if e["tflm_resolver"])
    assert sum(e["tflm_resolver"] for e in everything.values()) == 118
    assert f"{covered} of the 118 operators TensorFlow Lite Micro's MicroMutableOpResolver" in table.output
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    assert f"Of the 118 operators TensorFlow Lite Micro's MicroMutableOpResolver registers, {covered} have" in readme
