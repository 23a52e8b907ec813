"""FULLY_CONNECTED against TFLite Micro: int8 (per-tensor and per-channel weights), 16x8, float32."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import NO_TENSOR, Activation, GraphBuilder
from mcudeploy.ir.options import FullyConnectedOptions
from single_op import assert_matches_tflm

ACTIVATIONS = [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1]
OUTPUT_SPREAD = 6.0
"""Real-valued standard deviation aimed at for outputs, so RELU6 and RELU_N1_TO_1 both clamp."""


@dataclass(frozen=True)
class Case:
    activations: str  # int8, int16, float32
    bias: str  # int32, int64, float32; "none": a NO_TENSOR input, "omitted": only two inputs
    per_channel: bool = False
    input_zero_point: int | None = None
    filter_zero_point: int = 0


INT8 = Case("int8", "int32")
INT8_PER_CHANNEL = Case("int8", "int32", per_channel=True)
INT16 = Case("int16", "int64")
INT16_PER_CHANNEL = Case("int16", "int64", per_channel=True)
INT16_INT32_BIAS = Case("int16", "int32")
INT16_PER_CHANNEL_INT32_BIAS = Case("int16", "int32", per_channel=True)
FLOAT = Case("float32", "float32")
CASES = [INT8, INT8_PER_CHANNEL, INT16, INT16_PER_CHANNEL, INT16_INT32_BIAS, INT16_PER_CHANNEL_INT32_BIAS, FLOAT]
CASE_IDS = [
    "int8",
    "int8-per-channel",
    "16x8",
    "16x8-per-channel",
    "16x8-int32-bias",
    "16x8-per-channel-int32-bias",
    "float32",
]


def _fc_graph(
    case: Case,
    input_shape: tuple[int, ...],
    units: int,
    activation: Activation,
    keep_num_dims: bool = False,
    seed: int = 0,
):
    rng = np.random.default_rng(seed)
    depth = input_shape[-1] if keep_num_dims else int(np.prod(input_shape[1:]))
    batches = int(np.prod(input_shape)) // depth
    output_shape = (*input_shape[:-1], units) if keep_num_dims else (batches, units)
    b = GraphBuilder("fully_connected")
    if case.activations == "float32":
        x = b.tensor(input_shape, "float32", name="input")
        w = b.tensor((units, depth), "float32", data=rng.standard_normal((units, depth)), name="weights")
        bias = b.tensor([units], "float32", data=rng.standard_normal(units), name="bias")
        y = b.tensor(output_shape, "float32", name="output")
    else:
        x, w, bias, y = _quantized_tensors(b, rng, case, input_shape, (units, depth), output_shape)
    inputs = {"none": [x, w, NO_TENSOR], "omitted": [x, w]}.get(case.bias, [x, w, bias])
    b.op("FULLY_CONNECTED", inputs, [y], FullyConnectedOptions(activation=activation, keep_num_dims=keep_num_dims))
    return b.build([x], [y])


def _quantized_tensors(b, rng, case, input_shape, filter_shape, output_shape):
    int16 = case.activations == "int16"
    units, depth = filter_shape
    input_scale = 0.02 if int16 else 0.05
    input_zero_point = case.input_zero_point
    if input_zero_point is None:
        input_zero_point = 0 if int16 else int(rng.integers(-40, 40))
    output_zero_point = 0 if int16 else int(rng.integers(-20, 20))
    input_std = (2**15 if int16 else 2**7) / np.sqrt(3)
    typical_filter_scale = OUTPUT_SPREAD / (np.sqrt(depth) * 73 * input_std * input_scale)
    if case.per_channel:
        filter_scales = typical_filter_scale * rng.uniform(0.5, 2.0, units)
        filter_quant = {"scale": filter_scales.tolist(), "axis": 0}
    else:
        filter_scales = np.full(units, typical_filter_scale)
        filter_quant = {"scale": float(typical_filter_scale), "zero_point": case.filter_zero_point}
    bias_scales = input_scale * filter_scales
    bias_values = np.rint(rng.normal(0, OUTPUT_SPREAD / 2, units) / bias_scales).astype(np.int64)
    x = b.tensor(input_shape, case.activations, scale=input_scale, zero_point=input_zero_point, name="input")
    weights = rng.integers(-127, 128, filter_shape)
    w = b.tensor(filter_shape, "int8", data=weights, name="weights", **filter_quant)
    bias_type = case.bias if case.bias.startswith("int") else "int32"
    bias = b.tensor([units], bias_type, data=bias_values, name="bias", scale=bias_scales.tolist(), axis=0)
    output_scale = 4 * OUTPUT_SPREAD / (2**15 if int16 else 2**7)
    y = b.tensor(output_shape, case.activations, scale=output_scale, zero_point=output_zero_point, name="output")
    return x, w, bias, y


def _check(graph) -> None:
    """Bit for bit against TFLM, floats included: the float kernel adds in the reference's order."""
    assert_matches_tflm(graph, float_exact=True)


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fully_connected(case, activation):
    _check(_fc_graph(case, (3, 40), units=7, activation=activation, seed=ACTIVATIONS.index(activation)))


