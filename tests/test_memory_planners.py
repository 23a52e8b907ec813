"""The two arena planners: `tflm` equals TFLite Micro's live head byte for byte, ours beats it
(and ST Edge AI's figures), and every plan of both passes the plan checker on every int8 model."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from conftest import INT8_MODELS, MODELS
from mcudeploy.errors import McuDeployError
from mcudeploy.examples.kws import KWS_CNNS, build_kws_cnn
from mcudeploy.examples.lstm import build_unrolled_lstm
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import Columns, Graph, GraphBuilder, KernelVariant, Padding
from mcudeploy.ir.options import (
    ConcatenationOptions,
    Conv2DOptions,
    ElementwiseOptions,
    Pool2DOptions,
    ReducerOptions,
    ReshapeOptions,
)
from mcudeploy.kernels import kernel_contract
from mcudeploy.memory import MemoryPlan, plan_memory
from mcudeploy.memory.checker import check_plan
from mcudeploy.memory.planners.tflm import live_tflm_heads

TFLM_HEADS = {  # shared/models/README.md, plus the two models it does not list (measured the same way)
    "mlperf_tiny/kws_ref_model_int8.tflite": 16_000,
    "mlperf_tiny/vww_96_int8.tflite": 73_728,
    "mlperf_tiny/ic_resnet8_int8.tflite": 49_152,
    "mlperf_tiny/ad01_int8.tflite": 768,
    "mlperf_tiny/str_ww_ref_model.tflite": 6_656,
    "tflm/person_detect.tflite": 55_296,
    "tflm/micro_speech_quantized.tflite": 5_968,
    "tflm/hello_world_int8.tflite": 32,
    "tflm/simple_add_model.tflite": 49_152,
}
ST_EDGE_AI = {  # activations reported by ST Edge AI (issue 3)
    "mlperf_tiny/kws_ref_model_int8.tflite": 18_252,
    "mlperf_tiny/ic_resnet8_int8.tflite": 43_428,
    "mlperf_tiny/ad01_int8.tflite": 2_048,
    "tflm/person_detect.tflite": 41_155,
}
QUARTER_BELOW_TFLM = [
    "tflm/person_detect.tflite",
    "mlperf_tiny/vww_96_int8.tflite",
    "mlperf_tiny/kws_ref_model_int8.tflite",
    "mlperf_tiny/ic_resnet8_int8.tflite",
]
REACHED = {  # our arena today, each equal to its lower bound: a regression guard
    "mlperf_tiny/kws_ref_model_int8.tflite": 8_256,
    "mlperf_tiny/vww_96_int8.tflite": 36_896,
    "mlperf_tiny/ic_resnet8_int8.tflite": 33_872,
    "mlperf_tiny/ad01_int8.tflite": 768,
    "mlperf_tiny/str_ww_ref_model.tflite": 3_744,
    "tflm/person_detect.tflite": 36_896,
    "tflm/micro_speech_quantized.tflite": 4_176,
    "tflm/hello_world_int8.tflite": 32,
    "tflm/simple_add_model.tflite": 32_768,
}
ONLY_FULLY_CONNECTED = ["mlperf_tiny/ad01_int8.tflite", "tflm/hello_world_int8.tflite"]
"""Models where no kernel may share bytes: TFLM's plan is already optimal, ours equals it."""


@pytest.fixture(scope="module")
def live_heads() -> dict[str, int]:
    return dict(zip(INT8_MODELS, live_tflm_heads([MODELS / m for m in INT8_MODELS]), strict=True))


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    return {model: read_tflite(MODELS / model) for model in INT8_MODELS}


@pytest.fixture(scope="module")
def ours(graphs) -> dict[str, MemoryPlan]:
    return {model: plan_memory(graph) for model, graph in graphs.items()}


# ------------------------------------------------------------------ tflm


@pytest.mark.parametrize("model", INT8_MODELS)
def test_tflm_planner_equals_live_tflite_micro_head(model: str, graphs, live_heads) -> None:
    assert plan_memory(graphs[model], "tflm").arena_bytes == live_heads[model] == TFLM_HEADS[model]


