"""CONV_2D and DEPTHWISE_CONV_2D against TFLite Micro (int8, 16x8, float32) and LiteRT (hybrid).

Weights, biases and inputs are seeded random values; quantization scales are
chosen so that outputs spread over the whole int8/int16 range and every fused
activation clamps something.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import NO_TENSOR, Activation, GraphBuilder, Padding
from mcudeploy.ir.options import Conv2DOptions, DepthwiseConv2DOptions
from mcudeploy.validation.oracles import litert_run
from single_op import assert_matches_tflm

ACTIVATIONS = [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1]
OUTPUT_SPREAD = 6.0
"""Real-valued standard deviation aimed at for outputs, so RELU6 and RELU_N1_TO_1 both clamp."""


@dataclass(frozen=True)
class Geometry:
    padding: Padding = Padding.SAME
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    kernel: tuple[int, int] = (3, 3)
    input_hw: tuple[int, int] = (9, 8)
    batch: int = 1

    def output_hw(self) -> tuple[int, int]:
        return tuple(
            _out_size(self.padding, size, k, s, d)
            for size, k, s, d in zip(self.input_hw, self.kernel, self.stride, self.dilation, strict=True)
        )

    def __str__(self) -> str:
        return (
            f"{self.padding.value}-k{self.kernel[0]}x{self.kernel[1]}-s{self.stride[0]}{self.stride[1]}"
            f"-d{self.dilation[0]}{self.dilation[1]}-in{self.input_hw[0]}x{self.input_hw[1]}-n{self.batch}"
        )


def _out_size(padding: Padding, size: int, kernel: int, stride: int, dilation: int) -> int:
    effective = (kernel - 1) * dilation + 1
    return (size + stride - 1) // stride if padding == Padding.SAME else (size - effective) // stride + 1


GEOMETRIES = [
    Geometry(Padding.SAME),
    Geometry(Padding.VALID),
    Geometry(Padding.SAME, stride=(2, 2)),
    Geometry(Padding.VALID, stride=(2, 2)),
    Geometry(Padding.SAME, stride=(2, 1), dilation=(1, 2)),
    Geometry(Padding.VALID, dilation=(2, 2)),
    Geometry(Padding.SAME, dilation=(2, 3), kernel=(2, 3)),
    Geometry(Padding.SAME, stride=(3, 2), kernel=(4, 2), input_hw=(10, 7)),
    Geometry(Padding.VALID, kernel=(1, 1), batch=2),
    Geometry(Padding.SAME, kernel=(5, 1), stride=(1, 2), input_hw=(6, 1), batch=2),
]


@dataclass(frozen=True)
class Quant:
    """Element types of one test: activations (input and output) and bias."""

    activations: str  # int8, int16, float32
    bias: str  # int32, int64, float32; "none": a NO_TENSOR input, "omitted": only two inputs
    per_channel: bool = True


INT8 = Quant("int8", "int32")
INT8_PER_TENSOR = Quant("int8", "int32", per_channel=False)
INT16 = Quant("int16", "int64")
INT16_INT32_BIAS = Quant("int16", "int32")
FLOAT = Quant("float32", "float32", per_channel=False)


def _conv_graph(
    op_type: str,
    geometry: Geometry,
    quant: Quant,
    activation: Activation,
    seed: int,
    in_channels: int = 3,
    out_channels: int = 5,
    depth_multiplier: int = 1,
    filter_depth: int | None = None,
    input_zero_point: int | None = None,
):
    rng = np.random.default_rng(seed)
    depthwise = op_type == "DEPTHWISE_CONV_2D"
    if depthwise:
        out_channels = in_channels * depth_multiplier
        filter_shape = (1, *geometry.kernel, out_channels)
        channel_axis, taps = 3, geometry.kernel[0] * geometry.kernel[1]
    else:
        filter_depth = filter_depth or in_channels
        filter_shape = (out_channels, *geometry.kernel, filter_depth)
        channel_axis, taps = 0, geometry.kernel[0] * geometry.kernel[1] * filter_depth
    in_shape = (geometry.batch, *geometry.input_hw, in_channels)
    out_shape = (geometry.batch, *geometry.output_hw(), out_channels)

    b = GraphBuilder(op_type.lower())
    if quant.activations == "float32":
        x = b.tensor(in_shape, "float32", name="input")
        w = b.tensor(filter_shape, "float32", data=rng.standard_normal(filter_shape), name="filter")
        bias = b.tensor([out_channels], "float32", data=rng.standard_normal(out_channels), name="bias")
        y = b.tensor(out_shape, "float32", name="output")
    else:
        x, w, bias, y = _quantized_tensors(
            b, rng, quant, in_shape, filter_shape, out_shape, channel_axis, taps, input_zero_point
        )
    inputs = {"none": [x, w, NO_TENSOR], "omitted": [x, w]}.get(quant.bias, [x, w, bias])
    common = {
        "padding": geometry.padding,
        "stride_h": geometry.stride[0],
        "stride_w": geometry.stride[1],
        "dilation_h": geometry.dilation[0],
        "dilation_w": geometry.dilation[1],
        "activation": activation,
    }
    options = (
        DepthwiseConv2DOptions(depth_multiplier=depth_multiplier, **common) if depthwise else Conv2DOptions(**common)
    )
    b.op(op_type, inputs, [y], options)
    return b.build([x], [y])


def _quantized_tensors(b, rng, quant, in_shape, filter_shape, out_shape, channel_axis, taps, input_zero_point):
    """int8 or int16 activations, int8 symmetric weights, bias at scale input·filter."""
    int16 = quant.activations == "int16"
    out_channels = filter_shape[channel_axis]
    input_scale = 0.02 if int16 else 0.05
    if input_zero_point is None:
        input_zero_point = 0 if int16 else int(rng.integers(-40, 40))
    output_zero_point = 0 if int16 else int(rng.integers(-20, 20))
    input_std = (2**15 if int16 else 2**7) / np.sqrt(3)  # uniform over the whole range
    typical_filter_scale = OUTPUT_SPREAD / (np.sqrt(taps) * 73 * input_std * input_scale)
    if quant.per_channel:
        filter_scales = typical_filter_scale * rng.uniform(0.5, 2.0, out_channels)
        filter_quant = {"scale": filter_scales.tolist(), "axis": channel_axis}
    else:
        filter_scales = np.full(out_channels, typical_filter_scale)
        filter_quant = {"scale": float(typical_filter_scale)}
    output_scale = 4 * OUTPUT_SPREAD / (2**15 if int16 else 2**7)
    weights = rng.integers(-127, 128, filter_shape)
    bias_scales = input_scale * filter_scales
    bias_values = np.rint(rng.normal(0, OUTPUT_SPREAD / 2, out_channels) / bias_scales).astype(np.int64)
    dtype = quant.activations
    x = b.tensor(in_shape, dtype, scale=input_scale, zero_point=input_zero_point, name="input")
    w = b.tensor(filter_shape, "int8", data=weights, name="filter", **filter_quant)
    bias = b.tensor(
        [out_channels],
        quant.bias if quant.bias.startswith("int") else "int32",
        data=bias_values,
        name="bias",
        scale=bias_scales.tolist(),
        axis=0,
    )
    y = b.tensor(out_shape, dtype, scale=output_scale, zero_point=output_zero_point, name="output")
    return x, w, bias, y


def _check(graph) -> None:
    """Bit for bit against TFLM, floats included: the float kernels add in the reference's order."""
    assert_matches_tflm(graph, float_exact=True)


