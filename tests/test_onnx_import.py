"""The ONNX importer against onnxruntime: real NCHW models, one small model per operator, QDQ and QOperator."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from conftest import MODELS
from mcudeploy.engine.interpreter import run
from mcudeploy.errors import McuDeployError
from mcudeploy.importers import load_model
from onnx_models import Net, branchy_cnn, compare, quantized, relative_error, small_cnn, weights

FLOAT_TOLERANCE = 1e-5
REAL_ONNX = ["mlperf_tiny/onnx/ic_resnet8_float.onnx", "mlperf_tiny/onnx/vww_96_float.onnx"]


@pytest.mark.parametrize("name", REAL_ONNX)
def test_real_nchw_models_match_onnxruntime_without_transposes(name, tmp_path):
    graph, expected, ours = compare(MODELS / name, tmp_path, samples=2)
    for want, got in zip(expected, ours, strict=True):
        assert relative_error(want[0], got[0]) < FLOAT_TOLERANCE
    assert graph.graph_inputs[0].shape[-1] == 3  # NHWC
    assert not [op for op in graph.operators if op.op_type == "TRANSPOSE"]


# --------------------------------------------------------------------------- one operator a model


def _conv(net, x, cin, cout, k=3, **attrs):
    return net.add("Conv", [x, weights(cout, cin // attrs.get("group", 1), k, k), weights(cout)], **attrs)


def conv_same(opset):
    net = Net((1, 3, 9, 9), opset)
    return net.model(_conv(net, "input", 3, 4, pads=[1, 1, 1, 1]))


def conv_explicit_pads(opset):
    net = Net((1, 3, 9, 8), opset)
    return net.model(_conv(net, "input", 3, 4, pads=[2, 0, 0, 1], strides=[2, 1], dilations=[1, 2]))


def conv_auto_pad(opset):
    net = Net((1, 2, 8, 8), opset)
    return net.model(_conv(net, "input", 2, 3, auto_pad="SAME_LOWER", strides=[2, 2]))


def depthwise(opset):
    net = Net((1, 4, 7, 7), opset)
    return net.model(_conv(net, "input", 4, 8, group=4, pads=[1, 1, 1, 1]))


def grouped_conv(opset):
    net = Net((1, 4, 6, 6), opset)
    return net.model(_conv(net, "input", 4, 6, group=2, pads=[1, 1, 1, 1]))


def conv_bn_relu(opset):
    net = Net((1, 3, 6, 6), opset)
    y = _conv(net, "input", 3, 5, pads=[1, 1, 1, 1])
    bn = [weights(5) + 1, weights(5), weights(5), np.abs(weights(5)) + 0.5]
    y = net.add("BatchNormalization", [y, *bn], epsilon=1e-3)
    return net.model(net.add("Relu", [y]))


def batch_norm_alone(opset):
    net = Net((1, 3, 4, 4), opset)
    return net.model(net.add("BatchNormalization", ["input", weights(3), weights(3), weights(3), weights(3) ** 2 + 1]))


def clip_relu6(opset):
    net = Net((1, 3, 5, 5), opset)
    y = _conv(net, "input", 3, 3, k=1)
    return net.model(net.add("Clip", [y, np.array(0, np.float32), np.array(6, np.float32)]))


def activations(opset):
    net = Net((1, 3, 4, 4), opset)
    y = net.add("Sigmoid", [net.add("LeakyRelu", ["input"], alpha=0.1)])
    y = net.add("HardSwish", [net.add("Mul", [y, np.array(8.0, np.float32)])]) if opset >= 14 else y
    return net.model(net.add("Tanh", [y]))


def add_mul_sub_broadcast(opset):
    net = Net((1, 3, 4, 5), opset)
    y = net.add("Add", ["input", weights(3, 1, 1)])
    z = net.add("Mul", [y, weights(5)])
    return net.model(net.add("Sub", [z, y]))


def concat_channels(opset):
    net = Net((1, 2, 5, 5), opset)
    a, b = _conv(net, "input", 2, 3, k=1), _conv(net, "input", 2, 4, k=1)
    return net.model(net.add("Concat", [a, b, "input"], axis=1))


def flatten_feature_map(opset):
    net = Net((1, 2, 4, 3), opset)
    y = _conv(net, "input", 2, 3, k=1)
    return net.model(net.add("Gemm", [net.add("Flatten", [y]), weights(36, 5), weights(5)]))


def global_pool_reshape(opset):
    net = Net((1, 3, 6, 6), opset)
    y = net.add("GlobalAveragePool", [_conv(net, "input", 3, 8)])
    y = net.add("Reshape", [y, np.array([1, -1], np.int64)])
    return net.model(net.add("Gemm", [y, weights(4, 8), weights(4)], transB=1, alpha=0.5, beta=2.0))


def transposes(opset):
    net = Net((1, 3, 4, 5), opset)
    y = net.add("Transpose", ["input"], perm=[0, 2, 3, 1])
    y = net.add("Relu", [y])
    y = net.add("Transpose", [y], perm=[0, 3, 1, 2])
    return net.model(_conv(net, y, 3, 2, k=1))


def matmul_3d(opset):
    net = Net((1, 4, 6), opset)
    return net.model(net.add("MatMul", ["input", weights(6, 3)]))


def pads(opset):
    net = Net((1, 2, 3, 4), opset)
    y = net.add("Pad", ["input", np.array([0, 0, 1, 2, 0, 1, 0, 1], np.int64), np.array(0.5, np.float32)])
    return net.model(net.add("Pad", [y, np.array([0, 1, 0, 0, 0, 0, 2, 0], np.int64)]))


def pools(opset):
    net = Net((1, 3, 9, 9), opset)
    a = net.add("MaxPool", ["input"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    b = net.add("AveragePool", ["input"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c = net.add("AveragePool", ["input"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)
    d = net.add("MaxPool", ["input"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    e = net.add("GlobalMaxPool", ["input"])
    return net.model(a, b, c, d, e)


def reductions(opset):
    net = Net((1, 3, 4, 5), opset)
    if opset >= 18:
        mean = net.add("ReduceMean", ["input", np.array([2, 3], np.int64)], keepdims=0)
    else:
        mean = net.add("ReduceMean", ["input"], axes=[2, 3], keepdims=0)
    return net.model(mean, net.add("ReduceMax", ["input"], keepdims=1, **({} if opset >= 18 else {"axes": [1]})))


def softmax_channels(opset):
    net = Net((1, 4, 3, 3), opset)
    return net.model(net.add("Softmax", [_conv(net, "input", 4, 5, k=1)], axis=1))


def resize_nearest(opset):
    net = Net((1, 2, 3, 4), opset)
    scales = np.array([1, 1, 2, 2], np.float32)
    roi = np.zeros(0, np.float32)
    a = net.add("Resize", ["input", roi, scales], mode="nearest")
    b = net.add(
        "Resize",
        ["input", roi, scales],
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )
    return net.model(a, b)


def slices_splits_division(opset):
    net = Net((1, 6, 5, 4), opset)
    y = _conv(net, "input", 6, 6, k=1)
    ints = np.array
    sliced = net.add(
        "Slice", [y, ints([-5, 1], np.int64), ints([6, 100], np.int64), ints([1, 3], np.int64), ints([2, 1], np.int64)]
    )
    sizes = ints([1, 2, 3], np.int64)
    parts = [y, sizes] if opset >= 13 else [y]
    a, b, c = (f"split{len(net.nodes) + 1}_{k}" for k in range(3))
    net.add("Split", parts, outputs=3, axis=1, **({} if opset >= 13 else {"split": [1, 2, 3]}))
    return net.model(sliced, a, b, net.add("Div", [c, ints(4.0, np.float32)]))


CASES = [
    conv_same,
    conv_explicit_pads,
    conv_auto_pad,
    depthwise,
    grouped_conv,
    conv_bn_relu,
    batch_norm_alone,
    clip_relu6,
    activations,
    add_mul_sub_broadcast,
    concat_channels,
    flatten_feature_map,
    global_pool_reshape,
    transposes,
    matmul_3d,
    pads,
    pools,
    reductions,
    softmax_channels,
    resize_nearest,
    slices_splits_division,
]


@pytest.mark.parametrize("opset", [11, 18])
@pytest.mark.parametrize("build", CASES, ids=lambda f: f.__name__)
def test_each_operator_matches_onnxruntime(build, opset, tmp_path):
    _, expected, ours = compare(build(opset), tmp_path)
    for want, got in zip(expected[0], ours[0], strict=True):
        assert want.shape == got.shape
        assert relative_error(want, got) < FLOAT_TOLERANCE


def _math(net: Net, op_type: str) -> str:
    """`op_type` applied to the input, brought into the op's domain first."""
    positive = net.add("Add", [net.add("Abs", ["input"]), np.array(0.1, np.float32)])
    eighths = net.add("Floor", [net.add("Mul", ["input", np.array(8, np.float32)])])
    ties = net.add("Mul", [eighths, np.array(0.5, np.float32)])  # halves: Round's ties go to even
    inputs = {"Sqrt": [positive], "Log": [positive], "Round": [ties], "Reciprocal": [positive]}
    return net.add(op_type, inputs.get(op_type, ["input"]))


