/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the portable CONV_2D integer kernel and loop driver (see md_nn.h),
 * shared by md_conv.c and its variants, which specialise only some cases. Static inline: each
 * variant compiles the parts it uses. */
#ifndef MD_CONV_INT_H
#define MD_CONV_INT_H

#include <string.h>

#include "md_nn_support.h"

static inline void conv_pairs(const md_window_params *p, void *job, const md_conv_kernel *kernel, void *scratch)
{
    unsigned char *first = (unsigned char *)scratch;
    unsigned char *second = first + kernel->column_bytes;
    const int32_t pixels = p->output_h * p->output_w;
    int32_t batch;
    int32_t pixel;
    for (batch = 0; batch < p->batches; ++batch) {
        for (pixel = 0; pixel < pixels; pixel += 2) {
            const int paired = pixel + 1 < pixels;
            kernel->fill(job, batch, pixel / p->output_w, pixel % p->output_w, first);
            if (paired) {
                kernel->fill(job, batch, (pixel + 1) / p->output_w, (pixel + 1) % p->output_w, second);
            }
            kernel->compute(job, first, batch * pixels + pixel);
            if (paired) {
                kernel->compute(job, second, batch * pixels + pixel + 1);
            }
        }
    }
}

static inline void md_conv_run_portable(const md_window_params *p, void *job, const md_conv_kernel *kernel,
                                        void *scratch)
{
    int32_t batch;
    int32_t oy;
    int32_t ox;
    if (scratch) {
        conv_pairs(p, job, kernel, scratch);
        return;
    }
    for (batch = 0; batch < p->batches; ++batch) {
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                kernel->direct(job, batch, oy, ox, (batch * p->output_h + oy) * p->output_w + ox);
            }
        }
    }
}

typedef struct {
    const md_window_params *p;
    const void *input;
    md_dtype dtype; /* of input and output: MD_INT8 or MD_INT16 */
    const int8_t *filter;
    const void *bias;
    const int32_t *multipliers;
    const int32_t *shifts;
    void *output;
} conv_int_job;

static inline int32_t input_value(const conv_int_job *job, int32_t index)
{
    return md_load(job->input, index, job->dtype) + job->p->input_offset;
}

/* `count` input values from `index` on, plus the input offset, as int16. */
static inline void widen(const conv_int_job *job, int32_t index, int32_t count, int16_t *column)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        column[i] = (int16_t)input_value(job, index + i);
    }
}

static inline void fill_column_int(void *context, int32_t batch, int32_t oy, int32_t ox, void *column)
{
    const conv_int_job *job = (const conv_int_job *)context;
    const md_window_params *p = job->p;
    int16_t *values = (int16_t *)column;
    int32_t fy;
    int32_t fx;
    int32_t c;
    for (fy = 0; fy < p->filter_h; ++fy) {
        for (fx = 0; fx < p->filter_w; ++fx) {
            const int32_t first = md_tap_index(p, batch, oy, ox, fy, fx);
            if (first >= 0) {
                widen(job, first, p->input_c, values);
            } else {
                for (c = 0; c < p->input_c; ++c) {
                    values[c] = 0; /* outside the image: adds nothing */
                }
            }
            values += p->input_c;
        }
    }
}

/* Sum over taps of column[tap * stride + k] * weights[tap * depth + k], k < depth: exact in int64
 * for the 16x8 kernels, modulo 2^32 for the others (their int32 accumulator wraps; 32-bit sums
 * are also what a Cortex-M adds in one instruction). */
static inline int64_t dot_column(const int16_t *column, int32_t stride, const int8_t *weights, int32_t taps, int32_t depth,
                          int32_t accumulator64)
{
    int64_t wide = 0;
    uint32_t narrow = 0;
    int32_t tap;
    int32_t k;
    for (tap = 0; tap < taps; ++tap) {
        const int16_t *values = column + tap * stride;
        const int8_t *tap_weights = weights + tap * depth;
        if (accumulator64) {
            for (k = 0; k < depth; ++k) {
                wide += values[k] * tap_weights[k];
            }
        } else {
            for (k = 0; k < depth; ++k) {
                narrow += (uint32_t)(values[k] * tap_weights[k]);
            }
        }
    }
    return accumulator64 ? wide : (int32_t)narrow;
}

