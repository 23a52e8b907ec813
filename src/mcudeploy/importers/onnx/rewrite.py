"""Graph rewrites before conversion, as TFLite's converter does them.

- BatchNormalization after a Conv or Gemm with float weights is folded into
  those weights and bias (one operator instead of three).
- Relu and Clip to [0, 6] / [-1, 1] after an operator that can fuse an
  activation become that operator's fused activation.

Both only apply when the intermediate value feeds nothing else and is not a
graph output, so no other node sees a changed value.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.importers.onnx.convert import FUSED_ACTIVATION
from mcudeploy.importers.onnx.model import Node, OnnxModel
from mcudeploy.ir import Activation

_FUSES_ACTIVATION = {"Conv", "Gemm", "MatMul", "Add", "Sub", "Mul"}
_CLIP_ACTIVATIONS = {(0.0, None): Activation.RELU, (0.0, 6.0): Activation.RELU6, (-1.0, 1.0): Activation.RELU_N1_TO_1}


def rewrite(model: OnnxModel) -> None:
    _fold_batch_norms(model)
    _fuse_activations(model)


def _sole_producer(model: OnnxModel, node: Node) -> Node | None:
    """The node producing `node`'s first input, if that value feeds only `node` and is no graph output."""
    name = node.inputs[0] if node.inputs else ""
    if not name or name in model.outputs:
        return None
    consumers = [n for n in model.nodes if name in n.inputs]
    producer = next((n for n in model.nodes if name in n.outputs), None)
    if consumers != [node] or producer is None or len(producer.outputs) != 1:
        return None
    return producer


def _absorb(model: OnnxModel, producer: Node, node: Node) -> None:
    producer.outputs = list(node.outputs)
    model.nodes.remove(node)


def _float_constant(model: OnnxModel, name: str) -> np.ndarray | None:
    value = model.constants.get(name) if name else None
    return value if value is not None and value.dtype == np.float32 else None


def _fold_batch_norms(model: OnnxModel) -> None:
    for node in [n for n in model.nodes if n.op_type == "BatchNormalization"]:
        producer = _sole_producer(model, node)
        if producer is None or producer.op_type not in ("Conv", "Gemm") or node.attributes.get("training_mode"):
            continue
        params = [_float_constant(model, name) for name in node.inputs[1:5]]
        weights = _float_constant(model, producer.inputs[1])
        if weights is None or any(p is None or p.ndim != 1 for p in params) or len(node.outputs) != 1:
            continue
        gamma, beta, mean, variance = (p.astype(np.float64) for p in params)
        channel_scale = gamma / np.sqrt(variance + float(node.attributes.get("epsilon", 1e-5)))
        bias_name = producer.inputs[2] if len(producer.inputs) > 2 else ""
        bias = _float_constant(model, bias_name)
        if (bias_name and bias is None) or weights.ndim < 2 or weights.shape[_channel_axis(producer)] != len(gamma):
            continue
        shape = [1] * weights.ndim
        shape[_channel_axis(producer)] = -1
        bias = np.zeros(len(gamma)) if bias is None else np.broadcast_to(bias, gamma.shape).astype(np.float64)
        folded_weights = (weights.astype(np.float64) * channel_scale.reshape(shape)).astype(np.float32)
        folded_bias = ((bias - mean) * channel_scale + beta).astype(np.float32)
        names = [f"{producer.name}/bn_folded_weights", f"{producer.name}/bn_folded_bias"]
        for name, array in zip(names, (folded_weights, folded_bias), strict=True):
            array.flags.writeable = False
            model.constants[name], model.shapes[name], model.dtypes[name] = array, array.shape, array.dtype
        producer.inputs = [producer.inputs[0], *names]
        _absorb(model, producer, node)


def _channel_axis(producer: Node) -> int:
    """The output-channel axis of the weights: Conv (O, I, kh, kw); Gemm B (K, N), or (N, K) when transB."""
    if producer.op_type == "Conv":
        return 0
    return 0 if producer.attributes.get("transB", 0) else 1


def _fuse_activations(model: OnnxModel) -> None:
    for node in [n for n in model.nodes if n.op_type in ("Relu", "Clip")]:
        activation = Activation.RELU if node.op_type == "Relu" else _clip_activation(model, node)
        producer = _sole_producer(model, node)
        if activation is None or producer is None or producer.op_type not in _FUSES_ACTIVATION:
            continue
        if producer.attributes.get(FUSED_ACTIVATION, Activation.NONE) != Activation.NONE:
            continue
        producer.attributes[FUSED_ACTIVATION] = activation
        _absorb(model, producer, node)


def clip_bounds(model: OnnxModel, node: Node) -> tuple[float | None, float | None] | None:
    """Clip's bounds (None: unbounded), from attributes (opset < 11) or constant inputs; None if computed."""
    if "min" in node.attributes or "max" in node.attributes:
        low, high = node.attributes.get("min"), node.attributes.get("max")
        return tuple(None if v is None or not np.isfinite(v) else float(v) for v in (low, high))
    bounds = []
    for i in (1, 2):
        name = node.inputs[i] if len(node.inputs) > i else ""
        if name and name not in model.constants:
            return None
        value = float(np.ravel(model.constants[name])[0]) if name else None
        bounds.append(value if value is None or np.isfinite(value) else None)
    return bounds[0], bounds[1]


def _clip_activation(model: OnnxModel, node: Node) -> Activation | None:
    bounds = clip_bounds(model, node)
    return None if bounds is None else _CLIP_ACTIVATIONS.get(bounds)
