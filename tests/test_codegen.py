"""The generated C against the reference engine, on the host: every real model and every operator
family, bit for bit (int) or within 1e-5 relative (float), every intermediate tensor through the
layer hook; AddressSanitizer and UndefinedBehaviorSanitizer; byte-identical regeneration; the
kernel library warning-free for host gcc and, when installed, arm-none-eabi-gcc per Cortex-M core.

Each project is compiled once (all of them in parallel, on a module fixture) and then run per input.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from conftest import FLOAT_MODELS, INT8_MODELS, MODELS
from mcudeploy.analysis.coverage import variable_bytes
from mcudeploy.codegen import generate, render
from mcudeploy.codegen.library import INCLUDE_DIR, library_files, library_root, library_text
from mcudeploy.codegen.names import tensor_identifier, unique_names
from mcudeploy.devices import CORES
from mcudeploy.emulation.harness import (
    EXIT_NETWORK_ERROR_BASE,
    HarnessRun,
    build_harness,
    generate_project,
    run_harness_steps,
)
from mcudeploy.emulation.targets import HOST, HOST_SANITIZED, Target, get_target
from mcudeploy.engine import Engine
from mcudeploy.engine.ops.activations import SIGMOID_TABLE_UINT16
from mcudeploy.engine.ops.softmax import int16_luts
from mcudeploy.errors import McuDeployError, UnsupportedOperatorError
from mcudeploy.files import MANIFEST
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import NO_TENSOR, Activation, Graph, GraphBuilder, Padding
from mcudeploy.ir.options import (
    ArgOptions,
    BatchMatMulOptions,
    BlockSizeOptions,
    ConcatenationOptions,
    Conv2DOptions,
    CumsumOptions,
    CustomOptions,
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
    ResizeBilinearOptions,
    ResizeNearestNeighborOptions,
    SequenceLSTMOptions,
    SoftmaxOptions,
    SplitOptions,
    SqueezeOptions,
    StridedSliceOptions,
    SVDFOptions,
    TransposeConvOptions,
    UnpackOptions,
    VarHandleOptions,
)
from mcudeploy.ir.shapes import DECODE, DETECTION_POSTPROCESS
from mcudeploy.memory import plan_memory

SEEDS = (0, 1, 2)
FLOAT_RTOL = 1e-5
C_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror")
COMPILED_CORES = [core for core in CORES if core.cflags]

# --------------------------------------------------------------------------- the test program


@dataclass(frozen=True)
class Program:
    """A generated project built into the one build-and-run harness (emulation/harness.py), on
    the host: every layer's output dumped, `invocations` inferences after one init."""

    graph: Graph
    elf: Path
    target: Target
    invocations: int = 1

    def run(self, input_sets: list[list[np.ndarray]]) -> HarnessRun:
        folder = Path(tempfile.mkdtemp(prefix="run-", dir=self.elf.parent))
        return run_harness_steps(self.graph, self.target, self.elf, input_sets, folder, check=False)


def build(
    graph: Graph,
    folder: Path,
    sanitized: bool = True,
    planner: str = "mcudeploy",
    invocations: int = 1,
    target_name: str | None = None,
) -> Program:
    """Every program but three is built for the host with the sanitizers: each run checks
    bit-exactness and that no input makes an out-of-bounds access or undefined behaviour at once."""
    target = get_target(target_name or (HOST_SANITIZED if sanitized else HOST))
    code = generate_project(graph, plan_memory(graph, planner=planner), target, folder / "project")
    elf = build_harness(graph, code, target, folder, dump=True, steps=invocations)
    return Program(graph, elf, target, invocations)


def assert_matches_engine(program: Program, inputs: list[np.ndarray]) -> None:
    """Every layer output the hook saw and every graph output equal the engine's."""
    assert_invocations_match_engine(program, [inputs] * program.invocations)


def assert_invocations_match_engine(
    program: Program, input_sets: list[list[np.ndarray]], float_atol: float = 0.0
) -> None:
    """The same, invocation after invocation of one program and one engine (state carries over)."""
    run = program.run(input_sets)
    assert run.program.exit_code == 0, run.program.stderr[-3000:]
    engine = Engine(program.graph)
    graph = program.graph
    written = {i for op in graph.operators for i in op.outputs if graph.tensors[i].lives_in_arena}
    assert len(run.steps) == len(input_sets)
    for step, (inputs, seen) in enumerate(zip(input_sets, run.steps, strict=True)):
        expected = engine.run(inputs)
        assert seen.waiting_at == expected.waiting_at, f"invocation {step}: ended waiting at {seen.waiting_at}"
        produced = {i for i in written if expected.produced(graph, i)}  # an abort skips the layers after it
        hooked = set(seen.layer_tensors)
        assert hooked == produced, f"layer hook saw tensors {sorted(hooked)}, layers produce {sorted(produced)}"
        compared = [
            (f"tensor {i} '{graph.tensors[i].name}'", got, expected.tensors[i]) for i, got in seen.layer_tensors.items()
        ]
        compared += [
            (f"output {i}", got, expected.outputs[i])
            for i, got in enumerate(seen.outputs)
            if expected.produced(graph, graph.outputs[i])
        ]
        for what, got, reference in compared:
            where = f"invocation {step}, {what}"
            if reference.dtype.kind == "f":
                np.testing.assert_allclose(got, reference, rtol=FLOAT_RTOL, atol=float_atol, err_msg=where)
            else:
                np.testing.assert_array_equal(got, reference, err_msg=where)


# --------------------------------------------------------------------------- real models

REAL_MODELS = INT8_MODELS + FLOAT_MODELS


@cache
def real_graph(model: str) -> Graph:
    return read_tflite(MODELS / model)


@pytest.fixture(scope="module")
def programs(tmp_path_factory) -> Iterator[dict[tuple[str, str], Future[Program]]]:
    """Every project compiled once, in parallel, with the sanitizers: each run checks bit-exactness
    and undefined behaviour at once. A test waits for its own program, so a build failure shows
    in the tests that need it."""
    root = tmp_path_factory.mktemp("codegen")
    jobs: dict[tuple[str, str], Callable[[], Program]] = {}
    for number, model in enumerate(REAL_MODELS):
        jobs[(model, "model")] = lambda m=model, f=root / f"model-{number}": build(real_graph(m), f)
    jobs[(INT8_MODELS[0], "tflm")] = lambda: build(real_graph(INT8_MODELS[0]), root / "tflm", False, "tflm")
    for name, family in FAMILIES.items():
        jobs[(name, "family")] = lambda n=name, f=family: build(
            f(), root / f"family-{n}", invocations=FAMILY_INVOCATIONS.get(n, 1)
        )
    for name in WITHOUT_SCRATCH:
        jobs[(name, "tflm")] = lambda n=name: build(FAMILIES[n](), root / f"tflm-{n}", planner="tflm")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        yield {key: pool.submit(job) for key, job in jobs.items()}


@pytest.mark.parametrize("model", REAL_MODELS)
def test_real_model_matches_engine_under_sanitizers(programs, model):
    program = programs[(model, "model")].result()
    for seed in SEEDS:
        assert_matches_engine(program, random_inputs(program.graph, seed))


def test_tflm_planner_arena(programs):
    """A plan without in-place sharing (TFLite Micro's) places tensors elsewhere: same results."""
    program = programs[(INT8_MODELS[0], "tflm")].result()
    assert_matches_engine(program, random_inputs(program.graph, 0))


# --------------------------------------------------------------------------- operator families


class Family:
    """Independent one-operator layers side by side in one graph: each reads its own graph inputs
    and writes its own graph output, so one compiled program checks many kernels."""

    def __init__(self, name: str, seed: int) -> None:
        self.builder = GraphBuilder(name)
        self.rng = np.random.default_rng(seed)
        self.inputs: list[int] = []
        self.outputs: list[int] = []

    def input(self, shape, dtype: str = "int8", scale: float | None = None, zero_point: int | None = None) -> int:
        index = self._tensor(shape, dtype, scale, zero_point)
        self.inputs.append(index)
        return index

    def output(self, shape, dtype: str = "int8", scale: float | None = None, zero_point: int | None = None) -> int:
        index = self._tensor(shape, dtype, scale, zero_point)
        self.outputs.append(index)
        return index

    def output_plain(self, shape, dtype: str) -> int:
        """An output without quantization."""
        index = self.builder.tensor(shape, dtype)
        self.outputs.append(index)
        return index

    def constant(self, values, dtype: str, **quantization) -> int:
        array = np.asarray(values)
        return self.builder.tensor(array.shape, dtype, data=array, **quantization)

    def weights(self, shape, axis: int | None = None) -> int:
        """Random int8 weights, per-channel scales along `axis` (per tensor when None)."""
        values = self.rng.integers(-127, 128, shape)
        if axis is None:
            return self.constant(values, "int8", scale=0.01)
        return self.constant(values, "int8", scale=list(self.rng.uniform(0.002, 0.02, shape[axis])), axis=axis)

    def bias(self, count: int, dtype: str = "int32") -> int:
        return self.constant(self.rng.integers(-3000, 3000, count), dtype)

    def op(self, op_type: str, inputs, outputs, options=None) -> None:
        self.builder.op(op_type, inputs, outputs, options)

    def graph(self) -> Graph:
        return self.builder.build(self.inputs, self.outputs)

    def _tensor(self, shape, dtype: str, scale: float | None, zero_point: int | None) -> int:
        if dtype in ("float32", "bool"):
            return self.builder.tensor(shape, dtype)
        if scale is None:
            scale = float(self.rng.uniform(0.01, 0.1))
        if zero_point is None:
            zero_point = int(self.rng.integers(-20, 20)) if dtype == "int8" else 0
        return self.builder.tensor(shape, dtype, scale=scale, zero_point=zero_point)


def _conv_size(size: int, kernel: int, stride: int, dilation: int, padding: Padding) -> int:
    effective = (kernel - 1) * dilation + 1
    return (size + stride - 1) // stride if padding == Padding.SAME else (size - effective) // stride + 1


