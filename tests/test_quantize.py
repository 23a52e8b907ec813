"""Post-training quantization, min-max: the .tflite it writes runs in TFLite Micro bit for bit like our engine."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import MODELS
from mcudeploy.audio import Features, load_audio_sets
from mcudeploy.engine.interpreter import run
from mcudeploy.errors import McuDeployError
from mcudeploy.images import Preprocess, load_image_sets
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import DType, GraphBuilder
from mcudeploy.ir.options import FullyConnectedOptions, SoftmaxOptions
from mcudeploy.quantization import Method, calibrate, observe_ranges, quantize_graph
from mcudeploy.quantization.quality import compare_outputs, integer_inputs
from mcudeploy.validation.oracles import tflm_run
from test_cli import invoke

KWS_YES = 9
"""MLPerf Tiny KWS's classes: down, go, left, no, off, on, right, stop, up, yes, silence, unknown."""


@pytest.mark.parametrize(
    ("name", "activations", "least_sqnr_db"),
    [
        ("mlperf_tiny/onnx/ic_resnet8_float.onnx", DType.INT8, 18),
        ("mlperf_tiny/kws_ref_model_float32.tflite", DType.INT8, 25),
        ("mlperf_tiny/kws_ref_model_float32.tflite", DType.INT16, 40),
    ],
)
def test_quantized_model_runs_in_tflite_micro_as_in_our_engine(name, activations, least_sqnr_db):
    graph = load_model(MODELS / name)
    quantized = quantize_graph(graph, [random_inputs(graph, seed) for seed in range(8)], activations=activations).graph
    data = write_tflite(quantized)
    written = read_tflite(data)
    held_out = [random_inputs(graph, seed) for seed in range(100, 103)]
    for inputs in held_out:
        ours = run(written, inputs).outputs[0]
        tflm = tflm_run(data, inputs, len(written.tensors), len(written.outputs)).outputs[0]
        assert np.array_equal(ours, tflm.reshape(ours.shape))
    computing = [op for op in written.operators if op.op_type not in ("QUANTIZE", "DEQUANTIZE")]
    assert all(written.tensors[op.outputs[0]].dtype == activations for op in computing)
    (quality,) = compare_outputs(graph, written, held_out)
    assert quality.sqnr_db > least_sqnr_db and quality.top1_agreement == len(held_out)


def test_quantize_command_writes_the_model_and_reports_its_quality(tmp_path):
    model = MODELS / "tflm/hello_world_float.tflite"
    graph = load_model(model)
    # 24 sets calibrate over [0, 2π]; the last quarter, held out, lies inside it.
    values = np.concatenate([np.linspace(0, 2 * np.pi, 24), np.linspace(0.3, 6.0, 8)]).astype(np.float32)
    np.savez(tmp_path / "calibration.npz", values.reshape(32, *graph.graph_inputs[0].shape))
    code, text = invoke(
        "quantize",
        str(model),
        "--calibration",
        str(tmp_path / "calibration.npz"),
        "-o",
        str(tmp_path / "q.tflite"),
        "--plot",
        str(tmp_path / "calibration.png"),
        "--json",
    )
    assert code == 0, text
    assert (tmp_path / "calibration.png").read_bytes().startswith(b"\x89PNG")
    report = json.loads(text)
    assert report["calibration"] == {
        "path": str(tmp_path / "calibration.npz"),
        "method": "minmax",
        "activations": "int8",
        "samples": 24,
        "held_out": 8,
    }
    assert report["outputs"][0]["sqnr_db"] > 25
    assert load_model(tmp_path / "q.tflite").graph_inputs[0].dtype == "float32"
    from ai_edge_litert.interpreter import Interpreter

    written = load_model(tmp_path / "q.tflite")
    signature = Interpreter(model_path=str(tmp_path / "q.tflite")).get_signature_list()["serving_default"]
    assert signature == {"inputs": [written.graph_inputs[0].name], "outputs": [written.graph_outputs[0].name]}