/* Output channel oc of a pixel from its exact sum of products. */
static inline void store_channel(const conv_int_job *job, int32_t pixel, int32_t oc, int64_t sum)
{
    const md_window_params *p = job->p;
    const int32_t q = p->per_channel ? oc : 0;
    const int32_t value = md_requantize_sum(sum, job->bias, oc, p->accumulator64, job->multipliers[q], job->shifts[q],
                                            p->output_offset, p->act_min, p->act_max);
    md_store_saturated(job->output, pixel * p->output_c + oc, job->dtype, value);
}

static inline void compute_pixel_int(void *context, const void *column, int32_t pixel)
{
    const conv_int_job *job = (const conv_int_job *)context;
    const md_window_params *p = job->p;
    const int32_t taps = p->filter_h * p->filter_w;
    const int32_t filters_per_group = p->output_c / (p->input_c / p->filter_c);
    int32_t oc;
    for (oc = 0; oc < p->output_c; ++oc) {
        const int16_t *start = (const int16_t *)column + (oc / filters_per_group) * p->filter_c;
        const int8_t *weights = job->filter + oc * taps * p->filter_c;
        store_channel(job, pixel, oc, dot_column(start, p->input_c, weights, taps, p->filter_c, p->accumulator64));
    }
}

static inline void compute_direct_int(void *context, int32_t batch, int32_t oy, int32_t ox, int32_t pixel)
{
    const conv_int_job *job = (const conv_int_job *)context;
    const md_window_params *p = job->p;
    const int32_t filters_per_group = p->output_c / (p->input_c / p->filter_c);
    int32_t oc;
    int32_t fy;
    int32_t fx;
    int32_t k;
    for (oc = 0; oc < p->output_c; ++oc) {
        const int32_t group_start = (oc / filters_per_group) * p->filter_c;
        const int8_t *weights = job->filter + oc * p->filter_h * p->filter_w * p->filter_c;
        int64_t sum = 0;
        for (fy = 0; fy < p->filter_h; ++fy) {
            for (fx = 0; fx < p->filter_w; ++fx) {
                const int32_t first = md_tap_index(p, batch, oy, ox, fy, fx);
                const int8_t *tap_weights = weights + (fy * p->filter_w + fx) * p->filter_c;
                for (k = 0; first >= 0 && k < p->filter_c; ++k) {
                    sum += input_value(job, first + group_start + k) * tap_weights[k];
                }
            }
        }
        store_channel(job, pixel, oc, sum);
    }
}

static inline void conv_int(conv_int_job *job, void *scratch)
{
    md_conv_kernel kernel;
    kernel.fill = fill_column_int;
    kernel.compute = compute_pixel_int;
    kernel.direct = compute_direct_int;
    kernel.column_bytes = (size_t)(job->p->filter_h * job->p->filter_w * job->p->input_c) * sizeof(int16_t);
    md_conv_run_portable(job->p, job, &kernel, scratch);
}

/* The portable integer convolution of `dtype` (MD_INT8 or MD_INT16) activations. */
static inline void md_conv_int_portable(const md_window_params *p, const void *input, md_dtype dtype,
                                        const int8_t *filter, const void *bias, const int32_t *multipliers,
                                        const int32_t *shifts, void *output, void *scratch)
{
    conv_int_job job;
    job.p = p;
    job.input = input;
    job.dtype = dtype;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.output = output;
    conv_int(&job, scratch);
}

/* ---- 16x8 on the DSP and Helium paths (md_conv_s16_dsp.c, md_conv_s16_mve.c): ungrouped, input
 * offset 0 (int16 zero points are 0); im2col columns or the direct path, as the scratch says. */

/* The receptive field of output pixel `pixel` (all input channels, zeros outside the image) into
 * `column`, the int16 input values as they are, tap after tap. */
static inline void fill_column_s16(const conv_int_job *job, int32_t batch, int32_t pixel, int16_t *column)
{
    const md_window_params *p = job->p;
    const int32_t oy = pixel / p->output_w;
    const int32_t ox = pixel % p->output_w;
    const size_t tap_bytes = (size_t)p->input_c * sizeof(int16_t);
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < p->filter_h; ++fy) {
        for (fx = 0; fx < p->filter_w; ++fx) {
            const int32_t first = md_tap_index(p, batch, oy, ox, fy, fx);
            if (first >= 0) {
                memcpy(column, (const int16_t *)job->input + first, tap_bytes);
            } else {
                memset(column, 0, tap_bytes);
            }
            column += p->input_c;
        }
    }
}

