"""int4 (packed) filters of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED end to end, against
TFLite Micro's Python interpreter (the tflite-micro wheel runs int4 models: its kernels unpack the
filter into an arena scratch buffer, then run the int8 kernel): values, arena, file round trip,
refusals."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from int4_models import Int4Builder, chain, wide_fully_connected
from mcudeploy.codegen.library import library_root
from mcudeploy.emulation.harness import generate_project
from mcudeploy.emulation.targets import get_target
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import DType, GraphBuilder, KernelVariant, WeightLayout, pack_int4, unpack_int4
from mcudeploy.kernels import kernel_contract
from mcudeploy.kernels.contracts import int4_unpacked_bytes, wide_im2col_bytes
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import constant_layout
from mcudeploy.memory.planners.tflm import live_tflm_heads
from mcudeploy.memory.tflm_arena import HOST64, tflm_arena
from mcudeploy.params.conv import prepare as prepare_window
from mcudeploy.params.fully_connected import prepare as prepare_fully_connected
from mcudeploy.params.record import struct_fields
from mcudeploy.params.window import window_of
from single_op import assert_matches_tflm
from test_codegen import assert_matches_engine, build

pytest.importorskip("tflite_micro")

WHEEL_ARENA_TOTAL = 5088
"""RecordingMicroAllocator's "Arena allocation total" of the tflite-micro wheel on `chain()`."""


def test_packing_is_tflites():
    """UnpackDenseInt4IntoInt8: element 2i in the low nibble, sign-extended; an odd count's last
    byte holds one value in its low nibble."""
    values = np.array([-8, 7, -1, 3, 5], dtype=np.int8)
    assert pack_int4(values).view(np.uint8).tolist() == [0x78, 0x3F, 0x05]
    assert unpack_int4(np.array([0x78, 0x3F, 0xF5], dtype=np.uint8), 5).tolist() == values.tolist()


@pytest.mark.parametrize("seed", [0, 1])
def test_chain_matches_tflite_micro(seed: int):
    assert_matches_tflm(chain(seed), seed=seed)
    assert_matches_tflm(wide_fully_connected(seed), seed=seed)


@pytest.mark.parametrize("per_channel", [True, False])
def test_each_operator_matches_tflite_micro(per_channel: bool):
    for graph in (
        Int4Builder("conv", (2, 5, 4, 3)).conv(3, kernel=2, per_channel=per_channel).build(),
        Int4Builder("depthwise", (1, 5, 6, 3)).depthwise(1, per_channel=per_channel).build(),
        Int4Builder("fc", (3, 9)).fully_connected(5).build(),
    ):
        assert_matches_tflm(graph)