def test_quantize_refuses_an_output_that_is_not_tflite(tmp_path):
    code, text = invoke("quantize", str(MODELS / "tflm/hello_world_float.tflite"), "-c", str(tmp_path), "-o", "x.onnx")
    assert code == 2 and "the output must be a .tflite file" in text


@pytest.mark.parametrize(
    ("held_out_high", "warning"),
    [(255.0, "a [0, 1] against [0, 255] preprocessing mismatch?"), (2.0, "the calibration set does not cover")],
)
def test_calibration_report_measures_held_out_inputs_and_warns(held_out_high, warning, tmp_path):
    """Six sets calibrate on [0, 1]; the last quarter (two) is held out, drawn from a wider range."""
    model = MODELS / "tflm/hello_world_float.tflite"
    values = np.concatenate([np.linspace(0, 1, 6), np.linspace(held_out_high * 0.75, held_out_high, 2)])
    np.savez(tmp_path / "data.npz", values.astype(np.float32).reshape(8, 1, 1))
    code, text = invoke(
        "quantize", str(model), "-c", str(tmp_path / "data.npz"), "-o", str(tmp_path / "q.tflite"), "--json"
    )
    assert code == 0, text
    report = json.loads(text)
    assert (report["calibration"]["samples"], report["calibration"]["held_out"]) == (6, 2)
    assert [w for w in report["warnings"] if warning in w]
    sqnrs = [t["sqnr_db"] for t in report["tensors"]]
    assert sqnrs == sorted(sqnrs)
    (given,) = [t for t in report["tensors"] if t["layer"] == "input"]
    assert given["clipped"] == 1.0 and given["calibrated"] == [0.0, 1.0]


def _scalar_sets(graph, values):
    return [[np.array(v, dtype=np.float32).reshape(graph.graph_inputs[0].shape)] for v in values]


def test_percentile_cuts_a_rare_outlier_that_minmax_keeps():
    graph = load_model(MODELS / "tflm/hello_world_float.tflite")
    sets = _scalar_sets(graph, [*np.linspace(0.0, 1.0, 199), 6.0])
    index = graph.inputs[0]
    assert observe_ranges(graph, sets)[index] == (0.0, 6.0)
    low, high = observe_ranges(graph, sets, Method.PERCENTILE, percentile=99.0)[index]
    assert low == 0.0 and 1.0 <= high < 1.1


def test_mse_clips_only_when_rounding_costs_more_than_clipping():
    """A million values in [0, 1] and one at 100: rounding them all in steps of 100/255 costs more than
    clipping the one; a few hundred values do not, and min-max stays."""
    inside = np.histogram(np.linspace(0.0, 1.0, 1000), bins=calibrate.BINS, range=(0.0, 100.0))[0]
    outlier = np.zeros(calibrate.BINS, dtype=np.int64)
    outlier[-1] = 1
    assert calibrate._least_error_range(inside + outlier, (0.0, 100.0), 0) == (0.0, 100.0)
    low, high = calibrate._least_error_range(inside * 1000 + outlier, (0.0, 100.0), 0)
    assert low == 0.0 and high < 100.0


def test_quantize_replaces_its_output_only_with_force(tmp_path):
    model = MODELS / "tflm/hello_world_float.tflite"
    np.save(tmp_path / "x.npy", np.zeros((1, 1), np.float32))
    output = tmp_path / "q.tflite"
    output.write_bytes(b"keep me")
    arguments = ["quantize", str(model), "-c", str(tmp_path / "x.npy"), "-o", str(output)]
    assert invoke(*arguments)[0] == 2 and output.read_bytes() == b"keep me"
    assert invoke(*arguments, "--force")[0] == 0 and output.read_bytes()[4:8] == b"TFL3"


def _tiny_classifier(path):
    """A float FULLY_CONNECTED (4 → 3) + SOFTMAX, written as a .tflite."""
    b = GraphBuilder("tiny_classifier")
    x = b.tensor((1, 4), DType.FLOAT32, name="x")
    weights = np.random.default_rng(7).normal(size=(3, 4)).astype(np.float32)
    w = b.tensor((3, 4), DType.FLOAT32, data=weights, name="w")
    logits, probabilities = b.tensor((1, 3), DType.FLOAT32, name="logits"), b.tensor((1, 3), DType.FLOAT32, name="p")
    b.op("FULLY_CONNECTED", [x, w, -1], [logits], FullyConnectedOptions())
    b.op("SOFTMAX", [logits], [probabilities], SoftmaxOptions())
    graph = b.build([x], [probabilities])
    path.write_bytes(write_tflite(graph))
    return graph


