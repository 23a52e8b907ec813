"""mcudeploy doctor: each check on real models, with crafted firmware ELFs and device inputs."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from conftest import MODELS, run_cli
from mcudeploy.analysis.findings import Finding
from mcudeploy.devices import RegionKind, find_device
from mcudeploy.doctor import Context, placement
from mcudeploy.doctor.arena import check_arena
from mcudeploy.doctor.fpu import check_float_without_fpu
from mcudeploy.doctor.kernels import classify, register_symbol
from mcudeploy.doctor.layout import check_layout
from mcudeploy.doctor.placement import check_placement
from mcudeploy.doctor.preprocessing import check_preprocessing, check_validation_input
from mcudeploy.doctor.stack import check_stack
from mcudeploy.emulation import core_target, get_target
from mcudeploy.emulation.elf import ElfImage
from mcudeploy.estimate import estimate_model
from mcudeploy.estimate.stack import measure_stack, painted_run
from mcudeploy.importers import load_model
from mcudeploy.inputs import quantize
from mcudeploy.ir import GraphBuilder
from mcudeploy.memory.tflm_arena import KERNEL_SETS, tflm_arena
from single_op import constant

KWS = MODELS / "mlperf_tiny" / "kws_ref_model_int8.tflite"
VWW = MODELS / "mlperf_tiny" / "vww_96_int8.tflite"
KWS_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX", "RESHAPE")
REFERENCE_CONV = "_ZN6tflite21reference_integer_ops14ConvPerChannelERKNS_10ConvParamsEPKiS5_"
CMSIS_NN = ("arm_convolve_wrapper_s8", "arm_convolve_1x1_s8_fast", "arm_depthwise_conv_wrapper_s8",
            "arm_avgpool_s8", "arm_fully_connected_s8", "arm_softmax_s8")  # fmt: skip


def firmware(folder: Path, functions: list[str], data: str = "", link: tuple[str, ...] = ()) -> Path:
    """A tiny Cortex-M4 ELF defining `functions` (any symbol name, mangled C++ included) and the C `data`."""
    lines = [f'void f{i}(void) __asm__("{name}");\nvoid f{i}(void) {{}}' for i, name in enumerate(functions)]
    lines.append(data)
    lines.append("void _start(void) { for (;;) {} }")
    source = folder / "firmware.c"
    source.write_text("\n".join(lines))
    elf = folder / "firmware.elf"
    subprocess.run(
        ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-Os", "-nostdlib", "-o", str(elf), str(source),
         *(f"-Wl,{option}" for option in link)],
        check=True,
    )  # fmt: skip
    return elf


def context(model: Path, device: str, **given) -> Context:
    return Context(load_model(model), model, find_device(device), **given)


# ---------------------------------------------------------------- kernels in the firmware


def test_tflm_reference_build_is_recognised(tmp_path):
    elf = firmware(tmp_path, [register_symbol(op) for op in KWS_OPS] + [REFERENCE_CONV])
    build = classify(ElfImage(elf), load_model(KWS), "cortex-m4")
    assert build.runtime == "tflm"
    assert build.reference_ops == ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX")
    assert any(REFERENCE_CONV in line for line in build.evidence)
    assert any("_ZN6tflite16Register_CONV_2DEv" in line for line in build.evidence)


def test_tflm_cmsis_nn_build_is_clean(tmp_path):
    elf = firmware(tmp_path, [register_symbol(op) for op in KWS_OPS] + list(CMSIS_NN))
    build = classify(ElfImage(elf), load_model(KWS), "cortex-m4")
    assert build.runtime == "tflm" and build.reference_ops == ()


def test_partly_optimised_tflm_build_names_the_reference_operators(tmp_path):
    elf = firmware(tmp_path, [register_symbol(op) for op in KWS_OPS] + ["arm_convolve_wrapper_s8"])
    build = classify(ElfImage(elf), load_model(KWS), "cortex-m4")
    assert build.reference_ops == ("DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX")


def test_our_portable_build_on_a_dsp_core_costs_the_estimated_slowdown(tmp_path, monkeypatch, capsys):
    from mcudeploy.estimate import estimate_model
    from mcudeploy.estimate.measure import build_model
    from mcudeploy.memory import plan_memory

    model = MODELS / "tflm" / "hello_world_int8.tflite"
    graph = load_model(model)
    device = find_device("STM32F446RE")
    portable = build_model(graph, plan_memory(graph), True, core_target(device.core), tmp_path)
    assert classify(ElfImage(portable), graph, device.core).reference_ops == ("md_fully_connected.c",)
    code, out, _ = run_cli(monkeypatch, capsys, "doctor", str(model), "-d", device.name, "--elf", str(portable),
                           "--json")  # fmt: skip
    assert code == 1
    finding = next(f for f in json.loads(out)["findings"] if f["check"] == "reference-kernels")
    fast, slow = estimate_model(graph, device), estimate_model(graph, device, portable=True)
    assert f"{slow.milliseconds / fast.milliseconds:.1f}x slower" in finding["cost"]


def test_our_dsp_build_is_clean(tmp_path):
    from mcudeploy.estimate.measure import build_model
    from mcudeploy.memory import plan_memory

    graph = load_model(MODELS / "tflm" / "hello_world_int8.tflite")
    elf = build_model(graph, plan_memory(graph), False, get_target("m4"), tmp_path)
    build = classify(ElfImage(elf), graph, "cortex-m4")
    assert build.runtime == "mcudeploy" and build.reference_ops == ()


# ---------------------------------------------------------------- arena, float, layout


def test_declared_arena_below_tflms_smallest_arena_is_found_to_the_byte():
    """The figure is TFLM's whole arena (tests/test_tflm_arena.py checks it against TFLM on QEMU)."""
    need = max(tflm_arena(load_model(KWS), "cortex-m4", kernels).smallest_arena for kernels in KERNEL_SETS)
    short = check_arena(context(KWS, "STM32F446RE", arena_size=need - 16))
    assert short.findings and "short by 16 B" in short.findings[0].cost
    assert not check_arena(context(KWS, "STM32F446RE", arena_size=need)).findings