def _powers(net: Net) -> str:
    square = net.add("Pow", ["input", np.array(2, np.float32)])
    return net.add("Pow", [net.add("Abs", [square]), np.array([0.5], np.float32)])


def _min_max(net: Net) -> str:
    three = net.add("Max", ["input", net.add("Neg", ["input"]), weights(3, 1, 1)])
    return net.add("Min", [net.add("Min", [three]), weights(5), np.array(0.6, np.float32)])


def _comparisons_where(net: Net) -> str:
    x, c = "input", weights(3, 1, 1)
    masks = [net.add(op, [x, c]) for op in ("Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Equal")]
    a = net.add("And", [masks[0], net.add("Not", [masks[1]])])
    b = net.add("Or", [net.add("Xor", [masks[2], masks[3]]), masks[4]])
    y = net.add("Where", [a, x, weights(5)])
    return net.add("Where", [b, net.add("Neg", [y]), y])


MATH = ("Neg", "Abs", "Sqrt", "Exp", "Log", "Sin", "Cos", "Floor", "Ceil", "Round", "Reciprocal", "Elu")
POINTWISE = [
    *(pytest.param(lambda net, op=op: _math(net, op), id=op) for op in MATH),
    pytest.param(_powers, id="Pow"),
    pytest.param(_min_max, id="Min_Max"),
    pytest.param(_comparisons_where, id="comparisons_logic_Where"),
    pytest.param(lambda net: net.add("Greater", ["input", weights(5)]), id="bool_output"),
]