def test_labels_give_the_accuracy_of_float_and_int_and_few_sets_warn(tmp_path):
    graph = _tiny_classifier(tmp_path / "tiny.tflite")
    x = np.random.default_rng(8).normal(size=(12, 1, 4)).astype(np.float32)
    labels = np.arange(12) % 3
    np.savez(tmp_path / "data.npz", x)
    np.save(tmp_path / "labels.npy", labels)
    args = [
        "-c",
        str(tmp_path / "data.npz"),
        "-o",
        str(tmp_path / "q.tflite"),
        "--labels",
        str(tmp_path / "labels.npy"),
    ]
    code, text = invoke("quantize", str(tmp_path / "tiny.tflite"), *args, "--json")
    assert code == 0, text
    report = json.loads(text)
    held = range(9, 12)  # the last quarter
    written = load_model(tmp_path / "q.tflite")
    float_top = [int(np.argmax(run(graph, [x[i]]).outputs[0])) for i in held]
    int_top = [int(np.argmax(run(written, [x[i]]).outputs[0])) for i in held]
    (quality,) = report["outputs"]
    assert quality["correct_float"] == sum(t == labels[i] for t, i in zip(float_top, held, strict=True))
    assert quality["correct_int"] == sum(t == labels[i] for t, i in zip(int_top, held, strict=True))
    assert "only 9 calibration input sets" in report["warnings"][0]
    np.save(tmp_path / "labels.npy", labels[:5])
    code, text = invoke("quantize", str(tmp_path / "tiny.tflite"), *args, "--force")
    assert code == 2 and "5 labels for 12 input sets" in text


def test_images_calibrate_with_a_stated_preprocessing(tmp_path):
    from PIL import Image

    graph = load_model(MODELS / "mlperf_tiny/vww_96_float.tflite")
    bmp = MODELS / "testdata/person.bmp"
    (inputs,) = load_image_sets(bmp, graph, Preprocess.UNIT)
    rows = np.frombuffer(bmp.read_bytes()[1078:], dtype=np.uint8).reshape(96, 96)[::-1]  # stored bottom-up
    assert np.array_equal(inputs[0], np.repeat(rows[None, :, :, None], 3, axis=3).astype(np.float32) / 255)
    rgb = np.random.default_rng(2).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    Image.fromarray(rgb[:48]).save(tmp_path / "small.png")
    (inputs,) = load_image_sets(tmp_path / "a.png", graph, Preprocess.SIGNED)
    assert np.array_equal(inputs[0][0], rgb.astype(np.float32) / np.float32(127.5) - np.float32(1))
    with pytest.raises(McuDeployError, match="the image is 96x48, the model takes 96x96"):
        load_image_sets(tmp_path, graph, Preprocess.UNIT)
    code, text = invoke(
        "quantize", str(MODELS / "mlperf_tiny/vww_96_float.tflite"), "-c", str(bmp), "-o", str(tmp_path / "q.tflite")
    )
    assert code == 2 and "images need a stated preprocessing: --preprocess (0..1, 0..255, -1..1, -128..127)" in text