def test_file_round_trips_packed():
    original = chain()
    graph = read_tflite(write_tflite(original))
    for ours, theirs in zip(original.tensors, graph.tensors, strict=True):
        assert ours.dtype == theirs.dtype and ours.quantization == theirs.quantization
        assert np.array_equal(ours.data, theirs.data) if ours.is_constant else not theirs.is_constant
    filters = [t for t in graph.tensors if t.dtype == "int4"]
    assert [t.nbytes for t in filters] == [(t.size + 1) // 2 for t in filters] and filters[0].size % 2


def test_tflm_arena_counts_the_unpack_scratch(tmp_path: Path):
    """The planned head and the whole arena equal the wheel's (each int4 layer requests its filter's
    element count, as int8, in Prepare)."""
    path = tmp_path / "chain.tflite"
    path.write_bytes(write_tflite(chain()))
    graph = read_tflite(path)
    plan = plan_memory(graph, "tflm")
    assert plan.arena_bytes == live_tflm_heads([path])[0]
    scratch = sorted(b.size for b in plan.buffers if "scratch" in b.name)
    assert scratch == sorted(-(-t.size // 16) * 16 for t in graph.tensors if t.dtype == "int4")  # 16-aligned
    wheel = tflm_arena(graph, "m4", "reference", HOST64, python_interpreter=True).used_bytes
    assert wheel == WHEEL_ARENA_TOTAL


def _refused(tmp_path: Path, monkeypatch, capsys, graph) -> str:
    path = tmp_path / "bad.tflite"
    path.write_bytes(write_tflite(graph))
    code, out, err = run_cli(monkeypatch, capsys, "inspect", str(path))
    assert (code, out, err.count("\n")) == (2, "", 1), err
    assert err.startswith(f"mcudeploy: error: {path}: ")
    return err


def _fc(activations: str, per_channel: bool = False, filter_type: str = "int4"):
    b = GraphBuilder("fc")
    x = b.tensor((1, 4), activations, scale=0.5)
    scale = ([0.1, 0.2], 0) if per_channel else (0.1, None)
    w = b.tensor((2, 4), filter_type, data=np.ones((2, 4)), scale=scale[0], axis=scale[1])
    y = b.tensor((1, 2), activations, scale=0.5)
    b.op("FULLY_CONNECTED", [x, w], [y])
    return b


def test_int4_where_tflite_micro_refuses_it_is_one_line(tmp_path: Path, monkeypatch, capsys):
    err = _refused(tmp_path, monkeypatch, capsys, _fc("int16").build([0], [2]))
    assert "int4 is read by TFLite Micro only as the filter of an int8" in err
    err = _refused(tmp_path, monkeypatch, capsys, _fc("int8", per_channel=True).build([0], [2]))
    assert "per-channel int4 weights" in err
    b = GraphBuilder("relu")
    x, y = b.tensor((1, 4), "int4", scale=0.5), b.tensor((1, 4), "int4", scale=0.5)
    b.op("RELU", [x], [y])
    assert "int4 activations" in _refused(tmp_path, monkeypatch, capsys, b.build([x], [y]))
    b = GraphBuilder("add")
    x, y = b.tensor((1, 4), "int8", scale=0.5), b.tensor((1, 4), "int8", scale=0.5)
    c = b.tensor((1, 4), "int4", data=np.ones((1, 4)), scale=0.5)
    b.op("ADD", [x, c], [y])
    assert "only as the filter" in _refused(tmp_path, monkeypatch, capsys, b.build([x], [y]))


_SIZES_PROGRAM = r"""
#include <stdio.h>

#include "md_nn.h"

int main(void)
{
%s
    return 0;
}
"""


def _struct(record) -> str:
    fields = struct_fields(record)
    return ", ".join(f".{name} = {value}" for name, value in fields.items() if value is not None)


def test_contract_scratch_is_the_c_librarys(tmp_path: Path):
    """Each int4 layer's planned scratch equals its md_*_s4_get_buffer_size in md_nn.h, for the path the
    generator passes (im2col columns or direct, channel planes or streaming)."""
    windows = Int4Builder("windows", (2, 7, 6, 5)).conv(6).conv(3, kernel=1).depthwise().fully_connected(9).build()
    lines, expected = [], []
    for graph, op in [(g, op) for g in (windows, wide_fully_connected()) for op in g.operators]:
        contract = kernel_contract(graph, op)
        if op.op_type == "FULLY_CONNECTED":
            call = "md_fully_connected_s4_get_buffer_size(&p)"
            struct = "md_fully_connected_params"
            record = prepare_fully_connected(op, graph)
        else:
            unpacked = int4_unpacked_bytes(graph.tensors[op.inputs[1]].size)
            kind = "conv" if op.op_type == "CONV_2D" else "depthwise"
            call = f"md_{kind}_s4_get_buffer_size(&p, {int(contract.scratch_bytes > unpacked)})"
            struct, record = "md_window_params", prepare_window(op, graph)
        lines.append(f'    {{ const {struct} p = {{{_struct(record)}}}; printf("%d\\n", (int){call}); }}')
        expected.append(contract.scratch_bytes)
    source = tmp_path / "sizes.c"
    source.write_text(_SIZES_PROGRAM % "\n".join(lines))
    program = tmp_path / "sizes"
    include = library_root() / "Include"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Werror", f"-I{include}", str(source), "-o", str(program)], check=True)
    printed = subprocess.run([str(program)], capture_output=True, text=True, check=True).stdout.split()
    assert [int(v) for v in printed] == expected


@pytest.mark.parametrize("target", ["host-sanitized", "m4", "m55"])
def test_generated_code_is_bit_exact(target: str, tmp_path: Path):
    """Packed filters in flash, unpacked by md_*_s4 into the planned scratch, the int8 kernels' paths
    of each core (portable, DSP, Helium); the multi-block, multi-batch FULLY_CONNECTED on the host; the
    int16 weights of --optimize speed on the M4; TFLite Micro's plan on the M55."""
    graphs = [chain()] + ([wide_fully_connected()] if target == "host-sanitized" else [])
    planners = ["mcudeploy"] * 3
    if target == "m55":  # TFLM's plan reserves the unpacked filter only: the direct paths run
        graphs.append(chain())
        planners[len(graphs) - 1] = "tflm"
    if target == "m4":  # --optimize speed's int16 weights: the int4 filter widened at generation, no unpacking
        widened = chain()
        for op in (op for op in widened.operators if op.op_type == "CONV_2D"):
            op.variant = KernelVariant(weights=WeightLayout.INT16_PAIRS)
            depth, filters = widened.tensors[op.inputs[0]].shape[3], widened.tensors[op.outputs[0]].shape[3]
            window = window_of(op, widened)
            assert kernel_contract(widened, op).scratch_bytes == wide_im2col_bytes(window, depth, filters)
        graphs.append(widened)
    for number, graph in enumerate(graphs):
        program = build(graph, tmp_path / str(number), planner=planners[number], target_name=target)
        assert_matches_engine(program, random_inputs(graph, 1))


def test_flash_holds_packed_filters_and_the_arena_is_below_tflite_micros(tmp_path: Path):
    """The weights block stores each int4 filter in (count + 1) // 2 bytes (the C compiler checks the
    struct against this layout); our arena stays below TFLM's head, whose scratch holds whole filters."""
    graph = chain()
    layout = constant_layout(graph)
    filters = [a for a in layout.arrays if a.dtype == DType.INT4]
    assert [a.nbytes for a in filters] == [(a.count + 1) // 2 for a in filters] == [68, 45, 150, 1260]
    generate_project(graph, plan_memory(graph), get_target("host"), tmp_path)
    header = (tmp_path / "network_data.h").read_text()
    assert all(f"[{a.nbytes}]" in header for a in filters)
    path = tmp_path / "chain.tflite"
    path.write_bytes(write_tflite(graph))
    assert plan_memory(graph).arena_bytes == 1824 < live_tflm_heads([path])[0] == 2912


def test_ops_lists_int4_filters_for_the_three_operators(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "ops", "--json")
    with_int4 = {entry["op"] for entry in json.loads(out) if entry["filter_types"] == ["int4"]}
    assert code == 0 and with_int4 == {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}
    code, out, _ = run_cli(monkeypatch, capsys, "ops")
    assert code == 0 and out.count("int4 filters") == 3


@pytest.mark.parametrize(("core", "depthwise_scratch"), [("m3", 2 * 5 * 9), ("m4", 2 * 5 * 9), ("m55", 4 * 124 * 9)])
def test_cmsis_nn_arena_reads_int4_packed(core: str, depthwise_scratch: int):
    """TFLM's CMSIS-NN kernels run int4 filters packed (from TFLM's and CMSIS-NN's sources, not measured
    here): a convolution requests its int8 buffer, a depthwise one arm_depthwise_conv_wrapper_s4's (the
    optimised kernel's, 3x3 and cores without DSP included), FULLY_CONNECTED none."""
    graph = Int4Builder("cmsis", (1, 6, 6, 5)).depthwise().fully_connected(9).build()
    arena = tflm_arena(graph, core, "cmsis-nn")
    assert sorted(b.size for b in arena.plan.buffers if "scratch" in b.name) == [-(-depthwise_scratch // 16) * 16]
