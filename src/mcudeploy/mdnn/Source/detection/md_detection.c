/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: TFLite Micro's TFLite_Detection_PostProcess (SSD box decoding and
 * non-max suppression, float32), portable C (see md_nn.h).
 *
 * TFLite Micro's arithmetic and order: centres and half sizes in double, rounded to float, corners
 * in float; a stable descending sort of the scores at or above the threshold; its intersection over
 * union in float, with std::max and std::min's choice among unordered values (the first argument
 * unless the second compares greater, or less). */
#include <math.h>
#include <string.h>

#include "md_nn_support.h"

/* The scratch buffer's parts (md_detection_postprocess_get_buffer_size). */
typedef struct {
    float *decoded;        /* [boxes][4] ymin, xmin, ymax, xmax */
    float *ranked;         /* per box: the score NMS ranks it by */
    int32_t *best_class;   /* per box: its best class (fast NMS) */
    int32_t *candidates;   /* the boxes at or above the threshold, best first */
    int32_t *merge;        /* the sort's second buffer */
    int32_t *picks;        /* the boxes NMS keeps, best first */
    int32_t *top_box;      /* regular NMS: the running top list, box * num_classes + class */
    float *top_score;
    int32_t *merged_box;   /* regular NMS: a class's picks merged into the top list */
    float *merged_score;
    uint8_t *active;       /* per candidate: not yet taken or suppressed */
} md_detection_work;

static md_detection_work md_detection_split(const md_detection_params *p, void *scratch)
{
    md_detection_work w;
    const int32_t n = p->num_boxes;
    const int32_t top = p->regular_nms ? p->max_detections : 0;
    float *floats = (float *)scratch;
    w.decoded = floats;
    w.ranked = floats + 4 * n;
    w.best_class = (int32_t *)(void *)(w.ranked + n);
    w.candidates = w.best_class + n;
    w.merge = w.candidates + n;
    w.picks = w.merge + n;
    w.top_box = w.picks + n;
    w.top_score = (float *)(void *)(w.top_box + top);
    w.merged_box = (int32_t *)(void *)(w.top_score + top);
    w.merged_score = (float *)(void *)(w.merged_box + top);
    w.active = (uint8_t *)(void *)(w.merged_score + top);
    return w;
}

static float md_first_max(float a, float b) { return a < b ? b : a; }
static float md_first_min(float a, float b) { return b < a ? b : a; }

/* Returns 0 when a decoded box is empty or inverted (TFLite Micro then fails the inference). */
static int md_decode_boxes(const md_detection_params *p, const float *encodings, const float *anchors,
                           float *decoded)
{
    int32_t i;
    int valid = 1;
    for (i = 0; i < p->num_boxes; ++i) {
        const float *e = encodings + (size_t)i * (size_t)p->box_stride;
        const float *a = anchors + 4 * (size_t)i;
        float *box = decoded + 4 * (size_t)i;
        const float y_center = (float)((double)e[0] / (double)p->y_scale * (double)a[2] + (double)a[0]);
        const float x_center = (float)((double)e[1] / (double)p->x_scale * (double)a[3] + (double)a[1]);
        const float half_h = (float)(0.5 * exp((double)e[2] / (double)p->h_scale) * (double)a[2]);
        const float half_w = (float)(0.5 * exp((double)e[3] / (double)p->w_scale) * (double)a[3]);
        box[0] = y_center - half_h;
        box[1] = x_center - half_w;
        box[2] = y_center + half_h;
        box[3] = x_center + half_w;
        if (box[0] >= box[2] || box[1] >= box[3]) {
            valid = 0;
        }
    }
    return valid;
}

static float md_intersection_over_union(const float *decoded, int32_t i, int32_t j)
{
    const float *a = decoded + 4 * (size_t)i;
    const float *b = decoded + 4 * (size_t)j;
    const float area_a = (a[2] - a[0]) * (a[3] - a[1]);
    const float area_b = (b[2] - b[0]) * (b[3] - b[1]);
    float height;
    float width;
    float intersection;
    if (area_a <= 0.0f || area_b <= 0.0f) {
        return 0.0f;
    }
    height = md_first_min(a[2], b[2]) - md_first_max(a[0], b[0]);
    width = md_first_min(a[3], b[3]) - md_first_max(a[1], b[1]);
    intersection = md_first_max(height, 0.0f) * md_first_max(width, 0.0f);
    return intersection / (area_a + area_b - intersection);
}

/* Stable sort of `count` box indices by decreasing value (bottom-up merges; a later run's value
 * goes first only when strictly greater, so equal values keep their order). */
static void md_sort_decreasing(int32_t *indices, int32_t *merge, int32_t count, const float *values)
{
    int32_t width;
    for (width = 1; width < count; width *= 2) {
        int32_t start;
        for (start = 0; start < count; start += 2 * width) {
            const int32_t middle = start + width < count ? start + width : count;
            const int32_t end = start + 2 * width < count ? start + 2 * width : count;
            int32_t left = start;
            int32_t right = middle;
            int32_t k;
            for (k = start; k < end; ++k) {
                if (left < middle && (right >= end || !(values[indices[right]] > values[indices[left]]))) {
                    merge[k] = indices[left++];
                } else {
                    merge[k] = indices[right++];
                }
            }
        }
        memcpy(indices, merge, (size_t)count * sizeof(int32_t));
    }
}