def test_integer_io_writes_int8_inputs_and_outputs_as_the_published_models(tmp_path):
    graph = load_model(MODELS / "mlperf_tiny/kws_ref_model_float32.tflite")
    calibration = [random_inputs(graph, seed) for seed in range(8)]
    quantized = quantize_graph(graph, calibration, integer_io=True)
    data = write_tflite(quantized.graph)
    written = read_tflite(data)
    assert [t.dtype for t in (*written.graph_inputs, *written.graph_outputs)] == [DType.INT8, DType.INT8]
    assert {op.op_type for op in written.operators}.isdisjoint({"QUANTIZE", "DEQUANTIZE"})
    assert written.graph_outputs[0].quantization == type(written.graph_outputs[0].quantization).per_tensor(
        1 / 256, -128
    )
    held_out = [random_inputs(graph, seed) for seed in range(100, 103)]
    for inputs in held_out:
        x = integer_inputs(written, inputs)
        tflm = tflm_run(data, x, len(written.tensors), 1).outputs[0]
        assert np.array_equal(run(written, x).outputs[0], tflm.reshape(written.graph_outputs[0].shape))
    (quality,) = compare_outputs(graph, written, held_out)
    float_io = quantize_graph(graph, calibration).graph
    assert quality.sqnr_db == pytest.approx(compare_outputs(graph, float_io, held_out)[0].sqnr_db, abs=0.5)
    assert quality.top1_agreement == len(held_out)


