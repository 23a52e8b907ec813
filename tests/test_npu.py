"""Cortex-M + Ethos-U with the real Vela: placement and reasons, the whole budget checked against Vela's
own summary CSV (written by Vela's command line on the same system configuration), the timeline,
and models that Vela already compiled."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import INT8_MODELS, MODELS
from mcudeploy.cli.app import main
from mcudeploy.devices import find_device
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir.builder import GraphBuilder
from mcudeploy.ir.options import ConcatenationOptions, Conv2DOptions, Padding, ReducerOptions
from mcudeploy.memory.budget import STACK
from mcudeploy.npu.budget import CPU_SCRATCH, NPU_ARENA, NPU_READ_ONLY
from mcudeploy.npu.compiled import ethos_u_operators, offline_arena_bytes
from mcudeploy.npu.config import npu_target
from mcudeploy.npu.placement import Target, place_operators
from mcudeploy.npu.vela import compile_for_npu

ALIF_E7 = "Alif Ensemble E7"
ACCELERATORS = ["ethos-u55-128", "ethos-u55-256"]
PERSON_VELA = MODELS / "tflm/person_detect_vela.tflite"
KWS_FLOAT = MODELS / "mlperf_tiny/kws_ref_model_float32.tflite"
KIB = 1024


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["mcudeploy", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    out, err = capsys.readouterr()
    return stop.value.code or 0, out, err


def conv_mean_conv() -> bytes:
    """int8 CONV_2D → MEAN over depth (which the NPU refuses for an 8x8x8 input) → CONV_2D."""
    rng = np.random.default_rng(0)
    b = GraphBuilder("conv_mean_conv")
    x = b.tensor((1, 8, 8, 4), "int8", scale=0.05, zero_point=-3, name="input")
    w1 = b.tensor(
        (8, 3, 3, 4), "int8", scale=[0.02] * 8, zero_point=[0] * 8, axis=0, data=rng.integers(-127, 128, (8, 3, 3, 4))
    )
    b1 = b.tensor((8,), "int32", scale=[0.001] * 8, zero_point=[0] * 8, axis=0, data=rng.integers(-500, 500, 8))
    y = b.tensor((1, 8, 8, 8), "int8", scale=0.1, zero_point=-10, name="conv1")
    b.op("CONV_2D", [x, w1, b1], [y], Conv2DOptions(padding=Padding.SAME))
    mean = b.tensor((1, 8, 8, 1), "int8", scale=0.1, zero_point=-10, name="mean")
    b.op("MEAN", [y, b.tensor((1,), "int32", data=[3])], [mean], ReducerOptions(keep_dims=True))
    w2 = b.tensor(
        (4, 1, 1, 1), "int8", scale=[0.02] * 4, zero_point=[0] * 4, axis=0, data=rng.integers(-127, 128, (4, 1, 1, 1))
    )
    b2 = b.tensor((4,), "int32", scale=[0.002] * 4, zero_point=[0] * 4, axis=0, data=rng.integers(-500, 500, 4))
    z = b.tensor((1, 8, 8, 4), "int8", scale=0.1, zero_point=0, name="output")
    b.op("CONV_2D", [mean, w2, b2], [z], Conv2DOptions())
    return write_tflite(b.build([x], [z]))


@pytest.fixture(scope="session")
def fallback_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("npu") / "conv_mean_conv.tflite"
    path.write_bytes(conv_mean_conv())
    return path


@pytest.fixture(scope="session")
def compiled():
    """Vela's compilation of a model file for an accelerator on the Alif E7, once per session."""
    cache = {}

    def compile_once(path: Path, accelerator: str):
        key = (str(path), accelerator)
        if key not in cache:
            target = npu_target(find_device(ALIF_E7), accelerator, False)
            cache[key] = compile_for_npu(path.read_bytes(), path.stem, target)
        return cache[key]

    return compile_once


