"""The generated C of every kernel family on crafted edge shapes, built for the host under
AddressSanitizer and UndefinedBehaviorSanitizer with red zones around every arena buffer and every
constant array (`emulation.guards`), and bit for bit against the reference engine.

Edge shapes: 1x1 images, padding larger than the input, filters larger than the input with SAME
padding, dilations reaching past the input, channel counts 1 to 17, depth multipliers, single
elements; extreme requantization: scale ratios giving every shift from -31 to +30 and multipliers
near 2^31, biases at the ends of their type. Inputs: random over the whole range, then every
element at the type's minimum, then at its maximum (the largest sums of products; infinities for
floats).

The portable kernels only: a host build takes their portable path (MD_PATH_* in md_nn_support.h); the
DSP and Helium paths are held bit-exact on QEMU (tests/test_kernel_paths.py, test_dsp_kernels.py, test_mve_kernels.py).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pytest

from conftest import FLOAT_MODELS, INT8_MODELS, MODELS
from mcudeploy.codegen import render
from mcudeploy.emulation.guards import GUARD_BYTES
from mcudeploy.engine import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import Activation, Graph, Padding
from mcudeploy.ir.options import (
    ArgOptions,
    BlockSizeOptions,
    ConcatenationOptions,
    Conv2DOptions,
    CumsumOptions,
    DepthwiseConv2DOptions,
    ElementwiseOptions,
    FullyConnectedOptions,
    GatherOptions,
    LeakyReluOptions,
    MirrorPadMode,
    MirrorPadOptions,
    PackOptions,
    Pool2DOptions,
    ReducerOptions,
    ReshapeOptions,
    ResizeNearestNeighborOptions,
    SoftmaxOptions,
    SplitOptions,
    SqueezeOptions,
    StridedSliceOptions,
    UnpackOptions,
)
from mcudeploy.memory.budget import constant_layout
from mcudeploy.memory.checker import check_layout
from mcudeploy.memory.planners.guarded import plan_guarded
from mcudeploy.params.requantization import MAX_SHIFT
from mcudeploy.validation.runner import TargetResult, Validator
from test_codegen import (
    Family,
    _conv,
    _conv_size,
    _depthwise,
    _fully_connected,
    decode_family,
    detection_family,
    parity_family,
    signal_family,
)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the reference engine on infinities

TARGET = "host-sanitized"
CHANNELS = (1, 2, 3, 5, 8, 15, 16, 17)
"""Channel counts 1..17: every remainder a kernel unrolled by 2, 4 or 8 (or 16-byte vectors) can leave."""
SHIFTS = (-33, -31, -30, -17, -1, 0, 1, 7, 14, 15, 29, 30, 31)
"""Requantization shifts (real multiplier = mantissa in [0.5, 1) x 2^shift); below -31 TFLite flushes to 0."""


def _extreme_scales(count: int, shifts=SHIFTS) -> list[float]:
    """Per-channel weight scales whose multipliers (input and output scales 1) cover `shifts`, every
    other one with a mantissa just below 1 (a multiplier near 2^31)."""
    mantissas = (0.5, 1 - 2**-24)  # the largest float32 below 1: a multiplier of 2^31 - 2^7
    return [mantissas[i % 2] * 2.0 ** shifts[i % len(shifts)] for i in range(count)]


# --------------------------------------------------------------------------- families


def conv_edges() -> Graph:
    f = Family("conv_edges", 11)
    for dtype in ("int8", "int16", "float32"):
        _window_edges(f, dtype)
    return f.graph()


def _window_edges(f: Family, dtype: str) -> None:
    """Convolutions, depthwise, fully connected and pooling layers of one type at the edges."""
    same = Conv2DOptions(Padding.SAME)
    wide = "int64" if dtype == "int16" else "int32"  # 16x8: both the int64 and the int32 accumulator
    _conv(f, dtype, (1, 1, 1, 3), 4, (3, 3), same)  # 1x1 image: padding larger than the input
    _conv(f, dtype, (1, 2, 3, 5), 3, (5, 5), Conv2DOptions(Padding.SAME, 2, 1))  # filter larger than input
    _conv(f, dtype, (1, 2, 2, 4), 2, (3, 3), Conv2DOptions(Padding.SAME, dilation_h=3, dilation_w=3))
    _conv(f, dtype, (1, 3, 3, 2), 5, (1, 1), Conv2DOptions(Padding.VALID, 2, 2))  # strided 1x1
    _conv(f, dtype, (2, 5, 4, 9), 7, (3, 3), Conv2DOptions(Padding.SAME, 2, 3, activation=Activation.RELU))
    _conv(f, dtype, (1, 3, 4, 6), 4, (3, 3), Conv2DOptions(Padding.VALID), groups=2)
    for channels in CHANNELS:
        _conv(f, dtype, (1, 2, 3, channels), channels, (1, 1), Conv2DOptions(), bias=wide)
        _conv(f, dtype, (1, 3, 2, channels), 17 - channels + 1, (3, 3), same)
    _depthwise(f, dtype, (1, 1, 1, 3), 2, DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=2))
    _depthwise(f, dtype, (1, 2, 2, 5), 1, DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=1), kernel=(5, 5))
    dilated = DepthwiseConv2DOptions(Padding.SAME, dilation_h=4, dilation_w=2, depth_multiplier=1)
    _depthwise(f, dtype, (1, 3, 2, 4), 1, dilated)
    for channels, multiplier in ((1, 1), (2, 3), (3, 4), (5, 8), (8, 1), (15, 2), (16, 1), (17, 1)):
        options = DepthwiseConv2DOptions(Padding.SAME, 2, 1, depth_multiplier=multiplier)
        _depthwise(f, dtype, (1, 3, 4, channels), multiplier, options)
    _fully_connected(f, dtype, (1, 1), 1, per_channel=True)
    for depth in CHANNELS:
        _fully_connected(f, dtype, (3, depth), 18 - depth, per_channel=depth % 2 == 0, bias=wide if depth % 3 else None)
    if dtype == "float32":  # hybrid: float activations, an int8 filter with one scale, on a 1x1 image
        x, y = f.input((1, 1, 1, 3), "float32"), f.output((1, 1, 1, 4), "float32")
        w = f.constant(f.rng.integers(-127, 128, (4, 3, 3, 3)), "int8", scale=0.02)
        f.op("CONV_2D", [x, w, f.constant(f.rng.standard_normal(4), "float32")], [y], same)
    _pool_edges(f, dtype)


def _pool_edges(f: Family, dtype: str) -> None:
    scale, zero = (0.05, 3) if dtype == "int8" else (0.001, 0)
    for op_type in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        for shape, size, stride, padding in (
            ((1, 1, 1, 3), 3, 1, Padding.SAME),  # window all padding but the centre
            ((1, 2, 3, 17), 5, 2, Padding.SAME),  # window larger than the input
            ((2, 4, 4, 1), 4, 4, Padding.VALID),
            ((1, 5, 3, 16), 2, 3, Padding.SAME),
        ):
            out_h, out_w = (_conv_size(s, size, stride, 1, padding) for s in shape[1:3])
            x = f.input(shape, dtype, scale=scale, zero_point=zero)
            y = f.output((shape[0], out_h, out_w, shape[3]), dtype, scale=scale, zero_point=zero)
            f.op(op_type, [x], [y], Pool2DOptions(padding, stride, stride, size, size, Activation.RELU6))


def extreme_requantization() -> Graph:
    """Shifts from -33 (flushed to zero) to +31 and multipliers near 2^31 through each requantizing kernel."""
    f = Family("extreme_requantization", 12)
    channels = len(SHIFTS) * 2
    x = f.input((1, 3, 3, 2), scale=1.0, zero_point=-128)
    w = f.constant(f.rng.integers(-127, 128, (channels, 3, 3, 2)), "int8", scale=_extreme_scales(channels), axis=0)
    y = f.output((1, 3, 3, channels), scale=1.0, zero_point=127)
    f.op("CONV_2D", [x, w, f.bias(channels)], [y], Conv2DOptions(Padding.SAME))
    x = f.input((1, 3, 3, channels), scale=1.0, zero_point=0)
    w = f.constant(f.rng.integers(-127, 128, (1, 3, 3, channels)), "int8", scale=_extreme_scales(channels), axis=3)
    y = f.output((1, 3, 3, channels), scale=1.0, zero_point=-1)
    f.op("DEPTHWISE_CONV_2D", [x, w, f.bias(channels)], [y], DepthwiseConv2DOptions(Padding.SAME))
    x = f.input((2, 9), scale=1.0, zero_point=5)
    w = f.constant(f.rng.integers(-127, 128, (channels, 9)), "int8", scale=_extreme_scales(channels), axis=0)
    f.op("FULLY_CONNECTED", [x, w, f.bias(channels)], [f.output((2, channels), scale=1.0)], FullyConnectedOptions())
    int16_shifts = tuple(s for s in SHIFTS if s <= MAX_SHIFT[True])
    x = f.input((1, 2, 2, 3), "int16", scale=1.0, zero_point=0)
    count = len(int16_shifts) * 2
    scales = _extreme_scales(count, int16_shifts)
    w = f.constant(f.rng.integers(-127, 128, (count, 3, 3, 3)), "int8", scale=scales, axis=0)
    y = f.output((1, 2, 2, count), "int16", scale=1.0, zero_point=0)
    f.op("CONV_2D", [x, w, f.constant(f.rng.integers(-9999, 9999, count), "int64")], [y], Conv2DOptions(Padding.SAME))
    for dtype, bias_dtype in (("int8", "int32"), ("int16", "int64")):  # biases at the ends of their type
        info = np.iinfo(bias_dtype)
        biases = f.constant([info.min, info.max, info.min // 3, info.max // 5], bias_dtype)
        x = f.input((1, 2, 2, 3), dtype, scale=0.5, zero_point=0)
        w = f.constant(f.rng.integers(-127, 128, (4, 1, 1, 3)), "int8", scale=_extreme_scales(4, (-20, 0)), axis=0)
        y = f.output((1, 2, 2, 4), dtype, scale=1.0, zero_point=0)
        f.op("CONV_2D", [x, w, biases], [y], Conv2DOptions())
    for in_scale, out_scale in ((2.0**-33, 1.0), (1.0, 2.0**-29.5), (0.999999, 1e-9), (1e-5, 2.0**10)):
        for in_dtype, out_dtype in (("int8", "int8"), ("int16", "int8"), ("int8", "int16")):
            zero = -7 if in_dtype == "int8" else 0
            x = f.input((17,), in_dtype, scale=in_scale, zero_point=zero)
            f.op("QUANTIZE", [x], [f.output((17,), out_dtype, scale=out_scale, zero_point=0)])
    for first, second, out in ((1e-6, 1.0, 1.0), (1.0, 2.0**-20, 2.0**-18), (0.5, 0.5, 2.0**12)):
        for op_type in ("ADD", "SUB", "MUL"):
            for shape in ((17,), (3, 13, 17)):  # the second ADD or SUB runs the tabled path
                a, b = f.input(shape, scale=first), f.input(shape, scale=second)
                f.op(op_type, [a, b], [f.output(shape, scale=out)], ElementwiseOptions())
    for in_scale, out_scale in ((2.0**-20, 1.0), (1.0, 2.0**-20)):
        x = f.input((2, 5, 3), scale=in_scale)
        y = f.output((1, 1, 1, 3), scale=out_scale)
        f.op("MEAN", [x, f.constant([1], "int32")], [f.output((2, 3), scale=out_scale)], ReducerOptions())
        f.op("SUM", [f.input((1, 2, 2, 3), scale=in_scale), f.constant([1, 2], "int32")], [y], ReducerOptions(True))
        x = f.input((3, 4), scale=in_scale)
        f.op("LEAKY_RELU", [x], [f.output((3, 4), scale=out_scale)], LeakyReluOptions(alpha=2.0**-12))
        hard_swish_out = in_scale / 64 if in_scale < out_scale else in_scale * 2.0**20  # both ends allowed
        f.op("HARD_SWISH", [f.input((3, 4), scale=in_scale)], [f.output((3, 4), scale=hard_swish_out)])
        f.op("LOGISTIC", [f.input((5,), scale=in_scale * 64)], [f.output((5,), scale=1 / 256, zero_point=-128)])
        f.op("TANH", [f.input((5,), "int16", scale=in_scale, zero_point=0)], [f.output((5,), "int16", scale=2**-15)])
        x = f.input((2, 17), scale=in_scale * 100)
        f.op("SOFTMAX", [x], [f.output((2, 17), scale=1 / 256, zero_point=-128)], SoftmaxOptions(beta=1e3))
    return f.graph()


def elementwise_edges() -> Graph:
    f = Family("elementwise_edges", 13)
    for dtype in ("int8", "int16", "int32", "float32"):
        zero = 0 if dtype != "int8" else None
        for op_type in ("ADD", "SUB", "MUL", "SQUARED_DIFFERENCE"):
            clamped = ElementwiseOptions(activation=Activation.RELU_N1_TO_1)
            options = None if op_type == "SQUARED_DIFFERENCE" else clamped
            for first, second in (((1,), (1,)), ((1, 1, 1, 1), (1, 2, 3, 17)), ((5, 1, 16), (1, 3, 1)), ((513,), (1,))):
                a, b = f.input(first, dtype, zero_point=zero), f.input(second, dtype, zero_point=zero)
                y = f.output(np.broadcast_shapes(first, second), dtype, zero_point=zero)
                f.op(op_type, [a, b], [y], options)
    for dtype in ("int8", "int16", "float32"):
        zero = 0 if dtype == "int16" else None
        for shape in ((1,), (17,)):
            for op_type in ("RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU"):
                x, y = f.input(shape, dtype, zero_point=zero), f.output(shape, dtype, zero_point=zero)
                f.op(op_type, [x], [y], LeakyReluOptions(alpha=-3.5))
            for op_type in ("LOGISTIC", "TANH"):
                scale = 2.0**-15 if dtype == "int16" else (1 / 256 if op_type == "LOGISTIC" else 1 / 128)
                out_zero = -128 if dtype == "int8" and op_type == "LOGISTIC" else 0
                f.op(op_type, [f.input(shape, dtype, zero_point=zero)], [f.output(shape, dtype, scale, out_zero)])
            if dtype != "int16":
                f.op("HARD_SWISH", [f.input(shape, dtype)], [f.output(shape, dtype)])
    for shape in ((1, 1), (3, 1), (2, 17)):
        for out_dtype, scale, zero in (("int8", 1 / 256, -128), ("int16", 1 / 65536, -32768)):
            x = f.input(shape, "int8", scale=0.1)
            f.op("SOFTMAX", [x], [f.output(shape, out_dtype, scale=scale, zero_point=zero)], SoftmaxOptions(0.7))
        x = f.input(shape, "int16", scale=0.001, zero_point=0)
        f.op("SOFTMAX", [x], [f.output(shape, "int16", scale=1 / 32768, zero_point=0)], SoftmaxOptions())
        f.op("SOFTMAX", [f.input(shape, "float32")], [f.output(shape, "float32")], SoftmaxOptions(beta=30.0))
        for scale in (2.0**-20, 30.0):  # every difference in range; every one beyond it
            x = f.input(shape, "int8", scale=scale)
            f.op("LOG_SOFTMAX", [x], [f.output(shape, "int8", scale=1 / 16, zero_point=127)])
        f.op("LOG_SOFTMAX", [f.input(shape, "float32")], [f.output(shape, "float32")])
        for out_dtype, zero in (("int8", 127), ("int16", 0), ("uint8", 255)):
            f.op("QUANTIZE", [f.input(shape, "float32")], [f.output(shape, out_dtype, scale=1e-3, zero_point=zero)])
        for in_dtype, zero in (("int8", -128), ("int16", 0), ("uint8", 0)):
            f.op("DEQUANTIZE", [f.input(shape, in_dtype, scale=1e6, zero_point=zero)], [f.output(shape, "float32")])
    return f.graph()


def movement_edges() -> Graph:
    f = Family("movement_edges", 14)
    quant = {"scale": 0.1, "zero_point": -3}
    for dtype, q in (("int8", quant), ("int16", {"zero_point": 0}), ("float32", {})):
        paddings = f.constant([[0, 0], [3, 5], [7, 2], [0, 1]], "int32")  # padding larger than the input
        f.op("PAD", [f.input((1, 1, 1, 1), dtype, **q), paddings], [f.output((1, 9, 10, 2), dtype, **q)])
        paddings = f.constant([[2, 0], [0, 17]], "int32")
        f.op("PAD", [f.input((1, 2), dtype, **q), paddings], [f.output((3, 19), dtype, **q)])
        x = f.input((1, 1, 1, 17), dtype, **q)
        f.op("TRANSPOSE", [x, f.constant([3, 1, 0, 2], "int32")], [f.output((17, 1, 1, 1), dtype, **q)])
        x = f.input((3, 1, 2, 1), dtype, **q)
        f.op("TRANSPOSE", [x, f.constant([2, 3, 0, 1], "int32")], [f.output((2, 1, 3, 1), dtype, **q)])
        pieces = [f.input((1, width, 1), dtype, **q) for width in (1, 17, 1)]
        f.op("CONCATENATION", pieces, [f.output((1, 19, 1), dtype, **q)], ConcatenationOptions(axis=-2))
        pieces = [f.input((1,), dtype, **q) for _ in range(3)]
        f.op("PACK", pieces, [f.output((3, 1), dtype, **q)], PackOptions(3, axis=0))
        x = f.input((2, 1), dtype, **q)
        f.op("UNPACK", [x], [f.output((1,), dtype, **q) for _ in range(2)], UnpackOptions(2, axis=0))
        x = f.input((1, 17), dtype, **q)
        f.op("SPLIT", [f.constant([1], "int32"), x], [f.output((1, 17), dtype, **q)], SplitOptions(1))
        x = f.input((5, 2), dtype, **q)
        sizes, axis = f.constant([4, 1], "int32"), f.constant([0], "int32")
        outputs = [f.output((rows, 2), dtype, **q) for rows in (4, 1)]
        f.op("SPLIT_V", [x, sizes, axis], outputs, SplitOptions(2))
        x = f.input((7, 3), dtype, **q)
        bounds = [f.constant(v, "int32") for v in ([-1, 2], [-8, -4], [-3, -1])]  # backwards, past the start
        f.op("STRIDED_SLICE", [x, *bounds], [f.output((3, 3), dtype, **q)], StridedSliceOptions())
        x = f.input((1, 1, 1, 3), dtype, **q)
        size = f.constant([4, 5], "int32")
        f.op("RESIZE_NEAREST_NEIGHBOR", [x, size], [f.output((1, 4, 5, 3), dtype, **q)], ResizeNearestNeighborOptions())
        x = f.input((1, 5, 4, 2), dtype, **q)
        options = ResizeNearestNeighborOptions(half_pixel_centers=True)
        f.op("RESIZE_NEAREST_NEIGHBOR", [x, f.constant([1, 1], "int32")], [f.output((1, 1, 1, 2), dtype, **q)], options)
        x = f.input((1, 1, 1, 17), dtype, **q)
        f.op("RESHAPE", [x], [f.output((17,), dtype, **q)], ReshapeOptions((17,)))
        x = f.input((1, 17, 1), dtype, **q)
        f.op("SQUEEZE", [x], [f.output((17,), dtype, **q)], SqueezeOptions())
        f.op("EXPAND_DIMS", [f.input((1,), dtype, **q), f.constant([0], "int32")], [f.output((1, 1), dtype, **q)])
        for op_type in ("REDUCE_MAX", "REDUCE_MIN", "MEAN", "SUM"):
            if op_type.startswith("REDUCE") and dtype == "int16":  # the C library has int8 and float ones
                continue
            axes = f.constant([0, 1, 2, 3], "int32")
            x = f.input((1, 1, 1, 17), dtype, **q)
            f.op(op_type, [x, axes], [f.output((1, 1, 1, 1), dtype, **q)], ReducerOptions(keep_dims=True))
            x = f.input((2, 1, 3), dtype, **q)
            f.op(op_type, [x, f.constant([-2], "int32")], [f.output((2, 3), dtype, **q)], ReducerOptions())
    f.op("SHAPE", [f.input((1, 1, 17), **quant)], [f.output((3,), "int32", scale=1.0, zero_point=0)])
    f.op("FILL", [f.constant([1], "int32"), f.input((), "float32")], [f.output((1,), "float32")])
    f.op("FILL", [f.constant([17, 1], "int64"), f.input((), **quant)], [f.output((17, 1), **quant)])
    padv2 = [f.input((1, 1), "float32"), f.constant([[3, 4], [0, 2]], "int32"), f.constant([-7.5], "float32")]
    f.op("PADV2", padv2, [f.output((8, 3), "float32")])
    return f.graph()


def rearrange_edges() -> Graph:
    """Single elements, axes of size 1, the last index of an axis, blocks all padding, NaN-free
    extremes for ARG_MAX/MIN (the extreme inputs: every value equal, the first index wins)."""
    f = Family("rearrange_edges", 17)
    for dtype, q in (("int8", {"scale": 0.1, "zero_point": 127}), ("float32", {})):
        x = f.input((1, 17), dtype, **q)
        f.op("SLICE", [x, f.constant([0, 16], "int32"), f.constant([1, -1], "int32")], [f.output((1, 1), dtype, **q)])
        f.op("REVERSE_V2", [f.input((1,), dtype, **q), f.constant([0], "int32")], [f.output((1,), dtype, **q)])
        x = f.input((1,), dtype, **q)
        f.op("BROADCAST_TO", [x, f.constant([17, 1, 3], "int32")], [f.output((17, 1, 3), dtype, **q)])
        f.op(
            "SPACE_TO_DEPTH",
            [f.input((1, 1, 1, 17), dtype, **q)],
            [f.output((1, 1, 1, 17), dtype, **q)],
            BlockSizeOptions(1),
        )
        f.op(
            "DEPTH_TO_SPACE",
            [f.input((1, 1, 1, 9), dtype, **q)],
            [f.output((1, 3, 3, 1), dtype, **q)],
            BlockSizeOptions(3),
        )
        paddings = f.constant([[1, 1], [0, 17]], "int32")
        options = MirrorPadOptions(MirrorPadMode.SYMMETRIC)
        f.op("MIRROR_PAD", [f.input((1, 17), dtype, **q), paddings], [f.output((3, 34), dtype, **q)], options)
        block, pads = f.constant([3, 1], "int32"), f.constant([[1, 1], [0, 0]], "int32")  # some blocks all padding
        f.op(
            "SPACE_TO_BATCH_ND", [f.input((1, 1, 1, 2), dtype, **q), block, pads], [f.output((3, 1, 1, 2), dtype, **q)]
        )
        crops = f.constant([[2, 0], [0, 0]], "int32")  # a whole row of blocks cropped
        f.op(
            "BATCH_TO_SPACE_ND", [f.input((3, 1, 1, 2), dtype, **q), block, crops], [f.output((1, 1, 1, 2), dtype, **q)]
        )
        x = f.input((1, 17, 1), dtype, **q)
        f.op("GATHER", [x, f.constant([16, 0, 16], "int32")], [f.output((1, 3, 1), dtype, **q)], GatherOptions(axis=1))
        f.op("GATHER_ND", [f.input((17,), dtype, **q), f.constant([[16]], "int32")], [f.output((1,), dtype, **q)])
        for op_type in ("ARG_MAX", "ARG_MIN"):
            x = f.input((17, 1), dtype, **q)
            f.op(op_type, [x, f.constant([0], "int32")], [f.output((1,), "int32", zero_point=0)], ArgOptions())
            f.op(
                op_type,
                [f.input((1,), dtype, **q), f.constant([0], "int32")],
                [f.output((), "int32", zero_point=0)],
                ArgOptions(),
            )
        many = [f.input((17,), dtype, **q) for _ in range(7)]  # the extremes summed 7 times
        f.op("ADD_N", many, [f.output((17,), dtype, **q)])
        x = f.input((17, 1), dtype, **q)
        f.op("CUMSUM", [x, f.constant([0], "int32")], [f.output((17, 1), dtype, **q)], CumsumOptions(True, True))
        x = f.input((1,), dtype, **q)
        f.op("CUMSUM", [x, f.constant([0], "int32")], [f.output((1,), dtype, **q)], CumsumOptions())
        x = f.input((40, 1), dtype, **q)  # 40 lowest int8 values: the int32 sum wraps
        f.op("CUMSUM", [x, f.constant([0], "int32")], [f.output((40, 1), dtype, **q)], CumsumOptions())
        rows = f.input((17, 1), dtype, scale=0.5, zero_point=0)
        quant_rows = {"scale": 0.5, "zero_point": 0} if dtype == "int8" else {}
        f.op("EMBEDDING_LOOKUP", [f.constant([16], "int32"), rows], [f.output((1, 1), dtype, **quant_rows)])
        x, update, starts = f.input((17, 1), dtype, **q), f.input((1, 1), dtype, **q), f.input((2,), "int64")
        f.op("DYNAMIC_UPDATE_SLICE", [x, update, starts], [f.output((17, 1), dtype, **q)])
    rows = f.input((1, 17), "int8", scale=2.0**-20, zero_point=0)
    f.op("EMBEDDING_LOOKUP", [f.constant([0, 0], "int32"), rows], [f.output((2, 17), "float32")])
    f.op("ZEROS_LIKE", [f.input((1,), "int64")], [f.output((1,), "int64", zero_point=0)])
    shapes = [f.constant([17], "int64"), f.constant([1, 1, 1], "int64")]
    f.op("BROADCAST_ARGS", shapes, [f.output((3,), "int64", zero_point=0)])
    return f.graph()


def compare_edges() -> Graph:
    """Single elements and broadcasts of every comparison type; int8 inputs at the extreme zero
    points with scales just below 1 (the largest scaled operand: 255 << 8)."""
    f = Family("compare_edges", 15)
    near_one = 1 - 2**-24
    for op_type in ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"):
        for first, second in (((1,), (1,)), ((1, 1, 1, 1), (1, 2, 3, 17))):
            a, b = f.input(first, "int8", near_one, 127), f.input(second, "int8", 2.0**-20, -128)
            f.op(op_type, [a, b], [f.output(np.broadcast_shapes(first, second), "bool")])
        for dtype in ("int32", "float32", "bool"):
            if dtype != "bool" or op_type in ("EQUAL", "NOT_EQUAL"):
                f.op(op_type, [f.input((5, 1, 16), dtype), f.input((1, 3, 1), dtype)], [f.output((5, 3, 16), "bool")])
    for op_type in ("MAXIMUM", "MINIMUM"):
        for dtype in ("int8", "int16", "int32", "float32"):
            a, b = f.input((1,), dtype, zero_point=0), f.input((2, 17), dtype, zero_point=0)
            f.op(op_type, [a, b], [f.output((2, 17), dtype, zero_point=0)])
    for op_type in ("LOGICAL_AND", "LOGICAL_OR"):
        f.op(op_type, [f.input((1,), "bool"), f.input((3, 17), "bool")], [f.output((3, 17), "bool")])
    f.op("LOGICAL_NOT", [f.input((1,), "bool")], [f.output((1,), "bool")])
    for dtype in ("int8", "int16", "float32"):
        inputs = [f.input((1,), "bool"), f.input((2, 1, 17), dtype, zero_point=0), f.input((3, 1), dtype, zero_point=0)]
        f.op("SELECT_V2", inputs, [f.output((2, 3, 17), dtype, zero_point=0)])
    for op_type in ("ABS", "NEG", "SIN", "COS", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "FLOOR", "CEIL", "ROUND"):
        f.op(op_type, [f.input((1,), "float32")], [f.output((1,), "float32")])
    for scales in ((2.0**-20, 1.0), (0.9, 2.0**-20)):  # output multipliers far below and above 1
        f.op("RSQRT", [f.input((17,), "int8", scales[0], -128)], [f.output((17,), "int8", scales[1], 0)])
    for source, target in (("float32", "int8"), ("float32", "int32"), ("int32", "int8"), ("int16", "float32")):
        f.op("CAST", [f.input((3,), source, zero_point=0)], [f.output((3,), target, zero_point=0)])
    for dtype, scales, zero_points in (("int8", (0.02, 0.5), (127, -128)), ("int16", (1.0, 2.0**-15), (0, 0))):
        x = f.input((17,), dtype, scales[0], zero_points[0])  # the largest magnitude, scaled up 2^15 times
        f.op("ABS", [x], [f.output((17,), dtype, scales[1], zero_points[1])])
    return f.graph()


FAMILIES: dict[str, Callable[[], Graph]] = {
    "conv": conv_edges,
    "compare": compare_edges,
    "extreme_requantization": extreme_requantization,
    "elementwise": elementwise_edges,
    "movement": movement_edges,
    "rearrange": rearrange_edges,
    "parity": parity_family,  # issue 11's operators (tests/test_codegen.py): zero divisors at the extremes
    "signal": signal_family,  # TFLM's audio front end (tests/test_codegen.py): -32768 frames, full-range energies
    # TFLite_Detection_PostProcess (tests/test_codegen.py): scores of -inf (nothing kept), +inf (all tied)
    "detection": lambda: detection_family(constant_encodings=True),
    "decode": decode_family,  # TFLM_DECODE (tests/test_codegen.py): every decode type
}
RUNS: dict[str, tuple[str, str]] = {
    **{name: (name, "mcudeploy") for name in FAMILIES},
    "conv_without_scratch": ("conv", "tflm"),
}
"""Each run: a family and the planner whose scratch buffers the guarded plan reserves (TFLite Micro's
plan has none for our kernels: the convolutions then read straight from the input, depthwise streams)."""


# --------------------------------------------------------------------------- runs


def input_sets(graph: Graph) -> list[list[np.ndarray]]:
    """Random values, then every input at its type's lowest value, then at its highest (for floats,
    infinities: every float-to-integer conversion must clamp first)."""
    sets = [random_inputs(graph, 0)]
    for extreme in ("min", "max"):
        sets.append([np.full(t.shape, _extreme(t.dtype.numpy, extreme), t.dtype.numpy) for t in graph.graph_inputs])
    return sets


def _extreme(dtype: np.dtype, end: str) -> float:
    if dtype == np.bool_:
        return end == "max"
    if np.issubdtype(dtype, np.floating):
        return -np.inf if end == "min" else np.inf
    return getattr(np.iinfo(dtype), end)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[dict[str, Future[tuple[Validator, TargetResult]]]]:
    """Each family built once, guarded, for the sanitized host and run on its input sets; all
    families in parallel (building dominates)."""
    root = tmp_path_factory.mktemp("sanitizers")

    def run(name: str) -> tuple[Validator, TargetResult]:
        family, planner = RUNS[name]
        validator = Validator(FAMILIES[family](), planner, root / name, guard_bytes=GUARD_BYTES)
        return validator, validator.validate_target(TARGET, input_sets(validator.graph))

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run, name) for name in RUNS}
        yield futures
        for future in futures.values():
            if future.exception() is None:
                future.result()[0].close()


@pytest.mark.parametrize("run", RUNS)
def test_family_is_clean_and_bit_exact_under_sanitizers(runs, run):
    _, result = runs[run].result()
    assert [r.divergence for r in result.inputs if not r.agrees] == []


def test_every_emitter_is_exercised():
    from mcudeploy.codegen.layers import EMITTERS
    from mcudeploy.ir.options import CONTROL_FLOW_OPTIONS
    from test_codegen import recurrent_family

    tested = {op.op_type for family in FAMILIES.values() for op in family().operators}
    # stateful operators run several invocations per program: test_codegen's sanitized recurrent family
    tested |= {op.op_type for op in recurrent_family().operators}
    tested |= set(CONTROL_FLOW_OPTIONS)  # on the guarded plan: tests/test_codegen_control_flow.py
    assert set(EMITTERS) - tested == {"ethos-u"}  # the NPU's custom operator: no C kernel to sanitize


def test_scratch_free_kernels_are_exercised(runs):
    """With our planner's scratch convolutions use it (those whose contract asks for it); without,
    none has any."""
    calls = r"md_conv_s8(?:_folded)?\(\s*&params,[^;]*,\s*(NULL|NET_TENSOR\(int16_t, NET_ARENA_\w+\))\);"
    for name, scratch in (("conv", True), ("conv_without_scratch", False)):
        validator, _ = runs[name].result()
        network = (validator.code_for(TARGET).directory / "network.c").read_text()
        uses = {call != "NULL" for call in re.findall(calls, network)}
        assert True in uses if scratch else uses == {False}


def test_every_buffer_and_constant_array_is_guarded(runs):
    """No two arena buffers share a byte, each has GUARD_BYTES poisoned on both sides, and so does
    every constant array."""
    validator, _ = runs["conv"].result()
    spans = sorted((b.offset, b.end) for b in validator.plan.buffers if b.alias_of is None)
    gaps = [spans[0][0]] + [start - end for (_, end), (start, _) in itertools.pairwise(spans)]
    gaps.append(validator.plan.arena_bytes - spans[-1][1])
    assert min(gaps) >= GUARD_BYTES
    harness = (validator.workdir / f"build-{TARGET}" / "harness.c").read_text()
    assert harness.count("ASAN_POISON_MEMORY_REGION(net_arena") == len(spans) + 1
    arrays = [a for a in constant_layout(validator.graph, validator.plan.alignment, GUARD_BYTES).arrays if a.count]
    assert harness.count("ASAN_POISON_MEMORY_REGION((const uint8_t *)&net_weights") == len(arrays)


@pytest.mark.parametrize("model", [INT8_MODELS[0], INT8_MODELS[2], FLOAT_MODELS[0]])
def test_guarded_plan_is_a_valid_plan(model):
    """The plan checker accepts the guarded plan of real models (aliases, scratch and all)."""
    graph = read_tflite(MODELS / model)
    assert check_layout(graph, plan_guarded(graph)) == []


def _one_layer(op_type: str, dtype: str, weight_scale: float, out_scale: float) -> Graph:
    f = Family(f"one_{op_type.lower()}", 0)
    if op_type == "ADD":
        f.op("ADD", [f.input((4,), scale=1.0), f.input((4,), scale=1.0)], [f.output((4,), scale=out_scale)])
        return f.graph()
    bias_dtype = "int64" if dtype == "int16" else "int32"
    x = f.input((1, 2, 2, 3), dtype, scale=1.0, zero_point=0)
    w = f.constant(np.ones((2, 1, 1, 3)), "int8", scale=[weight_scale, 0.5], axis=0)
    y = f.output((1, 2, 2, 2), dtype, scale=out_scale, zero_point=0)
    f.op("CONV_2D", [x, w, f.bias(2, bias_dtype)], [y], Conv2DOptions())
    return f.graph()


@pytest.mark.parametrize(
    ("op_type", "dtype", "weight_scale", "out_scale", "reason"),
    [
        ("CONV_2D", "int8", 2.0**31, 1.0, r"2\^31 or more; the requantization takes less than 2\^31"),
        ("CONV_2D", "int16", 2.0**14, 1.0, r"2\^14 or more; the requantization takes less than 2\^14"),
        ("ADD", "int8", 1.0, 2.0**-30, r"output scale 9.3\d*e-10 is below 2\^-20 x twice the larger input scale"),
    ],
)
def test_requantization_out_of_range_is_refused_in_one_line(op_type, dtype, weight_scale, out_scale, reason):
    """What the kernels cannot compute without undefined behaviour never becomes C."""
    graph = _one_layer(op_type, dtype, weight_scale, out_scale)
    with pytest.raises(UnsupportedOperatorError, match=reason) as error:
        render(graph, plan_guarded(graph))
    assert "\n" not in str(error.value)
    with pytest.raises(UnsupportedOperatorError, match=reason):
        run(graph, random_inputs(graph, 0))
