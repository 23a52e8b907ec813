"""Resize in nearest mode → RESIZE_NEAREST_NEIGHBOR, when TFLite's index rule picks the same pixels.

ONNX has five coordinate transformations and four rounding modes; TFLite two
flags. Rather than trusting a table, the importer computes, for each spatial
axis, the source index of every output index both ways, and takes the flags
that give the same indices.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.importers.onnx.convert import Context, Int8, converts
from mcudeploy.importers.onnx.layout import NHWC
from mcudeploy.ir.options import ResizeNearestNeighborOptions
from mcudeploy.params.movement import nearest_source_indices

_ROUNDING = {
    "round_prefer_floor": lambda x: np.ceil(x - 0.5),
    "round_prefer_ceil": lambda x: np.floor(x + 0.5),
    "floor": np.floor,
    "ceil": np.ceil,
}


@converts("Resize", int8=Int8.PASS_THROUGH)
def resize(ctx: Context) -> None:
    name = ctx.input_name(0)
    shape, out_shape = ctx.shape(name), ctx.out_shape()
    if ctx.attr("mode", "nearest", str) != "nearest":
        raise ctx.unsupported(f"mode '{ctx.node.attributes['mode']}' (only nearest is supported)")
    if len(shape) != 4 or out_shape[:2] != shape[:2]:
        raise ctx.unsupported("only resizing the two spatial axes of a 4-D tensor is supported")
    scales = _scales(ctx, shape, out_shape)
    onnx_indices = [_onnx_indices(ctx, i, o, s) for i, o, s in zip(shape[2:], out_shape[2:], scales, strict=True)]
    for align_corners, half_pixel in ((False, False), (False, True), (True, False)):
        tflite = [
            nearest_source_indices(o, i, align_corners, half_pixel)
            for i, o in zip(shape[2:], out_shape[2:], strict=True)
        ]
        if all(np.array_equal(a, b) for a, b in zip(onnx_indices, tflite, strict=True)):
            options = ResizeNearestNeighborOptions(align_corners=align_corners, half_pixel_centers=half_pixel)
            size = ctx.int32_constant(out_shape[2:])
            ctx.emit("RESIZE_NEAREST_NEIGHBOR", [ctx.tensor(name, NHWC), size], [ctx.output(0, NHWC)], options)
            return
    raise ctx.unsupported("a nearest resize whose pixel choice TFLite's RESIZE_NEAREST_NEIGHBOR cannot reproduce")


def _scales(ctx: Context, shape, out_shape) -> list[float]:
    name = ctx.input_name(2)
    if name and ctx.shape(name) != (0,):
        return [float(s) for s in np.ravel(ctx.constant(name))[2:]]
    return [o / i for i, o in zip(shape[2:], out_shape[2:], strict=True)]


def _onnx_indices(ctx: Context, in_size: int, out_size: int, scale: float) -> np.ndarray:
    """The input index ONNX's Resize reads for each output index along one axis."""
    mode = ctx.attr("coordinate_transformation_mode", "half_pixel", str)
    x = np.arange(out_size, dtype=np.float64)
    if mode == "half_pixel":
        original = (x + 0.5) / scale - 0.5
    elif mode == "pytorch_half_pixel":
        original = (x + 0.5) / scale - 0.5 if out_size > 1 else np.zeros_like(x)
    elif mode == "align_corners":
        original = x * (in_size - 1) / (out_size - 1) if out_size > 1 else np.zeros_like(x)
    elif mode == "asymmetric":
        original = x / scale
    elif mode == "tf_half_pixel_for_nn":
        original = (x + 0.5) / scale
    else:
        raise ctx.unsupported(f"coordinate_transformation_mode '{mode}'")
    rounding = ctx.attr("nearest_mode", "round_prefer_floor", str)
    if rounding not in _ROUNDING:
        raise ctx.malformed(f"nearest_mode '{rounding}'")
    return np.clip(_ROUNDING[rounding](original), 0, in_size - 1).astype(np.int64)
