"""TFLite_Detection_PostProcess against TFLite Micro, whose interpreter registers it: the count,
classes and scores exact, the boxes exact too (their decoding's double-precision exp is the only
libm call: a different exp could move a box by one float32 step, hence the stated 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import Engine
from mcudeploy.errors import McuDeployError
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import CustomOptions
from mcudeploy.ir.shapes import DETECTION_POSTPROCESS
from mcudeploy.memory.planners.tflm import plan_tflm

BOX_RTOL = 1e-6

OPTIONS = {
    "max_detections": 6,
    "max_classes_per_detection": 1,
    "nms_score_threshold": 0.3,
    "nms_iou_threshold": 0.5,
    "num_classes": 3,
    "y_scale": 10.0,
    "x_scale": 10.0,
    "h_scale": 5.0,
    "w_scale": 5.0,
}


def detection_graph(boxes: int, background: int = 1, dtype: str = "float32", anchor_shape=None, **changes):
    """One TFLite_Detection_PostProcess on box encodings and scores (inputs) and constant anchors."""
    options = {**OPTIONS, **changes}
    options = {key: value for key, value in options.items() if value is not None}
    rows = options.get("max_detections", 0) * options.get("max_classes_per_detection", 1)
    b = GraphBuilder("detection")
    quantized = {"scale": 0.1, "zero_point": 0} if dtype != "float32" else {}
    encodings = b.tensor((1, boxes, 4), dtype, name="box_encodings", **quantized)
    scores = b.tensor((1, boxes, options.get("num_classes", 1) + background), dtype, name="scores", **quantized)
    anchors = b.tensor(anchor_shape or (boxes, 4), "float32", data=anchor_boxes(boxes, anchor_shape))
    outputs = [
        b.tensor((1, rows, 4), "float32", name="detection_boxes"),
        b.tensor((1, rows), "float32", name="detection_classes"),
        b.tensor((1, rows), "float32", name="detection_scores"),
        b.tensor((1,), "float32", name="num_detections"),
    ]
    b.op(DETECTION_POSTPROCESS, [encodings, scores, anchors], outputs, CustomOptions.from_map(options))
    return b.build([encodings, scores], outputs)


def anchor_boxes(boxes: int, shape=None) -> np.ndarray:
    """Anchors (y, x, h, w) spread over the unit square, overlapping their neighbours."""
    rng = np.random.default_rng(boxes)
    centres = rng.uniform(0.1, 0.9, (boxes, 2))
    sizes = rng.uniform(0.1, 0.4, (boxes, 2))
    return np.concatenate([centres, sizes], axis=1).astype(np.float32).reshape(shape or (boxes, 4))


def detection_inputs(graph, seed: int, tied: bool = False) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    encodings, scores = (graph.tensors[i] for i in graph.inputs)
    values = rng.uniform(size=scores.shape)
    if tied:  # few distinct scores: the sorts' tie-breaking decides
        values = np.round(values * 4) / 4
    return [rng.normal(size=encodings.shape).astype(np.float32), values.astype(np.float32)]


def tflm_outputs(model: bytes, inputs: list[np.ndarray]) -> tuple[int, list[np.ndarray]]:
    """TFLM's Invoke status and outputs."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    for position, array in enumerate(inputs):
        interpreter.set_input(array, position)
    status = interpreter.invoke()
    return status, [np.array(interpreter.get_output(i)) for i in range(4)]


def assert_detections_match_tflm(graph, inputs: list[np.ndarray], regular: bool) -> int:
    """Ours equal TFLM's: the detected rows (every row with regular NMS, which zeroes the rest;
    TFLM's fast NMS leaves the rest as the arena had them, ours zeroes them). The count."""
    model = bytes(write_tflite(graph))
    status, theirs = tflm_outputs(model, inputs)
    assert status == 0
    ours = Engine(read_tflite(model)).run(inputs).outputs
    count = int(theirs[3][0])
    assert ours[3].tolist() == [count]
    rows = ours[1].shape[1] if regular else count
    np.testing.assert_array_equal(ours[1][0, :rows], theirs[1][0, :rows], err_msg="classes")
    np.testing.assert_array_equal(ours[2][0, :rows], theirs[2][0, :rows], err_msg="scores")
    np.testing.assert_allclose(ours[0][0, :rows], theirs[0][0, :rows], rtol=BOX_RTOL, atol=0, err_msg="boxes")
    if not regular:
        assert not ours[0][0, count:].any() and not ours[2][0, count:].any()
    return count


@pytest.mark.parametrize("regular", [False, True], ids=["fast", "regular"])
@pytest.mark.parametrize("background", [0, 1])
@pytest.mark.parametrize("tied", [False, True], ids=["distinct", "tied"])
def test_detections_match_tflm(regular: bool, background: int, tied: bool) -> None:
    graph = detection_graph(40, background, use_regular_nms=regular, detections_per_class=4)
    counts = [assert_detections_match_tflm(graph, detection_inputs(graph, seed, tied), regular) for seed in range(4)]
    assert max(counts) == OPTIONS["max_detections"]  # the cut to max_detections is exercised