/* Every output channel of pixels `pixel` (column a) and, when `paired`, `pixel + 1` (column b; a
 * again when not paired). The columns may be rearranged. */
typedef void (*conv_s16_pair_fn)(const conv_int_job *job, int16_t *a, int16_t *b, int32_t pixel, int paired);

/* The two-pixel loop the memory contract declares (conv_pairs), both columns computed together. */
static inline void conv_s16_pairs(const conv_int_job *job, int16_t *scratch, conv_s16_pair_fn compute)
{
    const md_window_params *p = job->p;
    int16_t *second = scratch + p->filter_h * p->filter_w * p->input_c;
    const int32_t pixels = p->output_h * p->output_w;
    int32_t batch;
    int32_t pixel;
    for (batch = 0; batch < p->batches; ++batch) {
        for (pixel = 0; pixel < pixels; pixel += 2) {
            const int paired = pixel + 1 < pixels;
            fill_column_s16(job, batch, pixel, scratch);
            if (paired) {
                fill_column_s16(job, batch, pixel + 1, second);
            }
            compute(job, scratch, paired ? second : scratch, batch * pixels + pixel, paired);
        }
    }
}

/* The sums of two output channels oc, oc + 1 of two pixels (columns a, b). */
typedef struct {
    int64_t a0, a1, b0, b1;
} conv_s16_sums;

/* Stores them: channel oc + 1 when `two`, pixel + 1 when `paired`. */
static inline void store_pair_sums(const conv_int_job *job, int32_t pixel, int32_t oc, int two, int paired,
                                   const conv_s16_sums *sums)
{
    store_channel(job, pixel, oc, sums->a0);
    if (two) {
        store_channel(job, pixel, oc + 1, sums->a1);
    }
    if (paired) {
        store_channel(job, pixel + 1, oc, sums->b0);
        if (two) {
            store_channel(job, pixel + 1, oc + 1, sums->b1);
        }
    }
}

/* Two output channels' sums of one pixel: int64 (wide) or int32 ones, `wide` a constant where used. */
typedef struct {
    int64_t wide_0, wide_1;
    int32_t narrow_0, narrow_1;
} conv_s16_acc;

/* Adds the products of `n` values by two weight rows (the ISA paths' inner loop). */
typedef void (*conv_s16_dot_fn)(conv_s16_acc *acc, const int16_t *x, const int8_t *row_0, const int8_t *row_1,
                                int32_t n);

/* Every output channel of one pixel, two at a time, from the taps of its window inside the image. */
static MD_ALWAYS_INLINE void conv_s16_direct_pixel(const conv_int_job *job, const int16_t *image, const md_taps *taps,
                                                   int32_t pixel, conv_s16_dot_fn dot, int wide)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    const int32_t depth = p->filter_h * p->filter_w * channels;
    int32_t oc;
    int32_t fy;
    int32_t fx;
    for (oc = 0; oc < p->output_c; oc += 2) {
        const int two = oc + 1 < p->output_c;
        const int8_t *row_0 = job->filter + oc * depth;
        const int8_t *row_1 = two ? row_0 + depth : row_0;
        conv_s16_acc acc = {0, 0, 0, 0};
        for (fy = taps->y_first; fy < taps->y_last; ++fy) {
            for (fx = taps->x_first; fx < taps->x_last; ++fx) {
                const int32_t tap = (fy * p->filter_w + fx) * channels;
                dot(&acc, image + md_taps_pixel(p, taps, fy, fx) * channels, row_0 + tap, row_1 + tap, channels);
            }
        }
        store_channel(job, pixel, oc, wide ? acc.wide_0 : acc.narrow_0);
        if (two) {
            store_channel(job, pixel, oc + 1, wide ? acc.wide_1 : acc.narrow_1);
        }
    }
}

/* The direct path (no scratch) of the DSP and Helium 16x8 paths: every output channel of a pixel,
 * two at a time, each from the taps of its window inside the image (`image`: the pixel's batch). */
typedef void (*conv_s16_direct_fn)(const conv_int_job *job, const int16_t *image, const md_taps *taps, int32_t pixel);

static inline void conv_s16_direct(const conv_int_job *job, conv_s16_direct_fn compute)
{
    const md_window_params *p = job->p;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    for (batch = 0; batch < p->batches; ++batch) {
        const int16_t *image = (const int16_t *)job->input + batch * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const md_taps taps = md_window_taps(p, oy, ox);
                compute(job, image, &taps, (batch * p->output_h + oy) * p->output_w + ox);
            }
        }
    }
}