QUANTS = [INT8, INT8_PER_TENSOR, INT16, FLOAT]
QUANT_IDS = ["int8", "int8-per-tensor", "16x8", "float32"]


# ------------------------------------------------------------------------ CONV_2D


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
@pytest.mark.parametrize("quant", QUANTS, ids=QUANT_IDS)
def test_conv_geometry(geometry, quant):
    index = GEOMETRIES.index(geometry)
    _check(_conv_graph("CONV_2D", geometry, quant, ACTIVATIONS[index % len(ACTIVATIONS)], seed=index))


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
@pytest.mark.parametrize("quant", QUANTS, ids=QUANT_IDS)
def test_conv_activation(activation, quant):
    _check(_conv_graph("CONV_2D", GEOMETRIES[2], quant, activation, seed=11))


@pytest.mark.parametrize(
    "quant",
    [
        Quant("int8", "none"),
        Quant("int8", "omitted"),
        Quant("int16", "none"),
        Quant("float32", "none"),
        INT16_INT32_BIAS,
        Quant("int16", "int64", per_channel=False),
    ],
    ids=["int8-no-bias", "int8-two-inputs", "16x8-no-bias", "float32-no-bias", "16x8-int32-bias", "16x8-per-tensor"],
)
@pytest.mark.parametrize("geometry", [GEOMETRIES[0], GEOMETRIES[7]], ids=str)
def test_conv_bias_variants(quant, geometry):
    """No bias (a NO_TENSOR input or only two inputs); a 16x8 conv with an int32 bias accumulates
    in int32 instead of int64; 16x8 with a per-tensor filter scale."""
    _check(_conv_graph("CONV_2D", geometry, quant, Activation.RELU, seed=5))