def _conv(
    f: Family, dtype: str, shape, filters: int, kernel, options: Conv2DOptions, groups=1, bias="int32", out_scale=None
):
    batch, height, width, channels = shape
    out_h = _conv_size(height, kernel[0], options.stride_h, options.dilation_h, options.padding)
    out_w = _conv_size(width, kernel[1], options.stride_w, options.dilation_w, options.padding)
    x = f.input(shape, dtype)
    if dtype == "float32":
        w = f.constant(f.rng.standard_normal((filters, *kernel, channels // groups)), "float32")
        b = f.constant(f.rng.standard_normal(filters), "float32")
    else:
        w = f.weights((filters, *kernel, channels // groups), axis=0)
        b = f.bias(filters, bias) if bias else NO_TENSOR
    y = f.output((batch, out_h, out_w, filters), dtype, scale=out_scale or (0.5 if dtype == "int8" else 0.05))
    f.op("CONV_2D", [x, w, b], [y], options)


def _depthwise(
    f: Family,
    dtype: str,
    shape,
    multiplier: int,
    options: DepthwiseConv2DOptions,
    bias="int32",
    kernel=(3, 3),
    out_scale=None,
):
    batch, height, width, channels = shape
    out_h = _conv_size(height, kernel[0], options.stride_h, options.dilation_h, options.padding)
    out_w = _conv_size(width, kernel[1], options.stride_w, options.dilation_w, options.padding)
    x = f.input(shape, dtype)
    if dtype == "float32":
        w = f.constant(f.rng.standard_normal((1, *kernel, channels * multiplier)), "float32")
        b = f.constant(f.rng.standard_normal(channels * multiplier), "float32")
    else:
        w = f.weights((1, *kernel, channels * multiplier), axis=3)
        b = f.bias(channels * multiplier, "int64" if dtype == "int16" else bias) if bias else NO_TENSOR
    scale = out_scale or (0.3 if dtype == "int8" else 0.02)
    y = f.output((batch, out_h, out_w, channels * multiplier), dtype, scale=scale)
    f.op("DEPTHWISE_CONV_2D", [x, w, b], [y], options)


def _fully_connected(f: Family, dtype: str, shape, units: int, per_channel: bool, bias="int32", keep=False):
    depth = shape[-1]
    x = f.input(shape, dtype)
    if dtype == "float32":
        w = f.constant(f.rng.standard_normal((units, depth)), "float32")
        b = f.constant(f.rng.standard_normal(units), "float32")
    else:
        w = f.weights((units, depth), axis=0 if per_channel else None)
        b = f.bias(units, bias) if bias else NO_TENSOR
    out_shape = (*shape[:-1], units) if keep else (math.prod(shape[:-1]), units)
    y = f.output(out_shape, dtype, scale=0.5 if dtype == "int8" else 0.05)
    f.op("FULLY_CONNECTED", [x, w, b], [y], FullyConnectedOptions(Activation.RELU, keep_num_dims=keep))


def _transpose_conv(f: Family, dtype: str, shape, filters: int, out_hw, kernel, options, bias=True):
    x = f.input(shape, dtype)
    if dtype == "float32":
        w = f.constant(f.rng.standard_normal((filters, *kernel, shape[3])), "float32")
        b = f.constant(f.rng.standard_normal(filters), "float32") if bias else NO_TENSOR
    else:
        w = f.weights((filters, *kernel, shape[3]), axis=0)
        b = f.bias(filters, "int64" if dtype == "int16" else "int32") if bias else NO_TENSOR
    out_shape = (shape[0], *out_hw, filters)
    y = f.output(out_shape, dtype, scale=0.5 if dtype == "int8" else 0.05)
    f.op("TRANSPOSE_CONV", [f.constant(out_shape, "int32"), w, x, b], [y], options)


def _pools(f: Family, dtype: str) -> None:
    shape = (2, 7, 9, 3)
    for op_type, padding, size, stride, activation in (
        ("AVERAGE_POOL_2D", Padding.SAME, 3, 2, Activation.NONE),
        ("MAX_POOL_2D", Padding.VALID, 2, 2, Activation.RELU),
        ("AVERAGE_POOL_2D", Padding.VALID, 3, 1, Activation.RELU6),
        ("MAX_POOL_2D", Padding.SAME, 3, 1, Activation.NONE),
    ):
        out_h, out_w = (_conv_size(s, size, stride, 1, padding) for s in shape[1:3])
        scale = 0.05 if dtype == "int8" else 0.001
        x = f.input(shape, dtype, scale=scale)
        y = f.output((shape[0], out_h, out_w, shape[3]), dtype, scale=scale, zero_point=0 if dtype != "int8" else 3)
        f.op(op_type, [x], [y], Pool2DOptions(padding, stride, stride, size, size, activation))


def conv_family(dtype: str) -> Callable[[], Graph]:
    def family() -> Graph:
        f = Family(f"conv_{dtype}", 1)
        same = Conv2DOptions(Padding.SAME, 2, 2, activation=Activation.RELU6)
        _conv(f, dtype, (1, 9, 11, 4), 6, (3, 3), same)
        _conv(f, dtype, (1, 7, 7, 6), 4, (3, 3), Conv2DOptions(Padding.VALID, dilation_h=2, dilation_w=2), groups=2)
        _conv(f, dtype, (2, 4, 5, 8), 3, (1, 1), Conv2DOptions(), bias="int64" if dtype == "int16" else None)
        _conv(f, dtype, (1, 6, 5, 3), 5, (2, 3), Conv2DOptions(Padding.SAME, 1, 2, activation=Activation.RELU))
        _depthwise(f, dtype, (1, 6, 7, 3), 2, DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=2))
        _depthwise(f, dtype, (1, 8, 8, 5), 1, DepthwiseConv2DOptions(Padding.VALID, 2, 2, depth_multiplier=1))
        _depthwise(f, dtype, (1, 4, 4, 1), 20, DepthwiseConv2DOptions(Padding.SAME, depth_multiplier=20))
        _depthwise(
            f,
            dtype,
            (2, 9, 6, 4),
            1,
            DepthwiseConv2DOptions(Padding.SAME, dilation_h=2, depth_multiplier=1, activation=Activation.RELU6),
            bias=None,
        )
        _fully_connected(f, dtype, (2, 3, 10), 5, per_channel=False, keep=True)
        _fully_connected(f, dtype, (1, 24), 7, per_channel=True, bias="int64" if dtype == "int16" else None)
        _pools(f, dtype)
        if dtype == "int16":  # 16x8 convolution with an int32 bias: int32 accumulator
            _conv(f, dtype, (1, 5, 5, 3), 4, (3, 3), Conv2DOptions(Padding.SAME), bias="int32")
        if dtype == "float32":  # hybrid: float activations, int8 filter with one scale
            x = f.input((1, 6, 5, 3), "float32")
            w = f.constant(f.rng.integers(-127, 128, (4, 3, 3, 3)), "int8", scale=0.02)
            y = f.output((1, 6, 5, 4), "float32")
            f.op("CONV_2D", [x, w, f.constant(f.rng.standard_normal(4), "float32")], [y], Conv2DOptions(Padding.SAME))
        return f.graph()

    return family


def elementwise_family() -> Graph:
    f = Family("elementwise", 2)
    cases = [
        ("ADD", "int8", (1, 4, 5, 3), (3,), Activation.NONE),
        ("SUB", "int8", (2, 3), (1,), Activation.RELU),
        ("MUL", "int8", (4, 1, 5), (1, 6, 1), Activation.RELU6),
        ("ADD", "int8", (2, 1, 3, 1), (1, 4, 1, 5), Activation.RELU_N1_TO_1),
        ("ADD", "int8", (3, 13, 17), (3, 13, 17), Activation.NONE),  # 512 elements or more: the table path
        ("SUB", "int8", (601,), (601,), Activation.RELU_N1_TO_1),
        ("ADD", "int8", (8, 64), (8, 64), Activation.RELU),  # tables, whole vectors only (no tail)
        ("SUB", "int8", (64, 2, 5), (64, 1, 5), Activation.NONE),  # tables, rows of 5: a vector and a tail
        ("ADD", "int16", (3, 4, 5), (3, 4, 5), Activation.NONE),
        ("SUB", "int16", (3, 4), (4,), Activation.RELU),
        ("MUL", "int16", (2, 3, 4), (2, 3, 4), Activation.NONE),
        ("SUB", "int32", (3, 4), (3, 4), Activation.RELU6),
        ("ADD", "int32", (5,), (1,), Activation.RELU),
        ("MUL", "int32", (2, 3), (3,), Activation.NONE),
        ("ADD", "float32", (1, 2, 3, 4, 5), (2, 1, 4, 1), Activation.NONE),
        ("MUL", "float32", (4, 5), (4, 5), Activation.RELU6),
        ("SUB", "float32", (3, 1), (1, 6), Activation.RELU_N1_TO_1),
    ]
    for op_type, dtype, first, second, activation in cases:
        zero = 0 if dtype != "int8" else None
        a, b = f.input(first, dtype, zero_point=zero), f.input(second, dtype, zero_point=zero)
        y = f.output(np.broadcast_shapes(first, second), dtype, zero_point=zero)
        f.op(op_type, [a, b], [y], ElementwiseOptions(activation=activation))
    for dtype, first, second in (("int8", (2, 3, 4), (4,)), ("int16", (5,), (5,)), ("int32", (3, 1), (1, 4))):
        zero = 0 if dtype != "int8" else None
        a, b = f.input(first, dtype, zero_point=zero), f.input(second, dtype, zero_point=zero)
        f.op("SQUARED_DIFFERENCE", [a, b], [f.output(np.broadcast_shapes(first, second), dtype, zero_point=zero)])
    f.op("SQUARED_DIFFERENCE", [f.input((4, 5), "float32"), f.input((1,), "float32")], [f.output((4, 5), "float32")])
    return f.graph()


def activations_family() -> Graph:
    f = Family("activations", 3)
    shape = (2, 5, 7)
    for dtype in ("int8", "int16", "float32"):
        for op_type in ("RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU"):
            zero = 0 if dtype == "int16" else None
            x, y = f.input(shape, dtype, zero_point=zero), f.output(shape, dtype, zero_point=zero)
            f.op(op_type, [x], [y], LeakyReluOptions(alpha=-0.3 if dtype == "int16" else 0.2))
        if dtype != "int16":
            x, y = f.input(shape, dtype, scale=0.05), f.output(shape, dtype, scale=0.03)
            f.op("HARD_SWISH", [x], [y])
    for op_type, scale, zero in (("LOGISTIC", 1 / 256, -128), ("TANH", 1 / 128, 0)):
        f.op(op_type, [f.input(shape, "int8", scale=0.06)], [f.output(shape, "int8", scale=scale, zero_point=zero)])
        x = f.input(shape, "int16", scale=0.0004, zero_point=0)
        f.op(op_type, [x], [f.output(shape, "int16", scale=2**-15, zero_point=0)])
        x = f.input(shape, "int16", scale=2**-12, zero_point=0)  # a power-of-two scale: the exact multiplier
        f.op(op_type, [x], [f.output(shape, "int16", scale=2**-15, zero_point=0)])
        f.op(op_type, [f.input(shape, "float32")], [f.output(shape, "float32")])
    return f.graph()


def softmax_quantize_family() -> Graph:
    f = Family("softmax_quantize", 4)
    shape = (3, 11)
    for out_dtype, scale, zero in (("int8", 1 / 256, -128), ("int16", 1 / 65536, -32768)):
        x = f.input(shape, "int8", scale=0.1)
        f.op("SOFTMAX", [x], [f.output(shape, out_dtype, scale=scale, zero_point=zero)], SoftmaxOptions(beta=0.7))
    x = f.input(shape, "int16", scale=0.001, zero_point=0)
    f.op("SOFTMAX", [x], [f.output(shape, "int16", scale=1 / 32768, zero_point=0)], SoftmaxOptions())
    f.op("SOFTMAX", [f.input(shape, "float32")], [f.output(shape, "float32")], SoftmaxOptions(beta=2.0))
    for scale in (0.004, 0.08, 1.5):  # from every difference counting to most giving -128
        f.op(
            "LOG_SOFTMAX",
            [f.input(shape, "int8", scale=scale)],
            [f.output(shape, "int8", scale=1 / 16, zero_point=127)],
        )
    f.op("LOG_SOFTMAX", [f.input(shape, "float32")], [f.output(shape, "float32")])
    for out_dtype, zero in (("int8", 5), ("int16", 0), ("uint8", 128)):
        f.op("QUANTIZE", [f.input(shape, "float32")], [f.output(shape, out_dtype, scale=0.01, zero_point=zero)])
    for in_dtype, out_dtype in (("int8", "int8"), ("int8", "int16"), ("int16", "int8"), ("int32", "int8")):
        x = f.input(shape, in_dtype, scale=0.02 if in_dtype != "int32" else 1e-7, zero_point=0)
        f.op("QUANTIZE", [x], [f.output(shape, out_dtype, scale=0.03, zero_point=0)])
    for in_dtype, zero in (("int8", -3), ("int16", 0), ("uint8", 100)):
        x = f.input(shape, in_dtype, scale=0.02, zero_point=zero)
        f.op("DEQUANTIZE", [x], [f.output(shape, "float32")])
    halves = np.array([0.0, -0.0, 1.5, -2.0, 65504.0, 6e-8, -3e-5, np.inf, -np.inf, np.nan, 1e-4], dtype=np.float16)
    f.op("DEQUANTIZE", [f.constant(halves, "float16")], [f.output(halves.shape, "float32")])
    f.op("DEQUANTIZE", [f.input(shape, "float16")], [f.output(shape, "float32")])
    return f.graph()


def movement_family() -> Graph:
    f = Family("movement", 5)
    quant = {"scale": 0.1, "zero_point": 2}
    constant = f.constant(np.arange(12).reshape(3, 4), "int8", **quant)
    f.op("RESHAPE", [constant], [f.output((2, 6), **quant)], ReshapeOptions((2, 6)))
    f.op("RESHAPE", [f.input((2, 3, 4), **quant)], [f.output((6, 4), **quant)], ReshapeOptions((6, 4)))
    f.op("SQUEEZE", [f.input((1, 3, 1, 4), "float32")], [f.output((3, 4), "float32")], SqueezeOptions((0, 2)))
    f.op(
        "EXPAND_DIMS",
        [f.input((3, 4), "int16", zero_point=0), f.constant([1], "int32")],
        [f.output((3, 1, 4), "int16", zero_point=0)],
    )
    x = f.input((2, 3, 4, 5), "int16", zero_point=0)
    perm = f.constant([0, 3, 1, 2], "int32")
    f.op("TRANSPOSE", [x, perm], [f.output((2, 5, 3, 4), "int16", zero_point=0)])
    x = f.input((4, 6, 5), "float32")
    bounds = [f.constant(v, "int32") for v in ([1, 5, 1], [3, 0, -1], [1, -2, 2])]  # begin, end, stride
    f.op("STRIDED_SLICE", [x, *bounds], [f.output((3, 2), "float32")], StridedSliceOptions(shrink_axis_mask=1))
    pieces = [f.input((2, width, 3), **quant) for width in (1, 4, 2)]
    f.op("CONCATENATION", pieces, [f.output((2, 7, 3), **quant)], ConcatenationOptions(axis=1))
    pieces = [f.input((3, 2), "float32") for _ in range(4)]
    f.op("PACK", pieces, [f.output((3, 4, 2), "float32")], PackOptions(4, axis=1))
    x = f.input((2, 3, 8), **quant)
    f.op("SPLIT", [f.constant([2], "int32"), x], [f.output((2, 3, 4), **quant) for _ in range(2)], SplitOptions(2))
    x = f.input((5, 3), "int16", zero_point=0)
    sizes, axis = f.constant([1, 3, 1], "int32"), f.constant([0], "int32")
    outputs = [f.output((rows, 3), "int16", zero_point=0) for rows in (1, 3, 1)]
    f.op("SPLIT_V", [x, sizes, axis], outputs, SplitOptions(3))
    x = f.input((2, 3, 4), "float32")
    f.op("UNPACK", [x], [f.output((2, 4), "float32") for _ in range(3)], UnpackOptions(3, axis=1))
    paddings = f.constant([[0, 1], [2, 0], [1, 1], [0, 2]], "int32")
    f.op("PAD", [f.input((1, 3, 2, 2), **quant), paddings], [f.output((2, 5, 4, 4), **quant)])
    value = f.constant([1.5], "float32")
    f.op(
        "PADV2",
        [f.input((3, 2), "float32"), f.constant([[1, 0], [1, 2]], "int32"), value],
        [f.output((4, 5), "float32")],
    )
    size = f.constant([5, 7], "int32")
    for align, half in ((True, False), (False, True)):
        x = f.input((1, 3, 4, 2), **quant)
        f.op(
            "RESIZE_NEAREST_NEIGHBOR",
            [x, size],
            [f.output((1, 5, 7, 2), **quant)],
            ResizeNearestNeighborOptions(align, half),
        )
    axes = f.constant([1, 2], "int32")
    f.op("MEAN", [f.input((2, 4, 5, 3)), axes], [f.output((2, 1, 1, 3))], ReducerOptions(keep_dims=True))
    x = f.input((3, 4, 6), "int16", zero_point=0)
    f.op("SUM", [x, f.constant([-1], "int32")], [f.output((3, 4), "int16", zero_point=0)], ReducerOptions())
    f.op(
        "MEAN",
        [f.input((3, 4, 6), "float32"), f.constant([0, 2], "int32")],
        [f.output((4,), "float32")],
        ReducerOptions(),
    )
    f.op(
        "REDUCE_MAX", [f.input((4, 5), **quant), f.constant([0], "int32")], [f.output((5,), **quant)], ReducerOptions()
    )
    f.op("SHAPE", [f.input((2, 3, 4), **quant)], [f.output((3,), "int32", scale=1.0, zero_point=0)])
    f.op("FILL", [f.constant([2, 3], "int32"), f.input((), "float32")], [f.output((2, 3), "float32")])
    f.op("FILL", [f.constant([5], "int64"), f.input((), **quant)], [f.output((5,), **quant)])
    x = f.input((4, 5, 2), "float32")
    f.op("REDUCE_MIN", [x, f.constant([1], "int32")], [f.output((4, 1, 2), "float32")], ReducerOptions(keep_dims=True))
    return f.graph()


def recurrent_family() -> Graph:
    """SVDF layers: int8 with int16 and int8 state, rank 2, without bias, float32 with ReLU; resource
    variables holding running sums (int8 and float32); LSTMs, int8, int16 (16x8) and float32."""
    f = Family("recurrent", 6)
    for state_dtype, units, rank, memory, with_bias in (("int16", 4, 1, 5, True), ("int8", 3, 2, 4, False)):
        filters, state_scale, time_scale = units * rank, 0.02, 0.0004
        x = f.input((2, 9), "int8", scale=0.05)
        info = np.iinfo(state_dtype)
        times = f.constant(f.rng.integers(info.min + 1, info.max + 1, (filters, memory)), state_dtype, scale=time_scale)
        bias = (
            f.constant(f.rng.integers(-3000, 3000, units), "int32", scale=state_scale * time_scale)
            if with_bias
            else NO_TENSOR
        )
        zero = 3 if state_dtype == "int8" else 0
        state = f.builder.tensor(
            (2, filters * memory), state_dtype, scale=state_scale, zero_point=zero, is_variable=True, name="svdf/state"
        )
        f.op("SVDF", [x, f.weights((filters, 9)), times, bias, state], [f.output((2, units))], SVDFOptions(rank=rank))
    x = f.input((1, 6), "float32")
    features, times = (f.constant(f.rng.standard_normal(shape), "float32") for shape in ((6, 6), (6, 3)))
    state = f.builder.tensor((1, 18), "float32", is_variable=True, name="svdf_float/state")
    options = SVDFOptions(rank=2, activation=Activation.RELU)
    f.op(
        "SVDF",
        [x, features, times, f.constant(f.rng.standard_normal(3), "float32"), state],
        [f.output((1, 3), "float32")],
        options,
    )
    for dtype, zero in (("int8", 5), ("float32", None)):  # a running sum in a resource variable
        x, handle = f.input((2, 3), dtype, zero_point=zero), f.builder.tensor((), "resource")
        f.op("VAR_HANDLE", [], [handle], VarHandleOptions(shared_name=f"sum_{dtype}"))
        quant = {"scale": f.builder.tensors[x].quantization.single_scale, "zero_point": zero} if zero else {}
        previous, total = (f.builder.tensor((2, 3), dtype, **quant) for _ in range(2))
        f.op("READ_VARIABLE", [handle], [previous])
        f.op("ADD", [previous, x], [total], ElementwiseOptions())
        f.op("ASSIGN_VARIABLE", [handle, total], [])
        f.outputs.append(total)
    lstm_inputs = [f.input((2, 3, 4), "float32"), *[NO_TENSOR] * 23]  # batch-major, with cell clip
    for positions, shape in (((1, 2, 3, 4), (5, 4)), ((5, 6, 7, 8), (5, 5)), ((12, 13, 14, 15), (5,))):
        for position in positions:
            lstm_inputs[position] = f.constant(f.rng.standard_normal(shape), "float32")
    for position, name in ((18, "lstm/hidden_state"), (19, "lstm/cell_state")):
        lstm_inputs[position] = f.builder.tensor((2, 5), "float32", is_variable=True, name=name)
    options = SequenceLSTMOptions(cell_clip=2.0)
    f.op("UNIDIRECTIONAL_SEQUENCE_LSTM", lstm_inputs, [f.output((2, 3, 5), "float32")], options)
    lstm_layer(f, "int8", (3, 2, 4), 6, SequenceLSTMOptions(time_major=True, cell_clip=2.5))
    lstm_layer(f, "int16", (2, 3, 5), 3, SequenceLSTMOptions(cell_clip=1.5))
    return f.graph()


def lstm_layer(
    f: Family, activations: str, sequence: tuple[int, int, int], cells: int, options: SequenceLSTMOptions
) -> None:
    """An integer LSTM: int8 weights, an int16 cell state of scale 2^-11, and int8 activations
    (int32 biases, zero points drawn) or int16 ones (16x8: int64 biases, zero points 0)."""
    wide = activations == "int16"
    batches = sequence[1] if options.time_major else sequence[0]
    lstm_inputs = [f.input(sequence, activations, scale=1e-4 if wide else 0.03), *[NO_TENSOR] * 23]
    for positions, depth in (((1, 2, 3, 4), sequence[2]), ((5, 6, 7, 8), cells)):
        for position in positions:
            lstm_inputs[position] = f.constant(f.rng.integers(-127, 128, (cells, depth)), "int8", scale=0.01)
    bias_type, bias_bound, bias_scale = ("int64", 10**6, 1e-6) if wide else ("int32", 4000, 3e-4)
    for position in (12, 13, 14, 15):
        lstm_inputs[position] = f.constant(f.rng.integers(-bias_bound, bias_bound, cells), bias_type, scale=bias_scale)
    hidden = {"scale": 2**-15 if wide else 1 / 128, "zero_point": 0 if wide else 2}
    name = f"lstm_{activations}"
    lstm_inputs[18] = f.builder.tensor(
        (batches, cells), activations, is_variable=True, name=f"{name}/hidden_state", **hidden
    )
    lstm_inputs[19] = f.builder.tensor(
        (batches, cells), "int16", scale=2**-11, is_variable=True, name=f"{name}/cell_state"
    )
    output = f.output((*sequence[:2], cells), activations, **hidden)
    f.op("UNIDIRECTIONAL_SEQUENCE_LSTM", lstm_inputs, [output], options)


FAMILY_INVOCATIONS = {"recurrent": 4, "signal": 5}
"""Families whose programs run several invocations (their state carries over), with new inputs each."""
FAMILY_FLOAT_ATOL = {"recurrent": 1e-6}
"""Absolute float tolerance beside FLOAT_RTOL: an LSTM's cell update cancels (forget · cell + input ·
gate), and C's tanhf (glibc, newlib) is not correctly rounded, unlike the engine's: one ulp in a gate
near 1 is 6e-8 in an output near 0, over several steps and invocations."""


def compare_math_family() -> Graph:
    f = Family("compare_math", 7)
    for dtype in ("int8", "int16", "int32", "float32"):
        for op_type, first, second in (("MAXIMUM", (2, 3, 4), (2, 3, 4)), ("MINIMUM", (4, 1, 5), (1, 6, 1))):
            f.op(
                op_type,
                [f.input(first, dtype, 0.05), f.input(second, dtype, 0.05)],
                [f.output(np.broadcast_shapes(first, second), dtype, 0.05)],
            )
    comparisons = ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")
    for dtype, (first, second) in zip(
        ("int8", "int32", "float32"), (((3, 5), (3, 5)), ((2, 1, 3), (4, 1)), ((5,), (1,))), strict=True
    ):
        for op_type in comparisons:
            a, b = f.input(first, dtype, 0.05, -3), f.input(second, dtype, 0.02, 7)
            f.op(op_type, [a, b], [f.output(np.broadcast_shapes(first, second), "bool")])
    for op_type in ("EQUAL", "NOT_EQUAL", "LOGICAL_AND", "LOGICAL_OR"):
        f.op(op_type, [f.input((3, 1), "bool"), f.input((1, 4), "bool")], [f.output((3, 4), "bool")])
    f.op("LOGICAL_NOT", [f.input((2, 5), "bool")], [f.output((2, 5), "bool")])
    for dtype, shapes in (
        ("int8", [(2, 3, 4)] * 3),
        ("int16", [(2, 1, 4), (3, 1), (1, 1, 4)]),
        ("float32", [(3, 1), (4,), (1, 4)]),
    ):
        inputs = [f.input(shapes[0], "bool")] + [f.input(shape, dtype, 0.1) for shape in shapes[1:]]
        f.op("SELECT_V2", inputs, [f.output(np.broadcast_shapes(*shapes), dtype, 0.1)])
    for op_type in ("ABS", "NEG", "SIN", "COS", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "FLOOR", "CEIL", "ROUND"):
        f.op(op_type, [f.input((3, 7), "float32")], [f.output((3, 7), "float32")])
    for dtype, scales, zero_points in (("int8", (0.05, 0.05), (-3, -128)), ("int8", (0.05, 0.03), (20, -100))):
        x = f.input((4, 9), dtype, scales[0], zero_points[0])
        f.op("ABS", [x], [f.output((4, 9), dtype, scales[1], zero_points[1])])
    for scales in ((0.001, 0.001), (0.0003, 0.002)):
        f.op("ABS", [f.input((17,), "int16", scales[0], 0)], [f.output((17,), "int16", scales[1], 0)])
    for source, target in (("int8", "float32"), ("float32", "int8"), ("int32", "int16"), ("bool", "int32")):
        f.op("CAST", [f.input((2, 7), source)], [f.output_plain((2, 7), target)])
    f.op("RSQRT", [f.input((5, 7), "int8", 0.05, -128)], [f.output((5, 7), "int8", 0.02, -100)])
    plain = f.builder.tensor((6,), "int16")
    f.inputs.append(plain)
    f.op("ABS", [plain], [f.output_plain((6,), "int16")])
    return f.graph()


def rearrange_family() -> Graph:
    """The operators that rearrange, gather or index values, in the types TFLite Micro takes."""
    f = Family("rearrange", 8)
    quant = {"scale": 0.1, "zero_point": -5}
    for dtype, index_type in (("int8", "int32"), ("bool", "int64"), ("float32", "int32")):
        x = f.input((3, 4, 5), dtype, **(quant if dtype == "int8" else {}))
        bounds = [f.constant(v, index_type) for v in ([1, 0, 2], [2, -1, 3])]
        f.op("SLICE", [x, *bounds], [f.output((2, 4, 3), dtype, **(quant if dtype == "int8" else {}))])
    for dtype, axes in (("int16", [1, 2]), ("int64", [0])):
        x = f.input((2, 3, 4), dtype, zero_point=0)
        f.op("REVERSE_V2", [x, f.constant(axes, "int32")], [f.output((2, 3, 4), dtype, zero_point=0)])
    f.op("BROADCAST_TO", [f.input((3, 1), "float32"), f.constant([2, 3, 4], "int32")], [f.output((2, 3, 4), "float32")])
    for dtype in ("int8", "float32"):
        q = quant if dtype == "int8" else {}
        f.op(
            "SPACE_TO_DEPTH",
            [f.input((1, 4, 6, 3), dtype, **q)],
            [f.output((1, 2, 3, 12), dtype, **q)],
            BlockSizeOptions(2),
        )
        f.op(
            "DEPTH_TO_SPACE",
            [f.input((2, 2, 3, 8), dtype, **q)],
            [f.output((2, 4, 6, 2), dtype, **q)],
            BlockSizeOptions(2),
        )
        paddings = f.constant([[1, 2], [2, 0], [0, 1]], "int32")
        for mode in MirrorPadMode:
            x = f.input((3, 4, 2), dtype, **q)
            f.op("MIRROR_PAD", [x, paddings], [f.output((6, 6, 3), dtype, **q)], MirrorPadOptions(mode))
        block, edges = f.constant([2, 3], "int32"), f.constant([[1, 2], [0, 3]], "int32")
        f.op(
            "SPACE_TO_BATCH_ND",
            [f.input((2, 5, 3, 3), dtype, **q), block, edges],
            [f.output((12, 4, 2, 3), dtype, **q)],
        )
        f.op(
            "BATCH_TO_SPACE_ND",
            [f.input((12, 4, 2, 3), dtype, **q), block, edges],
            [f.output((2, 5, 3, 3), dtype, **q)],
        )
        f.op(
            "SPACE_TO_BATCH_ND",
            [f.input((3, 5, 2), dtype, **q), f.constant([2], "int32"), f.constant([[1, 0]], "int32")],
            [f.output((6, 3, 2), dtype, **q)],
        )
        coords = f.constant([[1, 5, 2], [0, 3, 3]], "int32")
        f.op("GATHER", [f.input((2, 6, 3), dtype, **q), coords], [f.output((2, 3, 3), dtype, **q)], GatherOptions(1, 1))
        f.op(
            "GATHER",
            [f.input((5, 3), dtype, **q), f.constant([4, 0, 0, 2], "int32")],
            [f.output((4, 3), dtype, **q)],
            GatherOptions(),
        )
        indices = f.constant([[1, 2], [3, 0], [0, 1]], "int32")
        f.op("GATHER_ND", [f.input((4, 3, 2), dtype, **q), indices], [f.output((3, 2), dtype, **q)])
        for op_type in ("ARG_MAX", "ARG_MIN"):
            x = f.input((3, 5, 4), dtype, **q)
            f.op(op_type, [x, f.constant([1], "int32")], [f.output_plain((3, 4), "int32")], ArgOptions())
    for dtype, q_out in (("int8", {"scale": 0.23, "zero_point": 6}), ("float32", {})):
        q = quant if dtype == "int8" else {}
        inputs = [f.input((3, 4, 2), dtype, **q) for _ in range(3)]
        f.op("ADD_N", inputs, [f.output((3, 4, 2), dtype, **q_out)])
        for axis, exclusive, reverse in ((1, False, False), (-1, True, True)):
            x = f.input((2, 5, 3), dtype, **q)
            options = CumsumOptions(exclusive, reverse)
            f.op("CUMSUM", [x, f.constant([axis], "int32")], [f.output((2, 5, 3), dtype, **q_out)], options)
    lookup = f.constant([3, 0, 3], "int32")
    f.op("EMBEDDING_LOOKUP", [lookup, f.input((4, 2, 3), "float32")], [f.output((3, 2, 3), "float32")])
    rows = f.input((4, 5), "int8", scale=0.03, zero_point=0)
    f.op("EMBEDDING_LOOKUP", [lookup, rows], [f.output((3, 5), "int8", scale=0.03, zero_point=0)])
    f.op("EMBEDDING_LOOKUP", [lookup, f.input((4, 5), "int8", scale=0.03, zero_point=0)], [f.output((3, 5), "float32")])
    for dtype, index_type in (("int8", "int32"), ("int16", "int64"), ("int32", "int32"), ("float32", "int64")):
        q = {"scale": 0.1, "zero_point": 0}
        operand, update = f.input((4, 5, 3), dtype, **q), f.input((2, 3, 3), dtype, **q)
        starts = f.input((3,), index_type)  # random, so mostly clamped
        f.op("DYNAMIC_UPDATE_SLICE", [operand, update, starts], [f.output((4, 5, 3), dtype, **q)])
    for dtype in ("int64", "int32", "int8", "float32"):
        f.op("ZEROS_LIKE", [f.input((2, 5), dtype, zero_point=0)], [f.output((2, 5), dtype, zero_point=0)])
    for dtype in ("int32", "int64"):
        shapes = [f.constant([2, 1, 3, 1], dtype), f.constant([3, 7], dtype)]
        f.op("BROADCAST_ARGS", shapes, [f.output_plain((4,), dtype)])
    return f.graph()


def parity_family() -> Graph:
    """The operators of TFLite Micro's resolver added for issue 11's parity: TRANSPOSE_CONV, BATCH_MATMUL
    (adjoints, broadcast batches), RESIZE_BILINEAR, DIV, FLOOR_DIV, FLOOR_MOD, PRELU, ELU,
    L2_NORMALIZATION, L2_POOL_2D, REDUCE_ALL, and the int32/float32 FFTs of the signal family (this
    family is the one tests/test_validate.py runs on QEMU M4 too)."""
    f = Family("parity", 8)
    for dtype in ("int8", "int16", "float32"):
        # 6 input channels, 5 filters: the DSP kernel's groups of 4 values and its tails, pairs of channels and one
        _transpose_conv(f, dtype, (1, 4, 5, 6), 5, (8, 10), (3, 3), TransposeConvOptions(Padding.SAME, 2, 2))
        _transpose_conv(
            f, dtype, (2, 3, 3, 2), 3, (8, 7), (2, 4), TransposeConvOptions(Padding.VALID, 3, 2, Activation.RELU), False
        )
    for dtype, zero_point in (("int8", -7), ("int16", 0), ("float32", None)):
        for lhs, rhs, out, adj_x, adj_y in (
            ((2, 3, 5), (5, 4), (2, 3, 4), False, False),
            ((3, 1, 5, 3), (1, 2, 6, 5), (3, 2, 3, 6), True, True),
        ):
            a, b = f.input(lhs, dtype, 0.05, zero_point), f.input(rhs, dtype, 0.03, zero_point)
            y = f.output(out, dtype, 0.4 if dtype == "int8" else 0.05, zero_point)
            f.op("BATCH_MATMUL", [a, b], [y], BatchMatMulOptions(adj_x=adj_x, adj_y=adj_y))
    for dtype in ("int8", "float32"):
        for (in_hw, out_hw), (align, half) in zip(
            (((4, 5), (7, 9)), ((6, 9), (4, 3)), ((3, 3), (8, 5))), ((False, False), (True, False), (False, True)),
            strict=True,
        ):
            x = f.input((2, *in_hw, 3), dtype, 0.1, 3)
            y = f.output((2, *out_hw, 3), dtype, 0.1, 3)
            f.op("RESIZE_BILINEAR", [x, f.constant(out_hw, "int32")], [y], ResizeBilinearOptions(align, half))
    for op_type, dtype, shapes in (
        ("DIV", "int8", ((4, 1, 5), (1, 6, 1))),
        ("DIV", "int8", ((16, 16), (16, 16))),
        ("DIV", "float32", ((3, 5), (5,))),
        ("DIV", "int32", ((4, 1, 5), (1, 6, 1))),
        ("FLOOR_DIV", "float32", ((4, 1, 5), (1, 6, 1))),
        ("FLOOR_MOD", "float32", ((3, 5), (3, 5))),
    ):
        a, b = f.input(shapes[0], dtype, 0.05, 3), f.input(shapes[1], dtype, 0.02, -2)
        options = ElementwiseOptions(Activation.RELU6) if op_type == "DIV" and dtype == "float32" else None
        f.op(op_type, [a, b], [f.output(np.broadcast_shapes(*shapes), dtype, 0.1, 1)], options)
    prelus = (("int8", "int8", (5,)), ("int16", "int8", (3, 1, 5)), ("float32", "float32", (1, 4, 5)))
    for dtype, alpha_dtype, alpha_shape in prelus:
        alpha = f.constant(f.rng.integers(-100, 100, alpha_shape), alpha_dtype, scale=0.02, zero_point=1)
        if dtype == "float32":
            alpha = f.constant(f.rng.uniform(-1, 1, alpha_shape).astype(np.float32), "float32")
        x = f.input((2, 3, 4, 5), dtype, 0.05, 0 if dtype == "int16" else -4)
        f.op("PRELU", [x, alpha], [f.output((2, 3, 4, 5), dtype, 0.03, 0 if dtype == "int16" else 6)])
    for dtype in ("int8", "float32"):
        f.op("ELU", [f.input((4, 64), dtype, 0.05, 10)], [f.output((4, 64), dtype, 0.03, -20)])
        f.op("L2_NORMALIZATION", [f.input((3, 2, 9), dtype, 0.05, 7)], [f.output((3, 2, 9), dtype, 1 / 128, 0)])
    for padding, size, stride, out_hw in ((Padding.SAME, 3, 2, (4, 5)), (Padding.VALID, 2, 1, (6, 8))):
        options = Pool2DOptions(padding, stride, stride, size, size, Activation.RELU6)
        f.op("L2_POOL_2D", [f.input((2, 7, 9, 3), "float32")], [f.output((2, *out_hw, 3), "float32")], options)
    for axes, keep, out_shape in (([1], True, (3, 1, 2)), ([0, 2], False, (4,))):
        x = f.input((3, 4, 2), "bool")
        f.op("REDUCE_ALL", [x, f.constant(axes, "int32")], [f.output(out_shape, "bool")], ReducerOptions(keep))
    wide_ffts(f)
    return f.graph()


def wide_ffts(f: Family) -> None:
    """SignalRfft and SignalIrfft in int32 (KISS FFT's Q31) and float32, forward and inverse, on two
    lengths (radix 4 only, and radix 4 then 2); frames shorter than fft_length are zero-padded."""
    for dtype, code in (("int32", 2), ("float32", 0)):
        for fft_length, frame in ((16, 12), (32, 32)):
            bins = 2 * (fft_length // 2 + 1)
            frames = f.input((2, frame), dtype, zero_point=0)
            op_options = CustomOptions.from_map({"T": code, "fft_length": fft_length})
            f.op("SignalRfft", [frames], [f.output_plain((2, bins), dtype)], op_options)
            spectrum = f.input((2, bins), dtype, zero_point=0)
            f.op("SignalIrfft", [spectrum], [f.output_plain((2, fft_length), dtype)], op_options)


def signal_family() -> Graph:
    """TFLM's audio front end (micro_speech's audio preprocessor): window, auto scale, two FFT
    sizes, energy (a band of it), mel bank, square root, noise reduction (its estimates kept from
    one inference to the next), PCAN, log; and the operators with sample history (framers,
    delays, stackers, overlap-adds, a CIRCULAR_BUFFER), whose state carries over the family's invocations."""
    f = Family("signal", 11)
    b = f.builder

    def tensor(shape, dtype: str) -> int:
        return b.tensor(shape, dtype)

    def op(op_type: str, inputs, outputs, **attributes) -> None:
        f.op(op_type, inputs, outputs, CustomOptions.from_map(attributes))

    samples = f.input((400,), "int16", zero_point=0)
    hann = f.constant((np.hanning(400) * 4096).astype(np.int16), "int16")
    windowed, scaled, shift = tensor((400,), "int16"), tensor((400,), "int16"), tensor((), "int32")
    op("SignalWindow", [samples, hann], [windowed], shift=12)
    op("SignalFftAutoScale", [windowed], [scaled, shift])
    spectrum, power = tensor((514,), "int16"), tensor((257,), "uint32")
    op("SignalRfft", [scaled], [spectrum], T=7, fft_length=512)
    op("SignalEnergy", [spectrum], [power], start_index=0, end_index=257)
    edges = np.linspace(1, 256, 12).astype(np.int64)
    widths = np.diff(edges)
    weights = f.rng.integers(0, 4096, int(widths.sum()))
    bank = [weights, 4096 - weights, edges[:-1], np.concatenate([[0], np.cumsum(widths)[:-1]]), widths]
    energies, magnitudes = tensor((10,), "uint64"), tensor((10,), "uint32")
    op(
        "SignalFilterBank",
        [power, *(f.constant(a.astype(np.int16), "int16") for a in bank)],
        [energies],
        num_channels=10,
    )
    op("SignalFilterBankSquareRoot", [energies, shift], [magnitudes])
    cleaned, noise, controlled = tensor((10,), "uint32"), tensor((10,), "uint32"), tensor((10,), "uint32")
    subtraction = {"smoothing": 655, "one_minus_smoothing": 15729, "alternate_smoothing": 1310}
    subtraction |= {"alternate_one_minus_smoothing": 15074, "smoothing_bits": 10, "min_signal_remaining": 819}
    op(
        "SignalFilterBankSpectralSubtraction",
        [magnitudes],
        [cleaned, noise],
        num_channels=10,
        spectral_subtraction_bits=14,
        clamping=True,
        **subtraction,
    )
    gains = f.constant(f.rng.integers(0, 4096, 125).astype(np.int16), "int16")
    op("SignalPCAN", [cleaned, noise, gains], [controlled], snr_shift=6)
    op(
        "SignalFilterBankLog",
        [controlled],
        [f.output_plain((10,), "int16")],
        input_correction_bits=3,
        output_scale=1600,
    )
    frames = f.input((3, 20), "int16", zero_point=0)
    small = tensor((3, 34), "int16")
    op("SignalRfft", [frames], [small], T=7, fft_length=32)
    f.outputs.append(small)
    for fft_length in (32, 512):
        bins = 2 * (fft_length // 2 + 1)
        op(
            "SignalIrfft",
            [f.input((2, bins), "int16", zero_point=0)],
            [f.output_plain((2, fft_length), "int16")],
            T=7,
            fft_length=fft_length,
        )
    wide_ffts(f)
    # the casts around micro_speech's band selection: uint32 energies to int32 and back (bit patterns)
    f.op("CAST", [power], [f.output_plain((257,), "int32")])
    f.op("CAST", [f.input((9,), "int32")], [f.output_plain((9,), "uint32")])
    band = f.input((34,), "int16", zero_point=0)
    op("SignalEnergy", [band], [f.output_plain((17,), "uint32")], start_index=3, end_index=12)
    streamed = f.input((2, 8), "int16", zero_point=0)
    for prefill, size in ((True, 6), (False, 5)):
        op(
            "SignalFramer",
            [streamed],
            [f.output_plain((2, 4, size), "int16"), f.output_plain((), "bool")],
            frame_size=size,
            frame_step=2,
            prefill=prefill,
        )
    for length in (3, 11):
        op("SignalDelay", [streamed], [f.output_plain((2, 8), "int16")], delay_length=length)
    stacked = {"stacker_left_context": 2, "stacker_right_context": 1}
    for step in (1, 4):
        op(
            "SignalStacker",
            [f.input((5,), "int16", zero_point=0)],
            [f.output_plain((20,), "int16"), f.output_plain((), "bool")],
            num_channels=5,
            stacker_step=step,
            **stacked,
        )
    for dtype, code in (("int16", 7), ("float32", 0)):
        chunks = f.input((2, 3, 8), dtype, zero_point=0)
        op("SignalOverlapAdd", [chunks], [f.output_plain((2, 9), dtype)], T=code, frame_step=3)
    wide = f.input((6,), "uint64")
    op(
        "SignalFilterBankSquareRoot",
        [wide, f.constant(np.array(0, np.int32), "int32")],
        [f.output_plain((6,), "uint32")],
    )
    # running every frame (cycles_max 1), so that it never ends an inference before the others
    frame = f.input((1, 1, 3, 2), "int8", scale=0.25, zero_point=-9)
    op("CIRCULAR_BUFFER", [frame], [f.output((1, 5, 3, 2), "int8", scale=0.25, zero_point=-9)], cycles_max=1)
    return f.graph()


def detection_family(constant_encodings: bool = False) -> Graph:
    """TFLite_Detection_PostProcess: fast NMS with a background class, regular NMS without, and a
    single box; the box encodings are constants with `constant_encodings` (so that inputs at the
    float extremes reach the sorts and NMS, not the failing decoding)."""
    f = Family("detection", 12)
    for boxes, classes, background, options in (
        (24, 3, 1, {"max_detections": 5, "nms_score_threshold": 0.0, "nms_iou_threshold": 0.4}),
        (24, 4, 0, {"max_detections": 6, "use_regular_nms": True, "detections_per_class": 3}),
        (1, 1, 0, {"max_detections": 2}),
    ):
        shape = (1, boxes, 4)
        encodings = f.constant(f.rng.normal(size=shape), "float32") if constant_encodings else f.input(shape, "float32")
        anchors = np.concatenate([f.rng.uniform(0.1, 0.9, (boxes, 2)), f.rng.uniform(0.1, 0.4, (boxes, 2))], axis=1)
        rows = options["max_detections"]
        outputs = [f.output(shape, "float32") for shape in ((1, rows, 4), (1, rows), (1, rows), (1,))]
        attributes = {"max_classes_per_detection": 1, "nms_score_threshold": 0.1, "nms_iou_threshold": 0.5}
        attributes |= {"num_classes": classes, "y_scale": 10.0, "x_scale": 10.0, "h_scale": 5.0, "w_scale": 5.0}
        f.op(
            DETECTION_POSTPROCESS,
            [encodings, f.input((1, boxes, classes + background), "float32"), f.constant(anchors, "float32")],
            outputs,
            CustomOptions.from_map(attributes | options),
        )
    return f.graph()


def decode_family() -> Graph:
    """TFLM_DECODE: LUT (int8 per channel along the last axis, float32), pruning (int8 with zero
    points per channel, float32), Huffman (int8 with 16-bit tables, int16 with 32-bit ones), and
    one operator of three pairs whose first output is a FULLY_CONNECTED layer's weights."""
    from test_ops_decode import huffman_pair, lut_pair, pruned_pair

    f = Family("decode", 13)
    int8 = {"scale": 0.05, "zero_point": 0}

    def decode(pairs, outputs) -> list[int]:
        tensors = [f.constant(array, "uint8") for pair in pairs for array in pair]
        results = [f.builder.tensor(shape, dtype, **quant) for shape, dtype, quant in outputs]
        f.outputs += results
        f.op(DECODE, tensors, results, CustomOptions())
        return results

    channels = {"scale": [0.01, 0.02, 0.03], "zero_point": [4, -3, 0], "axis": 1}
    decode([lut_pair(f.rng.integers(-90, 90, (3, 6)).astype(np.int8), f.rng.integers(0, 6, (9, 3)), 3)],
           [((9, 3), "int8", {**channels, "zero_point": [0, 0, 0]})])  # fmt: skip
    decode([lut_pair(f.rng.normal(size=(1, 20)).astype(np.float32), f.rng.integers(0, 20, 33), 5)],
           [((33,), "float32", {})])  # fmt: skip
    decode([pruned_pair(f.rng.integers(1, 9, (9, 3)).astype(np.int8), f.rng.uniform(size=(9, 3)) < 0.5)],
           [((9, 3), "int8", channels)])  # fmt: skip
    decode([pruned_pair(f.rng.normal(size=17).astype(np.float32), f.rng.uniform(size=17) < 0.5)],
           [((17,), "float32", {})])  # fmt: skip
    decode([huffman_pair(f.rng.integers(-4, 4, 50).astype(np.int8), 3, False)], [((50,), "int8", int8)])
    decode([huffman_pair(f.rng.integers(-900, 900, 20).astype(np.int16), 4, True)], [((20,), "int16", {})])
    pairs = [
        lut_pair(f.rng.integers(-50, 50, (1, 4)).astype(np.int8), f.rng.integers(0, 4, 12), 2),
        pruned_pair(f.rng.integers(1, 9, 12).astype(np.int32), f.rng.uniform(size=12) < 0.5),
        huffman_pair(f.rng.integers(0, 3, 12).astype(np.int8), 2, True),
    ]
    weights, *_ = decode(pairs, [((3, 4), "int8", int8), ((12,), "int32", {}), ((12,), "int8", int8)])
    layer = [f.input((1, 4), "int8", 0.05, 0), weights, NO_TENSOR]
    f.op("FULLY_CONNECTED", layer, [f.output((1, 3), "int8", 0.1, 0)], FullyConnectedOptions())
    return f.graph()


FAMILIES: dict[str, Callable[[], Graph]] = {
    "signal": signal_family,
    "compare_math": compare_math_family,
    "rearrange": rearrange_family,
    "conv_int8": conv_family("int8"),
    "conv_int16": conv_family("int16"),
    "conv_float32": conv_family("float32"),
    "elementwise": elementwise_family,
    "activations": activations_family,
    "softmax_quantize": softmax_quantize_family,
    "movement": movement_family,
    "recurrent": recurrent_family,
    "parity": parity_family,
    "detection": detection_family,
    "decode": decode_family,
}


@pytest.mark.parametrize("family", FAMILIES)
def test_operator_family_matches_engine(programs, family):
    program = programs[(family, "family")].result()
    for seed in SEEDS:
        input_sets = [random_inputs(program.graph, seed + 10 * step) for step in range(program.invocations)]
        assert_invocations_match_engine(program, input_sets, FAMILY_FLOAT_ATOL.get(family, 0.0))


def circular_buffer_graph(cycles_max: int, variable: bool) -> tuple[Graph, int]:
    """Frames [1, 1, 2, 3] into a history of 4 (a variable tensor, as TFLM's streaming models have
    it, read by a RELU; or a plain graph output); the graph and its history tensor."""
    b = GraphBuilder("streaming")
    frame = b.tensor((1, 1, 2, 3), "int8", name="frame", scale=0.5, zero_point=-5)
    history = b.tensor((1, 4, 2, 3), "int8", name="history", scale=0.5, zero_point=-5, is_variable=variable)
    b.op("CIRCULAR_BUFFER", [frame], [history], CustomOptions.from_map({"cycles_max": cycles_max}))
    if not variable:
        return b.build([frame], [history]), history
    rectified = b.tensor((1, 4, 2, 3), "int8", name="rectified", scale=0.5, zero_point=-5)
    b.op("RELU", [history], [rectified])
    return b.build([frame], [rectified]), history


def test_circular_buffer_waits_for_its_frames_in_c(tmp_path):
    """CIRCULAR_BUFFER's history (starting at the zero point) in its state, and MD_WAITING on the
    inferences where TFLM aborts: the program's history equals the engine's every time."""
    graph, _ = circular_buffer_graph(cycles_max=3, variable=False)
    program = build(graph, tmp_path, invocations=7)
    input_sets = [random_inputs(graph, step) for step in range(7)]
    assert_invocations_match_engine(program, input_sets)
    engine = Engine(graph)
    assert [engine.run(inputs).aborted for inputs in input_sets] == [True, True, False] * 2 + [True]


@pytest.mark.parametrize(("cycles_max", "target_name"), [(1, None), (3, None), (2, "m4")])
def test_circular_buffer_into_a_variable_history_in_c(tmp_path, cycles_max, target_name):
    """The history as a variable tensor (reset to its zero point by init()) that a later layer reads:
    on the inferences that wait for frames, the program and the engine both stop at the buffer
    (net_waiting_layer()) and the later layer runs on neither."""
    graph, _ = circular_buffer_graph(cycles_max=cycles_max, variable=True)
    program = build(graph, tmp_path, invocations=6, target_name=target_name)
    input_sets = [random_inputs(graph, step) for step in range(6)]
    assert_invocations_match_engine(program, input_sets)  # the same layer waited in each
    engine = Engine(graph)
    waited = [engine.run(inputs).waiting_at for inputs in input_sets]
    assert waited == [None if (step + 1) % cycles_max == 0 else 0 for step in range(6)]


@pytest.mark.parametrize("family", [detection_family, decode_family], ids=["detection", "decode"])
def test_detection_and_decode_are_bit_exact_on_cortex_m4(tmp_path, family):
    """On QEMU's M4 (single-precision FPU, newlib's double exp() in software): the detections (boxes
    too) and the decoded tensors bit for bit the engine's."""
    graph = family()
    program = build(graph, tmp_path, invocations=len(SEEDS), target_name="m4")
    input_sets = [random_inputs(graph, seed) for seed in SEEDS]
    engine = Engine(graph)
    for inputs, step in zip(input_sets, program.run(input_sets).steps, strict=True):
        for got, expected in zip(step.outputs, engine.run(inputs).outputs, strict=True):
            np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


def test_state_carries_over_between_inferences_on_a_core(tmp_path):
    """The harness's inferences after one init keep the network's state on an emulated core too:
    each equals the engine's run continuing from the previous one, and differs from a fresh
    engine's (so the state is read)."""
    graph = recurrent_family()
    program = build(graph, tmp_path, invocations=3, target_name="m55")
    input_sets = [random_inputs(graph, 7 * step) for step in range(3)]
    assert_invocations_match_engine(program, input_sets, FAMILY_FLOAT_ATOL["recurrent"])
    fresh = Engine(graph).run(input_sets[2]).outputs
    last = program.run(input_sets).outputs
    assert any(not np.array_equal(a, b) for a, b in zip(fresh, last, strict=True))


WITHOUT_SCRATCH = ("conv_int8", "conv_int16", "conv_float32")
"""Families also built on TFLite Micro's plan, which reserves no scratch for our kernels: the
convolutions then run straight from the input, the depthwise ones stream."""


@pytest.mark.parametrize("family", WITHOUT_SCRATCH)
def test_kernels_without_scratch_match_engine(programs, family):
    program = programs[(family, "tflm")].result()
    assert "NULL);" in (program.elf.parent / "project" / "network.c").read_text()
    for seed in SEEDS:
        assert_matches_engine(program, random_inputs(program.graph, seed))


def test_every_operator_of_the_engine_has_an_emitter():
    from mcudeploy.codegen.layers import EMITTERS
    from mcudeploy.engine.registry import KERNELS
    from mcudeploy.ir.options import CONTROL_FLOW_OPTIONS

    assert set(KERNELS) <= set(EMITTERS), f"no C kernel for {sorted(set(KERNELS) - set(EMITTERS))}"
    tested = {op.op_type for family in FAMILIES.values() for op in family().operators}
    tested.add("ethos-u")  # needs Vela's compiled segments: tests/test_npu.py builds and runs it on QEMU M55
    tested |= set(CONTROL_FLOW_OPTIONS)  # run other subgraphs: tests/test_codegen_control_flow.py
    assert set(EMITTERS) <= tested, f"untested: {sorted(set(EMITTERS) - tested)}"


# --------------------------------------------------------------------------- errors and contracts


def test_softmax_sum_out_of_range_is_an_error_code(tmp_path):
    """A row whose int8 softmax sum reaches 512 (TFLM aborts there): the network returns NET_ERROR_RANGE."""
    f = Family("softmax_range", 0)
    x = f.input((1, 600), "int8", scale=0.1)
    f.op("SOFTMAX", [x], [f.output((1, 600), "int8", scale=1 / 256, zero_point=-128)], SoftmaxOptions())
    program = build(f.graph(), tmp_path, sanitized=False)
    run = program.run([[np.zeros((1, 600), dtype=np.int8)]])
    assert run.program.exit_code == EXIT_NETWORK_ERROR_BASE - (-3)


def test_index_outside_the_input_is_an_error_code(tmp_path):
    """GATHER, GATHER_ND and EMBEDDING_LOOKUP given an index outside their input (TFLM reads out of
    bounds or fails): the network returns NET_ERROR_RANGE, in-range indices run."""
    f = Family("index_range", 0)
    indices = [f.input((2,), "int32"), f.input((2, 1), "int32"), f.input((2,), "int32")]
    f.op("GATHER", [f.input((5, 3), "float32"), indices[0]], [f.output((2, 3), "float32")], GatherOptions())
    f.op("GATHER_ND", [f.input((5, 3), "int8"), indices[1]], [f.output((2, 3), "int8")])
    f.op("EMBEDDING_LOOKUP", [indices[2], f.input((4, 3), "float32")], [f.output((2, 3), "float32")])
    program = build(f.graph(), tmp_path, sanitized=False)
    valid = random_inputs(program.graph, 0)
    for index in indices:
        valid[f.inputs.index(index)] = np.ones(program.graph.tensors[index].shape, np.int32)
    assert program.run([valid]).program.exit_code == 0
    for index, value in zip(indices, (5, -1, 4), strict=True):
        inputs = list(valid)
        inputs[f.inputs.index(index)] = np.full(program.graph.tensors[index].shape, value, np.int32)
        assert program.run([inputs]).program.exit_code == EXIT_NETWORK_ERROR_BASE - (-3)


def test_an_inverted_detection_box_is_an_error_code(tmp_path):
    """A decoded box of height 0 (TFLM fails the inference): NET_ERROR_RANGE; valid boxes run."""
    program = build(detection_family(), tmp_path, sanitized=False)
    inputs = random_inputs(program.graph, 0)
    assert program.run([inputs]).program.exit_code == 0
    inputs[0][0, 3, 2] = -1000.0  # exp(-200) underflows
    assert program.run([inputs]).program.exit_code == EXIT_NETWORK_ERROR_BASE - (-3)


def test_unsupported_operator_is_named(tmp_path):
    f = Family("custom", 0)
    f.builder.op("my-op", [f.input((4,))], [f.output((4,))], CustomOptions(b""))
    graph = f.graph()
    with pytest.raises(UnsupportedOperatorError, match="my-op"):
        generate(graph, plan_memory(graph), tmp_path / "out")


def test_existing_folder_is_replaced_only_with_force(tmp_path):
    graph = real_graph(INT8_MODELS[-1])
    plan = plan_memory(graph)
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(McuDeployError, match="already exists"):
        generate(graph, plan, target)
    generate(graph, plan, target, force=True)
    assert not (target / "old.txt").exists() and (target / "network.c").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "the staging folder was left behind"


@pytest.mark.parametrize("model", [INT8_MODELS[0], INT8_MODELS[2], FLOAT_MODELS[0]])
def test_regeneration_is_byte_identical(tmp_path, model):
    graph = real_graph(model)
    plan = plan_memory(graph)
    first, second = generate(graph, plan, tmp_path / "a"), generate(graph, plan, tmp_path / "b")
    files = sorted(p.relative_to(first.directory) for p in first.directory.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second.directory) for p in second.directory.rglob("*") if p.is_file())
    for name in files:
        assert (first.directory / name).read_bytes() == (second.directory / name).read_bytes(), name
    again = render(read_tflite(MODELS / model), plan_memory(read_tflite(MODELS / model)))
    assert {n: t.encode() for n, t in again.files.items()} == {
        str(n): (first.directory / n).read_bytes() for n in files if n.name != MANIFEST
    }


def test_only_used_kernels_are_shipped():
    """The model's sources with their ISA paths and their family's private header, the two headers of
    Include/ and the LICENSE."""
    files = render(real_graph(INT8_MODELS[3]), plan_memory(real_graph(INT8_MODELS[3]))).files  # ad01: FC only
    shipped = sorted(name.split("/", 1)[1] for name in files if name.startswith("mdnn/"))
    assert shipped == [
        "Include/md_nn.h",
        "Include/md_nn_support.h",
        "LICENSE",
        "Source/fully_connected/md_fully_connected.c",
        "Source/fully_connected/md_fully_connected_dsp.c",
        "Source/fully_connected/md_fully_connected_int.h",
        "Source/fully_connected/md_fully_connected_mve.c",
    ]


def test_one_public_header():
    """Include/ holds the public API (md_nn.h, what generated code includes) and the kernels' support
    header; every other header is private to one family's sources."""
    assert sorted(path for path in library_files().values() if path.startswith("Include/")) == [
        "Include/md_nn.h",
        "Include/md_nn_support.h",
    ]
    assert re.findall(r'#include "(.*)"', library_text("md_nn.h")) == []
    for name, path in library_files().items():
        if path.startswith("Source/") and name.endswith(".h"):
            family = path.split("/")[1]
            users = [n for n, p in library_files().items() if f'#include "{name}"' in library_text(n)]
            assert users and all(library_files()[u].startswith(f"Source/{family}/") for u in users), name


def test_library_files_carry_the_license():
    assert (library_root() / "LICENSE").read_text().startswith("\n                                 Apache License")
    for name in library_files():
        assert library_text(name).startswith("/* SPDX-License-Identifier: Apache-2.0 */\n"), name


def test_state_bytes_in_the_header_are_the_budgets():
    """The header's state figure is analyze's 'variable tensors (state)' line, with the signal
    kernels' own history: in the signal family 40 B of noise estimates, 2 x 32 B of framer rows,
    12 + 44 B of delays, 2 x 48 B of stackers, 32 + 64 B of overlap-add sums, and the circular buffer's
    4 B frame count with its 30 B history rounded up to whole words."""
    for graph in (recurrent_family(), signal_family()):
        header = render(graph, plan_memory(graph)).files["network.h"]
        assert f"next: {variable_bytes(graph)} bytes outside the arena" in header
    assert variable_bytes(signal_family()) == 40 + 2 * 32 + 12 + 44 + 2 * 48 + 32 + 64 + 4 + 32


def test_arena_and_weights_symbols_have_the_planned_sizes(tmp_path):
    """The arena symbol is exactly arena_bytes, in the requested section; the weights symbol, defined
    in network_data.c, exactly the constant layout analyze reports (which also checks every member's
    offset); with MD_PROFILE_LAYERS every layer is a function of its own."""
    graph = real_graph(INT8_MODELS[0])
    plan = plan_memory(graph)
    code = generate(graph, plan, tmp_path / "out", arena_section=".bss.tensor_arena")
    table = ""
    for source in ("network.c", "network_data.c"):
        obj = tmp_path / source.replace(".c", ".o")
        subprocess.run(
            ["gcc", *C_FLAGS, "-O2", "-DMD_PROFILE_LAYERS", "-c", f"-I{code.directory}",
             f"-I{code.directory / INCLUDE_DIR}", str(code.directory / source), "-o", str(obj)],
            check=True,
        )  # fmt: skip
        table += subprocess.run(["objdump", "-t", str(obj)], check=True, capture_output=True, text=True).stdout
    sizes = {
        fields[-1]: (fields[-3], int(fields[-2], 16))
        for fields in map(str.split, table.splitlines())
        if len(fields) >= 5 and fields[-3] != "*UND*"
    }
    assert sizes["net_arena"] == (".bss.tensor_arena", plan.arena_bytes)
    assert sizes["net_weights"][1] == code.weights_bytes
    assert all(f"net_layer_{op.index}" in sizes for op in graph.operators)


@pytest.mark.parametrize("graph", [*FAMILIES, *INT8_MODELS[:2], FLOAT_MODELS[0]])
def test_generated_names_come_from_tensors_and_every_constant_is_read(graph):
    """Arena offsets and weights carry the tensors' names (no bare offsets, no t<index> members),
    and every member of the weights struct is read by some layer: no unused constant in flash."""
    graph = FAMILIES[graph]() if graph in FAMILIES else real_graph(graph)
    files = render(graph, plan_memory(graph)).files
    network = files["network.c"]
    members = re.findall(r"^    \w+ (\w+)\[\d+\] MD_ALIGNED", files["network_data.h"], re.MULTILINE)
    assert len(members) == len(set(members))
    assert [m for m in members if f"net_weights.{m}" not in network] == []
    assert not re.search(r"NET_TENSOR\(\w+, \d+\)", network)
    assert not re.search(r"net_weights\.(t|l)\d+\b", network)


def test_state_arrays_are_named_after_the_model():
    """Recurrent state arrays carry their tensors' names and resource variables their shared names
    (a clash gets a suffix), never an index."""
    graph = recurrent_family()
    network = render(graph, plan_memory(graph)).files["network.c"]
    states = ["svdf_state", "svdf_state_2", "svdf_float_state", "lstm_hidden_state", "lstm_int8_hidden_state"]
    states.append("lstm_int16_cell_state")
    for name in [*(f"net_state_{s}" for s in states), "net_resource_sum_int8", "net_resource_sum_float32"]:
        assert re.search(rf"\b{name}\[", network), name
    assert not re.search(r"\bnet_(state|resource)_\d+\b", network)


def test_tensor_identifiers_are_readable_and_unique():
    assert tensor_identifier("functional_1/conv2d/BiasAdd;functional_1/conv2d/Conv2D") == "conv2d_biasadd"
    assert tensor_identifier("input_1") == "input_1"
    assert tensor_identifier("7:0") == "t_7_0"
    assert tensor_identifier("///") == "t"
    assert unique_names({1: "int", 2: "x", 3: "x", 4: "x_2"}) == {1: "int_2", 2: "x", 3: "x_2", 4: "x_2_2"}


def test_kernel_tables_are_the_engines():
    """The int16 softmax and sigmoid tables in the C library hold the engine's values."""
    exp_lut, reciprocal_lut = int16_luts()
    softmax = library_text("md_softmax_s16.c")
    activations = library_text("md_activations_s16.c")
    assert _c_table(softmax, "exp_lut") == exp_lut.tolist()
    assert _c_table(softmax, "one_over_one_plus_x_lut") == reciprocal_lut.tolist()
    assert _c_table(activations, "sigmoid_table") == SIGMOID_TABLE_UINT16.tolist()


def _c_table(source: str, name: str) -> list[int]:
    body = re.search(rf"{name}\[\d+\] = \{{([^}}]*)\}}", source).group(1)
    return [int(v) for v in body.replace("\n", " ").split(",") if v.strip()]


# --------------------------------------------------------------------------- compilers


def _library_sources(folder: Path) -> list[Path]:
    """The whole kernel library copied out of the package, flat: its sources (every ISA path)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in library_files():
        (folder / name).write_text(library_text(name))
    return sorted(folder / name for name in library_files() if name.endswith(".c"))


def test_library_is_warning_free_for_host_gcc(tmp_path):
    sources = _library_sources(tmp_path / "lib")
    subprocess.run(
        ["gcc", *C_FLAGS, "-pedantic", "-O2", "-c", *map(str, sources)], cwd=tmp_path, check=True, capture_output=True
    )


ISA_PATHS = {"cortex-m0plus": "", "cortex-m3": "", "cortex-m4": "_dsp", "cortex-m33": "_dsp", "cortex-m55": "_mve"}


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed")
@pytest.mark.parametrize(("cpu", "path"), ISA_PATHS.items())
def test_each_core_compiles_one_isa_path_per_family(tmp_path, cpu, path):
    """The same sources on every core: the compiler's target macros keep exactly one path of each
    family with ISA paths (DSP cores the DSP one, Helium cores the MVE one, others the portable C);
    the others compile to no code at all, so they cost no flash."""
    lib = tmp_path / "lib"
    names = "conv|conv_s16|depthwise|depthwise_s16|fully_connected|elementwise|pool|svdf|batch_matmul|resize"
    names += "|transpose_conv"
    family = re.compile(rf"md_({names})(_dsp|_mve)?\.c")
    sources = [str(s) for s in _library_sources(lib) if family.fullmatch(s.name)]
    abi = "-mfloat-abi=hard" if cpu == "cortex-m55" else "-mfloat-abi=soft"
    subprocess.run(
        ["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", abi, "-O2", *C_FLAGS, "-c", *sources], cwd=lib, check=True
    )
    sizes = subprocess.run(["arm-none-eabi-size", *sorted(lib.glob("*.o"))], check=True, capture_output=True, text=True)
    with_code = {Path(line.split()[-1]).stem for line in sizes.stdout.splitlines()[1:] if int(line.split()[0])}
    kernels = ("md_conv", "md_conv_s16", "md_depthwise", "md_depthwise_s16", "md_fully_connected", "md_svdf")
    expected = {f"{name}{path}" for name in (*kernels, "md_elementwise", "md_pool")}
    # their int16 and float32 kernels stay in the portable source beside the int8 path
    expected |= {
        f"{name}{suffix}" for name in ("md_batch_matmul", "md_resize", "md_transpose_conv") for suffix in {"", path}
    }
    assert with_code == expected


ARM_GCC = shutil.which("arm-none-eabi-gcc")


@pytest.mark.skipif(ARM_GCC is None, reason="arm-none-eabi-gcc is not installed")
@pytest.mark.parametrize("record", COMPILED_CORES, ids=lambda record: record.name)
def test_cortex_m_compiles(tmp_path, record):
    """The whole library (its target macros picking the core's ISA paths) and a generated int8 and float network
    compile warning-free; the int8 network's objects call no soft-float helper."""
    flags = [ARM_GCC, f"-mcpu={record.mcpu}", "-mthumb", "-Os", *C_FLAGS, "-c"]
    subprocess.run([*flags, *map(str, _library_sources(tmp_path / "lib"))], cwd=tmp_path / "lib", check=True)
    for model in (INT8_MODELS[0], FLOAT_MODELS[0]):
        graph = real_graph(model)
        code = generate(graph, plan_memory(graph), tmp_path / Path(model).stem)
        includes = [f"-I{code.directory / d}" for d in code.include_dirs]
        subprocess.run([*flags, *includes, *code.sources], cwd=code.directory, check=True)
        if model in INT8_MODELS:
            objects = [str(p) for p in code.directory.glob("*.o")]
            undefined = subprocess.run(
                ["arm-none-eabi-nm", "-u", *objects], check=True, capture_output=True, text=True
            ).stdout
            assert not re.search(r"__aeabi_[fd]", undefined), undefined


def test_scratch_and_overlaps_follow_contracts():
    """The kernels the generator picks are the ones the contracts describe (depthwise planes when a
    scratch plane is declared, streaming otherwise)."""
    graph = real_graph(INT8_MODELS[0])
    files = render(graph, plan_memory(graph)).files
    layer_calls = re.findall(
        r"md_depthwise_s8\(\s*&params,[^;]*?,\s*(NULL|NET_TENSOR\(int8_t, NET_ARENA_\w+\))\);", files["network.c"]
    )
    assert layer_calls and all(call != "NULL" for call in layer_calls)


def test_dtype_of_api_follows_model(tmp_path):
    header = render(real_graph(FLOAT_MODELS[-1]), plan_memory(real_graph(FLOAT_MODELS[-1]))).files["network.h"]
    assert "int net_run(const float *input_0, float *output_0);" in header
    assert "NET_INPUT_0_SCALE" not in header
    header = render(real_graph(INT8_MODELS[-1]), plan_memory(real_graph(INT8_MODELS[-1]))).files["network.h"]
    assert "int net_run(const int8_t *input_0, const int8_t *input_1, int8_t *output_0);" in header
    assert re.search(r"#define NET_INPUT_1_ZERO_POINT -1\n", header)