/* Single-class NMS on `scores` (one per box): the boxes kept, best first, at most `limit`. */
static int32_t md_non_max_suppression(const md_detection_params *p, const md_detection_work *w, const float *scores,
                                      int32_t limit)
{
    int32_t kept = 0;
    int32_t picked = 0;
    int32_t active = 0;
    int32_t wanted;
    int32_t i;
    for (i = 0; i < p->num_boxes; ++i) {
        if (scores[i] >= p->score_threshold) {
            w->candidates[kept++] = i;
        }
    }
    md_sort_decreasing(w->candidates, w->merge, kept, scores);
    wanted = kept < limit ? kept : limit;
    memset(w->active, 1, (size_t)kept);
    active = kept;
    for (i = 0; i < kept && active > 0 && picked < wanted; ++i) {
        int32_t j;
        if (!w->active[i]) {
            continue;
        }
        w->picks[picked++] = w->candidates[i];
        w->active[i] = 0;
        --active;
        for (j = i + 1; j < kept; ++j) {
            if (w->active[j] &&
                md_intersection_over_union(w->decoded, w->candidates[i], w->candidates[j]) > p->iou_threshold) {
                w->active[j] = 0;
                --active;
            }
        }
    }
    return picked;
}

/* Fast NMS: each box ranked by its best class (the first of equal scores). */
static int32_t md_fast_nms(const md_detection_params *p, const md_detection_work *w, const float *scores)
{
    const int32_t offset = p->scores_per_box - p->num_classes;
    int32_t i;
    for (i = 0; i < p->num_boxes; ++i) {
        const float *row = scores + (size_t)i * (size_t)p->scores_per_box + offset;
        int32_t best = 0;
        int32_t c;
        for (c = 1; c < p->num_classes; ++c) {
            if (row[c] > row[best]) {
                best = c;
            }
        }
        w->best_class[i] = best;
        w->ranked[i] = row[best];
    }
    return md_non_max_suppression(p, w, w->ranked, p->max_detections);
}

/* Regular NMS: class by class, each class's picks (best first) merged into the running top list
 * (best first; the list's entry first among equal scores) and the list cut to max_detections. */
static int32_t md_regular_nms(const md_detection_params *p, const md_detection_work *w, const float *scores)
{
    const int32_t offset = p->scores_per_box - p->num_classes;
    int32_t top = 0;
    int32_t label;
    for (label = 0; label < p->num_classes; ++label) {
        int32_t picked;
        int32_t from_top = 0;
        int32_t from_class = 0;
        int32_t merged = 0;
        int32_t i;
        for (i = 0; i < p->num_boxes; ++i) {
            w->ranked[i] = scores[(size_t)i * (size_t)p->scores_per_box + offset + label];
        }
        picked = md_non_max_suppression(p, w, w->ranked, p->detections_per_class);
        while (merged < p->max_detections && (from_top < top || from_class < picked)) {
            if (from_top < top &&
                (from_class >= picked || !(w->ranked[w->picks[from_class]] > w->top_score[from_top]))) {
                w->merged_box[merged] = w->top_box[from_top];
                w->merged_score[merged] = w->top_score[from_top++];
            } else {
                w->merged_box[merged] = w->picks[from_class] * p->num_classes + label;
                w->merged_score[merged] = w->ranked[w->picks[from_class++]];
            }
            ++merged;
        }
        memcpy(w->top_box, w->merged_box, (size_t)merged * sizeof(int32_t));
        memcpy(w->top_score, w->merged_score, (size_t)merged * sizeof(float));
        top = merged;
    }
    return top;
}

md_status md_detection_postprocess_f32(const md_detection_params *p, const float *encodings, const float *scores,
                                       const float *anchors, float *boxes, float *classes, float *detection_scores,
                                       float *count, void *scratch)
{
    const md_detection_work w = md_detection_split(p, scratch);
    int32_t rows;
    int32_t r;
    if (!md_decode_boxes(p, encodings, anchors, w.decoded)) {
        return MD_ERROR_RANGE;
    }
    rows = p->regular_nms ? md_regular_nms(p, &w, scores) : md_fast_nms(p, &w, scores);
    for (r = 0; r < rows; ++r) {
        int32_t box;
        if (p->regular_nms) {
            box = w.top_box[r] / p->num_classes;
            classes[r] = (float)(w.top_box[r] - box * p->num_classes);
            detection_scores[r] = w.top_score[r];
        } else {
            box = w.picks[r];
            classes[r] = (float)w.best_class[box];
            detection_scores[r] = w.ranked[box];
        }
        memcpy(boxes + 4 * (size_t)r, w.decoded + 4 * (size_t)box, 4 * sizeof(float));
    }
    for (; r < p->output_rows; ++r) {
        boxes[4 * r] = boxes[4 * r + 1] = boxes[4 * r + 2] = boxes[4 * r + 3] = 0.0f;
        classes[r] = 0.0f;
        detection_scores[r] = 0.0f;
    }
    *count = (float)rows;
    return MD_OK;
}
