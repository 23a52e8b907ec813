"""Malformed graphs in well-formed files are refused at import, for every command, in one line.

Each case is a small valid int8 model (built with GraphBuilder) broken in one way by
editing its IR, then written with the project's writer, which does not judge
semantics. Every command that loads a model must exit 2 with exactly one line on
stderr naming the operator and tensor at fault; the seeded fuzzer then checks
mutants of the real models the same way, in process.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import FLOAT_MODELS, INT8_MODELS, MODELS, run_cli
from mcudeploy.errors import ModelError
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite import write_tflite
from mcudeploy.ir import NO_TENSOR, DType, Graph, GraphBuilder, Padding, Quantization, Tensor
from mcudeploy.ir.options import (
    Conv2DOptions,
    DepthwiseConv2DOptions,
    FullyConnectedOptions,
    Pool2DOptions,
    ReducerOptions,
    SoftmaxOptions,
)
from mcudeploy.ir.validate import validate_graph
from model_fuzzer import exercise, message_problem, run_campaign
from single_op import constant

RNG = np.random.default_rng(9)


def _weights(shape: tuple[int, ...]) -> np.ndarray:
    return RNG.integers(-127, 128, shape, dtype=np.int8)


def base_graph() -> Graph:
    """input 1x8x8x3 → conv 3x3 (4) → depthwise 3x3 → pad → average pool 2x2 → mean → FC (5) → softmax."""
    b = GraphBuilder("crafted")
    x = b.tensor((1, 8, 8, 3), "int8", scale=0.02, zero_point=-3, name="input")
    w = b.tensor((4, 3, 3, 3), "int8", scale=[0.01, 0.02, 0.03, 0.04], axis=0, data=_weights((4, 3, 3, 3)), name="w")
    bias = b.tensor((4,), "int32", scale=[2e-4, 4e-4, 6e-4, 8e-4], axis=0, data=np.arange(4), name="bias")
    c = b.tensor((1, 8, 8, 4), "int8", scale=0.05, zero_point=1, name="conv")
    b.op("CONV_2D", [x, w, bias], [c], Conv2DOptions(padding=Padding.SAME))
    dw_w = b.tensor((1, 3, 3, 4), "int8", scale=0.02, data=_weights((1, 3, 3, 4)), name="dw_w")
    d = b.tensor((1, 6, 6, 4), "int8", scale=0.05, zero_point=0, name="depthwise")
    b.op("DEPTHWISE_CONV_2D", [c, dw_w, NO_TENSOR], [d], DepthwiseConv2DOptions())
    p = b.tensor((1, 8, 8, 4), "int8", scale=0.05, zero_point=0, name="padded")
    b.op("PAD", [d, constant(b, [[0, 0], [1, 1], [1, 1], [0, 0]])], [p])
    a = b.tensor((1, 4, 4, 4), "int8", scale=0.05, zero_point=0, name="pooled")
    b.op("AVERAGE_POOL_2D", [p], [a], Pool2DOptions(stride_h=2, stride_w=2, filter_h=2, filter_w=2))
    m = b.tensor((1, 4), "int8", scale=0.05, zero_point=0, name="mean")
    b.op("MEAN", [a, constant(b, [1, 2])], [m], ReducerOptions(keep_dims=False))
    fc_w = b.tensor((5, 4), "int8", scale=0.03, data=_weights((5, 4)), name="fc_w")
    f = b.tensor((1, 5), "int8", scale=0.1, zero_point=2, name="logits")
    b.op("FULLY_CONNECTED", [m, fc_w, NO_TENSOR], [f], FullyConnectedOptions())
    s = b.tensor((1, 5), "int8", scale=1 / 256, zero_point=-128, name="probabilities")
    b.op("SOFTMAX", [f], [s], SoftmaxOptions())
    return b.build(inputs=[x], outputs=[s])


def _op(graph: Graph, op_type: str):
    return next(op for op in graph.operators if op.op_type == op_type)


def _tensor(graph: Graph, name: str):
    return next(t for t in graph.tensors if t.name == name)


def _options(op_type: str, **changes) -> Callable[[Graph], None]:
    def edit(graph: Graph) -> None:
        op = _op(graph, op_type)
        op.options = dataclasses.replace(op.options, **changes)

    return edit


def _input(op_type: str, position: int, tensor: int | str) -> Callable[[Graph], None]:
    def edit(graph: Graph) -> None:
        op = _op(graph, op_type)
        index = tensor if isinstance(tensor, int) else _tensor(graph, tensor).index
        op.inputs = (*op.inputs[:position], index, *op.inputs[position + 1 :])

    return edit


def _quantization(name: str, scale: float, zero_point: int = 0) -> Callable[[Graph], None]:
    def edit(graph: Graph) -> None:
        _tensor(graph, name).quantization = Quantization(
            scale=np.array([np.float32(scale)], dtype=np.float64), zero_point=np.array([zero_point], dtype=np.int64)
        )

    return edit


def _shape(name: str, shape: tuple[int, ...]) -> Callable[[Graph], None]:
    def edit(graph: Graph) -> None:
        _tensor(graph, name).shape = shape

    return edit


def _swap_first_operators(graph: Graph) -> None:
    graph.operators[0], graph.operators[1] = graph.operators[1], graph.operators[0]


def _cycle(graph: Graph) -> None:
    """The conv reads the depthwise's output, which reads the conv's."""
    _input("CONV_2D", 0, "depthwise")(graph)


def _two_writers(graph: Graph) -> None:
    _op(graph, "DEPTHWISE_CONV_2D").outputs = (_tensor(graph, "conv").index,)


def _no_outputs(graph: Graph) -> None:
    _op(graph, "SOFTMAX").outputs = ()


def _no_graph_inputs(graph: Graph) -> None:
    graph.inputs = ()


def _no_graph_outputs(graph: Graph) -> None:
    graph.outputs = ()


def _output_nothing_writes(graph: Graph) -> None:
    graph.outputs = (_tensor(graph, "w").index,)


def _constant_graph_input(graph: Graph) -> None:
    graph.inputs = (*graph.inputs, _tensor(graph, "w").index)


def _perm_from_input(graph: Graph) -> None:
    _input("PAD", 1, "input")(graph)


def _float_bias(graph: Graph) -> None:
    bias = _tensor(graph, "bias")
    bias.dtype, bias.quantization = bias.dtype.FLOAT32, None
    bias.data = np.arange(4, dtype=np.float32)


def _int16_output(graph: Graph) -> None:
    _tensor(graph, "pooled").dtype = _tensor(graph, "pooled").dtype.INT16


def _int16_conv_zero_point(graph: Graph) -> None:
    for name, zero_point in (("input", 0), ("conv", 5)):
        tensor = _tensor(graph, name)
        tensor.dtype = tensor.dtype.INT16
        _quantization(name, 0.05, zero_point)(graph)


def _unused_tensors(*shapes: tuple[int, ...]) -> Callable[[Graph], None]:
    def edit(graph: Graph) -> None:
        for shape in shapes:
            graph.tensors.append(Tensor(len(graph.tensors), f"huge_{len(graph.tensors)}", shape, DType.INT8))

    return edit


def _per_channel_on_wrong_axis(graph: Graph) -> None:
    _tensor(graph, "dw_w").quantization = Quantization.per_axis([0.1] * 3, [0] * 3, axis=1)


# name → (edit, words the error must hold)
CASES: dict[str, tuple[Callable[[Graph], None], str]] = {
    "cycle": (_cycle, "#0 CONV_2D, tensor 5 'depthwise': is read before it is written"),
    "read before write": (_swap_first_operators, "'conv': is read before it is written"),
    "required input absent": (_input("CONV_2D", 1, NO_TENSOR), "#0 CONV_2D: required input 1 is absent"),
    "operator without outputs": (_no_outputs, "#6 SOFTMAX: has no outputs"),
    "two writers": (_two_writers, "'conv': is written twice"),
    "no graph inputs": (_no_graph_inputs, "the graph has no inputs"),
    "no graph outputs": (_no_graph_outputs, "the graph has no outputs"),
    "output nothing writes": (_output_nothing_writes, "'w': is a graph output no operator writes"),
    "constant graph input": (_constant_graph_input, "'w': is a graph input but a constant"),
    "scale 0": (_quantization("conv", 0.0), "'conv': quantization scale 0.0 is not"),
    "scale NaN": (_quantization("conv", float("nan")), "scale nan is not"),
    "scale inf": (_quantization("conv", float("inf")), "scale inf is not"),
    "scale negative": (_quantization("conv", -0.5), "scale -0.5 is not"),
    "scale denormal": (_quantization("conv", 1e-40), "is not a finite positive normal number"),
    "zero point above int8": (_quantization("conv", 0.05, 128), "zero point 128 is outside [-128, 127]"),
    "zero point below int8": (_quantization("logits", 0.05, -200), "zero point -200 is outside"),
    "int16 zero point not 0": (_int16_conv_zero_point, "#0 CONV_2D, tensor 3 'conv': int16 zero point 5, must be 0"),
    "stride 0": (_options("CONV_2D", stride_h=0), "#0 CONV_2D: stride_h is 0"),
    "stride negative": (_options("AVERAGE_POOL_2D", stride_w=-2), "stride_w is -2"),
    "dilation 0": (_options("DEPTHWISE_CONV_2D", dilation_w=0), "dilation_w is 0"),
    "depth multiplier 0": (_options("DEPTHWISE_CONV_2D", depth_multiplier=0), "depth_multiplier is 0"),
    "depth multiplier wrong": (_options("DEPTHWISE_CONV_2D", depth_multiplier=2), "x multiplier 2"),
    "filter size 0": (_options("AVERAGE_POOL_2D", filter_h=0), "filter_h is 0"),
    "tensor past 256 MiB": (_unused_tensors(((1 << 28) + 1,)), "tensor 14 'huge_14' claims 268,435,457 bytes"),
    "tensors past 1 GiB together": (_unused_tensors(*[(1 << 28,)] * 4), "bytes together: not plausible"),
    "zero dimension": (_shape("pooled", (1, 0, 4, 4)), "'pooled': shape [1, 0, 4, 4] has a dimension below 1"),
    "conv output contradicts weights": (_shape("conv", (1, 8, 8, 5)), "'conv': shape [1, 8, 8, 5], but the operator"),
    "conv valid window past the input": (
        _options("DEPTHWISE_CONV_2D", dilation_h=5),
        "window (dilation [5, 1]) does not fit",
    ),
    "dilation past any plausible input": (
        _options("CONV_2D", dilation_h=1 << 24),
        "windows of 3x3 (dilation [16777216, 1], strides [1, 1]) span 33554440x10 pixels of padded input",
    ),
    "depthwise output wrong size": (_shape("depthwise", (1, 8, 8, 4)), "computes [1, 6, 6, 4]"),
    "pad output wrong": (_shape("padded", (1, 9, 8, 4)), "#2 PAD, tensor 6 'padded': shape [1, 9, 8, 4], but"),
    "pool output wrong": (_shape("pooled", (1, 3, 3, 4)), "#3 AVERAGE_POOL_2D"),
    "mean output wrong": (_shape("mean", (1, 1, 1, 4)), "#4 MEAN"),
    "fully connected depth wrong": (_input("FULLY_CONNECTED", 0, "pooled"), "#5 FULLY_CONNECTED"),
    "softmax output wrong": (_shape("probabilities", (1, 6)), "#6 SOFTMAX"),
    "parameter not constant": (_perm_from_input, "must be a constant"),
    "bias of the wrong type": (_float_bias, "float32 bias for int8 input"),
    "output type differs": (_int16_output, "the operator's output int16"),
    "per-channel scales on the wrong axis": (_per_channel_on_wrong_axis, "'dw_w': 3 scales on axis 1, the"),
}


def crafted(case: str) -> bytes:
    graph = base_graph()
    CASES[case][0](graph)
    return write_tflite(graph)


def test_the_base_graph_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "base.tflite"
    path.write_bytes(write_tflite(base_graph()))
    assert exercise(path.read_bytes(), path) == ("ok", "")


COMMANDS = ("inspect", "analyze", "run", "generate", "validate", "estimate")


def _command(command: str, model: Path, tmp_path: Path) -> list[str]:
    extra = {"run": ["--input", str(model)], "generate": ["-o", str(tmp_path / "out")]}.get(command, [])
    return [command, str(model), *extra]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_command_refuses_in_one_line(case: str, tmp_path: Path, monkeypatch, capsys) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(crafted(case))
    expected = CASES[case][1]
    for command in COMMANDS:
        code, out, err = run_cli(monkeypatch, capsys, *_command(command, model, tmp_path))
        assert code == 2, f"{command}: exit {code}, {err!r}"
        assert out == ""
        assert err.startswith(f"mcudeploy: error: {model}: "), err
        assert err.count("\n") == 1 and err.endswith("\n"), err
        assert expected in err, err
        assert message_problem(err.rstrip("\n")) is None
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("command", "case"),
    [("inspect", "cycle"), ("analyze", "scale NaN"), ("run", "two writers"), ("generate", "stride 0")],
)
def test_python_m_mcudeploy_exits_2_without_a_traceback(command: str, case: str, tmp_path: Path) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(crafted(case))
    result = subprocess.run(
        [sys.executable, "-m", "mcudeploy", *_command(command, model, tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert CASES[case][1] in result.stderr


@pytest.mark.parametrize("model", [*INT8_MODELS, *FLOAT_MODELS, "tflm/person_detect_vela.tflite"])
def test_real_models_pass_the_checks(model: str) -> None:
    """Quirks included: person_detect's quantized_dimension 3 on 1-D biases, Vela's scratch tensors."""
    validate_graph(load_model(MODELS / model))


def test_validator_refuses_graphs_built_in_code() -> None:
    """Importers other than TFLite (ONNX) hand their graphs to the same function."""
    graph = base_graph()
    _cycle(graph)
    with pytest.raises(ModelError, match="read before it is written"):
        validate_graph(graph)


FUZZ_SEED = 20261206
FUZZ_BUDGET_S = 30


def test_fuzzed_mutants_of_real_models_work_or_refuse_in_one_line(tmp_path: Path) -> None:
    """A bounded share of the long campaign (bench/fuzz_campaign.py): 300 mutants or 30 s."""
    start = time.monotonic()
    campaign = run_campaign(FUZZ_SEED, count=300, workdir=tmp_path, budget_s=FUZZ_BUDGET_S)
    assert not campaign.findings, "\n".join(campaign.findings.values())
    assert sum(campaign.counts.values()) >= 50, f"only {campaign.counts} in {time.monotonic() - start:.0f} s"
    assert campaign.counts["refused"] >= 10 and campaign.counts["ok"] >= 5, campaign.counts


def test_add_with_an_output_scale_tflm_refuses_is_one_line(tmp_path: Path) -> None:
    """A fuzz finding: valid scales whose ADD output ratio reaches 1 (TFLM's Prepare aborts) were a ValueError."""
    b = GraphBuilder("tiny add")
    x, y = (b.tensor((1, 4), "int8", scale=0.5, zero_point=0) for _ in range(2))
    z = b.tensor((1, 4), "int8", scale=1e-10, zero_point=0)
    b.op("ADD", [x, y], [z])
    outcome, detail = exercise(write_tflite(b.build([x, y], [z])), tmp_path / "add.tflite")
    assert outcome == "refused" and "layer #0 ADD: output scale 1e-10 is below" in detail, detail


def test_nan_scale_bits_in_a_real_model_are_one_line(tmp_path: Path) -> None:
    """A fuzz finding: scale bytes ff ff ff 7f (a NaN) in kws widened with a numpy warning on stderr
    before the one-line refusal."""
    data = bytearray((MODELS / "mlperf_tiny/kws_ref_model_int8.tflite").read_bytes())
    data[39259:39263] = b"\xff\xff\xff\x7f"
    outcome, detail = exercise(bytes(data), tmp_path / "nan_scale.tflite")
    assert outcome == "refused" and "quantization scale nan is not" in detail, detail


def test_every_operator_the_engine_runs_is_checked() -> None:
    """An operator without an arity skips the graph checks, and without a shape rule its malformed
    outputs reach the engine and the C (a traceback, or writes past a buffer)."""
    import mcudeploy.engine  # noqa: F401  (registers the kernels)
    from mcudeploy.engine.registry import KERNELS
    from mcudeploy.ir.shapes import ARITIES, RULES

    assert set(KERNELS) <= set(ARITIES)
    unshaped = {"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"}  # sized by the variable (params.variables)
    assert set(KERNELS) - unshaped <= set(RULES)


def _single(op_type: str, shapes: list[tuple[int, ...]], output: tuple[int, ...], dtypes: list[str]) -> Graph:
    b = GraphBuilder(op_type.lower())
    pairs = enumerate(zip(shapes, dtypes[:-1], strict=True))
    inputs = [b.tensor(shape, dtype, name=f"x{i}") for i, (shape, dtype) in pairs]
    result = b.tensor(output, dtypes[-1], name="y")
    b.op(op_type, inputs, [result])
    return b.build(inputs=inputs, outputs=[result])


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        (_single("MAXIMUM", [(1, 4), (1, 3)], (1, 4), ["float32"] * 3), "does not broadcast"),
        (_single("MINIMUM", [(1, 4), (1, 4)], (1, 8), ["float32"] * 3), "the operator computes [1, 4]"),
        (_single("ABS", [(1, 4)], (2, 4), ["float32"] * 2), "the operator computes [1, 4]"),
        (_single("CAST", [(1, 4)], (1, 5), ["float32", "int32"]), "the operator computes [1, 4]"),
        (_single("EQUAL", [(1, 4), (1, 4)], (1, 4), ["float32", "float32", "float32"]), "a comparison gives bool"),
        (_single("LESS", [(1, 4), (1, 4)], (1, 4), ["float32", "int32", "bool"]), "the first operand float32"),
        (_single("SELECT_V2", [(1, 4)] * 3, (1, 4), ["float32"] * 4), "the condition is float32"),
        (_single("SELECT_V2", [(4,), (3,), (4,)], (4,), ["bool", "float32", "float32", "float32"]), "do not broadcast"),
        (_single("SQUARED_DIFFERENCE", [(3, 4), (1, 4)], (1, 4), ["float32"] * 3), "computes [3, 4]"),
        (_single("LOGICAL_AND", [(2,), (2,)], (2,), ["bool", "float32", "bool"]), "is float32"),
    ],
    ids=lambda value: value.name if isinstance(value, Graph) else "",
)
def test_elementwise_operators_are_checked(graph: Graph, expected: str) -> None:
    with pytest.raises(ModelError) as error:
        validate_graph(graph)
    assert expected in str(error.value)


def test_a_malformed_elementwise_graph_is_one_line_through_the_cli(tmp_path: Path, monkeypatch, capsys) -> None:
    model = tmp_path / "maximum.tflite"
    model.write_bytes(write_tflite(_single("MAXIMUM", [(1, 4), (1, 3)], (1, 4), ["float32"] * 3)))
    code, out, err = run_cli(monkeypatch, capsys, "validate", str(model), "--target", "host")
    assert code == 2 and not out and err.count("\n") == 1 and "does not broadcast" in err
