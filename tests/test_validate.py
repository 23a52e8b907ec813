"""Generated C on the host and emulated Cortex-M cores, bit for bit against the reference engine,
and the contract between `analyze` and the linked ELF."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import INT8_MODELS, MODELS, run_cli, streaming_graph
from mcudeploy.cli.app import app
from mcudeploy.codegen.weights import member_names
from mcudeploy.emulation import ElfImage, get_target
from mcudeploy.errors import McuDeployError
from mcudeploy.importers import load_model
from mcudeploy.inputs import load_inputs, random_inputs
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import ElementwiseOptions
from mcudeploy.memory.budget import constant_layout
from mcudeploy.reports.html import validate_page
from mcudeploy.validation.runner import Validator

TARGETS = ("host", "m4", "m55")


@pytest.fixture
def validator_of(tmp_path: Path):
    made: list[Validator] = []

    def make(model: str) -> Validator:
        made.append(Validator(load_model(MODELS / model), workdir=tmp_path / Path(model).stem))
        return made[-1]

    yield make
    for validator in made:
        validator.close()


@pytest.mark.parametrize("model", INT8_MODELS)
def test_int8_model_bit_exact_on_host_m4_and_m55(model: str, validator_of) -> None:
    validator = validator_of(model)
    input_sets = [random_inputs(validator.graph, seed) for seed in range(3)]
    for target in TARGETS:
        result = validator.validate_target(target, input_sets)
        assert result.passed, f"{model} differs on {target}: {[i.divergence for i in result.inputs]}"
        assert (result.instructions_per_inference is None) == (target == "host")


@pytest.mark.parametrize("target", ["m7", "m33"])
@pytest.mark.parametrize("model", INT8_MODELS)
def test_int8_model_bit_exact_on_m7_and_m33(model: str, target: str, validator_of) -> None:
    """The DSP kernel variants on the other DSP cores (M4 above)."""
    validator = validator_of(model)
    result = validator.validate_target(target, [random_inputs(validator.graph, seed) for seed in range(3)])
    assert result.passed, f"{model} differs on {target}: {[i.divergence for i in result.inputs]}"
    assert "md_conv_dsp.c" in {Path(s).name for s in validator.code_for(target).sources} or not any(
        op.op_type == "CONV_2D" for op in validator.graph.operators
    )


@pytest.mark.parametrize(("image", "expected"), [("person.bmp", [-113, 113]), ("no_person.bmp", [57, -57])])
def test_person_detect_answers_right_on_m4(image: str, expected: list[int], validator_of) -> None:
    validator = validator_of("tflm/person_detect.tflite")
    result = validator.validate_target("m4", [load_inputs(MODELS / "testdata" / image, validator.graph)])
    assert result.passed
    assert result.inputs[0].values[0].ravel().tolist() == expected


def test_per_layer_dump_names_the_first_diverging_layer(validator_of) -> None:
    validator = validator_of("tflm/micro_speech_quantized.tflite")
    data = validator.code_for("host").directory / "network_data.c"
    # Corrupt the first bias (tensor 0) of layer #1 (DEPTHWISE_CONV_2D): its output, and everything after, must differ.
    layout = constant_layout(validator.graph, validator.plan.alignment)
    bias = next(name for array, name in member_names(validator.graph, layout).items() if array.tensor == 0)
    text, count = re.subn(rf"(\{{ /\* {bias} \*/\s*)(-?\d+)", lambda m: f"{m[1]}{int(m[2]) + 100000}", data.read_text())
    assert count == 1
    data.write_text(text)
    result = validator.validate_target("host", [random_inputs(validator.graph, 0)])
    assert not result.passed
    divergence = result.inputs[0].divergence
    assert divergence is not None and (divergence.layer, divergence.op) == (1, "DEPTHWISE_CONV_2D")


@pytest.mark.parametrize("model", INT8_MODELS)
def test_linked_elf_matches_analyze(model: str, validator_of) -> None:
    """Arena symbol = the plan's arena_bytes; weights object = analyze's weights_bytes; no soft-float helper."""
    validator = validator_of(model)
    elf = ElfImage(validator.build("m4"))
    assert elf.symbol("net_arena").size == validator.plan.arena_bytes
    weights_bytes = constant_layout(validator.graph).total_bytes
    if weights_bytes:
        assert elf.symbol("net_weights").size == weights_bytes
    else:  # a model without constants (simple_add) has no weights object at all
        assert not [s for s in elf.symbols if s.name == "net_weights"]
    assert elf.symbols_matching("__aeabi_f*") == [] and elf.symbols_matching("__aeabi_d*") == []


def test_validate_cli_json(tmp_path: Path) -> None:
    model = MODELS / "tflm" / "hello_world_int8.tflite"
    np.save(tmp_path / "x.npy", np.array([[-128]], dtype=np.int8))
    result = CliRunner().invoke(
        app, ["validate", str(model), "--target", "host", "--target", "m4", "--inputs", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["passed"] and report["engine_matches_tflm"] is True
    m4 = report["targets"]["m4"]
    assert m4["instructions_per_inference"] > 0 and m4["sections"]["text"] > 0
    metrics = m4["inputs"][0]["outputs"][0]
    assert {"max_abs_diff", "differing", "rmse", "mae", "l2_relative", "cosine", "top1_agree"} <= metrics.keys()


def test_an_arena_larger_than_the_m55_dtcm_goes_to_its_sram(tmp_path: Path) -> None:
    """640 KB of arena (DTCM holds 512 KB) in one int8 ADD: it links into the SSE-300's 4 MB SRAM and runs."""
    builder = GraphBuilder("large arena")
    a, b, total = (builder.tensor((1, 320 * 1024), "int8", scale=0.1) for _ in range(3))
    builder.op("ADD", [a, b], [total], ElementwiseOptions())
    validator = Validator(builder.build([a, b], [total]), workdir=tmp_path)
    try:
        assert validator.plan.arena_bytes > 512 * 1024
        result = validator.validate_target("m55", [random_inputs(validator.graph, 0)])
        assert result.passed
        elf = ElfImage(validator.build("m55"))
        sram = get_target("m55").machine.region("sram")
        assert sram.base <= elf.symbol("net_arena").address < sram.end
    finally:
        validator.close()


