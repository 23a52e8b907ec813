"""Sliding-window geometry: ONNX pads and auto_pad expressed as TFLite's SAME/VALID, or an explicit PAD.

TFLite places a window by its padding rule (SAME: total padding split with the
smaller half first; VALID: none). An ONNX window whose output size and leading
padding match one of them reads exactly the same taps (taps beyond the end read
nothing in both), so it maps onto that rule; any other is padded explicitly and
run VALID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mcudeploy.importers.onnx.convert import Context
from mcudeploy.ir import Padding
from mcudeploy.ir.options import Conv2DOptions
from mcudeploy.params.window import make_window


@dataclass(frozen=True)
class Geometry:
    padding: Padding
    strides: tuple[int, int]
    dilations: tuple[int, int]
    explicit_pads: tuple[tuple[int, int], ...] | None
    """(before, after) per spatial axis when padded by a PAD operator first."""

    @classmethod
    def of(
        cls,
        ctx: Context,
        in_size: Sequence[int],
        kernel: Sequence[int],
        out_size: Sequence[int],
        padding_counts: bool = False,
    ) -> Geometry:
        """`padding_counts`: padded taps count as values (AveragePool with count_include_pad)."""
        strides = ctx.attr("strides", (1, 1), tuple)
        dilations = ctx.attr("dilations", (1, 1), tuple)
        if len(strides) != 2 or len(dilations) != 2 or min(strides + dilations) <= 0 or len(kernel) != 2:
            raise ctx.malformed(f"strides {list(strides)} or dilations {list(dilations)} are not two positive values")
        effective = [(k - 1) * d + 1 for k, d in zip(kernel, dilations, strict=True)]
        before, after = _onnx_pads(ctx, in_size, effective, strides, out_size)
        candidates = (Padding.VALID,) if padding_counts and any(before + after) else (Padding.VALID, Padding.SAME)
        for padding in candidates:
            if _tflite_places(padding, in_size, kernel, strides, dilations, out_size, before):
                return cls(padding, strides, dilations, None)
        pads = tuple(zip(before, after, strict=True))
        for i, e, s, o, (b, a) in zip(in_size, effective, strides, out_size, pads, strict=True):
            if (i + b + a - e) // s + 1 != o:
                raise ctx.unsupported(f"a window whose output size {list(out_size)} TFLite's padding cannot give")
        return cls(Padding.VALID, strides, dilations, pads)


def _onnx_pads(ctx: Context, in_size, effective, strides, out_size) -> tuple[list[int], list[int]]:
    auto_pad = ctx.attr("auto_pad", "NOTSET", str)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        totals = [max((o - 1) * s + e - i, 0) for i, e, s, o in zip(in_size, effective, strides, out_size, strict=True)]
        small = [t // 2 for t in totals]
        large = [t - t // 2 for t in totals]
        return (small, large) if auto_pad == "SAME_UPPER" else (large, small)
    if auto_pad == "VALID":
        return [0, 0], [0, 0]
    if auto_pad != "NOTSET":
        raise ctx.malformed(f"auto_pad '{auto_pad}' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID")
    pads = ctx.attr("pads", (0, 0, 0, 0), tuple)
    if len(pads) != 4 or min(pads) < 0:
        raise ctx.malformed(f"pads {list(pads)} are not four values of at least 0")
    return list(pads[:2]), list(pads[2:])


def _tflite_places(padding: Padding, in_size, kernel, strides, dilations, out_size, before) -> bool:
    """Whether TFLite's `padding` gives this output size and leading padding (its window rule, params.window)."""
    for i, k, s, d, o in zip(in_size, kernel, strides, dilations, out_size, strict=True):
        effective = (k - 1) * d + 1
        if o != ((i + s - 1) // s if padding == Padding.SAME else (i + s - effective) // s):
            return False
    options = Conv2DOptions(
        padding=padding, stride_h=strides[0], stride_w=strides[1], dilation_h=dilations[0], dilation_w=dilations[1]
    )
    window = make_window(options, (1, *in_size, 1), tuple(kernel), (1, *out_size, 1))
    return (window.pad_top, window.pad_left) == tuple(before)


def padded_input(ctx: Context, x: int, geometry: Geometry, value: float) -> int:
    """`x` (NHWC), padded first when the window needs explicit padding (with `value`, a real number)."""
    if geometry.explicit_pads is None:
        return x
    tensor = ctx.builder.tensors[x]
    paddings = np.array([(0, 0), *geometry.explicit_pads, (0, 0)], dtype=np.int32)
    shape = tuple(int(n) for n in np.add(tensor.shape, paddings.sum(axis=1)))
    out = ctx.new_tensor(shape, tensor.dtype, tensor.quantization)
    inputs = [x, ctx.int32_constant(paddings)]
    if value != 0.0:
        inputs.append(pad_constant(ctx, tensor, value))
    ctx.emit("PADV2" if value != 0.0 else "PAD", inputs, [out])
    return out


def pad_constant(ctx: Context, tensor, value: float) -> int:
    """A one-element constant of `tensor`'s type meaning `value` (clamped to the type's range)."""
    if tensor.quantization is None:
        data = np.array([max(value, float(np.finfo(np.float32).min))], dtype=np.float32)
    else:
        quant = tensor.quantization
        info = np.iinfo(tensor.dtype.numpy)
        q = np.clip(np.round(value / quant.single_scale) + quant.single_zero_point, info.min, info.max)
        data = np.array([q], dtype=tensor.dtype.numpy)
    index = ctx.builder.tensor((1,), tensor.dtype, data=data)
    ctx.builder.tensors[index].quantization = tensor.quantization
    return index
