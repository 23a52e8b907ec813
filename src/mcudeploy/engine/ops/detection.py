"""TFLite_Detection_PostProcess, TFLM's SSD post-processing (kernels/detection_postprocess.cc):
box encodings decoded against their anchors, then non-max suppression, float32 throughout.

Each step in TFLM's arithmetic and order: the centres and half sizes computed in double and
rounded to float, the corners in float; the scores at or above the threshold sorted by a stable
descending sort; each kept box, best first, drops every later candidate whose intersection over
union with it (TFLM's formula, in float) exceeds the threshold. Fast NMS ranks each box by its
best class (the lowest class index among equal scores); regular NMS runs per class and merges
each class's picks into the running top list, ties kept in list order. The rows past the
detections are zeros (TFLM's regular NMS writes them so; its fast NMS leaves them as they were).
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import McuDeployError
from mcudeploy.ir import DType
from mcudeploy.ir.shapes import DETECTION_POSTPROCESS
from mcudeploy.params.detection import DetectionParams, prepare


@kernel(DETECTION_POSTPROCESS, types=(DType.FLOAT32,))
def detection_postprocess(ctx: OpContext) -> tuple[np.ndarray, ...]:
    p = ctx.prepared(_params)
    boxes = decode_boxes(p, ctx.input(0).reshape(p.num_boxes, p.box_stride)[:, :4], ctx.input(2).reshape(-1, 4))
    if np.any((boxes[:, 0] >= boxes[:, 2]) | (boxes[:, 1] >= boxes[:, 3])):
        raise McuDeployError(ctx.op.label, "a decoded box has ymin >= ymax or xmin >= xmax (TFLite Micro fails)")
    scores = ctx.input(1).reshape(p.num_boxes, p.scores_per_box)
    anchors, classes, picked = (_regular if p.regular_nms else _fast)(p, boxes, scores)
    count = len(anchors)
    detected = np.zeros((1, p.output_rows, 4), np.float32)
    detected[0, :count] = boxes[anchors]
    detected_classes = np.zeros((1, p.output_rows), np.float32)
    detected_classes[0, :count] = classes
    detected_scores = np.zeros((1, p.output_rows), np.float32)
    detected_scores[0, :count] = picked
    return detected, detected_classes, detected_scores, np.array([count], np.float32)


def _params(ctx: OpContext) -> DetectionParams:
    return prepare(ctx.op, ctx.graph)


def decode_boxes(p: DetectionParams, encodings: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """[boxes, 4] corners (ymin, xmin, ymax, xmax) of the centre-size encodings (y, x, h, w)."""
    y, x, h, w = encodings.astype(np.float64).T
    anchor_y, anchor_x, anchor_h, anchor_w = anchors.astype(np.float64).T
    scale_y, scale_x, scale_h, scale_w = (float(s) for s in (p.y_scale, p.x_scale, p.h_scale, p.w_scale))
    with np.errstate(all="ignore"):
        y_center = (y / scale_y * anchor_h + anchor_y).astype(np.float32)
        x_center = (x / scale_x * anchor_w + anchor_x).astype(np.float32)
        half_h = (0.5 * np.exp(h / scale_h) * anchor_h).astype(np.float32)
        half_w = (0.5 * np.exp(w / scale_w) * anchor_w).astype(np.float32)
        return np.stack([y_center - half_h, x_center - half_w, y_center + half_h, x_center + half_w], axis=1)


def _fast(p: DetectionParams, boxes: np.ndarray, scores: np.ndarray):
    """Each box ranked by its best class; one row per box kept."""
    classes = scores[:, p.label_offset :]
    best = np.zeros(p.num_boxes, np.int64)  # a later class only when strictly greater: the first of
    best_scores = classes[:, 0].copy()  # equal maxima, as TFLM's tie-break on the index
    for label in range(1, p.num_classes):
        greater = classes[:, label] > best_scores
        best[greater], best_scores[greater] = label, classes[greater, label]
    kept = non_max_suppression(p, boxes, best_scores, p.max_detections)
    return kept, best[kept], best_scores[kept]


def _regular(p: DetectionParams, boxes: np.ndarray, scores: np.ndarray):
    """NMS class by class; each class's picks appended to the running top list, which is sorted
    again (stable, so equal scores keep their place in the list) and cut to max_detections."""
    top_anchors = np.zeros(0, np.int64)
    top_classes = np.zeros(0, np.int64)
    top_scores = np.zeros(0, np.float32)
    for label in range(p.num_classes):
        class_scores = scores[:, label + p.label_offset]
        kept = non_max_suppression(p, boxes, class_scores, p.detections_per_class)
        anchors = np.concatenate([top_anchors, kept])
        classes = np.concatenate([top_classes, np.full(len(kept), label)])
        candidates = np.concatenate([top_scores, class_scores[kept]])
        order = np.argsort(-candidates, kind="stable")[: p.max_detections]
        top_anchors, top_classes, top_scores = anchors[order], classes[order], candidates[order]
    return top_anchors, top_classes, top_scores


def non_max_suppression(p: DetectionParams, boxes: np.ndarray, scores: np.ndarray, limit: int) -> np.ndarray:
    """The boxes kept, best first: candidates at or above the score threshold in stable descending
    order, each taken unless an earlier pick overlaps it by more than the IoU threshold."""
    kept = np.flatnonzero(scores >= p.score_threshold)
    candidates = kept[np.argsort(-scores[kept], kind="stable")]
    wanted = min(len(candidates), limit)
    active = np.ones(len(candidates), bool)
    picks: list[int] = []
    for i, box in enumerate(candidates):
        if len(picks) >= wanted or not active.any():
            break
        if not active[i]:
            continue
        picks.append(box)
        active[i] = False
        later = i + 1 + np.flatnonzero(active[i + 1 :])
        active[later[intersection_over_union(boxes, box, candidates[later]) > p.iou_threshold]] = False
    return np.array(picks, np.int64)


def intersection_over_union(boxes: np.ndarray, i: int, others: np.ndarray) -> np.ndarray:
    """TFLM's IoU of box i with each of `others`, in float32, its max and min as C++'s std::max and
    std::min (which keep the first argument unless the second compares greater, or less)."""
    first, second = boxes[i], boxes[others]
    area_first = (first[2] - first[0]) * (first[3] - first[1])
    area_second = (second[:, 2] - second[:, 0]) * (second[:, 3] - second[:, 1])
    low_y = np.where(first[0] < second[:, 0], second[:, 0], first[0])
    low_x = np.where(first[1] < second[:, 1], second[:, 1], first[1])
    high_y = np.where(second[:, 2] < first[2], second[:, 2], first[2])
    high_x = np.where(second[:, 3] < first[3], second[:, 3], first[3])
    height, width = high_y - low_y, high_x - low_x
    zero = np.float32(0)
    intersection = np.where(height < 0, zero, height) * np.where(width < 0, zero, width)
    with np.errstate(all="ignore"):
        ratio = intersection / (area_first + area_second - intersection)
    return np.where((area_first <= 0) | (area_second <= 0), zero, ratio)