/* Whether md_conv_s16's DSP and Helium paths take a layer: not grouped, no input offset; the others
 * run the portable kernel. */
static inline int conv_s16_fast(const md_window_params *p)
{
    return p->filter_c == p->input_c && p->input_offset == 0;
}

/* Whether a 16x8 layer's sums need int64 (md_s16_sums_fit_int32): an int32 bias makes TFLite
 * accumulate in int32, wrapping, as SMLAD and VMLADAVA do. */
static inline int conv_s16_wide(const md_window_params *p, const int8_t *filter)
{
    const int32_t depth = p->filter_h * p->filter_w * p->filter_c;
    return p->accumulator64 && !md_s16_sums_fit_int32(filter, p->output_c, depth, depth, 1);
}

static inline conv_int_job conv_s16_job(const md_window_params *p, const int16_t *input, const int8_t *filter,
                                        const void *bias, const int32_t *multipliers, const int32_t *shifts,
                                        int16_t *output)
{
    conv_int_job job;
    job.p = p;
    job.input = input;
    job.dtype = MD_INT16;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.output = output;
    return job;
}

/* Where md_conv_s8_w16's filter (md_nn.h) holds value k of output channel oc's `depth` values, of
 * `channels` output channels: in a pair of channels, pair k / 2 of both is 2 words, k in SMLAD pair
 * order in each whole group of 4 values ({k0, k2}, {k1, k3}: the order SXTB16 unpacks a word in). */
static inline int32_t md_w16_index(int32_t depth, int32_t channels, int32_t oc, int32_t k)
{
    const int32_t first = oc & ~1;
    if (first + 2 > channels) {
        return oc * depth + k; /* an odd last channel */
    }
    if (k < (depth & ~3)) {
        k = (k & ~3) | ((k & 1) << 1) | ((k & 2) >> 1);
    }
    if (k < (depth & ~1)) {
        return first * depth + (k >> 1) * 4 + (oc & 1) * 2 + (k & 1);
    }
    return first * depth + (depth & ~1) * 2 + (oc & 1); /* an odd depth's last value */
}

/* md_conv_s8_w16's portable C (md_conv_w16.c), which every build has: its DSP path falls back to it. */
md_status md_conv_s8_w16_portable(const md_window_params *p, const int8_t *input, const int16_t *filter,
                                  const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                  int8_t *output, int16_t *scratch);

#if MD_PATH_DSP
/* Whether a channel of `bias` (NULL: 0) and `shift` is narrow: its sums below 2^30 in magnitude
 * (`room` = 2^30 - depth * MD_DSP_PRODUCT_BOUND, when positive), a right shift of 1 to 31. */
static MD_ALWAYS_INLINE int narrow_channel(int32_t bias, int32_t shift, int32_t room)
{
    return shift < 0 && shift > -32 && bias < room && bias > -room;
}

/* md_conv_s8_w16's products of one pair of values: a pair of channels' weight words from r1 by four
 * interleaved columns' words from r0, into the sums r2..r9 {a0, a1, b0, b1, c0, c1, d0, d1} (pixel
 * a..d, channel 0 or 1), r10-r12 and lr scratch; md_conv_w16_dsp.c's dot loops and
 * md_conv_1x1_narrow_dsp.c's walk run it. Two schedules (MD_W16_DUAL_ISSUE): the Cortex-M4 and M33's
 * (both pointers advanced past what they read), and the Cortex-M7's, software-pipelined (the next
 * pair's first column and weight words loaded during this one's last products). */
#ifndef MD_W16_DUAL_ISSUE
#define MD_W16_DUAL_ISSUE MD_DUAL_ISSUE /* md_nn_support.h */
#endif
#if !MD_W16_DUAL_ISSUE
#define MD_W16_PAIR                                                                                              \
    "ldrd r12, lr, [r1], #8\n\t"                                                                               \
    "ldrd r10, r11, [r0], #8\n\t"                                                                              \
    "smlad r2, r10, r12, r2\n\t"                                                                               \
    "smlad r3, r10, lr, r3\n\t"                                                                                \
    "smlad r4, r11, r12, r4\n\t"                                                                               \
    "smlad r5, r11, lr, r5\n\t"                                                                                \
    "ldrd r10, r11, [r0], #8\n\t"                                                                              \
    "smlad r6, r10, r12, r6\n\t"                                                                               \
    "smlad r7, r10, lr, r7\n\t"                                                                                \
    "smlad r8, r11, r12, r8\n\t"                                                                               \
    "smlad r9, r11, lr, r9\n\t"
