/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: TFLite Micro's signal operators that carry samples from one inference
 * to the next (Delay, Framer, Stacker, OverlapAdd) and its CIRCULAR_BUFFER, portable C (see md_nn.h).
 *
 * Each keeps its history in a state buffer the generated init() zeroes; an all-zero state is each
 * operator's starting point (a prefilled framer counts its fill from the prefilled level).
 */
#include <string.h>

#include "md_nn_support.h"

md_status md_signal_delay(const int16_t *input, int32_t rows, int32_t frame, int32_t delay, int16_t *history,
                          int16_t *output)
{
    int32_t r;
    for (r = 0; r < rows; ++r) {
        const int16_t *in = input + r * frame;
        int16_t *out = output + r * frame, *kept = history + r * delay;
        if (delay <= frame) {
            memcpy(out, kept, (size_t)delay * sizeof(int16_t));
            memcpy(out + delay, in, (size_t)(frame - delay) * sizeof(int16_t));
            memcpy(kept, in + frame - delay, (size_t)delay * sizeof(int16_t));
        } else {
            memcpy(out, kept, (size_t)frame * sizeof(int16_t));
            memmove(kept, kept + frame, (size_t)(delay - frame) * sizeof(int16_t));
            memcpy(kept + delay - frame, in, (size_t)frame * sizeof(int16_t));
        }
    }
    return MD_OK;
}

/* One row's history: how far its fill is from the starting level, then the samples. */
typedef struct {
    int32_t fill_from_start;
    int16_t samples[];
} md_signal_history;

/* Bytes of one row's history: the fill, then as many samples as the frames need, in whole words. */
static int32_t framer_row_bytes(int32_t frame_size, int32_t frame_step)
{
    const int32_t capacity = (frame_size + frame_step - 1) / frame_step * frame_step;
    return 4 + (2 * capacity + 3) / 4 * 4;
}

md_status md_signal_framer(const int16_t *input, int32_t rows, int32_t row_length, int32_t frame_size,
                           int32_t frame_step, int32_t prefill, uint8_t *state, int16_t *output, uint8_t *valid)
{
    const int32_t row_bytes = framer_row_bytes(frame_size, frame_step);
    const int32_t frames = row_length / frame_step, start = prefill ? frame_size - frame_step : 0;
    int32_t r, f;
    *valid = 1;
    for (r = 0; r < rows; ++r) {
        md_signal_history *h = (md_signal_history *)(void *)(state + r * row_bytes);
        for (f = 0; f < frames; ++f) {
            int32_t fill = start + h->fill_from_start;
            int16_t *frame = output + (r * frames + f) * frame_size;
            memcpy(h->samples + fill, input + r * row_length + f * frame_step, (size_t)frame_step * sizeof(int16_t));
            fill += frame_step;
            if (fill >= frame_size) {
                memcpy(frame, h->samples, (size_t)frame_size * sizeof(int16_t));
                fill -= frame_step;
                memmove(h->samples, h->samples + frame_step, (size_t)fill * sizeof(int16_t));
            } else {
                memset(frame, 0, (size_t)frame_size * sizeof(int16_t));
                *valid = 0;
            }
            h->fill_from_start = fill - start;
        }
    }
    return MD_OK;
}

/* The stacker's history: whether the first frame came, the fill, then the samples. */
typedef struct {
    int32_t started;
    int32_t fill;
    int16_t samples[];
} md_signal_stack;

md_status md_signal_stacker(const int16_t *input, int32_t channels, int32_t left_context, int32_t right_context,
                            int32_t step, uint8_t *state, int16_t *output, uint8_t *valid)
{
    const int32_t size = channels * (left_context + right_context + 1);
    md_signal_stack *h = (md_signal_stack *)(void *)state;
    const int32_t copies = h->started ? 1 : left_context + 1; /* the first frame fills the left context */
    int32_t i;
    for (i = 0; i < copies; ++i) {
        memcpy(h->samples + h->fill, input, (size_t)channels * sizeof(int16_t));
        h->fill += channels;
    }
    h->started = 1;
    if (h->fill >= size) {
        memcpy(output, h->samples, (size_t)size * sizeof(int16_t));
        h->fill -= channels * step;
        memmove(h->samples, h->samples + channels * step, (size_t)h->fill * sizeof(int16_t));
        *valid = 1;
    } else {
        memset(output, 0, (size_t)size * sizeof(int16_t));
        *valid = 0;
    }
    return MD_OK;
}

md_status md_signal_overlap_add_s16(const int16_t *input, int32_t rows, int32_t frames, int32_t frame_size,
                                    int32_t frame_step, int16_t *buffer, int16_t *output)
{
    int32_t r, f, i;
    for (r = 0; r < rows; ++r) {
        int16_t *sums = buffer + r * frame_size;
        for (f = 0; f < frames; ++f) {
            const int16_t *frame = input + (r * frames + f) * frame_size;
            for (i = 0; i < frame_size; ++i) {
                const int32_t sum = (int32_t)sums[i] + frame[i];
                sums[i] = (int16_t)(sum < INT16_MIN ? INT16_MIN : sum > INT16_MAX ? INT16_MAX : sum);
            }
            memcpy(output + (r * frames + f) * frame_step, sums, (size_t)frame_step * sizeof(int16_t));
            memmove(sums, sums + frame_step, (size_t)(frame_size - frame_step) * sizeof(int16_t));
            memset(sums + frame_size - frame_step, 0, (size_t)frame_step * sizeof(int16_t));
        }
    }
    return MD_OK;
}

md_status md_signal_overlap_add_f32(const float *input, int32_t rows, int32_t frames, int32_t frame_size,
                                    int32_t frame_step, float *buffer, float *output)
{
    int32_t r, f, i;
    for (r = 0; r < rows; ++r) {
        float *sums = buffer + r * frame_size;
        for (f = 0; f < frames; ++f) {
            const float *frame = input + (r * frames + f) * frame_size;
            for (i = 0; i < frame_size; ++i) {
                sums[i] += frame[i];
            }
            memcpy(output + (r * frames + f) * frame_step, sums, (size_t)frame_step * sizeof(float));
            memmove(sums, sums + frame_step, (size_t)(frame_size - frame_step) * sizeof(float));
            for (i = frame_size - frame_step; i < frame_size; ++i) {
                sums[i] = 0.0f;
            }
        }
    }
    return MD_OK;
}

/* CIRCULAR_BUFFER's state: frames still to come before the layers after it run (0: never ran,
 * the history is to start at the zero point, as TFLite Micro resets its variable output), then
 * the history. */
typedef struct {
    int32_t cycles_until_run;
    int8_t history[];
} md_circular_buffer_state;

md_status md_circular_buffer_s8(const int8_t *input, int32_t slots, int32_t depth, int32_t cycles_max,
                                int32_t zero_point, uint8_t *state, int8_t *output)
{
    md_circular_buffer_state *buffer = (md_circular_buffer_state *)(void *)state;
    size_t kept = (size_t)(slots - 1) * (size_t)depth;
    if (buffer->cycles_until_run == 0) {
        memset(buffer->history, (int8_t)zero_point, kept + (size_t)depth);
        buffer->cycles_until_run = cycles_max;
    }
    memmove(buffer->history, buffer->history + depth, kept);
    memcpy(buffer->history + kept, input, (size_t)depth);
    memcpy(output, buffer->history, kept + (size_t)depth);
    if (--buffer->cycles_until_run != 0) {
        return MD_WAITING;
    }
    buffer->cycles_until_run = cycles_max;
    return MD_OK;
}