def vela_cli_summary(path: Path, accelerator: str, ini: str, system: str, folder: Path) -> dict[str, str]:
    """Vela's own command line on the same system configuration: its summary CSV."""
    from ethosu.vela import vela

    config = folder / "system.ini"
    config.write_text(ini)
    arguments = [
        str(path),
        "--accelerator-config",
        accelerator,
        "--config",
        str(config),
        "--system-config",
        system,
        "--memory-mode",
        "Shared_Sram",
        "--output-dir",
        str(folder),
    ]
    assert vela.main(arguments) == 0
    (summary,) = folder.glob("*_summary_*.csv")
    with summary.open() as handle:
        return next(csv.DictReader(handle))


# ---------------------------------------------------------------- the device's NPU, as Vela sees it


def test_the_e7_npu_is_compiled_with_the_device_figures(compiled):
    compilation = compiled(MODELS / "mlperf_tiny/kws_ref_model_int8.tflite", "ethos-u55-256")
    target = compilation.target
    assert target.from_device and "ensemble_vela.ini" in target.source
    assert compilation.clock_hz == 400e6
    # U55's AXI ports move 8 bytes per NPU cycle, scaled by each memory's clock
    assert compilation.bandwidths["Sram"] == pytest.approx(400e6 * 0.762 * 8)
    assert compilation.bandwidths["OffChipFlash"] == pytest.approx(400e6 * 0.121 * 8)


def test_another_npu_uses_arm_reference_figures_and_says_so(compiled):
    compilation = compiled(MODELS / "mlperf_tiny/kws_ref_model_int8.tflite", "ethos-u55-128")
    assert not compilation.target.from_device and "Ethos_U55_High_End_Embedded" in compilation.target.source
    assert compilation.clock_hz == 500e6
    assert float(compilation.summary["inference_time"]) == pytest.approx(0.180e-3, abs=1e-6)  # notes/emulation.md


# ---------------------------------------------------------------- every int8 model, U55-128 and U55-256


@pytest.mark.parametrize("accelerator", ACCELERATORS)
@pytest.mark.parametrize("model", INT8_MODELS)
def test_budget_arithmetic_matches_vela_summary(model, accelerator, compiled, tmp_path, monkeypatch, capsys):
    path = MODELS / model
    compilation = compiled(path, accelerator)
    target = compilation.target
    theirs = vela_cli_summary(path, accelerator, target.ini, target.system_config, tmp_path)
    capsys.readouterr()
    assert compilation.sram_bytes == round(float(theirs["sram_memory_used"]) * KIB)
    assert compilation.flash_bytes == round(float(theirs["off_chip_flash_memory_used"]) * KIB)
    assert compilation.total_cycles == int(theirs["cycles_total"])
    assert compilation.total_cycles / compilation.clock_hz == pytest.approx(float(theirs["inference_time"]))
    # Vela's SRAM figure is the arena it planned: the end of the highest tensor of its offline plan
    output = read_tflite(compilation.model)
    assert offline_arena_bytes(compilation.model, output) == compilation.arena_bytes == compilation.sram_bytes
    # every operator placed; NPU cycles per operator add up to Vela's total
    graph = load_model(path)
    placements = place_operators(graph, compilation)
    assert len(placements) == len(graph.operators)
    assert sum(p.npu_cycles for p in placements) == compilation.total_cycles

    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(path), "-d", ALIF_E7, "--npu", accelerator, "--json")
    report = json.loads(out)
    items = {item["name"]: item["bytes"] for region in report["regions"] for item in region["items"]}
    assert items[NPU_ARENA] == compilation.sram_bytes
    assert items.get(NPU_READ_ONLY, 0) == compilation.flash_bytes
    assert items[STACK] == 8 * KIB
    assert report["ram_bytes"] == compilation.sram_bytes + items.get(CPU_SCRATCH, 0) + 8 * KIB
    assert report["flash_bytes"] == sum(b for name, b in items.items() if name not in (NPU_ARENA, CPU_SCRATCH, STACK))
    assert code == 0 and report["fits"] is True


# ---------------------------------------------------------------- placement with reasons


def test_a_refused_operator_carries_vela_constraint_and_a_rewrite(fallback_model, compiled):
    placements = place_operators(load_model(fallback_model), compiled(fallback_model, "ethos-u55-256"))
    assert [p.target for p in placements] == [Target.NPU, Target.CPU, Target.NPU]
    mean = placements[1]
    assert any("Reduction over depth is only supported if any of h,w,c == 1" in r for r in mean.reasons)
    assert "1x1 CONV_2D" in mean.suggestion