@pytest.mark.parametrize(
    "changes",
    [
        {"nms_iou_threshold": 0.05, "nms_score_threshold": 0.0},  # almost every overlap suppresses
        {"nms_iou_threshold": 1.0, "max_detections": 12},  # nothing suppresses: the score order alone
        {"nms_score_threshold": 0.97},  # fewer boxes than max_detections pass
        {"num_classes": 1, "max_detections": 30, "detections_per_class": 30},
    ],
)
@pytest.mark.parametrize("regular", [False, True], ids=["fast", "regular"])
def test_thresholds_and_limits_match_tflm(changes: dict, regular: bool) -> None:
    graph = detection_graph(25, use_regular_nms=regular, **changes)
    for seed in range(3):
        assert_detections_match_tflm(graph, detection_inputs(graph, seed, tied=seed == 2), regular)


@pytest.mark.parametrize("regular", [False, True], ids=["fast", "regular"])
def test_nan_and_infinite_scores_rank_as_in_tflm(regular: bool) -> None:
    """NaN scores never pass the threshold nor win a box's best class (TFLM's comparisons are all
    false); infinite ones tie."""
    graph = detection_graph(30, use_regular_nms=regular, detections_per_class=4)
    inputs = detection_inputs(graph, 3)
    inputs[1][0, ::4, 2] = np.nan  # after a number: the number stays the best
    inputs[1][0, 1::6, 1] = np.nan  # first: nothing replaces it, the box is never kept
    inputs[1][0, 3::15, :] = np.inf
    assert_detections_match_tflm(graph, inputs, regular)


def test_absent_detections_per_class_and_use_regular_nms_take_tflm_defaults() -> None:
    """detections_per_class 100 and fast NMS when the options leave them out; regular NMS with
    more classes than max_detections (the top list is cut after every class)."""
    graph = detection_graph(30, detections_per_class=None, use_regular_nms=None)
    assert_detections_match_tflm(graph, detection_inputs(graph, 1), regular=False)
    graph = detection_graph(30, num_classes=8, max_detections=5, use_regular_nms=True, detections_per_class=None)
    assert_detections_match_tflm(graph, detection_inputs(graph, 2, tied=True), regular=True)


def test_an_inverted_box_fails_the_inference_as_in_tflm() -> None:
    """TFLM checks every decoded box (ymin < ymax, xmin < xmax) and fails the inference."""
    graph = detection_graph(4)
    inputs = detection_inputs(graph, 0)
    inputs[0][0, 2, 2] = -1000.0  # exp(-200) underflows: a box of height 0
    with pytest.raises(RuntimeError, match="invocation failed"):
        tflm_outputs(bytes(write_tflite(graph)), inputs)
    with pytest.raises(McuDeployError, match="ymin >= ymax"):
        Engine(graph).run(inputs)


@pytest.mark.parametrize(
    ("graph", "reason"),
    [
        (lambda: detection_graph(8, dtype="int8"), "is int8, TFLite_Detection_PostProcess takes float32"),
        (lambda: detection_graph(8, max_classes_per_detection=2), "writes its rows past the outputs"),
        (lambda: detection_graph(8, nms_iou_threshold=0.0), r"outside \(0, 1\]"),
        (lambda: detection_graph(8, use_regular_nms=True, detections_per_class=0), "detections_per_class"),
        (lambda: detection_graph(8, num_classes=None), "lack the integer attribute 'num_classes'"),
        (lambda: detection_graph(8, y_scale=None), "lack the number attribute 'y_scale'"),
        (lambda: detection_graph(8, background=2), "or one more for the background"),
        (lambda: detection_graph(8, anchor_shape=(4, 8)), r"needs anchors \[8, 4\]"),
    ],
)
def test_refuses_what_tflm_fails_or_mishandles(graph, reason: str) -> None:
    with pytest.raises(McuDeployError, match=reason):
        Engine(graph())


@pytest.mark.parametrize("regular", [False, True], ids=["fast", "regular"])
def test_tflm_plan_has_the_scratch_tflm_requests(regular: bool, capfd) -> None:
    """The tflm planner's arena equals the head of the wheel's arena: tensors and the eleven scratch
    buffers TFLM's Prepare requests."""
    from tflite_micro.python.tflite_micro import runtime

    graph = detection_graph(40, num_classes=7, use_regular_nms=regular, detections_per_class=4)
    runtime.Interpreter.from_bytes(bytes(write_tflite(graph)), arena_size=1 << 20).print_allocations()
    output = capfd.readouterr()
    head = [line for line in (output.out + output.err).splitlines() if "allocation head" in line]
    assert head and int(head[0].split()[-2]) == plan_tflm(graph).arena_bytes
