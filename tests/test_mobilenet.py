"""MobileNetV2 0.35 at 96x96 (mcudeploy.examples.mobilenet) layer for layer against Keras' MobileNetV2, and
the seed's table (`estimate --seed-table`) around it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import MODELS, run_cli
from mcudeploy.analysis.costs import layer_params, total_macs
from mcudeploy.examples.mobilenet import INPUT_SHAPE, build_image_input, build_mobilenet_v2, make_divisible
from mcudeploy.importers.tflite import read_tflite, write_tflite
from mcudeploy.npu.seed_table import SEED_ROWS, seed_table

LAYERS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@pytest.fixture(scope="module")
def graph():
    return build_mobilenet_v2()


@pytest.fixture(scope="module")
def keras_layers() -> tuple[list[tuple], int, int]:
    """Keras' MobileNetV2(alpha=0.35, input 96x96, weights=None): per conv/dense layer (kind, kernel
    shape, stride, output shape); the number of residual ADDs; the parameters with each batch
    normalisation folded into one bias per channel (as a converted model holds them)."""
    import keras  # tensorflow is in the dev extra; ~6 s to import and build here

    model = keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights=None)
    layers, adds, folded = [], 0, model.count_params()
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ("Conv2D", "DepthwiseConv2D", "Dense"):
            stride = layer.strides[0] if kind != "Dense" else 1
            layers.append((kind, tuple(layer.kernel.shape), stride, tuple(layer.output.shape[1:])))
        elif kind == "Add":
            adds += 1
        elif kind == "BatchNormalization":
            folded -= 3 * layer.gamma.shape[0]  # gamma, beta, mean, variance → one bias
    return layers, adds, folded


def ours(graph) -> list[tuple]:
    """Our conv/dense layers in Keras' terms: kernel [kh, kw, in, out] ([kh, kw, c, 1] depthwise)."""
    rows = []
    for op in graph.operators:
        if op.op_type not in LAYERS:
            continue
        weights = graph.tensors[op.inputs[1]].shape
        out = graph.tensors[op.outputs[0]].shape[1:]
        if op.op_type == "CONV_2D":
            rows.append(("Conv2D", (weights[1], weights[2], weights[3], weights[0]), op.options.stride_h, out))
        elif op.op_type == "DEPTHWISE_CONV_2D":
            rows.append(("DepthwiseConv2D", (weights[1], weights[2], weights[3], 1), op.options.stride_h, out))
        else:
            rows.append(("Dense", (weights[1], weights[0]), 1, out))
    return rows


def test_layer_for_layer_as_keras(graph, keras_layers) -> None:
    layers, adds, folded = keras_layers
    assert ours(graph) == layers
    assert len(layers) == 53 and sum(op.op_type == "ADD" for op in graph.operators) == adds == 10
    params = sum(layer_params(graph, op) for op in graph.operators if op.op_type in LAYERS)
    assert params == folded == 1_670_088  # Keras: 1,691,208 with 4 parameters per BN channel
    keras_macs = sum(
        math.prod(out) * (math.prod(kernel[:3]) if kind != "DepthwiseConv2D" else math.prod(kernel[:2]))
        if kind != "Dense"
        else math.prod(kernel)
        for kind, kernel, _, out in layers
    )
    assert total_macs(graph) == keras_macs == 11_934_128


def test_channel_widths_are_keras_rounding_of_alpha_0_35(graph) -> None:
    projections = [
        graph.tensors[op.outputs[0]].shape[3]
        for op in graph.operators
        if op.op_type == "CONV_2D" and op.options.activation.name == "NONE"
    ]
    assert make_divisible(32 * 0.35) == 16
    assert sorted(set(projections)) == [8, 16, 24, 32, 56, 112]
    assert projections == [8, 8, 8, 16, 16, 16, 24, 24, 24, 24, 32, 32, 32, 56, 56, 56, 112]
    strides = [op.options.stride_h for op in graph.operators if op.op_type in LAYERS[:2] and op.options.stride_h > 1]
    assert len(strides) == 5  # 96 → 48 → 24 → 12 → 6 → 3
    assert graph.graph_inputs[0].shape == INPUT_SHAPE and graph.graph_outputs[0].shape == (1, 1000)


def test_the_model_is_seeded_and_reads_back_as_built(graph) -> None:
    data = write_tflite(graph)
    assert write_tflite(build_mobilenet_v2()) == data != write_tflite(build_mobilenet_v2(seed=1))
    read_back = read_tflite(data)
    read_back.name = graph.name
    assert write_tflite(read_back) == data
    image = build_image_input(3)
    assert image.dtype == np.int8 and image.shape == INPUT_SHAPE and np.array_equal(image, build_image_input(3))


def test_the_seed_rows_are_priced_at_the_seeds_clocks(tmp_path) -> None:
    """The rows on a small model (the table's arithmetic, not MobileNetV2's minutes of QEMU)."""
    from mcudeploy.importers import load_model

    path = MODELS / "tflm/hello_world_int8.tflite"
    rows = seed_table(load_model(path), path)
    assert [(r["part"], r["clock_mhz"], r["npu_clock_mhz"], r["seed_ms"]) for r in rows] == [
        (row.part, row.clock_mhz, row.npu_clock_mhz, row.seed_ms) for row in SEED_ROWS
    ]
    assert [r["core"] for r in rows] == ["cortex-m4", "cortex-m7", "cortex-m55", "cortex-m55"]
    assert [r["seed_ms"] for r in rows] == [500, 200, 50, 5]
    npu, m55 = rows[3], rows[2]
    assert npu["npu"] == "ethos-u55-256" and 0 < npu["ms"] < m55["ms"]
    assert all(r["ms"] > 0 and r["macs"] == rows[0]["macs"] for r in rows)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((), "MODEL: missing: give a model file (only --seed-table builds its own)"),
        (("--seed-table", "--cores"), "--seed-table: its rows fix the parts, clocks and NPU"),
        (("--seed-table", "--no-npu"), "--seed-table: its rows fix the parts, clocks and NPU"),
        (
            ("--seed-table", str(MODELS / "tflm/hello_world_int8.tflite")),
            "the seed's table is for MobileNetV2 0.35 with one int8 1x96x96x3 input: this model's is int8 1x1",
        ),
    ],
)
def test_seed_table_refusals_exit_2(arguments, message, monkeypatch, capsys) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "estimate", *arguments)
    assert code == 2 and message in err and out == "" and len(err.strip().splitlines()) == 1


def test_example_writes_mobilenet_v2(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(monkeypatch, capsys, "example", "mobilenet-v2")
    assert code == 0 and "mobilenet_v2_0.35_96.tflite" in out
    assert (tmp_path / "mobilenet_v2_0.35_96.tflite").read_bytes() == write_tflite(build_mobilenet_v2())
    assert np.array_equal(np.load(tmp_path / "mobilenet_v2_0.35_96_input.npy"), build_image_input(0))