def random_graph(seed: int) -> Graph:
    """Int8 graphs of branches, joins, scratch-requesting MEANs, equal sizes (ties) and a tensor
    nothing touches: the corners of TFLM's allocator and greedy planner."""
    rng = random.Random(seed)
    builder = GraphBuilder(f"random_{seed}")

    def activation(width: int) -> int:
        return builder.tensor((1, width), "int8", scale=0.1, zero_point=0)

    widths = [7, 16, 32, 48, 64, 100]
    live = [activation(rng.choice(widths)) for _ in range(rng.randint(1, 2))]
    inputs = list(live)
    for _ in range(rng.randint(3, 9)):
        x = rng.choice(live)
        width = builder.tensors[x].shape[1]
        kind = rng.choice(["ADD", "ADD", "CONCATENATION", "MEAN", "RELU"])
        if kind == "ADD":
            other = rng.choice([t for t in live if builder.tensors[t].shape == builder.tensors[x].shape])
            y = activation(width)
            builder.op("ADD", [x, other], [y], ElementwiseOptions())
        elif kind == "CONCATENATION":
            other = rng.choice(live)
            y = activation(width + builder.tensors[other].shape[1])
            builder.op("CONCATENATION", [x, other], [y], ConcatenationOptions(axis=1))
        elif kind == "MEAN":
            axis = builder.tensor((1,), "int32", data=np.array([1], dtype=np.int32))
            y = activation(1)
            builder.op("MEAN", [x, axis], [y], ReducerOptions(keep_dims=True))
        else:
            y = activation(width)
            builder.op("RELU", [x], [y])
        live.append(y)
        if rng.random() < 0.3 and len(live) > 2:
            live.pop(0)
    activation(rng.choice(widths))
    return builder.build(inputs=inputs, outputs=[live[-1]])


def test_tflm_planner_equals_live_head_on_random_graphs(tmp_path: Path) -> None:
    graphs = [random_graph(seed) for seed in range(30)]
    paths = []
    for graph in graphs:
        path = tmp_path / f"{graph.name}.tflite"
        path.write_bytes(write_tflite(graph))
        paths.append(path)
    ours = [plan_memory(read_tflite(path), "tflm").arena_bytes for path in paths]
    assert ours == live_tflm_heads(paths)


# ------------------------------------------------------------------ ours


@pytest.mark.parametrize("model", INT8_MODELS)
def test_our_planner_below_tflite_micro(model: str, ours) -> None:
    plan = ours[model]
    assert plan.arena_bytes == plan.lower_bound == REACHED[model]  # no plan under our contracts does better
    if model in ONLY_FULLY_CONNECTED:
        assert plan.arena_bytes == plan.lower_bound == TFLM_HEADS[model]
    else:
        assert plan.arena_bytes < TFLM_HEADS[model]


@pytest.mark.parametrize("model", sorted(ST_EDGE_AI))
def test_our_planner_below_st_edge_ai(model: str, ours) -> None:
    assert ours[model].arena_bytes < ST_EDGE_AI[model]


@pytest.mark.parametrize("model", QUARTER_BELOW_TFLM)
def test_our_planner_a_quarter_below_tflite_micro(model: str, ours) -> None:
    assert ours[model].arena_bytes <= 0.75 * TFLM_HEADS[model]


@pytest.mark.parametrize("model", ["mlperf_tiny/vww_96_int8.tflite", "tflm/person_detect.tflite"])
def test_our_planner_is_deterministic(model: str, graphs, ours) -> None:
    """(Its speed is a figure bench/memory_planners.py prints, not a test's business.)"""
    again = plan_memory(graphs[model])
    assert again.buffers == ours[model].buffers


def test_our_planner_on_random_graphs() -> None:
    for seed in range(30):
        graph = random_graph(seed)
        plan = plan_memory(graph)
        assert plan.lower_bound <= plan.arena_bytes <= plan_memory(graph, "tflm").arena_bytes
        assert check_plan(graph, plan) == [], graph.name


@pytest.mark.parametrize("size", KWS_CNNS)
def test_our_planner_below_tflite_micro_on_kws_cnns(size: str) -> None:
    # 10x4 windows over few channels: their im2col columns would put us 22-34% above TFLM.
    graph = build_kws_cnn(size)
    plan = plan_memory(graph)
    assert check_plan(graph, plan) == []
    assert plan.arena_bytes == plan.lower_bound < plan_memory(graph, "tflm").arena_bytes