@pytest.mark.parametrize(
    ("input_shape", "keep_num_dims"),
    [((1, 2, 3, 5), False), ((2, 3, 8), True), ((2, 3, 8), False), ((4, 1, 1, 16), False), ((2, 2, 2, 6), True)],
    ids=["rank4-flattened", "rank3-kept", "rank3-flattened", "pooled-image", "rank4-kept"],
)
@pytest.mark.parametrize("case", [INT8, INT16, FLOAT], ids=["int8", "16x8", "float32"])
def test_fully_connected_shapes(case, input_shape, keep_num_dims):
    """Inputs of any rank are read as [batches, depth]; keep_num_dims keeps their leading dimensions."""
    _check(_fc_graph(case, input_shape, units=5, activation=Activation.RELU, keep_num_dims=keep_num_dims, seed=3))


@pytest.mark.parametrize("case", [INT8_PER_CHANNEL, FLOAT], ids=["int8-per-channel", "float32"])
def test_fully_connected_with_many_outputs(case):
    """Over 2048 outputs: the float kernel sums term by term in a loop instead of in one pass."""
    _check(_fc_graph(case, (40, 24), units=64, activation=Activation.NONE, seed=6))


@pytest.mark.parametrize(
    "case",
    [
        Case("int8", "none"),
        Case("int8", "omitted", per_channel=True),
        Case("int16", "none"),
        Case("int16", "omitted", per_channel=True),
        Case("float32", "none"),
        Case("float32", "omitted"),
    ],
    ids=[
        "int8-no-bias",
        "int8-per-channel-two-inputs",
        "16x8-no-bias",
        "16x8-two-inputs",
        "float32-no-bias",
        "float32-two-inputs",
    ],
)
def test_fully_connected_without_bias(case):
    _check(_fc_graph(case, (2, 24), units=6, activation=Activation.NONE, seed=4))


@pytest.mark.parametrize("input_zero_point", [-128, 127])
@pytest.mark.parametrize("case", [INT8, INT8_PER_CHANNEL], ids=["per-tensor", "per-channel"])
def test_fully_connected_input_zero_point_extremes(case, input_zero_point):
    case = Case(case.activations, case.bias, case.per_channel, input_zero_point=input_zero_point)
    _check(_fc_graph(case, (2, 33), units=4, activation=Activation.NONE, seed=5))


def test_fully_connected_per_tensor_filter_zero_point_is_subtracted():
    """The per-tensor int8 kernel subtracts a (non-standard) filter zero point; the per-channel one has none."""
    _check(_fc_graph(Case("int8", "int32", filter_zero_point=3), (2, 20), units=4, activation=Activation.NONE))


def test_hybrid_fully_connected_is_refused():
    b = GraphBuilder("hybrid_fc")
    x = b.tensor((1, 8), "float32")
    w = b.tensor((2, 8), "int8", scale=0.1, data=np.ones((2, 8)))
    y = b.tensor((1, 2), "float32")
    b.op("FULLY_CONNECTED", [x, w, NO_TENSOR], [y], FullyConnectedOptions())
    with pytest.raises(UnsupportedOperatorError, match="hybrid"):
        run(b.build([x], [y]), [np.zeros((1, 8), np.float32)])