def test_a_float_model_stays_on_the_cpu_for_its_data_type(compiled):
    compilation = compiled(KWS_FLOAT, "ethos-u55-256")
    placements = place_operators(load_model(KWS_FLOAT), compilation)
    # Vela's SRAM figure counts NPU work only; its arena plan still holds the CPU's feature maps
    assert compilation.sram_bytes == 0 and compilation.arena_bytes == 64_000
    assert all(p.target == Target.CPU for p in placements)
    assert all(any("Float32" in r for r in p.reasons) for p in placements)
    assert all("quantize the model to int8" in p.suggestion for p in placements)


def test_analyze_prints_placement_reasons_and_budget(fallback_model, monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(fallback_model), "-d", ALIF_E7)
    assert code == 0
    assert "ethos-u55-256 at 400 MHz" in out and "Unsupported" in out and "Reduction" in out and "✔ fits" in out
    assert "[bold" not in out


def test_no_npu_gives_the_cpu_only_answer(fallback_model, monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(fallback_model), "-d", ALIF_E7, "--no-npu", "--json")
    report = json.loads(out)
    assert code == 0 and "npu" not in report and report["arena_bytes"] > 0 and "layers" in report


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--npu", "ethos-u55-100"], "unknown Ethos-U configuration"),
        (["--npu", "ethos-u55-128", "--no-npu"], "--no-npu"),
    ],
)
def test_bad_npu_options_exit_2(fallback_model, monkeypatch, capsys, arguments, message):
    code, _, err = run_cli(monkeypatch, capsys, "analyze", str(fallback_model), "-d", ALIF_E7, *arguments)
    assert code == 2 and message in err and "Traceback" not in err


# ---------------------------------------------------------------- the timeline


def test_timeline_prices_npu_at_vela_and_the_fallback_at_ours(fallback_model, compiled, monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "estimate", str(fallback_model), "-d", ALIF_E7, "--json")
    report = json.loads(out)
    line = report["timeline"]
    assert code == 0 and [s["target"] for s in line["segments"]] == ["NPU", "CPU", "NPU"]
    compilation = compiled(fallback_model, "ethos-u55-256")
    npu_cycles = sum(s["cycles"] for s in line["segments"] if s["target"] == "NPU")
    assert npu_cycles == compilation.total_cycles
    assert line["npu_ms"] == pytest.approx(compilation.total_cycles / 400e3)
    assert line["total_ms"] == pytest.approx(line["npu_ms"] + line["cpu_ms"])
    assert line["cpu_share"] == pytest.approx(line["cpu_ms"] / line["total_ms"])
    assert line["slow_fallback"] is True  # a tiny model: the MEAN on the CPU dominates
    mean = report["placement"][1]
    assert mean["cpu_ms_saved_if_moved"] == pytest.approx(line["segments"][1]["milliseconds"])
    assert line["segments"][0]["handover_bytes"] == 8 * 8 * 8  # conv1 goes to the CPU's MEAN


# ---------------------------------------------------------------- a model Vela already compiled


def test_inspect_explains_the_ethos_u_operator(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "inspect", str(PERSON_VELA), "--json")
    (op,) = json.loads(out)["ethos_u"]
    assert code == 0 and op["compiled_for"] == "ethos-u55-256" and op["shram_kib"] == 48
    assert (op["command_stream_bytes"], op["read_only_bytes"], op["scratch_bytes"]) == (8168, 260480, 74464)


def test_run_says_why_it_cannot_execute_it(monkeypatch, capsys):
    image = MODELS / "testdata/person.bmp"
    code, _, err = run_cli(monkeypatch, capsys, "run", str(PERSON_VELA), "--input", str(image))
    assert code == 2 and "Ethos-U command stream compiled by Vela for ethos-u55-256" in err
    assert "does not emulate NPU arithmetic" in err