@pytest.mark.parametrize("quant", [INT8, FLOAT], ids=["int8", "float32"])
def test_conv_with_many_outputs(quant):
    """Large enough (over 2048 outputs) for the float kernel's tap-by-tap loop rather than its one-pass sum."""
    geometry = Geometry(Padding.SAME, input_hw=(20, 18))
    _check(_conv_graph("CONV_2D", geometry, quant, Activation.RELU, seed=12, in_channels=8, out_channels=12))


@pytest.mark.parametrize("input_zero_point", [-128, 127, 0])
def test_conv_input_zero_point_extremes(input_zero_point):
    _check(_conv_graph("CONV_2D", GEOMETRIES[4], INT8, Activation.NONE, seed=3, input_zero_point=input_zero_point))


@pytest.mark.parametrize("quant", [INT8, INT16, FLOAT], ids=["int8", "16x8", "float32"])
def test_grouped_conv(quant):
    """An input twice as deep as the filter: two groups of channels, each with its own filters."""
    graph = _conv_graph(
        "CONV_2D", GEOMETRIES[3], quant, Activation.NONE, seed=8, in_channels=6, out_channels=4, filter_depth=3
    )
    _check(graph)


# ------------------------------------------------------------- CONV_2D hybrid (LiteRT)


def _hybrid_graph(geometry: Geometry, activation: Activation, filter_scales, seed: int = 2, filter_depth: int = 6):
    """Float activations with int8 weights, as kws_ref_model_float32 has them (6 input channels);
    a list of filter scales is per-channel, one number per-tensor."""
    rng = np.random.default_rng(seed)
    out_channels = 4
    filter_shape = (out_channels, *geometry.kernel, filter_depth)
    b = GraphBuilder("hybrid_conv")
    x = b.tensor((geometry.batch, *geometry.input_hw, 6), "float32", name="input")
    scale = {"scale": filter_scales} if np.isscalar(filter_scales) else {"scale": filter_scales, "axis": 0}
    w = b.tensor(filter_shape, "int8", data=rng.integers(-127, 128, filter_shape), name="filter", **scale)
    bias = b.tensor([out_channels], "float32", data=rng.standard_normal(out_channels), name="bias")
    y = b.tensor((geometry.batch, *geometry.output_hw(), out_channels), "float32", name="output")
    options = Conv2DOptions(
        padding=geometry.padding,
        stride_h=geometry.stride[0],
        stride_w=geometry.stride[1],
        dilation_h=geometry.dilation[0],
        dilation_w=geometry.dilation[1],
        activation=activation,
    )
    b.op("CONV_2D", [x, w, bias], [y], options)
    return b.build([x], [y])


PER_TENSOR_SCALES = 0.01
EQUAL_PER_CHANNEL_SCALES = [0.01] * 4
PER_CHANNEL_SCALES = [0.01, 0.02, 0.005, 0.04]


@pytest.mark.parametrize(
    ("geometry", "activation", "filter_scales", "filter_depth"),
    [
        (GEOMETRIES[0], Activation.NONE, PER_TENSOR_SCALES, 6),
        (GEOMETRIES[3], Activation.RELU, PER_TENSOR_SCALES, 6),
        (GEOMETRIES[6], Activation.RELU6, PER_TENSOR_SCALES, 6),
        (Geometry(Padding.SAME, stride=(2, 2), batch=3), Activation.RELU_N1_TO_1, PER_TENSOR_SCALES, 6),
        (GEOMETRIES[0], Activation.NONE, PER_CHANNEL_SCALES, 6),
        (GEOMETRIES[7], Activation.RELU, PER_CHANNEL_SCALES, 6),
        (Geometry(Padding.SAME, stride=(2, 2), batch=3), Activation.RELU6, PER_CHANNEL_SCALES, 6),
        (GEOMETRIES[1], Activation.NONE, EQUAL_PER_CHANNEL_SCALES, 6),
        (GEOMETRIES[2], Activation.NONE, EQUAL_PER_CHANNEL_SCALES, 3),
    ],
    ids=[
        "symmetric-same",
        "symmetric-valid-s2",
        "symmetric-dilated",
        "symmetric-batches",
        "asymmetric-same",
        "asymmetric-s32",
        "asymmetric-batches",
        "symmetric-equal-per-channel",
        "asymmetric-grouped",
    ],
)
def test_hybrid_conv_matches_litert(geometry, activation, filter_scales, filter_depth):
    """TFLM refuses hybrid models. LiteRT quantizes the input per batch at run time, symmetrically
    for one filter scale, asymmetrically for distinct per-channel scales or groups; so do we, bit for bit."""
    graph = _hybrid_graph(geometry, activation, filter_scales, filter_depth=filter_depth)
    model = write_tflite(graph)
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(graph.graph_inputs[0].shape) * 3 + 1).astype(np.float32)
    x[-1] = 0.0  # an all-zero batch takes the "nothing to quantize" path
    theirs = litert_run(model, [x]).outputs[0]
    ours = run(read_tflite(model), [x]).outputs[0]
    np.testing.assert_array_equal(ours.view(np.uint32), theirs.view(np.uint32))