def test_arena_is_checked_for_the_kernels_the_firmware_links(tmp_path):
    graph = load_model(KWS)
    reference, cmsis = (tflm_arena(graph, "cortex-m4", kernels).smallest_arena for kernels in KERNEL_SETS)
    assert reference < cmsis  # CMSIS-NN's scratch
    elf = ElfImage(firmware(tmp_path, [register_symbol(op) for op in KWS_OPS] + [REFERENCE_CONV]))
    result = check_arena(context(KWS, "STM32F446RE", arena_size=reference, elf=elf))
    assert not result.findings and "links no CMSIS-NN kernel" in " ".join(result.notes)
    elf = ElfImage(firmware(tmp_path, [register_symbol(op) for op in KWS_OPS] + list(CMSIS_NN)))
    found = check_arena(context(KWS, "STM32F446RE", arena_size=reference, elf=elf)).findings
    assert found and f"short by {cmsis - reference} B" in found[0].cost and "cmsis-nn" in found[0].what


def test_short_arena_with_helium_fully_connected_may_hard_fault():
    ad01 = MODELS / "mlperf_tiny" / "ad01_int8.tflite"
    need = tflm_arena(load_model(ad01), "cortex-m55", "cmsis-nn").smallest_arena
    found = check_arena(context(ad01, "AE722F80F55D5", arena_size=need - 16)).findings
    assert found and "cmsis-nn" in found[0].what and "may hard-fault" in found[0].cost


def test_float_operators_on_a_part_without_fpu():
    """The cost is measured: the float model built with the software float library and counted on the M3's
    QEMU, against the same model quantized to int8 and estimated the same way."""
    model = MODELS / "tflm" / "hello_world_float.tflite"
    result = check_float_without_fpu(context(model, "STM32F103C8"))
    found = result.findings
    assert found and found[0].what.startswith("3 of 3 operators")
    float_run = estimate_model(load_model(model), "STM32F103C8", stack_bytes=8192)
    assert f"measured {float_run.milliseconds:.3f} ms per inference" in found[0].cost
    factor = float(re.search(r"([0-9.]+)x slower", found[0].cost).group(1))
    cycles = re.search(r"factor: (\d+) cycles .* against (\d+)", result.notes[0])
    assert int(cycles.group(1)) == round(float_run.inference.total)
    assert factor == pytest.approx(int(cycles.group(1)) / int(cycles.group(2)), abs=0.051) and factor > 1
    assert any("software float library" in note for note in float_run.notes)
    assert not check_float_without_fpu(context(model, "STM32F446RE")).findings
    assert not check_float_without_fpu(context(KWS, "STM32F103C8")).findings