@pytest.mark.parametrize("build", POINTWISE)
def test_pointwise_operators_match_onnxruntime(build, tmp_path):
    net = Net((1, 3, 4, 5), 13)
    _, expected, ours = compare(net.model(build(net)), tmp_path, low=-2.0, high=2.0)
    want, got = expected[0][0], ours[0][0]
    assert want.shape == got.shape and want.dtype == got.dtype
    if want.dtype == bool:
        np.testing.assert_array_equal(want, got)
    else:
        assert relative_error(want, got) < FLOAT_TOLERANCE


def test_folds_batch_norm_and_relu_into_the_convolution(tmp_path):
    graph, _, _ = compare(conv_bn_relu(13), tmp_path)
    assert [op.op_type for op in graph.operators] == ["CONV_2D"]
    assert graph.operators[0].options.activation == "relu"


def test_flatten_of_a_feature_map_reads_it_in_nchw_order(tmp_path):
    """Flattening C x H x W > 1 pixel needs the NCHW order back: one TRANSPOSE, exactly there."""
    graph, _, _ = compare(flatten_feature_map(13), tmp_path)
    assert [op.op_type for op in graph.operators] == ["CONV_2D", "TRANSPOSE", "RESHAPE", "FULLY_CONNECTED"]


def test_layout_transposes_of_the_model_itself_vanish(tmp_path):
    graph, _, _ = compare(transposes(13), tmp_path)
    assert [op.op_type for op in graph.operators] == ["RELU", "CONV_2D"]


