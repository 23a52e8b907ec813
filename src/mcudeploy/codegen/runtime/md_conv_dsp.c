/* mcudeploy kernel library: CONV_2D for cores with the DSP extension (see md_conv.h, md_dsp.h).
 *
 * int8, not grouped, with the planned scratch: the memory contract's schedule (two output
 * pixels at a time, both receptive fields copied into the 2-column int16 im2col buffer, then
 * every output channel of both pixels written), with the columns in SMLAD pair order and a
 * 2 columns x 2 output channels block: each pair of column words and each unpacked weight
 * word feeds two SMLADs. A 1x1 convolution is then a matrix multiply of the pixel pairs by
 * the filter. Other cases run the portable kernel.
 */
#include "md_conv_int.h"
#include "md_dsp.h"

typedef struct {
    const md_window_params *p;
    const int8_t *input;
    const int8_t *filter;
    const int32_t *bias;
    const int32_t *multipliers;
    const int32_t *shifts;
    int8_t *output;
    int32_t depth; /* column length: filter_h * filter_w * input_c */
} conv_dsp_job;

/* Index in the scratch of value j of column `column` (of `columns`, 1 or 2): per group of 4 values,
 * the two columns' pair-order words side by side, so one pointer walks both; the last depth % 4
 * values of each column after all groups. */
static inline int32_t scratch_index(const conv_dsp_job *job, int32_t columns, int32_t column, int32_t j)
{
    const int32_t grouped = job->depth & ~3;
    if (j < grouped) {
        return (j >> 2) * 4 * columns + column * 4 + (md_dsp_pair_order(j) & 3);
    }
    return grouped * columns + column * (job->depth & 3) + j - grouped;
}

/* The input_c values of one tap (a multiple of 4, starting at a multiple of 4), plus the input
 * offset: two pair-order words per 4 channels. */
static void fill_tap_words(const conv_dsp_job *job, int32_t first, int16_t *values, int32_t step)
{
    const int32_t channels = job->p->input_c;
    const int16x2_t offset = (int16x2_t)(((uint32_t)job->p->input_offset & 0xFFFFu) * 0x10001u);
    int32_t c;
    for (c = 0; c < channels; c += 4, values += step) {
        const uint32_t bytes = md_read32(job->input + first + c);
        md_write32(values, (uint32_t)__sadd16(md_even_pair(bytes), offset));
        md_write32(values + 2, (uint32_t)__sadd16(md_odd_pair(bytes), offset));
    }
}

/* Any channel count, value by value; padding taps (first < 0) give zeros, which add nothing. */
static void fill_tap_values(const conv_dsp_job *job, int32_t first, int16_t *scratch, int32_t columns,
                            int32_t column, int32_t position)
{
    int32_t c;
    for (c = 0; c < job->p->input_c; ++c) {
        const int16_t value = (int16_t)(first < 0 ? 0 : job->input[first + c] + job->p->input_offset);
        scratch[scratch_index(job, columns, column, position + c)] = value;
    }
}

/* Column `column` of `columns` with the receptive field of output `pixel` of `batch`. */
static void fill_column(const conv_dsp_job *job, int32_t batch, int32_t pixel, int16_t *scratch, int32_t columns,
                        int32_t column)
{
    const md_window_params *p = job->p;
    const int32_t oy = pixel / p->output_w;
    const int32_t ox = pixel % p->output_w;
    int32_t position = 0;
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < p->filter_h; ++fy) {
        for (fx = 0; fx < p->filter_w; ++fx, position += p->input_c) {
            const int32_t first = md_tap_index(p, batch, oy, ox, fy, fx);
            if ((p->input_c & 3) == 0 && first >= 0) {
                fill_tap_words(job, first, scratch + scratch_index(job, columns, column, position), 4 * columns);
            } else {
                fill_tap_values(job, first, scratch, columns, column, position);
            }
        }
    }
}

/* sums {a.row_0, a.row_1, b.row_0, b.row_1} of the two interleaved columns a and b in `words`
 * with two weight rows of `depth` values. Not inlined: the 4
 * accumulators, 4 column words and 2 weight words then fit the registers. */
MD_DSP_NOINLINE static void dot_2x2(const uint32_t *words, const int8_t *row_0, const int8_t *row_1, int32_t depth,
                                    int32_t *sums)
{
    const int8_t *end = row_0 + (depth & ~3);
    const int16_t *tail;
    int32_t a0 = sums[0], a1 = sums[1], b0 = sums[2], b1 = sums[3];
    int32_t t;
    while (row_0 < end) {
        const uint32_t w0 = md_read32(row_0);
        const uint32_t w1 = md_read32(row_1);
        a0 = __smlad((int16x2_t)words[0], md_even_pair(w0), a0);
        a1 = __smlad((int16x2_t)words[0], md_even_pair(w1), a1);
        b0 = __smlad((int16x2_t)words[2], md_even_pair(w0), b0);
        b1 = __smlad((int16x2_t)words[2], md_even_pair(w1), b1);
        a0 = __smlad((int16x2_t)words[1], md_odd_pair(w0), a0);
        a1 = __smlad((int16x2_t)words[1], md_odd_pair(w1), a1);
        b0 = __smlad((int16x2_t)words[3], md_odd_pair(w0), b0);
        b1 = __smlad((int16x2_t)words[3], md_odd_pair(w1), b1);
        words += 4;
        row_0 += 4;
        row_1 += 4;
    }
    tail = (const int16_t *)words;
    for (t = 0; t < (depth & 3); ++t) {
        a0 = md_wrap_add(a0, tail[t] * row_0[t]);
        a1 = md_wrap_add(a1, tail[t] * row_1[t]);
        b0 = md_wrap_add(b0, tail[(depth & 3) + t] * row_0[t]);
        b1 = md_wrap_add(b1, tail[(depth & 3) + t] * row_1[t]);
    }
    sums[0] = a0;
    sums[1] = a1;
    sums[2] = b0;
    sums[3] = b1;
}