def test_a_compiled_model_fits_only_a_device_with_that_npu(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(PERSON_VELA), "-d", ALIF_E7, "--json")
    report = json.loads(out)
    graph = load_model(PERSON_VELA)
    (op,) = ethos_u_operators(graph)
    assert code == 0 and report["fits"] is True
    assert report["arena_bytes"] == 74464 == offline_arena_bytes(PERSON_VELA.read_bytes(), graph)
    items = {item["name"]: item["bytes"] for region in report["regions"] for item in region["items"]}
    assert items[NPU_READ_ONLY] == op.command_stream_bytes + op.read_only_bytes
    for device, extra in (("STM32H743ZI", []), (ALIF_E7, ["--no-npu"]), (ALIF_E7, ["--npu", "ethos-u55-128"])):
        code, out, _ = run_cli(monkeypatch, capsys, "analyze", str(PERSON_VELA), "-d", device, "--json", *extra)
        report = json.loads(out)
        assert code == 1 and report["fits"] is False and "need ethos-u55-256" in report["npu_problem"]


# ---------------------------------------------------------------- the generated project


def test_generated_project_hands_npu_segments_to_the_driver_and_runs_the_fallback_bit_exact(
    fallback_model, compiled, tmp_path
):
    """On QEMU M55 with the driver stub: the MEAN between the two NPU segments runs as our C on the
    arena Vela planned, and hands the second segment exactly the reference engine's values."""
    from mcudeploy.npu.validate import NOT_EMULATED, validate_cpu_segments

    compilation = compiled(fallback_model, "ethos-u55-256")
    graph = load_model(fallback_model)
    image = np.random.default_rng(1).integers(-128, 128, (1, 8, 8, 4), dtype=np.int8)
    result = validate_cpu_segments(graph, compilation.model, [image], tmp_path)
    assert [c.tensor for c in result.handed_over] == ["input", "mean"]
    assert result.bit_exact and result.feature_maps_where_vela_put_them
    streams = ethos_u_operators(read_tflite(compilation.model))
    assert [job.command_stream_bytes for job in result.jobs] == [op.command_stream_bytes for op in streams]
    assert all(job.bases[1] == job.bases[2] for job in result.jobs)  # Shared_Sram: one scratch
    assert "not emulated" in NOT_EMULATED