/* The same products of pair `md_at` (an assembler symbol, set by the caller) at immediate offsets
 * from the pointers, which it does not advance: its six words by single LDRs in two runs (a load
 * after a load pipelines: 5 + 3 cycles on the M4, where three LDRDs take 9); `then` (a string:
 * instructions that leave r10-r12 and lr) runs after the second run's loads. */
#define MD_W16_PAIR_AT(then) MD_W16_PAIR_FROM("r1, #0", "r0, #0", then)
/* ... the weights and columns from `weights` and `columns` (strings: a base register and the first
 * offset, "r1, #0"). */
#define MD_W16_PAIR_FROM(weights, columns, then)                                                                 \
    "ldr r12, [" weights " + (md_at * 8)]\n\t"                                                                  \
    "ldr lr, [" weights " + (md_at * 8 + 4)]\n\t"                                                               \
    "ldr r10, [" columns " + (md_at * 16)]\n\t"                                                                 \
    "ldr r11, [" columns " + (md_at * 16 + 4)]\n\t"                                                             \
    "smlad r2, r10, r12, r2\n\t"                                                                               \
    "smlad r3, r10, lr, r3\n\t"                                                                                \
    "smlad r4, r11, r12, r4\n\t"                                                                               \
    "smlad r5, r11, lr, r5\n\t"                                                                                \
    "ldr r10, [" columns " + (md_at * 16 + 8)]\n\t"                                                             \
    "ldr r11, [" columns " + (md_at * 16 + 12)]\n\t" then "smlad r6, r10, r12, r6\n\t"                       \
    "smlad r7, r10, lr, r7\n\t"                                                                                \
    "smlad r8, r11, r12, r8\n\t"                                                                               \
    "smlad r9, r11, lr, r9\n\t"
/* The first pair of values of a pass of eight whose loads move the pointers on, r1 by 64 bytes and r0
 * by 128 (8 pairs' weights and columns; the pass's other loads at offsets back from there), the four
 * loads alternating pointers (a load whose address the load right before wrote back does not
 * pipeline). */
#define MD_W16_PASS_FIRST                                                                                      \
    "ldr r12, [r1], #64\n\t"                                                                                   \
    "ldr r10, [r0], #128\n\t"                                                                                  \
    "ldr lr, [r1, #-60]\n\t"                                                                                   \
    "ldr r11, [r0, #-124]\n\t"                                                                                 \
    "smlad r2, r10, r12, r2\n\t"                                                                               \
    "smlad r3, r10, lr, r3\n\t"                                                                                \
    "smlad r4, r11, r12, r4\n\t"                                                                               \
    "smlad r5, r11, lr, r5\n\t"                                                                                \
    "ldr r10, [r0, #-120]\n\t"                                                                                 \
    "ldr r11, [r0, #-116]\n\t"                                                                                 \
    "smlad r6, r10, r12, r6\n\t"                                                                               \
    "smlad r7, r10, lr, r7\n\t"                                                                                \
    "smlad r8, r11, r12, r8\n\t"                                                                               \
    "smlad r9, r11, lr, r9\n\t"
/* The seven pairs of a pass after its first (MD_W16_PASS_FIRST's or the like), at offsets back from
 * where the first's loads left the pointers. */
#define MD_W16_PASS_SEVEN                                                                                      \
    ".set md_at, 1\n\t"                                                                                        \
    ".rept 7\n\t" MD_W16_PAIR_FROM("r1, #-64", "r0, #-128", "") ".set md_at, md_at + 1\n\t"                    \
    ".endr\n\t"
/* A pass's first pair (MD_W16_PASS_FIRST's) with its products added to the biases (r2, r3) as they
 * are read, channels c and d first, while r2 and r3 hold them (no copy of the biases into the other
 * pixels' sums). */