def test_outputs_keep_the_order_the_model_declares(tmp_path):
    """graph.output order, not name order nor node order, checked output by output."""
    net = Net((1, 4))
    projected = net.add("MatMul", ["input", weights(4, 3)])
    sigmoid = net.add("Sigmoid", ["input"])
    relu = net.add("Relu", ["input"])
    graph, expected, ours = compare(net.model(sigmoid, relu, projected), tmp_path)
    assert [t.name for t in graph.graph_outputs] == [sigmoid, relu, projected]
    for want, got in zip(expected[0], ours[0], strict=True):
        assert want.shape == got.shape and relative_error(want, got) < FLOAT_TOLERANCE


# --------------------------------------------------------------------------- errors


def _saved(model, tmp_path):
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    return path


def test_an_unsupported_operator_is_named_with_its_node(tmp_path):
    net = Net((1, 4), 13)
    path = _saved(net.model(net.add("Erf", ["input"])), tmp_path)
    with pytest.raises(McuDeployError, match=r"node 'Erf_1' \(Erf\): operator not supported"):
        load_model(path)


@pytest.mark.parametrize(
    ("op_type", "inputs", "attributes", "reason"),
    [
        ("Elu", ["input"], {"alpha": 0.5}, "alpha other than 1"),
        ("Pow", ["input", np.array(3, np.float32)], {}, "Pow other than by a constant 2"),
        ("Pow", ["input", "input"], {}, "Pow other than by a constant 2"),
        ("Where", [np.array([True, False, True, False]), "input", "input"], {}, "constant input 'c0' of type bool"),
    ],
)
def test_pointwise_operators_tflite_cannot_compute_are_refused(op_type, inputs, attributes, reason, tmp_path):
    net = Net((1, 4), 13)
    path = _saved(net.model(net.add(op_type, inputs, **attributes)), tmp_path)
    with pytest.raises(McuDeployError, match=reason):
        load_model(path)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda m: setattr(m.graph.initializer[0], "raw_data", m.graph.initializer[0].raw_data[:-4]), "c0"),
        (lambda m: m.graph.initializer[0].ClearField("raw_data"), "c0"),
        (lambda m: m.opset_import[0].__setattr__("version", 9), "opset 9 is outside"),
        (lambda m: m.graph.node[0].attribute.append(onnx.helper.make_attribute("group", 5)), "group 5"),
        (lambda m: m.graph.initializer[0].dims.__setitem__(0, 1 << 40), "not plausible"),
    ],
)
def test_malformed_models_give_one_line(corrupt, message, tmp_path):
    model = conv_same(13)
    corrupt(model)
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(McuDeployError, match=message) as error:
        load_model(path)
    assert "\n" not in str(error.value)


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x89PNG not a model at all")
    with pytest.raises(McuDeployError, match=r"junk\.onnx"):
        load_model(path)


# --------------------------------------------------------------------------- quantized models


QUANTIZED = [
    # (model, format, per-channel weights, most output steps apart from onnxruntime as measured, samples)
    ("small_cnn", "QDQ", False, 3, 40),
    ("small_cnn", "QDQ", True, 3, 40),
    ("small_cnn", "QOperator", False, 3, 40),
    ("small_cnn", "QOperator", True, 3, 40),
    ("ic_resnet8", "QDQ", True, 5, 10),
    ("branchy_cnn", "QDQ", True, 1, 20),
]
LEFT_FLOAT = {"branchy_cnn": {"HARD_SWISH", "RESIZE_NEAREST_NEIGHBOR"}}
"""Operators onnxruntime's quantizer leaves in float (no QuantizeLinear after them): they stay float."""