def test_nchw_input_and_layout_transposes_are_found():
    b = GraphBuilder("nchw")
    x = b.tensor((1, 3, 32, 32), "int8")
    y = b.tensor((1, 32, 32, 3), "int8")
    b.op("TRANSPOSE", [x, constant(b, (0, 2, 3, 1))], [y])
    graph = b.build([x], [y])
    result = check_layout(Context(graph, Path("nchw.tflite"), find_device("STM32F446RE")))
    assert result.findings and "3072 B copied by TRANSPOSE" in result.findings[0].cost
    assert not check_layout(context(VWW, "STM32F446RE")).findings


# ---------------------------------------------------------------- device input against sample and validation


def _kws_sample(tmp_path: Path) -> tuple[np.ndarray, Path]:
    tensor = load_model(KWS).graph_inputs[0]
    sample = np.random.default_rng(0).uniform(0.0, 1.0, tensor.shape).astype(np.float32)
    np.save(tmp_path / "sample.npy", sample)
    return sample, tmp_path / "sample.npy"


def _raw(tmp_path: Path, values: np.ndarray, name: str = "mcu.bin") -> Path:
    (tmp_path / name).write_bytes(np.ascontiguousarray(values).astype(np.int8).tobytes())
    return tmp_path / name


def test_correctly_quantized_device_input_is_clean(tmp_path):
    sample, path = _kws_sample(tmp_path)
    tensor = load_model(KWS).graph_inputs[0]
    raw = _raw(tmp_path, quantize(sample, tensor))
    assert not check_preprocessing(context(KWS, "STM32F446RE", mcu_input=raw, sample=path)).findings


@pytest.mark.parametrize(
    ("mistake", "named"),
    [
        (lambda x, t: quantize(x * 255.0, t), "[0,255] fed where the model takes [0,1]"),
        (lambda x, t: np.clip(np.floor(x / t.quantization.single_scale + 0.5), -128, 127), "zero point"),
    ],
)
def test_preprocessing_mistake_is_named(tmp_path, mistake, named):
    sample, path = _kws_sample(tmp_path)
    tensor = load_model(KWS).graph_inputs[0]
    raw = _raw(tmp_path, mistake(sample.astype(np.float64), tensor))
    found = check_preprocessing(context(KWS, "STM32F446RE", mcu_input=raw, sample=path)).findings
    assert found and named in found[0].what


def test_bgr_device_input_is_named(tmp_path):
    tensor = load_model(VWW).graph_inputs[0]
    sample = np.random.default_rng(1).uniform(-1.0, 1.0, tensor.shape).astype(np.float32)
    np.save(tmp_path / "sample.npy", sample)
    raw = _raw(tmp_path, quantize(sample[..., ::-1], tensor))
    found = check_preprocessing(context(VWW, "STM32F446RE", mcu_input=raw, sample=tmp_path / "sample.npy")).findings
    assert found and "BGR" in found[0].what


def test_first_differing_element_is_named(tmp_path):
    sample, path = _kws_sample(tmp_path)
    tensor = load_model(KWS).graph_inputs[0]
    values = quantize(sample, tensor).copy()
    values[0, 7, 3, 0] += 5  # one element off by 5 LSB: no usual mistake explains it
    raw = _raw(tmp_path, values)
    found = check_preprocessing(context(KWS, "STM32F446RE", mcu_input=raw, sample=path)).findings
    assert found[0].what == "the device's input differs from the sample's quantized values"
    assert "1 of 490 elements differ; first at [0, 7, 3, 0] (flat 73)" in found[0].evidence[0]
    assert found[0].cost.startswith("up to 5 LSB off")


def test_validation_input_the_device_does_not_feed(tmp_path):
    tensor = load_model(KWS).graph_inputs[0]
    values = np.random.default_rng(2).integers(-128, 127, tensor.shape, dtype=np.int8)
    np.save(tmp_path / "validation.npy", values)
    same = check_validation_input(
        context(KWS, "STM32F446RE", mcu_input=_raw(tmp_path, values), validation=tmp_path / "validation.npy")
    )
    assert not same.findings
    changed = values.copy()
    changed.flat[100] ^= 1
    differs = check_validation_input(
        context(KWS, "STM32F446RE", mcu_input=_raw(tmp_path, changed, "b.bin"), validation=tmp_path / "validation.npy")
    )
    assert differs.findings and "first at [0, 10, 0, 0] (flat 100)" in differs.findings[0].evidence[1]


# ---------------------------------------------------------------- memory placement and stack


@pytest.fixture
def unpriced_placement(monkeypatch):
    """The placement findings without their cost run (test_placement_cost_is_the_estimates_cache_model has it)."""
    monkeypatch.setattr(placement, "placement_cost", lambda context, kind: f"cost of {kind.value}")


