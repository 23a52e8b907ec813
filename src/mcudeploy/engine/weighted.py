"""What the weighted kernels (convolutions, fully connected) share: exact integer sums, the
requantizer built from the operator's parameters, float sums in the reference loops' order.

Integer kernels fold the input offset into the bias, so they sum raw input × filter products,
through BLAS in float32 when every partial sum provably stays below 2^24 and in float64
otherwise (all partial sums are then exact integers, whatever BLAS's order); the requantizer
models int32 wrap-around wherever bounds do not rule it out. Float kernels add their float32
products in the reference loops' order, so they match TFLM and LiteRT bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from mcudeploy.engine.fixedpoint import Requantizer, make_requantizer
from mcudeploy.engine.registry import OpContext
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Tensor
from mcudeploy.params.conv import WindowParams
from mcudeploy.params.fully_connected import FullyConnectedParams


def integer_requantizer(
    ctx: OpContext, params: WindowParams | FullyConnectedParams, weights: np.ndarray, data: int = 0, bias: int = 2
) -> Requantizer:
    """The requantizer of an integer kernel that sums raw inputs x (input `data`) against `weights`
    (terms, channels), its bias at input `bias`.

    TFLite adds the input offset to every input: Σ (x + offset) · w + bias is computed as
    Σ x · w + (bias + offset · Σ w), so the kernel multiplies the raw input and the offset joins
    the bias.
    """
    bias = ctx.input(bias)
    bias_values = 0 if bias is None else bias.astype(np.int64)
    return make_requantizer(
        params.requantization,
        bias_values + params.input_offset * weights.astype(np.int64).sum(axis=0),
        params.output_offset,
        (params.act_min, params.act_max),
        ctx.output_tensor().dtype.numpy,
        wide=bool(params.accumulator64),
        sum_bound=sum_bound(ctx.input_tensor(data), weights),
    )


def sum_bound(input_t: Tensor, weights: np.ndarray) -> np.ndarray:
    """Per channel, the largest |Σ x · w| of raw inputs x against `weights` (terms, channels)
    and of any partial sum: the largest |x| times Σ |w|."""
    return -int(np.iinfo(input_t.dtype.numpy).min) * np.abs(weights.astype(np.int64)).sum(axis=0)


def exact_float_type(bound: np.ndarray) -> type[np.floating]:
    """The float type in which BLAS sums integer products exactly, whatever its order: float32
    when every partial sum stays below 2^24 (all are integers then, each exactly representable),
    float64 (below 2^53) otherwise."""
    return np.float32 if bound.size and bound.max() < 1 << 24 else np.float64


def runtime_parameters(ctx: OpContext) -> bool:
    """Whether the filter or the bias is computed at run time, so it cannot be prepared once."""
    return ctx.input(1) is None or (ctx.input(2) is None and ctx.input_tensor(2) is not None)


def check_integer_types(ctx: OpContext, op_name: str) -> None:
    """TFLM's integer kernels: int8 or int16 activations with int8 weights, or int8 activations with
    int4 weights (their data already unpacked to int8 by the reader, as TFLM unpacks them before the
    int8 kernel)."""
    input_t, filter_t = ctx.input_tensor(0), ctx.input_tensor(1)
    int4_filter = input_t.dtype == DType.INT8 and filter_t.dtype == DType.INT4
    if not int4_filter and (input_t.dtype not in (DType.INT8, DType.INT16) or filter_t.dtype != DType.INT8):
        raise UnsupportedOperatorError(
            op_name, f"{input_t.dtype} input with {filter_t.dtype} filter is not supported (TFLite Micro refuses it)"
        )


def clamp_float(values: np.ndarray, clamp: tuple[np.float32, np.float32]) -> np.ndarray:
    """Fused activation of a float kernel, in float32 (NaN stays NaN)."""
    return np.clip(values, *clamp).astype(np.float32)


def float_bias_add(acc: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """The bias added to the finished float32 sum, as the reference does (not as its first term)."""
    return acc if bias is None else acc + bias.astype(np.float32)


def exact_dot(lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Integer matrix product through float64 BLAS; exact while sums stay below 2^53."""
    product = np.matmul(lhs.astype(np.float64, copy=False), rhs.astype(np.float64, copy=False))
    return np.rint(product).astype(np.int64)


def ordered_float32_dot(lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """lhs (..., P, K) @ rhs (..., K, F) as the float reference loops compute it: term k = 0, 1, ...
    added one at a time in float32, rounding after each product and each sum (BLAS orders differ)."""
    lhs_by_term = np.moveaxis(lhs.astype(np.float32, copy=False), -1, 0)[..., None]
    rhs_by_term = np.moveaxis(rhs.astype(np.float32, copy=False), -2, 0)[..., None, :]
    out_shape = lhs.shape[:-1] + rhs.shape[-1:]
    outputs, terms = math.prod(out_shape), lhs.shape[-1]
    if outputs <= _FEW_OUTPUTS and outputs * terms <= _PRODUCTS_AT_ONCE:
        # Few outputs (a fully connected layer): a loop would be all overhead. accumulate is
        # sequential by definition; adding +0 turns an all -0.0 sum into the +0.0 the reference,
        # which starts from +0.0, returns.
        return np.add.accumulate(lhs_by_term * rhs_by_term, axis=0)[-1] + np.float32(0)
    acc = np.zeros(out_shape, dtype=np.float32)
    product = np.empty_like(acc)
    for lhs_term, rhs_term in zip(np.ascontiguousarray(lhs_by_term), np.ascontiguousarray(rhs_by_term), strict=True):
        np.multiply(lhs_term, rhs_term, out=product)
        acc += product
    return acc


_FEW_OUTPUTS = 2048
_PRODUCTS_AT_ONCE = 1 << 22