@pytest.mark.parametrize(("model", "form", "per_channel", "steps", "samples"), QUANTIZED)
def test_quantized_models_run_int8_close_to_onnxruntime(model, form, per_channel, steps, samples, tmp_path):
    """onnxruntime rounds in float, TFLite in fixed point: outputs differ by a few steps, measured here.

    The outputs are softmax probabilities in steps of about 1/255; our int8 SOFTMAX writes TFLite's
    1/256 scale, then requantizes to the model's."""
    source = MODELS / REAL_ONNX[0] if model == "ic_resnet8" else tmp_path / "float.onnx"
    if model != "ic_resnet8":
        onnx.save(small_cnn() if model == "small_cnn" else branchy_cnn(), source)
    path = quantized(source, tmp_path / "int8.onnx", form == "QOperator", per_channel)
    graph, expected, ours = compare(path, tmp_path, samples=samples)
    float_ops = {op.op_type for op in graph.operators if graph.tensors[op.outputs[0]].dtype == "float32"}
    assert float_ops - {"DEQUANTIZE"} == LEFT_FLOAT.get(model, set())
    step = graph.tensors[graph.producer(graph.outputs[0]).inputs[0]].quantization.single_scale
    differences = np.abs(np.array([w[0] - o[0] for w, o in zip(expected, ours, strict=True)])) / step
    agree = sum(int(np.argmax(w[0]) == np.argmax(o[0])) for w, o in zip(expected, ours, strict=True))
    print(
        f"\n{model} {form} per-channel={per_channel}: output steps apart max {differences.max():.0f} "
        f"mean {differences.mean():.2f}, top-1 agreement {agree}/{samples}"
    )
    assert differences.max() <= steps + 1e-3
    assert agree >= samples - 1


def _mutant(model, rng: np.random.Generator):
    """One random edit of a node attribute, an initializer's size, an input order or the input's shape."""
    graph = model.graph
    node = graph.node[rng.integers(len(graph.node))]
    kind = rng.integers(4)
    if kind == 0 and node.attribute:
        attribute = node.attribute[rng.integers(len(node.attribute))]
        if attribute.ints:
            attribute.ints[rng.integers(len(attribute.ints))] = int(rng.choice([-1, 0, 2, 7, 1000]))
        else:
            attribute.i = int(rng.choice([-1, 0, 2, 1000]))
    elif kind == 1:
        init = graph.initializer[rng.integers(len(graph.initializer))]
        values = onnx.numpy_helper.to_array(init).reshape(-1)
        init.CopyFrom(onnx.numpy_helper.from_array(values[: max(1, values.size // 2)].copy(), init.name))
    elif kind == 2 and len(node.input) > 1:
        node.input[0], node.input[1] = node.input[1], node.input[0]
    else:
        dims = graph.input[0].type.tensor_type.shape.dim
        dims[rng.integers(len(dims))].dim_value = int(rng.choice([1, 2, 5, 64]))
    return model


def test_mutated_models_import_and_run_or_fail_in_one_line(tmp_path):
    rng = np.random.default_rng(14)
    path = tmp_path / "mutant.onnx"
    for _ in range(40):
        path.write_bytes(_mutant(small_cnn(), rng).SerializeToString())
        try:
            graph = load_model(path)
            run(graph, [np.zeros(t.shape, t.dtype.numpy) for t in graph.graph_inputs])
        except McuDeployError as error:
            assert "\n" not in str(error)


def test_without_the_onnx_package_the_error_says_which_extra_to_install(monkeypatch, tmp_path):
    import sys

    for name in [n for n in sys.modules if n == "onnx" or n.startswith(("onnx.", "mcudeploy.importers.onnx"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(McuDeployError, match=r"needs the onnx package: pip install 'mcudeploy\[onnx\]'"):
        load_model(tmp_path / "model.onnx")