def _expand_pool_conv() -> Graph:
    """A 1x1 expansion to 96 channels (the model's peak), a 4x4 max pool to 3x3, then a 3x3 conv whose
    im2col columns (3,456 B) cost more than its input and output (1,008 B): MobileNetV2's last blocks."""
    builder = GraphBuilder("expand, pool, 3x3 conv")
    x = builder.tensor((1, 12, 12, 16), "int8", scale=0.1)
    wide = builder.tensor((1, 12, 12, 96), "int8", scale=0.1)
    pooled = builder.tensor((1, 3, 3, 96), "int8", scale=0.1)
    y = builder.tensor((1, 3, 3, 16), "int8", scale=0.1)
    for source, target, shape in ((x, wide, (96, 1, 1, 16)), (pooled, y, (16, 3, 3, 96))):
        w = builder.tensor(shape, "int8", scale=0.1, data=np.ones(shape, np.int8))
        builder.op("CONV_2D", [source, w], [target], Conv2DOptions(Padding.SAME, 1, 1))
        if source == x:
            builder.op("MAX_POOL_2D", [wide], [pooled], Pool2DOptions(Padding.VALID, 4, 4, 4, 4))
    return builder.build([x], [y])


def test_conv_columns_are_chosen_for_the_whole_model() -> None:
    # The 3x3 conv's columns make its own step need more than its input and output, but the
    # expansion sets the arena: im2col (the fast path) costs the model nothing there.
    graph = _expand_pool_conv()
    conv = graph.operators[2]
    plan = plan_memory(graph)
    assert conv.variant == KernelVariant(Columns.IM2COL) and kernel_contract(graph, conv).scratch_bytes > 0
    assert check_plan(graph, plan) == []
    forced = _expand_pool_conv()
    forced.operators[2].variant = KernelVariant(Columns.DIRECT)
    assert plan.arena_bytes == plan_memory(forced).arena_bytes


def test_our_planner_with_an_alias_indexed_below_its_source() -> None:
    # Converters number tensors freely: here the RESHAPE's output has a lower index than its input.
    builder = GraphBuilder("alias below its source")
    x = builder.tensor((1, 16), "int8", scale=0.1)
    flat = builder.tensor((16,), "int8", scale=0.1)
    relu = builder.tensor((1, 16), "int8", scale=0.1)
    out = builder.tensor((16,), "int8", scale=0.1)
    builder.op("RELU", [x], [relu])
    builder.op("RESHAPE", [relu], [flat], ReshapeOptions((16,)))
    builder.op("RELU", [flat], [out])
    graph = read_tflite(write_tflite(builder.build([x], [out])))
    plan = plan_memory(graph)
    assert check_plan(graph, plan) == []
    assert plan.arena_bytes <= plan_memory(graph, "tflm").arena_bytes
    buffers = {b.tensor: b for b in plan.buffers}
    assert buffers[flat].alias_of == relu and buffers[flat].offset == buffers[relu].offset


def test_our_planner_on_a_graph_of_seven_hundred_operators() -> None:
    # Its speed is measured in bench/memory_planners.py; here only its result.
    graph = build_unrolled_lstm()
    assert len(graph.operators) == 704
    plan = plan_memory(graph)
    assert check_plan(graph, plan) == []
    assert plan.lower_bound <= plan.arena_bytes <= plan_memory(graph, "tflm").arena_bytes


# ------------------------------------------------------------------ every plan checked


@pytest.mark.parametrize("planner", ["mcudeploy", "tflm"])
@pytest.mark.parametrize("model", INT8_MODELS)
def test_plans_pass_the_checker(model: str, planner: str, graphs, ours) -> None:
    plan = ours[model] if planner == "mcudeploy" else plan_memory(graphs[model], planner)
    assert check_plan(graphs[model], plan) == []


@pytest.mark.parametrize("alignment", [1, 4, 64])
def test_alignment_is_configurable(alignment: int, graphs) -> None:
    graph = graphs["mlperf_tiny/ic_resnet8_int8.tflite"]
    plan = plan_memory(graph, alignment=alignment)
    assert plan.arena_bytes % alignment == 0
    assert all(b.offset % alignment == 0 for b in plan.buffers)
    assert check_plan(graph, plan) == []


def test_plan_memory_rejects_bad_requests(graphs) -> None:
    graph = graphs["tflm/hello_world_int8.tflite"]
    with pytest.raises(McuDeployError, match="unknown planner"):
        plan_memory(graph, "greedy")
    with pytest.raises(McuDeployError, match="power of two"):
        plan_memory(graph, alignment=12)