/* sums {a.row_0, a.row_1} of the single column a in `words` (a lone last pixel). */
MD_DSP_NOINLINE static void dot_1x2(const uint32_t *words, const int8_t *row_0, const int8_t *row_1, int32_t depth,
                                    int32_t *sums)
{
    const int8_t *end = row_0 + (depth & ~3);
    const int16_t *tail;
    int32_t a0 = sums[0], a1 = sums[1];
    int32_t t;
    while (row_0 < end) {
        const uint32_t w0 = md_read32(row_0);
        const uint32_t w1 = md_read32(row_1);
        a0 = __smlad((int16x2_t)words[0], md_even_pair(w0), a0);
        a1 = __smlad((int16x2_t)words[0], md_even_pair(w1), a1);
        a0 = __smlad((int16x2_t)words[1], md_odd_pair(w0), a0);
        a1 = __smlad((int16x2_t)words[1], md_odd_pair(w1), a1);
        words += 2;
        row_0 += 4;
        row_1 += 4;
    }
    tail = (const int16_t *)words;
    for (t = 0; t < (depth & 3); ++t) {
        a0 = md_wrap_add(a0, tail[t] * row_0[t]);
        a1 = md_wrap_add(a1, tail[t] * row_1[t]);
    }
    sums[0] = a0;
    sums[1] = a1;
}

static inline int8_t requantize(const conv_dsp_job *job, int32_t oc, int32_t acc)
{
    const md_window_params *p = job->p;
    const int32_t q = p->per_channel ? oc : 0;
    return (int8_t)md_requantize32(acc, job->multipliers[q], job->shifts[q], p->output_offset, p->act_min,
                                   p->act_max);
}

/* Every output channel of one pixel (out_b NULL) or two, from the filled scratch. An odd last
 * channel is computed twice (its row repeated), written once. */
static void compute_pixels(const conv_dsp_job *job, const int16_t *scratch, int8_t *out_a, int8_t *out_b)
{
    const int32_t channels = job->p->output_c;
    int32_t sums[4];
    int32_t oc;
    for (oc = 0; oc < channels; oc += 2) {
        const int32_t next = oc + 1 < channels ? oc + 1 : oc;
        const int8_t *row_0 = job->filter + oc * job->depth;
        const int8_t *row_1 = job->filter + next * job->depth;
        sums[0] = sums[2] = job->bias ? job->bias[oc] : 0;
        sums[1] = sums[3] = job->bias ? job->bias[next] : 0;
        if (out_b) {
            dot_2x2((const uint32_t *)scratch, row_0, row_1, job->depth, sums);
        } else {
            dot_1x2((const uint32_t *)scratch, row_0, row_1, job->depth, sums);
        }
        out_a[oc] = requantize(job, oc, sums[0]);
        out_a[next] = requantize(job, next, sums[1]);
        if (out_b) {
            out_b[oc] = requantize(job, oc, sums[2]);
            out_b[next] = requantize(job, next, sums[3]);
        }
    }
}

static void conv_s8_pairs(const conv_dsp_job *job, int16_t *scratch)
{
    const md_window_params *p = job->p;
    const int32_t pixels = p->output_h * p->output_w;
    int32_t batch;
    int32_t pixel;
    for (batch = 0; batch < p->batches; ++batch) {
        for (pixel = 0; pixel < pixels; pixel += 2) {
            int8_t *out_a = job->output + (batch * pixels + pixel) * p->output_c;
            if (pixel + 1 < pixels) {
                fill_column(job, batch, pixel, scratch, 2, 0);
                fill_column(job, batch, pixel + 1, scratch, 2, 1);
                compute_pixels(job, scratch, out_a, out_a + p->output_c);
            } else {
                fill_column(job, batch, pixel, scratch, 1, 0);
                compute_pixels(job, scratch, out_a, NULL);
            }
        }
    }
}

void md_conv_run(const md_window_params *p, void *job, const md_conv_kernel *kernel, void *scratch)
{
    md_conv_run_portable(p, job, kernel, scratch);
}

void md_conv_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch)
{
    conv_dsp_job job;
    if (scratch == NULL || p->filter_c != p->input_c || p->accumulator64) {
        md_conv_int_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output, scratch);
        return;
    }
    job.p = p;
    job.input = input;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.output = output;
    job.depth = p->filter_h * p->filter_w * p->input_c;
    conv_s8_pairs(&job, scratch);
}

void md_conv_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const void *bias,
                 const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch)
{
    md_conv_int_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output, scratch);
}