def test_a_failing_target_does_not_hide_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = Validator.build

    def fail_on_m3(self: Validator, target_name: str, dump: bool = False, steps: int = 1) -> Path:
        if target_name == "m3":
            raise McuDeployError("build for m3", "linker: region RAM overflowed")
        return build(self, target_name, dump, steps)

    monkeypatch.setattr(Validator, "build", fail_on_m3)
    model = MODELS / "tflm" / "hello_world_int8.tflite"
    args = ["validate", str(model), "--target", "m3", "--target", "host", "--random", "1"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 1, result.output
    targets = json.loads(result.output)["targets"]
    assert targets["m3"]["passed"] is False and "region RAM overflowed" in targets["m3"]["error"]
    assert targets["host"]["passed"] is True and targets["host"]["error"] is None
    printed = CliRunner().invoke(app, args)
    assert printed.exit_code == 1 and "m3: build for m3: linker: region RAM overflowed" in printed.output
    assert "✔ bit-exact" in printed.output


def test_parity_operators_bit_exact_on_m4(tmp_path: Path) -> None:
    """The C kernels of issue 11's parity operators (tests/test_codegen.py's parity family, one
    program) on QEMU M4 (their DSP builds) against the reference engine."""
    from test_codegen import parity_family

    validator = Validator(parity_family(), workdir=tmp_path / "parity")
    try:
        result = validator.validate_target("m4", [random_inputs(validator.graph, seed) for seed in range(2)])
    finally:
        validator.close()
    assert result.passed, [i.divergence for i in result.inputs]


def streaming_model(folder: Path) -> Path:
    """`streaming_graph` with every second frame a complete run, as a model file."""
    from mcudeploy.importers.tflite.writer import write_tflite

    path = folder / "streaming.tflite"
    path.write_bytes(write_tflite(streaming_graph(cycles_max=2)))
    return path


def test_run_and_validate_report_runs_that_wait_for_frames(tmp_path: Path) -> None:
    """A run a CIRCULAR_BUFFER ends (TFLM's kTfLiteAbort) produces no outputs: `run` says it waits,
    the next frame's run prints outputs. `validate` feeds the input sets as successive frames of one
    program (on the host and on M4): on the runs that wait it compares only that the generated C
    waited at the same layer, on the others the outputs, and passes."""
    model = streaming_model(tmp_path)
    frames = tmp_path / "frames"
    frames.mkdir()
    for number in range(3):
        np.save(frames / f"{number}.npy", np.full((1, 1, 2, 3), number + 1, dtype=np.int8))
    result = CliRunner().invoke(app, ["run", str(model), "--input", str(frames)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "run 1 of 3: waiting for frames (CIRCULAR_BUFFER #0)"
    assert lines[1] == "run 2 of 3" and lines[-1] == "run 3 of 3: waiting for frames (CIRCULAR_BUFFER #0)"
    result = CliRunner().invoke(app, ["run", str(model), "--input", str(frames), "--json"])
    report = json.loads(result.output)
    waiting = {"layer": 0, "op": "CIRCULAR_BUFFER"}
    assert [r["waiting"] for r in report["runs"]] == [waiting, None, waiting]
    # the history after frames 1 and 2 from the zero point -5: [-5, -5, 1, 2] along time
    assert report["runs"][1]["outputs"][0]["values"][0] == [[[value] * 3] * 2 for value in (-5, -5, 1, 2)]
    assert report["outputs"] is None and report["waiting"] == waiting  # the last run's
    result = CliRunner().invoke(app, ["run", str(model), "--input", str(frames), "--output", str(tmp_path / "o.npy")])
    assert isinstance(result.exception, McuDeployError) and "it produced no outputs" in str(result.exception)
    assert not (tmp_path / "o.npy").exists()

    result = CliRunner().invoke(app, ["validate", str(model), "-t", "host", "-t", "m4", "--random", "3", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["streaming"]
    for target in ("host", "m4"):
        items = report["targets"][target]["inputs"]
        assert all(item["agrees"] for item in items)
        assert [item["waiting"] for item in items] == [item["engine_waiting"] for item in items]
        assert [item["waiting"] for item in items] == [waiting, None, waiting]
        assert items[0]["outputs"] == items[2]["outputs"] == [None]
        assert items[1]["outputs"][0]["differing"] == 0 and items[1]["outputs"][0]["elements"] == 24
    page = validate_page(report)  # --html: the runs that waited are rows of their own, not left out
    for target, run in (("host", 1), ("host", 3), ("m4", 1), ("m4", 3)):
        cells = f'<td class="text">{target}</td><td class="text">run {run} of 3: '
        assert cells + "waiting for frames (CIRCULAR_BUFFER #0)" in page
    assert page.count("run 2 of 3 output 0") == 2 and "as the engine: outputs not produced" in page
    result = CliRunner().invoke(app, ["validate", str(model), "-t", "host", "--random", "3"])
    assert result.exit_code == 0, result.output
    assert "host, run 1 of 3: waiting for frames (CIRCULAR_BUFFER #0), as the engine: outputs not" in result.output
    assert "host, run 2 of 3" not in result.output  # it ran every layer, as the engine, and agrees
    validator = Validator(load_model(model), workdir=tmp_path / "per-layer")  # the dump build runs the stream too
    try:
        frames_in = [random_inputs(validator.graph, seed) for seed in range(3)]
        checked = validator.validate_target("host", frames_in, per_layer=True)
    finally:
        validator.close()
    assert checked.passed and [item.divergence for item in checked.inputs] == [None] * 3


@pytest.mark.parametrize("bias", ["int64", "int16"])
def test_16x8_transpose_conv_bit_exact_on_host_and_m4(bias: str, tmp_path: Path) -> None:
    """16x8 TRANSPOSE_CONV in C with its int64 bias, or an int16 one stored as the int64 TFLM widens
    it to before each run (the same values): bit-exact with the engine on the host and on M4."""
    from mcudeploy.ir.validate import validate_graph
    from test_ops_transpose_conv import transpose_conv_graph

    graph = transpose_conv_graph("int16", channels=(6, 5), bias=bias, seed=3)
    validate_graph(graph)
    bias_index = graph.operators[0].inputs[3]
    assert next(a for a in constant_layout(graph).arrays if a.tensor == bias_index).dtype.value == "int64"
    validator = Validator(graph, workdir=tmp_path)
    try:
        inputs = [random_inputs(graph, seed) for seed in range(2)]
        for target in ("host", "m4"):
            result = validator.validate_target(target, inputs)
            assert result.passed, f"{target}: {[item.divergence for item in result.inputs]}"
    finally:
        validator.close()


def test_a_float_output_within_tolerance_is_not_called_bit_exact() -> None:
    """Floats pass within the stated tolerance; the verdict says bit-exact only when no element differs."""
    from mcudeploy.cli.validate import _verdict
    from mcudeploy.reports.html import _agreement

    assert "bit-exact" in _verdict(True, 0) and "bit-exact" not in _verdict(True, 75)
    assert "differs" in _verdict(False, 3)
    report = {"passed": True, "targets": {"host": {"inputs": [{"outputs": [{"differing": 75}, None]}]}}}
    assert _agreement(report) == "every target agrees (floats within the stated tolerance)"
    report["targets"]["host"]["inputs"][0]["outputs"][0]["differing"] = 0
    assert _agreement(report) == "every target agrees bit for bit"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--code-section", "ram"], "--code-section ram: needs --device"),
        (["-d", "NUCLEO-L4R5ZI", "--code-section", "itcm"], "--code-section itcm: NUCLEO-L4R5ZI has no ITCM"),
        (["-d", "NUCLEO-L4R5ZI", "--code-section", "ram", "-t", "m7"], "(--target m4): not for m7"),
        (["-d", "NUCLEO-L4R5ZI", "--code-section", "ram", "-t", "host"], "cortex-m4: needs --target m4"),
        (["-d", "NUCLEO-L4R5ZI", "--code-section", "ram", "--npu", "ethos-u55-128"], "not with --npu"),
    ],
)
def test_code_section_bad_combinations_exit_2_with_one_line(args: list[str], message: str, monkeypatch, capsys) -> None:
    model = str(MODELS / "tflm" / "hello_world_int8.tflite")
    code, stdout, stderr = run_cli(monkeypatch, capsys, "validate", model, *args)
    assert code == 2 and not stdout and message in stderr and len(stderr.strip().splitlines()) == 1