#define MD_W16_PASS_FIRST_FROM_BIASES                                                                          \
    "ldr r12, [r1], #64\n\t"                                                                                   \
    "ldr r10, [r0, #8]\n\t"                                                                                    \
    "ldr lr, [r1, #-60]\n\t"                                                                                   \
    "ldr r11, [r0, #12]\n\t"                                                                                   \
    "smlad r6, r10, r12, r2\n\t"                                                                               \
    "smlad r7, r10, lr, r3\n\t"                                                                                \
    "smlad r8, r11, r12, r2\n\t"                                                                               \
    "smlad r9, r11, lr, r3\n\t"                                                                                \
    "ldr r11, [r0, #4]\n\t"                                                                                    \
    "ldr r10, [r0], #128\n\t"                                                                                  \
    "smlad r4, r11, r12, r2\n\t"                                                                               \
    "smlad r5, r11, lr, r3\n\t"                                                                                \
    "smlad r2, r10, r12, r2\n\t"                                                                               \
    "smlad r3, r10, lr, r3\n\t"
/* The products from the biases: `first` (a string: MD_W16_PASS_FIRST_FROM_BIASES and what follows it in a
 * pass), then passes of `head` and `tail` (strings) entered at `tail` (no count to test, no branch out of
 * the loop) until `ended` (a string) sets Z: at the end of the weights or the columns. Labels 16, 17. */
#define MD_W16_DOT_ENTERED(first, head, tail, ended)                                                           \
    first "b 17f\n\t"                                                                                          \
    "16:\n\t" head "17:\n\t" tail ended "bne 16b\n\t"
#else
/* One pair, its first column word (r10) and weight words (r12, lr) already loaded. */
#define MD_W16_PAIR_START                                                                                        \
    "smlad r2, r10, r12, r2\n\t"                                                                               \
    "ldr r11, [r0, #4]\n\t"                                                                                    \
    "smlad r3, r10, lr, r3\n\t"                                                                                \
    "ldr r10, [r0, #8]\n\t"                                                                                    \
    "smlad r4, r11, r12, r4\n\t"                                                                               \
    "smlad r5, r11, lr, r5\n\t"                                                                                \
    "ldr r11, [r0, #12]\n\t"                                                                                   \
    "smlad r6, r10, r12, r6\n\t"                                                                               \
    "smlad r7, r10, lr, r7\n\t"
/* ... then the next pair's first words loaded, the pointers advanced. */
#define MD_W16_PAIR                                                                                              \
    MD_W16_PAIR_START "ldr r10, [r0, #16]!\n\t"                                                               \
    "smlad r8, r11, r12, r8\n\t"                                                                               \
    "ldr r12, [r1, #8]!\n\t"                                                                                   \
    "smlad r9, r11, lr, r9\n\t"                                                                                \
    "ldr lr, [r1, #4]\n\t"
#endif

/* A narrow channel's output from its sum (|sum| < 2^30, right shift e = -shift in [1, 31], half =
 * 2^(e-1)): TFLite's doubling high multiply v = (2 sum m + 2^31) >> 32 is SMMLAR's, which adds the
 * half exactly; rounding v / 2^e half away from zero is (v + half - (v < 0)) >> e, and v < 0 only
 * where sum < 0, while a negative sum with v = 0 gives (half - 1) >> e = 0 = half >> e: the sign
 * correction takes the sum's sign. |v| < 2^30 and half <= 2^30: no overflow. */
static MD_ALWAYS_INLINE int32_t narrow_product(int32_t sum, int32_t multiplier, int32_t half)
{
    int32_t v;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(v) : "r"(sum * 2), "r"(multiplier), "r"(half));
    return v;
}

static MD_ALWAYS_INLINE int32_t narrow_shift(int32_t product, int32_t sum, int32_t exponent)
{
    return (product + (sum >> 31)) >> exponent;
}

/* A column of any channel count (the stems' 1 to 3 input channels; md_conv_dsp.c, md_conv_w16_dsp.c):
 * its bytes in tap order (padding taps the zero point, which the offset turns into 0) are packed 4 to
 * a word as they come, and each word becomes the two pair-order words (SXTAB16 adding the input
 * offset), `pair` halfwords apart, the groups `step` halfwords apart; the kernel places the last
 * depth % 4 values. */
typedef struct {
    uint32_t word;  /* the bytes packed so far, the first in the low byte */
    uint32_t shift; /* 8 x their count */
    int16_t *group;
} column_packer;

static MD_ALWAYS_INLINE void emit_group(column_packer *packer, uint32_t word, int16x2_t offsets, int32_t step,
                                        int32_t pair)
{
    md_write32(packer->group, (uint32_t)md_even_pair_add(offsets, word));
    md_write32(packer->group + pair, (uint32_t)md_odd_pair_add(offsets, word));
    packer->group += step;
}