def test_placement_cost_is_the_estimates_cache_model():
    graph_context = context(MODELS / "tflm" / "hello_world_int8.tflite", "DISCO-F746NG")
    cost = placement.placement_cost(graph_context, RegionKind.SRAM)
    run = estimate_model(graph_context.graph, graph_context.device, stack_bytes=8192, placements=True)
    sram, dtcm = (next(p for p in run.placements if p.kind == kind) for kind in ("sram", "dtcm"))
    assert f"first inference {sram.cold_ms:.3f} ms, steady state {sram.steady_ms:.3f} ms" in cost
    assert f"in DTCM {dtcm.cold_ms:.3f} ms / {dtcm.steady_ms:.3f} ms" in cost
    assert placement.placement_cost(context(KWS, "STM32U575ZI"), RegionKind.SRAM) == placement.UNMEASURED


def test_arena_too_big_for_dtcm_on_m7_goes_to_cacheable_sram(unpriced_placement):
    found = check_placement(context(VWW, "STM32F746NG")).findings
    assert found and "larger than DTCM (65536 B)" in found[0].what
    assert not check_placement(context(KWS, "STM32F746NG")).findings


@pytest.mark.parametrize(
    ("address", "found"), [(0x20000000, None), (0x20010000, "cacheable SRAM1"), (0xC0000000, "external memory")]
)
def test_firmware_arena_region_is_read_from_the_elf(tmp_path, address, found, unpriced_placement):
    elf = firmware(tmp_path, [], "unsigned char tensor_arena[4096];", (f"--section-start=.bss={address:#x}",))
    result = check_placement(context(KWS, "DISCO-F746NG", elf=ElfImage(elf)))
    if found is None:
        assert not result.findings
    else:
        assert found in result.findings[0].what
        assert f"tensor_arena at 0x{address:08x}, 4096 B" in result.findings[0].evidence[0]


def test_firmware_stack_smaller_than_the_need(tmp_path):
    elf = firmware(tmp_path, [], "", ("--defsym=_Min_Stack_Size=0x400",))
    found = check_stack(context(KWS, "STM32F446RE", elf=ElfImage(elf), stack_bytes=2048)).findings
    assert found and "reserves a 1024 B stack, less than the 2048 B" in found[0].what


def test_stack_that_does_not_fit_beside_the_arena():
    found = check_stack(context(KWS, "STM32G071RB", arena_size=30 * 1024, stack_bytes=8192)).findings
    assert found and "no room for a 8192 B stack" in found[0].what


def test_measured_stack_is_what_a_hardware_stack_limit_lets_run(tmp_path):
    """Cortex-M33's MSPLIM faults on any push below the limit: the measured figure (rounded up to the
    8 bytes MSPLIM counts in) runs, 8 bytes less faults."""
    graph = load_model(MODELS / "tflm" / "hello_world_int8.tflite")
    device = find_device("STM32U575ZI")
    used = measure_stack(graph, device, tmp_path)
    assert 0 < used < 8192 and used % 4 == 0
    limit = -(-used // 8) * 8
    assert painted_run(graph, device, tmp_path / "enough", limit) == (0, used)
    exit_code, _ = painted_run(graph, device, tmp_path / "short", limit - 8)
    assert exit_code != 0


# ---------------------------------------------------------------- the command


def test_doctor_exit_codes_and_json(monkeypatch, capsys, tmp_path):
    code, out, _ = run_cli(monkeypatch, capsys, "doctor", str(KWS), "-d", "STM32F446RE")
    assert code == 0 and "no findings" in out
    assert "B measured (stack painting on QEMU" in out and "for mcudeploy's generated code" in out
    code, out, _ = run_cli(monkeypatch, capsys, "doctor", str(KWS), "-d", "STM32F446RE", "--arena-size", "100",
                           "--stack", "1024", "--json")  # fmt: skip
    report = json.loads(out)
    assert code == 1 and [f["check"] for f in report["findings"]] == ["arena-overflow"]
    assert set(report["findings"][0]) == {f.name for f in fields(Finding)}  # the record inspect prints too
    code, _, err = run_cli(monkeypatch, capsys, "doctor", str(KWS), "--sample", str(tmp_path / "s.npy"))
    assert code == 2 and err.startswith("mcudeploy: error: --sample:")
    code, _, err = run_cli(monkeypatch, capsys, "doctor", str(KWS), "--elf", str(tmp_path / "missing.elf"))
    assert code == 2 and "missing.elf" in err