def test_audio_calibrates_with_a_stated_feature_spec(tmp_path):
    """kws-mfcc are the features the KWS model was trained on: it hears "yes" in yes_1000ms.wav."""
    import wave

    graph = load_model(MODELS / "mlperf_tiny/kws_ref_model_float32.tflite")
    (inputs,) = load_audio_sets(MODELS / "testdata/yes_1000ms.wav", graph, Features.KWS_MFCC)
    scores = run(graph, inputs).outputs[0].ravel()
    assert int(np.argmax(scores)) == KWS_YES and scores[KWS_YES] > 0.9
    ad01 = load_model(MODELS / "mlperf_tiny/ad01_fp32.tflite")
    windows = load_audio_sets(MODELS / "testdata/no_1000ms.wav", ad01, Features.DCASE_LOGMEL)
    assert len(windows) == 26 and windows[0][0].shape == (1, 640)  # 30 frames of 512 samples: 26 runs of 5
    with wave.open(str(tmp_path / "8k.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000), w.writeframes(bytes(1600))
    with pytest.raises(McuDeployError, match="8000 Hz, 1 channels, 16-bit: the feature specs take 16 kHz"):
        load_audio_sets(tmp_path / "8k.wav", graph, Features.KWS_MFCC)
    args = ["-c", str(MODELS / "testdata/yes_1000ms.wav"), "-o", str(tmp_path / "q.tflite")]
    code, text = invoke("quantize", str(MODELS / "mlperf_tiny/kws_ref_model_float32.tflite"), *args)
    assert code == 2 and "audio needs a stated feature spec: --features (kws-mfcc, dcase-logmel)" in text


def test_entropy_keeps_an_even_spread_and_cuts_a_sparse_tail_down_to_the_percentile():
    even = np.full(calibrate.BINS, 50, dtype=np.int64)
    assert calibrate._least_divergence_range(even, (-1.0, 3.0), 99.99) == (-1.0, 3.0)  # int8 loses nothing of it
    bulk = np.histogram(np.random.default_rng(4).normal(0, 1, 200_000), bins=calibrate.BINS, range=(-20, 20))[0]
    bulk[-1] += 3  # a few values far out
    low, high = calibrate._least_divergence_range(bulk, (-20.0, 20.0), 99.99)
    assert -20 < low < -4 and 4 < high < 20 and low == -high
    kept_low, kept_high = calibrate._percentile_range(bulk, (-20.0, 20.0), 99.99)
    assert low <= kept_low and high >= kept_high


def test_entropy_keeps_the_tail_of_a_relu_output_that_the_bare_divergence_cuts():
    """Half exact zeros, half a decaying one-sided spread, 5,000 values as a calibration gives: with
    the floor at the 99.99th percentile the range keeps nearly all of it."""
    rng = np.random.default_rng(3)
    values = np.maximum(rng.normal(0, 1, 5000), 0)
    counts = np.histogram(values[values != 0], bins=calibrate.BINS, range=(0.0, values.max()))[0]
    bare = calibrate._best_shrink(counts, (0.0, values.max()), calibrate._int8_divergence, calibrate.SHRINK_FACTORS)
    low, high = calibrate._least_divergence_range(counts, (0.0, values.max()), 99.99)
    assert low == 0.0 and high >= np.percentile(values[values != 0], 99.99) * 0.999 > bare[1]


def test_quantize_command_takes_the_entropy_method(tmp_path):
    values = np.random.default_rng(5).uniform(0, 1.5, 16).astype(np.float32).reshape(16, 1, 1)
    np.savez(tmp_path / "data.npz", values)
    model = MODELS / "tflm/hello_world_float.tflite"
    output = tmp_path / "q.tflite"
    code, text = invoke(
        "quantize", str(model), "-c", str(tmp_path / "data.npz"), "-o", str(output), "--method", "entropy", "--json"
    )
    assert code == 0, text
    report = json.loads(text)
    assert report["calibration"]["method"] == "entropy" and report["outputs"][0]["sqnr_db"] > 20


def test_value_moving_operators_keep_their_input_scale_and_run_in_tflite_micro():
    """SPACE_TO_DEPTH → MIRROR_PAD → SLICE → GATHER → DEPTH_TO_SPACE of a float graph, quantized: TFLite
    Micro's int8 kernels of these take their input's quantization out, and run as our engine does."""
    from mcudeploy.ir.options import BlockSizeOptions, GatherOptions, MirrorPadOptions

    b = GraphBuilder("moving")
    x = b.tensor((1, 4, 4, 2), "float32", name="x")
    deep = b.tensor((1, 2, 2, 8), "float32", name="deep")
    b.op("SPACE_TO_DEPTH", [x], [deep], BlockSizeOptions(block_size=2))
    padded = b.tensor((1, 4, 4, 8), "float32", name="padded")
    pads = b.tensor((4, 2), "int32", data=np.int32([[0, 0], [1, 1], [1, 1], [0, 0]]), name="pads")
    b.op("MIRROR_PAD", [deep, pads], [padded], MirrorPadOptions())
    sliced = b.tensor((1, 2, 2, 8), "float32", name="sliced")
    begin = b.tensor((4,), "int32", data=np.int32([0, 1, 0, 0]), name="begin")
    size = b.tensor((4,), "int32", data=np.int32([1, 2, 2, 8]), name="size")
    b.op("SLICE", [padded, begin, size], [sliced])
    gathered = b.tensor((1, 2, 2, 4), "float32", name="gathered")
    indices = b.tensor((4,), "int32", data=np.int32([7, 0, 3, 3]), name="indices")
    b.op("GATHER", [sliced, indices], [gathered], GatherOptions(axis=3))
    y = b.tensor((1, 4, 4, 1), "float32", name="y")
    b.op("DEPTH_TO_SPACE", [gathered], [y], BlockSizeOptions(block_size=2))
    graph = b.build([x], [y])
    quantized = quantize_graph(graph, [random_inputs(graph, seed) for seed in range(4)]).graph
    data = write_tflite(quantized)
    written = read_tflite(data)
    moving = [op for op in written.operators if op.op_type not in ("QUANTIZE", "DEQUANTIZE")]
    assert len(moving) == 5
    for op in moving:
        source, result = written.tensors[op.inputs[0]], written.tensors[op.outputs[0]]
        assert result.dtype == DType.INT8 and result.quantization == source.quantization
    for seed in (100, 101):
        inputs = random_inputs(graph, seed)
        ours = run(written, inputs).outputs[0]
        tflm = tflm_run(data, inputs, len(written.tensors), len(written.outputs)).outputs[0]
        assert np.array_equal(ours, tflm.reshape(ours.shape))


def _converted(
    function, shape: tuple[int, ...], calibration: list[np.ndarray], quantized: DType | None = None
) -> bytes:
    """TensorFlow's converter on a tf.function: the float model, or its full integer quantization
    with `quantized` activations (int8, or int16 as the 16x8 scheme)."""
    tf = pytest.importorskip("tensorflow")
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [function.get_concrete_function(tf.TensorSpec(shape, tf.float32))], function
    )
    if quantized:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([array] for array in calibration)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8
            if quantized == DType.INT8
            else tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        ]
    return converter.convert()