@pytest.mark.parametrize(
    ("filter_scales", "input_range"),
    [(PER_TENSOR_SCALES, [127.0, -127.0]), (PER_CHANNEL_SCALES, [127.0, -128.0])],
    ids=["symmetric", "asymmetric"],
)
def test_hybrid_conv_rounds_as_litert_quantizer(filter_scales, input_range):
    """LiteRT's quantizer rounds blocks of 8 values by adding 0.5 in float32 and truncating, so
    0.49999997 goes to 1 there, and to 0 (C's round) in the tail that does not fill a block."""
    geometry = Geometry(Padding.VALID, kernel=(1, 1), input_hw=(3, 3))  # 54 inputs: 48 in blocks, 6 in the tail
    model = write_tflite(_hybrid_graph(geometry, Activation.NONE, filter_scales))
    x = np.full((1, 3, 3, 6), np.float32(0.49999997), dtype=np.float32)
    x[0, 0, 0, :2] = input_range  # an input scale of exactly 1: 127/127 (symmetric), 255/255 (asymmetric)
    x[0, 2, 2, 4:] = -np.float32(0.49999997)
    theirs = litert_run(model, [x]).outputs[0]
    ours = run(read_tflite(model), [x]).outputs[0]
    np.testing.assert_array_equal(ours.view(np.uint32), theirs.view(np.uint32))


# ------------------------------------------------------------- DEPTHWISE_CONV_2D


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
@pytest.mark.parametrize("quant", QUANTS, ids=QUANT_IDS)
def test_depthwise_geometry(geometry, quant):
    index = GEOMETRIES.index(geometry)
    graph = _conv_graph(
        "DEPTHWISE_CONV_2D",
        geometry,
        quant,
        ACTIVATIONS[index % len(ACTIVATIONS)],
        seed=100 + index,
        depth_multiplier=1 + index % 3,
    )
    _check(graph)


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
@pytest.mark.parametrize("quant", QUANTS, ids=QUANT_IDS)
def test_depthwise_activation(activation, quant):
    _check(_conv_graph("DEPTHWISE_CONV_2D", GEOMETRIES[4], quant, activation, seed=21, depth_multiplier=2))


@pytest.mark.parametrize("depth_multiplier", [1, 4, 8])
@pytest.mark.parametrize(
    "quant",
    [INT8, Quant("int8", "omitted"), Quant("int16", "omitted"), Quant("float32", "omitted")],
    ids=["int8", "int8-no-bias", "16x8-no-bias", "float32-no-bias"],
)
def test_depthwise_multiplier_and_bias(depth_multiplier, quant):
    """Without a bias the operator has two inputs: TFLM's depthwise Prepare crashes on a NO_TENSOR bias."""
    geometry = Geometry(Padding.SAME, stride=(2, 2), input_hw=(7, 6))
    _check(
        _conv_graph("DEPTHWISE_CONV_2D", geometry, quant, Activation.RELU6, seed=7, depth_multiplier=depth_multiplier)
    )


@pytest.mark.parametrize("input_zero_point", [-128, 127])
def test_depthwise_input_zero_point_extremes(input_zero_point):
    graph = _conv_graph(
        "DEPTHWISE_CONV_2D", GEOMETRIES[0], INT8, Activation.NONE, seed=9, input_zero_point=input_zero_point
    )
    _check(graph)


def test_depthwise_16x8_with_int32_bias_is_refused():
    """TFLM reads a 16x8 depthwise bias as int64 whatever its type; we refuse rather than guess."""
    graph = _conv_graph("DEPTHWISE_CONV_2D", GEOMETRIES[0], INT16_INT32_BIAS, Activation.NONE, seed=1)
    with pytest.raises(UnsupportedOperatorError, match="int64 bias"):
        run(graph, [np.zeros(graph.graph_inputs[0].shape, np.int16)])