static MD_ALWAYS_INLINE void pack_byte(column_packer *packer, uint32_t byte, int16x2_t offsets, int32_t step,
                                       int32_t pair)
{
    packer->word |= byte << packer->shift;
    packer->shift += 8;
    if (packer->shift == 32) {
        emit_group(packer, packer->word, offsets, step, pair);
        packer->word = 0;
        packer->shift = 0;
    }
}

/* 4 bytes at once: the pending ones and the first of these make a group, the rest stay pending
 * ((word >> 1) >> (31 - shift) is word >> (32 - shift), and 0 when shift is 0). */
static MD_ALWAYS_INLINE void pack_word(column_packer *packer, uint32_t word, int16x2_t offsets, int32_t step,
                                       int32_t pair)
{
    emit_group(packer, packer->word | (word << packer->shift), offsets, step, pair);
    packer->word = (word >> 1) >> (31 - packer->shift);
}

/* A padded filter row is assembled on the stack first when it has at most this many bytes (a multiple of 4). */
#define MD_PACK_ROW_BYTES 64

/* `run` bytes from `bytes` on into the packer, a word at a time where there are 4. */
static MD_ALWAYS_INLINE void pack_run(column_packer *packer, const uint8_t *bytes, int32_t run, int16x2_t offsets,
                                      int32_t step, int32_t pair)
{
    int32_t i;
    for (i = 0; i + 4 <= run; i += 4) {
        pack_word(packer, md_read32(bytes + i), offsets, step, pair);
    }
    for (; i < run; ++i) {
        pack_byte(packer, bytes[i], offsets, step, pair);
    }
}

/* A filter row of the window at x0 in input row iy (y_inside: whether there is one) assembled in
 * `padded`: the zero point everywhere (which the offset turns into 0), then the taps inside the
 * image copied over it as one run (dilation_w 1, run <= MD_PACK_ROW_BYTES). */
static MD_ALWAYS_INLINE void assemble_row(const md_window_params *p, const uint8_t *image, int32_t iy, int y_inside,
                                          int32_t x0, uint32_t zero_word, uint8_t *padded)
{
    const int32_t channels = p->input_c;
    const int32_t run = p->filter_w * channels;
    const int32_t first = (x0 < 0 ? -x0 : 0) * channels;
    const int32_t last = md_min_i32(p->filter_w, p->input_w - x0) * channels;
    const int32_t start = (iy * p->input_w + x0) * channels;
    int32_t i;
    for (i = 0; i < run; i += 4) {
        md_write32(padded + i, zero_word);
    }
    if (y_inside) {
        for (i = first; i < last; ++i) {
            padded[i] = image[start + i];
        }
    }
}

/* The window at (y0, x0) of `image` (one batch's input) into the packer in tap order: a filter row
 * inside the image straight from it as one run; a row touching the padding assembled first
 * (assemble_row) and packed as a run too, so that a stem's edge pixels cost little more than its
 * inner ones; with a dilated or longer row, tap by tap and byte by byte. */
static MD_ALWAYS_INLINE void pack_window(column_packer *packer, const md_window_params *p, const uint8_t *image,
                                         int32_t y0, int32_t x0, int16x2_t offsets, int32_t step, int32_t pair)
{
    const int32_t channels = p->input_c;
    const int32_t run = p->filter_w * channels;
    const uint8_t zero_point = (uint8_t)-p->input_offset;
    const int row_inside = p->dilation_w == 1 && x0 >= 0 && x0 + p->filter_w <= p->input_w;
    const int assembled = p->dilation_w == 1 && run <= MD_PACK_ROW_BYTES;
    uint32_t padded[MD_PACK_ROW_BYTES / 4];
    int32_t fy;
    int32_t fx;
    int32_t c;
    for (fy = 0; fy < p->filter_h; ++fy) {
        const int32_t iy = y0 + fy * p->dilation_h;
        const int y_inside = md_inside(iy, p->input_h);
        if (y_inside && row_inside) {
            pack_run(packer, image + (iy * p->input_w + x0) * channels, run, offsets, step, pair);
        } else if (assembled) {
            assemble_row(p, image, iy, y_inside, x0, zero_point * 0x01010101u, (uint8_t *)padded);
            pack_run(packer, (const uint8_t *)padded, run, offsets, step, pair);
        } else {
            for (fx = 0; fx < p->filter_w; ++fx) {
                const int32_t ix = x0 + fx * p->dilation_w;
                const int inside = y_inside && md_inside(ix, p->input_w);
                for (c = 0; c < channels; ++c) {
                    pack_byte(packer, inside ? image[(iy * p->input_w + ix) * channels + c] : zero_point, offsets,
                              step, pair);
                }
            }
        }
    }
}

