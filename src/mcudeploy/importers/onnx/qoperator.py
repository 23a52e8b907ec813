"""QOperator nodes (QLinearConv, QLinearMatMul, QLinearAdd, ...) rewritten as their QDQ meaning.

A QLinear node is by definition DequantizeLinear on each quantized input, the
float operator, then QuantizeLinear of the result. Written that way, the one QDQ
path of the converter imports both formats, and the checker and shape inference
see standard operators only.
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx
from onnx import helper, numpy_helper

from mcudeploy.errors import ModelError, UnsupportedOperatorError


@dataclass(frozen=True)
class _Form:
    float_op: str
    quantized_inputs: tuple[int, ...]
    """Input positions that start a (value, scale, zero point) triple."""
    output_scale: int
    """Position of the output's scale (its zero point follows)."""
    bias: int | None = None
    """Position of an int32 bias, scaled by the product of the two input scales."""


_FORMS = {
    "QLinearConv": _Form("Conv", (0, 3), 6, bias=8),
    "QGemm": _Form("Gemm", (0, 3), 7, bias=6),
    "QLinearMatMul": _Form("MatMul", (0, 3), 6),
    "QLinearAdd": _Form("Add", (0, 3), 6),
    "QLinearMul": _Form("Mul", (0, 3), 6),
    "QLinearGlobalAveragePool": _Form("GlobalAveragePool", (0,), 3),
    "QLinearAveragePool": _Form("AveragePool", (0,), 3),
    "QLinearSigmoid": _Form("Sigmoid", (0,), 3),
    "QLinearLeakyRelu": _Form("LeakyRelu", (0,), 3),
    "QLinearSoftmax": _Form("Softmax", (0,), 3),
}
_ATTRIBUTES_DROPPED = {"channels_last", "opset"}


def expand_qoperators(graph: onnx.GraphProto, subject: str) -> None:
    """Replace every QLinear node of `graph` by DequantizeLinear → float operator → QuantizeLinear."""
    nodes = []
    for index, node in enumerate(graph.node):
        form = _FORMS.get(node.op_type)
        if form is None:
            nodes.append(node)
        else:
            nodes.extend(_expanded(graph, node, form, f"{node.name or node.output[0]}#{index}", subject))
    del graph.node[:]
    graph.node.extend(nodes)


def _expanded(graph: onnx.GraphProto, node: onnx.NodeProto, form: _Form, prefix: str, subject: str):
    inputs = list(node.input)
    label = f"node '{node.name or node.output[0]}' ({node.op_type})"
    needed = max(form.quantized_inputs) + 3
    if len(inputs) < needed or len(node.output) != 1:
        raise UnsupportedOperatorError(subject, f"{label}: {len(inputs)} inputs, expected {needed} or more")
    if any(a.name == "channels_last" and a.i for a in node.attribute):
        raise UnsupportedOperatorError(subject, f"{label}: channels_last=1 is not supported")
    dequantized, new_nodes = [], []
    for position in form.quantized_inputs:
        value, scale, zero_point = inputs[position : position + 3]
        float_name = f"{prefix}/dq{position}"
        new_nodes.append(_dequantize(value, scale, zero_point, float_name, axis=1 if position == 3 else None))
        dequantized.append(float_name)
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute if a.name not in _ATTRIBUTES_DROPPED}
    float_inputs = dequantized
    if form.bias is not None:
        float_inputs = dequantized + _bias(graph, node, form.bias, prefix, new_nodes, subject, label)
        if node.op_type == "QLinearConv" or attributes.get("transB"):  # weight scales per output channel: axis 0
            new_nodes[1] = _dequantize(*inputs[3:6], dequantized[1], axis=0)
    quantized_output = len(inputs) > form.output_scale and inputs[form.output_scale]
    float_output = f"{prefix}/float" if quantized_output else node.output[0]
    new_nodes.append(helper.make_node(form.float_op, float_inputs, [float_output], name=prefix, **attributes))
    if quantized_output:  # QGemm without an output scale gives float
        out_scale, out_zero_point = inputs[form.output_scale : form.output_scale + 2]
        new_nodes.append(
            helper.make_node(
                "QuantizeLinear", [float_output, out_scale, out_zero_point], list(node.output), name=f"{prefix}/q"
            )
        )
    return new_nodes


def _dequantize(value: str, scale: str, zero_point: str, output: str, axis: int | None) -> onnx.NodeProto:
    extra = {} if axis is None else {"axis": axis}
    return helper.make_node("DequantizeLinear", [value, scale, zero_point], [output], name=f"{output}/node", **extra)


def _bias(graph, node, position: int, prefix: str, new_nodes: list, subject: str, label: str) -> list[str]:
    """An int32 bias has the scale input scale x weight scale: a DequantizeLinear with it."""
    if len(node.input) <= position or not node.input[position]:
        return []
    initializers = {init.name: init for init in graph.initializer}
    if node.input[1] not in initializers or node.input[4] not in initializers:
        raise UnsupportedOperatorError(subject, f"{label}: scales computed at run time are not supported")
    input_scale = numpy_helper.to_array(initializers[node.input[1]]).astype("float32")
    weight_scale = numpy_helper.to_array(initializers[node.input[4]]).astype("float32")
    if input_scale.size != 1 or weight_scale.ndim > 1:
        raise ModelError(subject, f"{label}: scales of shapes {input_scale.shape} and {weight_scale.shape}")
    bias_scale = (input_scale * weight_scale).reshape(-1)
    scale_name = f"{prefix}/bias_scale"
    graph.initializer.append(numpy_helper.from_array(bias_scale if bias_scale.size > 1 else bias_scale[0], scale_name))
    float_name = f"{prefix}/bias"
    new_nodes.append(
        helper.make_node(
            "DequantizeLinear", [node.input[position], scale_name], [float_name], name=f"{float_name}/node", axis=0
        )
    )
    return [float_name]