def _transpose_conv_and_batch_matmul():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(5)
    right = tf.constant(rng.standard_normal((2, 8, 6)).astype(np.float32))
    left = tf.constant(rng.standard_normal((2, 4, 8)).astype(np.float32))
    kernel = tf.constant(rng.standard_normal((3, 3, 5, 4)).astype(np.float32))  # h, w, out, in
    bias = tf.constant(rng.standard_normal(5).astype(np.float32))
    return {
        "BATCH_MATMUL constant right": (tf.function(lambda x: tf.linalg.matmul(x, right)), (2, 4, 8)),
        "BATCH_MATMUL constant left": (tf.function(lambda x: tf.linalg.matmul(left, x)), (2, 8, 5)),
        "TRANSPOSE_CONV": (
            tf.function(lambda x: tf.nn.conv2d_transpose(x, kernel, (1, 8, 8, 5), 2, padding="SAME") + bias),
            (1, 4, 4, 4),
        ),
    }


@pytest.mark.parametrize(
    ("case", "activations"),
    [
        ("BATCH_MATMUL constant right", DType.INT8),
        ("BATCH_MATMUL constant left", DType.INT8),
        ("TRANSPOSE_CONV", DType.INT8),
        ("BATCH_MATMUL constant right", DType.INT16),
        ("TRANSPOSE_CONV", DType.INT16),
    ],
)
def test_transpose_conv_and_batch_matmul_quantize_as_the_tflite_converter_does(case, activations):
    """On the same calibration sets our quantization of the converter's float model equals the
    converter's own int8 model: TRANSPOSE_CONV's weights per output channel (axis 0, symmetric) and
    its int32 bias at input x weight scale, BATCH_MATMUL's constant operand as an int8 activation of
    its own range (asymmetric, one scale); in the 16x8 scheme int16 (symmetric) and an int64 bias;
    constants bit for bit, scales and zero points alike.
    The result runs in TFLite Micro as in our engine, as close to the float model as the
    converter's (24 to 38 dB SQNR on these random weights)."""
    function, shape = _transpose_conv_and_batch_matmul()[case]
    rng = np.random.default_rng(11)
    calibration = [rng.standard_normal(shape).astype(np.float32) for _ in range(16)]
    float_graph = read_tflite(_converted(function, shape, calibration))
    converter = read_tflite(_converted(function, shape, calibration, quantized=activations))
    data = write_tflite(quantize_graph(float_graph, [[array] for array in calibration], activations=activations).graph)
    ours = read_tflite(data)
    assert [op.op_type for op in ours.operators] == [op.op_type for op in converter.operators]
    for op, twin in zip(ours.operators, converter.operators, strict=True):
        for index, twin_index in zip([*op.inputs, *op.outputs], [*twin.inputs, *twin.outputs], strict=True):
            mine, theirs = ours.tensors[index], converter.tensors[twin_index]
            assert mine.dtype == theirs.dtype, f"{op.label} {mine.name}"
            if theirs.quantization is not None:
                assert mine.quantization.per_channel == theirs.quantization.per_channel
                assert mine.quantization.axis == theirs.quantization.axis or not theirs.quantization.per_channel
                np.testing.assert_allclose(mine.quantization.scale, theirs.quantization.scale, rtol=1e-6)
                assert np.array_equal(mine.quantization.zero_point, theirs.quantization.zero_point)
            if theirs.is_constant:
                assert np.array_equal(mine.data, theirs.data), f"{op.label} {mine.name}"
    held_out = [[rng.standard_normal(shape).astype(np.float32)] for _ in range(3)]
    for inputs in held_out:
        engine = run(ours, inputs).outputs[0]
        tflm = tflm_run(data, inputs, len(ours.tensors), len(ours.outputs)).outputs[0]
        assert np.array_equal(engine, tflm.reshape(engine.shape))
    (quality,) = compare_outputs(float_graph, ours, held_out)
    (converters,) = compare_outputs(float_graph, converter, held_out)
    assert quality.sqnr_db > 20 and quality.sqnr_db == pytest.approx(converters.sqnr_db, abs=1e-3)