def test_generate_writes_command_streams_and_the_driver_interface(
    fallback_model, compiled, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "project"
    code, stdout, _ = run_cli(
        monkeypatch, capsys, "generate", str(fallback_model), "-d", ALIF_E7, "-o", str(out), "--json"
    )
    summary = json.loads(stdout)
    assert code == 0 and summary["npu_segments"] == 2 and summary["npu"]["accelerator"] == "ethos-u55-256"
    network = (out / "network.c").read_text()
    assert network.count("md_ethosu_invoke(&job)") == 2 and "md_sum_int" in network
    assert "int md_ethosu_invoke(" in (out / "mdnn" / "Include" / "md_nn.h").read_text()
    # the project's README says what the user supplies for the NPU and what was checked
    readme = (out / "README.md").read_text()
    streams = ethos_u_operators(read_tflite(compiled(fallback_model, "ethos-u55-256").model))
    rows = [line.split(" | ") for line in readme.splitlines() if re.match(r"\| \d+ \| ", line)]
    assert [(row[1], row[-1]) for row in rows] == [(f"{op.command_stream_bytes} B", "5 |") for op in streams]
    for needed in ("md_ethosu_invoke()", "Ethos-U driver", "register base address", "net_weights", "net_arena"):
        assert needed in readme
    assert "QEMU" in readme and "not emulated" in readme


def concat_of_six() -> bytes:
    """Six int8 inputs concatenated on the NPU: one segment with ten base addresses and no weights."""
    b = GraphBuilder("concat_of_six")
    parts = [b.tensor((1, 4, 4, 8), "int8", scale=0.1, zero_point=0, name=f"part_{i}") for i in range(6)]
    whole = b.tensor((1, 4, 4, 48), "int8", scale=0.1, zero_point=0, name="whole")
    b.op("CONCATENATION", parts, [whole], ConcatenationOptions(axis=3))
    return write_tflite(b.build(parts, [whole]))


def test_a_segment_with_more_base_addresses_than_the_npu_registers_hands_them_all_over(tmp_path):
    """The NPU has eight base pointer registers and Vela's command stream uses only bases among them,
    so a segment with more inputs is generated with all of them in its job (the driver takes eight)."""
    from mcudeploy.npu.validate import validate_cpu_segments

    path = tmp_path / "concat_of_six.tflite"
    path.write_bytes(concat_of_six())
    compilation = compile_for_npu(path.read_bytes(), path.stem, npu_target(find_device(ALIF_E7), None, False))
    graph = load_model(path)
    rng = np.random.default_rng(2)
    inputs = [rng.integers(-128, 128, t.shape, dtype=np.int8) for t in graph.graph_inputs]
    result = validate_cpu_segments(graph, compilation.model, inputs, tmp_path / "host", "host")
    (job,) = result.jobs
    assert len(job.bases) == 10 and job.bases[0] == (0, 0)  # no weights: an empty read-only base
    assert sorted(c.tensor for c in result.handed_over) == [f"part_{i}" for i in range(6)]
    assert result.bit_exact and result.feature_maps_where_vela_put_them


def hand_over(model: str, accelerator: str, compiled, folder: Path, target: str):
    """The generated project of `model` compiled for `accelerator`, its CPU part run on `target`."""
    from mcudeploy.npu.validate import validate_cpu_segments

    graph = load_model(MODELS / model)
    compilation = compiled(MODELS / model, accelerator)
    rng = np.random.default_rng(0)
    inputs = [rng.integers(-128, 128, t.shape, dtype=np.int8) for t in graph.graph_inputs]
    return validate_cpu_segments(graph, compilation.model, inputs, folder, target)


@pytest.mark.parametrize("accelerator", ACCELERATORS)
@pytest.mark.parametrize("model", INT8_MODELS)
def test_every_int8_model_generates_and_hands_over_as_vela_planned_on_the_host(model, accelerator, compiled, tmp_path):
    """Vela puts every operator of these models on the NPU: the CPU's part is the hand-over of the
    model's inputs and outputs at the offsets Vela planned, checked on the host for each model."""
    result = hand_over(model, accelerator, compiled, tmp_path, "host")
    assert result.bit_exact and result.feature_maps_where_vela_put_them and len(result.jobs) == 1


@pytest.mark.parametrize(
    ("model", "accelerator"),
    [
        ("mlperf_tiny/kws_ref_model_int8.tflite", "ethos-u55-128"),
        ("mlperf_tiny/ic_resnet8_int8.tflite", "ethos-u55-256"),
        ("tflm/person_detect.tflite", "ethos-u55-128"),
    ],
)
def test_real_models_hand_over_as_vela_planned_on_qemu_m55(model, accelerator, compiled, tmp_path):
    result = hand_over(model, accelerator, compiled, tmp_path, "m55")
    assert result.bit_exact and result.feature_maps_where_vela_put_them and len(result.jobs) == 1


def test_estimate_cores_adds_the_m55_with_its_npu(monkeypatch, capsys):
    hello = MODELS / "tflm/hello_world_int8.tflite"
    code, out, _ = run_cli(monkeypatch, capsys, "estimate", str(hello), "--cores", "--json")
    report = json.loads(out)
    (row,) = report["with_npu"]
    m55 = next(item for item in report["cores"] if item["core"] == "cortex-m55")
    assert code == 0 and row["device"] == m55["device"] == "AE722F80F55D5"
    assert row["accelerator"] == "ethos-u55-256" and row["npu_clock_mhz"] == 400
    assert row["cpu_only_ms"] == pytest.approx(m55["total"]["ms"], abs=1e-4)
    assert row["cpu_ms"] == 0 and row["total_ms"] == row["npu_ms"] > 0


def test_validate_npu_reports_the_cpu_segments_and_says_npu_arithmetic_is_not_emulated(
    fallback_model, monkeypatch, capsys
):
    arguments = ("validate", str(fallback_model), "--npu", "ethos-u55-128", "--random", "1", "--json")
    code, out, _ = run_cli(monkeypatch, capsys, *arguments)
    report = json.loads(out)
    (item,) = report["inputs"]
    assert code == 0 and report["passed"] and "not emulated" in report["note"]
    assert item["handed_over"] == {"input": True, "mean": True} and item["npu_jobs"] == 2
