"""TFLite_Detection_PostProcess (TFLM's kernels/detection_postprocess.cc): md_detection_params.

The attributes are read where the shape rule reads them (`ir.shapes.detection_attributes`); the
record adds what the tensors fix (boxes, scores per box) and the working memory our kernel takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.ir import Graph, Operator
from mcudeploy.ir.shapes import detection_attributes


@dataclass(frozen=True)
class DetectionParams:
    num_boxes: int
    box_stride: int
    """Values per box encoding (4 or more; the first four are y, x, h, w)."""
    scores_per_box: int
    """num_classes, or one more when the scores hold a background class first."""
    num_classes: int
    max_detections: int
    detections_per_class: int
    output_rows: int
    regular_nms: bool
    score_threshold: np.float32
    iou_threshold: np.float32
    y_scale: np.float32
    x_scale: np.float32
    h_scale: np.float32
    w_scale: np.float32

    @property
    def label_offset(self) -> int:
        """1 when the scores' first column is the background class, which no detection takes."""
        return self.scores_per_box - self.num_classes

    @property
    def scratch_bytes(self) -> int:
        """md_detection_postprocess_f32's working memory: the decoded boxes (4 floats each); per box
        a score, a best class, a kept index, a merge-sort slot and a selected index (4 bytes each)
        and a candidate flag (1 byte, rounded to words); regular NMS also keeps its running top
        list and the merge of a class into it (index and score, twice, per detection)."""
        per_box = 16 + 5 * 4
        flags = -(-self.num_boxes // 4) * 4
        top_lists = 16 * self.max_detections if self.regular_nms else 0
        return per_box * self.num_boxes + flags + top_lists


def prepare(op: Operator, graph: Graph) -> DetectionParams:
    a = detection_attributes(op)
    encodings, scores = (graph.tensors[op.inputs[i]] for i in (0, 1))
    return DetectionParams(
        num_boxes=encodings.shape[1],
        box_stride=encodings.shape[2],
        scores_per_box=scores.shape[2],
        num_classes=a.num_classes,
        max_detections=a.max_detections,
        detections_per_class=a.detections_per_class,
        output_rows=a.detected_rows,
        regular_nms=a.use_regular_nms,
        score_threshold=a.nms_score_threshold,
        iou_threshold=a.nms_iou_threshold,
        y_scale=a.scales[0],
        x_scale=a.scales[1],
        h_scale=a.scales[2],
        w_scale=a.scales[3],
    )
