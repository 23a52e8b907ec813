"""Gemm and MatMul with a constant right-hand side → FULLY_CONNECTED (weights as (out, in))."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mcudeploy.importers.onnx.convert import Context, Int8, Weights, converts
from mcudeploy.importers.onnx.layout import identity
from mcudeploy.importers.onnx.ops.conv import symmetric
from mcudeploy.ir import NO_TENSOR
from mcudeploy.ir.options import FullyConnectedOptions


@converts("Gemm", int8=Int8.BETWEEN_QDQ, bias_inputs=(2,))
def gemm(ctx: Context) -> None:
    a_name, b_name, c_name = (ctx.input_name(i) for i in range(3))
    if ctx.attr("transA", 0, int):
        raise ctx.unsupported("transA=1 (a transposed input)")
    if not ctx.is_constant(b_name):
        raise ctx.unsupported("a Gemm of two computed tensors (B must be a constant)")
    weights = symmetric(ctx, ctx.weights(b_name))
    if weights.data.ndim != 2 or len(ctx.shape(a_name)) != 2:
        raise ctx.malformed("A and B must be 2-D")
    if not ctx.attr("transB", 0, int):
        weights = weights.transposed((1, 0))
    alpha, beta = ctx.attr("alpha", 1.0, float), ctx.attr("beta", 1.0, float)
    if alpha != 1.0:
        if ctx.quantized:
            raise ctx.unsupported("alpha other than 1 in a quantized Gemm")
        weights = replace(weights, data=(weights.data * np.float32(alpha)).astype(np.float32))
    bias = _bias(ctx, c_name, weights, a_name, beta)
    x = ctx.tensor(a_name, identity(2))
    inputs = [x, ctx.add_constant(weights, b_name), bias]
    ctx.emit("FULLY_CONNECTED", inputs, [ctx.output(0, identity(2))], FullyConnectedOptions(activation=ctx.activation))


def _bias(ctx: Context, name: str, weights: Weights, input_name: str, beta: float) -> int:
    """C as a bias of one value per output: it must broadcast along the rows."""
    if not name or beta == 0.0:
        return NO_TENSOR
    out_features = weights.data.shape[0]
    if not ctx.is_constant(name) or ctx.shape(name) not in ((), (1,), (out_features,), (1, out_features)):
        raise ctx.unsupported("C must be a constant with one value per output column")
    if beta != 1.0 or ctx.shape(name) != (out_features,):
        if ctx.quantized:
            raise ctx.unsupported("a quantized Gemm whose C is scaled or broadcast")
        values = np.broadcast_to(np.asarray(ctx.constant(name), np.float32) * np.float32(beta), (1, out_features))
        return ctx.add_constant(Weights(np.ascontiguousarray(values[0])), name)
    return ctx.bias(name, input_name, weights, out_features)


@converts("MatMul", int8=Int8.BETWEEN_QDQ, bias_inputs=(2,))
def matmul(ctx: Context) -> None:
    """A third input, a bias, is no ONNX MatMul's: MatMulInteger → Cast → Mul → Add rewritten (integer.py)."""
    a_name, b_name, c_name = (ctx.input_name(i) for i in range(3))
    if not ctx.is_constant(b_name):
        raise ctx.unsupported("a MatMul of two computed tensors (the right-hand side must be a constant)")
    weights = symmetric(ctx, ctx.weights(b_name))
    rank = len(ctx.shape(a_name))
    if weights.data.ndim != 2 or rank < 2:
        raise ctx.unsupported("only (..., K) x (K, N) products with a 2-D constant are supported")
    x = ctx.tensor(a_name, identity(rank))
    options = FullyConnectedOptions(activation=ctx.activation, keep_num_dims=rank > 2)
    filters = weights.transposed((1, 0))
    bias = ctx.bias(c_name, a_name, filters, filters.data.shape[0])
    ctx.emit("FULLY_CONNECTED", [x, ctx.add_constant(filters, b_name), bias], [ctx.output(0, identity(rank))], options)