/* The pointwise int8 kernel of the DSP path (md_conv_1x1_dsp.c): md_conv_s8 where md_conv_1x1_fits. */
static inline int md_conv_1x1_fits(const md_window_params *p)
{
    return p->filter_h == 1 && p->filter_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 &&
           p->pad_left == 0 && p->filter_c == p->input_c && (p->input_c & 3) == 0 && !p->accumulator64;
}

void md_conv_1x1_s8_dsp(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                        const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch);

/* The stems' columns of md_conv_s8_w16 (md_conv_stem_dsp.c, a copy per shape): input channels not a
 * multiple of 4, filter rows of filter_w * input_c = `run` bytes one after the other in the input,
 * 3 rows of 9 or 3 bytes or 10 rows of 4; a window touching the padding assembled on the stack. */
#define MD_STEM_WINDOW 64

static inline int md_conv_stem_fits(const md_window_params *p)
{
    const int32_t run = p->filter_w * p->input_c;
    return (p->input_c & 3) != 0 && p->dilation_w == 1 &&
           ((p->filter_h == 3 && (run == 9 || run == 3)) || (p->filter_h == 10 && run == 4));
}

/* The columns of `count` (1 to 4) output pixels from (oy, ox) on in row order (the last again in
 * the columns after it) of one batch's `image` into md_conv_s8_w16's 4-column scratch: the copy for
 * the layer's shape, chosen once by md_conv_stem_fill (`rolled`: md_conv_stem_block's rolled blocks). */
typedef void (*md_stem_fill)(const md_window_params *p, const int8_t *image, int32_t oy, int32_t ox, int32_t count,
                             int16_t *scratch);
md_stem_fill md_conv_stem_fill(const md_window_params *p, int rolled);

/* The columns of 4 windows of one output row inside the image, the first's top-left byte at `row`,
 * the others `pixel_step` bytes on, filter rows `row_step` apart: the assembly copies of the stems of
 * 3x3 filters over RGB and grey images, which md_conv_s8_w16 calls without md_stem_fill's checks
 * (md_conv_stem_block: NULL for the other shapes); `rolled` (md_conv_s8_w16_rolled's) the RGB one's
 * windows in a loop, 4 times smaller, the grey one's first 3, for a flash cache that must hold it
 * beside the walk. */
typedef void (*md_stem_block)(const uint8_t *row, int32_t row_step, int32_t pixel_step, int16x2_t offsets,
                              int16_t *scratch);
md_stem_block md_conv_stem_block(const md_window_params *p, int rolled);

/* After the grey md_stem_block (3 bytes a window row) of 4 windows whose right ones pass the row's end
 * (`end` bytes from the row's first; the first window at byte `first`, the others `pixel_step` on),
 * the window rows not the image's last: the values it read past the end (the next row's) made the
 * padding's. */
void md_conv_stem_zero_past_row_end(int16_t *scratch, int32_t first, int32_t pixel_step, int32_t end);

/* md_conv_s8_w16 of a pointwise layer with few input channels at any stride (md_conv_1x1_narrow_dsp.c;
 * md_conv_s8_w16_records_bytes says which) that has the walk's records (md_nn.h's `walk`); `rolled`
 * (md_conv_s8_w16_rolled): the general walk where the layer has one with its channel counts built in. */
void md_conv_1x1_narrow_s8_w16(const md_window_params *p, const int8_t *input, const int16_t *filter,
                               const int32_t *walk, int8_t *output, int16_t *scratch, int rolled);

/* The records of a 3x3 stem over one channel with the walk's records (md_conv_s8_w16_stem_records_bytes,
 * 17 words a pair of channels: doubled biases, doubled weights as the filter holds them, the walk
 * records' requantization constants), packed once per call into the scratch after the columns, which
 * md_conv_w16_dsp.c's stem walk reads instead of the filter and records (md_conv_1x1_narrow_dsp.c:
 * pack_records' doubling). */
void md_conv_stem_records(const md_window_params *p, const int16_t *filter, const int32_t *walk, int32_t *record);
#endif

#endif /* MD_CONV_INT_H */
