"""The seed's table, reproduced: MobileNetV2 0.35 at 96x96 int8 on an M4, an M7, an M55 and an M55 + Ethos-U55-256.

No MobileNetV2 0.35 file is at hand, so it is built here layer for layer as the published architecture
(Sandler et al. 2018, as Keras' `MobileNetV2(alpha=0.35)` lays it out: a 3x3 stride-2 stem, 17 inverted
residual blocks of expand 1x1 / depthwise 3x3 / linear project 1x1 with residual ADDs, a 1x1 conv to 1280,
global average pool, 1000 classes) with seeded random int8 weights: the latency does not depend on them.
Each part runs our generated code on QEMU, priced at the seed's clocks; the NPU row compiles the model with
Vela for the Alif E7's U55-256 with its NPU at 250 MHz. The seed's approximate figures are printed beside.

    PYTHONPATH=src python bench/seed_table.py [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

import numpy as np

from mcudeploy.devices import find_device
from mcudeploy.estimate import estimate_model
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import DType, Graph, GraphBuilder, Padding
from mcudeploy.ir.options import (
    Activation,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    ElementwiseOptions,
    FullyConnectedOptions,
    Pool2DOptions,
    ReshapeOptions,
    SoftmaxOptions,
)
from mcudeploy.npu.config import npu_target
from mcudeploy.npu.pipeline import plan_for_npu
from mcudeploy.npu.timeline import timeline

ALPHA = 0.35
SIZE = 96
CLASSES = 1000
BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
"""(expansion t, channels c, repeats n, first stride s) of the published architecture."""
LAST_CHANNELS = 1280
"""Kept at 1280 for alpha below 1, as Keras does."""

RELU6_SCALE, RELU6_ZERO = 6 / 255, -128
LINEAR_SCALE, LINEAR_ZERO = 0.1, 0
WEIGHT_SCALE = 0.02

SEED_ROWS = (
    ("Cortex-M4 @ 168 MHz", "STM32F407VG", 168, None, 500),
    ("Cortex-M7 @ 480 MHz", "STM32H743ZI", 480, None, 200),
    ("Cortex-M55 @ 250 MHz", "AE722F80F55D5", 250, None, 50),
    ("Cortex-M55 + Ethos-U55-256 @ 250 MHz", "AE722F80F55D5", 250, 250, 5),
)
"""(row, part, core clock, NPU clock, the seed's approximate ms)."""


def make_divisible(value: float, divisor: int = 8) -> int:
    """Keras' channel rounding: to the nearest multiple of 8, never below 90 % of the value."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class MobileNetV2:
    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.b = GraphBuilder(f"mobilenet_v2_{ALPHA}_{SIZE}", description="MobileNetV2 0.35, 96x96, random weights")
        self.input = self.b.tensor((1, SIZE, SIZE, 3), DType.INT8, scale=1 / 128, zero_point=0, name="input")
        self.current, self.shape, self.scale = self.input, (1, SIZE, SIZE, 3), 1 / 128

    def conv(self, kernel: int, channels: int, stride: int, relu6: bool, depthwise: bool = False) -> None:
        _, height, width, in_channels = self.shape
        shape = (1, kernel, kernel, channels) if depthwise else (channels, kernel, kernel, in_channels)
        axis = 3 if depthwise else 0
        weights = self.b.tensor(shape, DType.INT8, scale=[WEIGHT_SCALE] * channels, zero_point=[0] * channels,
                                axis=axis, data=self.rng.integers(-127, 128, shape))  # fmt: skip
        bias_scale = [self.scale * WEIGHT_SCALE] * channels
        bias = self.b.tensor((channels,), DType.INT32, scale=bias_scale, zero_point=[0] * channels, axis=0,
                             data=self.rng.integers(-2000, 2000, channels))  # fmt: skip
        out_shape = (1, -(-height // stride), -(-width // stride), channels)
        scale, zero = (RELU6_SCALE, RELU6_ZERO) if relu6 else (LINEAR_SCALE, LINEAR_ZERO)
        output = self.b.tensor(out_shape, DType.INT8, scale=scale, zero_point=zero)
        activation = Activation.RELU6 if relu6 else Activation.NONE
        common = {"padding": Padding.SAME, "stride_h": stride, "stride_w": stride, "activation": activation}
        options = DepthwiseConv2DOptions(**common) if depthwise else Conv2DOptions(**common)
        self.b.op("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", [self.current, weights, bias], [output], options)
        self.current, self.shape, self.scale = output, out_shape, scale

    def inverted_residual(self, expansion: int, channels: int, stride: int) -> None:
        block_input, in_shape = self.current, self.shape
        if expansion != 1:
            self.conv(1, in_shape[3] * expansion, 1, relu6=True)
        self.conv(3, self.shape[3], stride, relu6=True, depthwise=True)
        self.conv(1, channels, 1, relu6=False)
        if stride == 1 and in_shape[3] == channels:
            total = self.b.tensor(self.shape, DType.INT8, scale=LINEAR_SCALE * 1.5, zero_point=0)
            self.b.op("ADD", [block_input, self.current], [total], ElementwiseOptions())
            self.current, self.scale = total, LINEAR_SCALE * 1.5

    def head(self) -> None:
        self.conv(1, LAST_CHANNELS, 1, relu6=True)
        _, height, width, channels = self.shape
        pooled = self.b.tensor((1, 1, 1, channels), DType.INT8, scale=self.scale, zero_point=RELU6_ZERO)
        options = Pool2DOptions(padding=Padding.VALID, stride_h=height, stride_w=width, filter_h=height, filter_w=width)
        self.b.op("AVERAGE_POOL_2D", [self.current], [pooled], options)
        shape = self.b.tensor((2,), DType.INT32, data=[1, channels])
        flat = self.b.tensor((1, channels), DType.INT8, scale=self.scale, zero_point=RELU6_ZERO)
        self.b.op("RESHAPE", [pooled, shape], [flat], ReshapeOptions((1, channels)))
        weights = self.b.tensor((CLASSES, channels), DType.INT8, scale=WEIGHT_SCALE,
                                data=self.rng.integers(-127, 128, (CLASSES, channels)))  # fmt: skip
        bias = self.b.tensor((CLASSES,), DType.INT32, scale=self.scale * WEIGHT_SCALE,
                             data=self.rng.integers(-2000, 2000, CLASSES))  # fmt: skip
        logits = self.b.tensor((1, CLASSES), DType.INT8, scale=0.2, zero_point=0)
        self.b.op("FULLY_CONNECTED", [flat, weights, bias], [logits], FullyConnectedOptions())
        probabilities = self.b.tensor((1, CLASSES), DType.INT8, scale=1 / 256, zero_point=-128)
        self.b.op("SOFTMAX", [logits], [probabilities], SoftmaxOptions(beta=1.0))
        self.current = probabilities

    def build(self) -> Graph:
        self.conv(3, make_divisible(32 * ALPHA), 2, relu6=True)
        for expansion, channels, repeats, stride in BLOCKS:
            for repeat in range(repeats):
                self.inverted_residual(expansion, make_divisible(int(channels * ALPHA)), stride if repeat == 0 else 1)
        self.head()
        return self.b.build([self.input], [self.current])


def seed_table() -> list[dict]:
    graph = MobileNetV2().build()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mcudeploy-seed-") as folder:
        model = Path(folder) / f"{graph.name}.tflite"
        model.write_bytes(write_tflite(graph))
        for label, part, clock, npu_clock, seed_ms in SEED_ROWS:
            device = find_device(part)
            cpu = estimate_model(graph, device, clock)
            ms = cpu.milliseconds
            if npu_clock is not None:
                npu = dataclasses.replace(device.part.npu, clock_mhz=npu_clock)
                device = dataclasses.replace(device, part=dataclasses.replace(device.part, npu=npu))
                plan = plan_for_npu(graph, model, npu_target(device, None, False))
                ms = timeline(plan.segments, plan.placements, plan.compilation, cpu).total_ms
            rows.append({"row": label, "part": part, "ms": ms, "seed_ms": seed_ms, "macs": cpu.macs})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    rows = seed_table()
    if parser.parse_args().json:
        print(json.dumps(rows, indent=2))
        return
    print(f"MobileNetV2 {ALPHA} at {SIZE}x{SIZE} int8, {rows[0]['macs']:,} MACs")
    print(f"{'':40} {'ours (ms)':>10} {'seed (ms)':>10}")
    for row in rows:
        print(f"{row['row']:40} {row['ms']:10.2f} {'~' + str(row['seed_ms']):>10}")


if __name__ == "__main__":
    main()
