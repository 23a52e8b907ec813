/* mcudeploy kernel library: CONV_2D for MVE (Helium) cores (see md_conv.h, md_mve.h).
 *
 * int8 with scratch, not grouped: the portable schedule (two output pixels at a time, both
 * receptive fields copied before either pixel is written), but the columns hold the raw int8
 * input (padding = the input zero point, which adds nothing once offset) and only use half of
 * the int16 scratch; two output channels of both pixels at a time, so that every vector loaded
 * feeds two products. Other cases (no scratch, groups, one output channel) run the portable kernel.
 */
#include "md_conv_int.h"
#include "md_mve.h"

#if MD_MVE

#define MD_CONV_BLOCK 4 /* output channels requantized together: one int32x4 */

typedef struct {
    const md_window_params *p;
    const int8_t *input;
    const int8_t *filter;
    md_mve_requant requant;
    int8_t *output;
    int32_t depth; /* filter_h * filter_w * input_c: one column, one filter */
} conv_s8_job;

/* Filter row fy of a receptive field into `row` (filter_w * input_c bytes); `pad` outside the image. */
static void fill_row_s8(const conv_s8_job *job, const int8_t *image, const md_taps *taps, int32_t fy, int8_t *row)
{
    const md_window_params *p = job->p;
    const int8_t pad = (int8_t)-p->input_offset;
    const int32_t c = p->input_c;
    int32_t fx;
    if (fy < taps->y_first || fy >= taps->y_last || taps->x_first >= taps->x_last) {
        md_mve_fill_s8(row, pad, p->filter_w * c);
        return;
    }
    if (p->dilation_w == 1) { /* the taps inside the image are one run of the input row */
        md_mve_fill_s8(row, pad, taps->x_first * c);
        md_mve_copy_s8(row + taps->x_first * c, image + md_taps_pixel(p, taps, fy, taps->x_first) * c,
                       (taps->x_last - taps->x_first) * c);
        md_mve_fill_s8(row + taps->x_last * c, pad, (p->filter_w - taps->x_last) * c);
        return;
    }
    for (fx = 0; fx < p->filter_w; ++fx) {
        if (fx >= taps->x_first && fx < taps->x_last) {
            md_mve_copy_s8(row + fx * c, image + md_taps_pixel(p, taps, fy, fx) * c, c);
        } else {
            md_mve_fill_s8(row + fx * c, pad, c);
        }
    }
}

/* Kept out of line: inlined together, the fill and the pixel loop made GCC spill the dot product's
 * pointers inside its innermost loop. */
#if defined(__GNUC__)
#define MD_OUT_OF_LINE __attribute__((noinline))
#else
#define MD_OUT_OF_LINE
#endif

/* The receptive field of output pixel `pixel` (within its batch) into `column`. */
MD_OUT_OF_LINE static void fill_column_s8(const conv_s8_job *job, int32_t batch, int32_t pixel, int8_t *column)
{
    const md_window_params *p = job->p;
    const md_taps taps = md_window_taps(p, pixel / p->output_w, pixel % p->output_w);
    const int8_t *image = job->input + batch * p->input_h * p->input_w * p->input_c;
    int32_t fy;
    for (fy = 0; fy < p->filter_h; ++fy) {
        fill_row_s8(job, image, &taps, fy, column + fy * p->filter_w * p->input_c);
    }
}

/* Every output channel of pixel `pixel` (global index) from `first`, and of the next pixel from
 * `second`: two output channels at a time, so that each vector loaded feeds two products. A
 * single pixel (the last of an odd count) goes as `second` == `first`, its copy discarded. */
MD_OUT_OF_LINE static void compute_pair_s8(const conv_s8_job *job, const int8_t *first, const int8_t *second, int32_t pixel)
{
    const md_window_params *p = job->p;
    int8_t *out = job->output + pixel * p->output_c;
    /* [0] is the channel before a block: an odd last block recomputes it, with its last channel */
    int32_t first_sums[MD_CONV_BLOCK + 1];
    int32_t second_sums[MD_CONV_BLOCK + 1];
    int32_t sums[4];
    int32_t oc;
    int32_t j;
    for (oc = 0; oc < p->output_c; oc += MD_CONV_BLOCK) {
        const int32_t count = md_min_i32(MD_CONV_BLOCK, p->output_c - oc);
        for (j = 0; j < count; j += 2) {
            const int32_t channel = md_min_i32(oc + j, p->output_c - 2);
            const int32_t slot = channel - oc + 1;
            md_mve_dot2x2_s8(first, second, job->filter + channel * job->depth, job->depth, p->input_offset, sums);
            first_sums[slot] = sums[0];
            second_sums[slot] = sums[1];
            first_sums[slot + 1] = sums[2];
            second_sums[slot + 1] = sums[3];
        }
        md_mve_store_s8(&job->requant, first_sums + 1, oc, count, out + oc);
        if (second != first) {
            md_mve_store_s8(&job->requant, second_sums + 1, oc, count, out + p->output_c + oc);
        }
    }
}

static void conv_s8_pairs(const conv_s8_job *job, int8_t *scratch)
{
    const md_window_params *p = job->p;
    const int32_t pixels = p->output_h * p->output_w;
    int8_t *first = scratch;
    int8_t *second = scratch + job->depth;
    int32_t batch;
    int32_t pixel;
    for (batch = 0; batch < p->batches; ++batch) {
        for (pixel = 0; pixel < pixels; pixel += 2) {
            const int paired = pixel + 1 < pixels;
            fill_column_s8(job, batch, pixel, first);
            if (paired) {
                fill_column_s8(job, batch, pixel + 1, second);
            }
            compute_pair_s8(job, first, paired ? second : first, batch * pixels + pixel);
        }
    }
}

#endif /* MD_MVE */

void md_conv_run(const md_window_params *p, void *job, const md_conv_kernel *kernel, void *scratch)
{
    md_conv_run_portable(p, job, kernel, scratch);
}

void md_conv_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch)
{
#if MD_MVE
    if (scratch && p->filter_c == p->input_c && p->output_c >= 2) {
        conv_s8_job job;
        job.p = p;
        job.input = input;
        job.filter = filter;
        job.requant = md_mve_requant_s8(bias, multipliers, shifts, p->per_channel, p->output_offset, p->act_min,
                                        p->act_max);
        job.output = output;
        job.depth = p->filter_h * p->filter_w * p->input_c;
        conv_s8_pairs(&job, (int8_t *)scratch);
        return;
    }
#endif
    md_conv_int_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output, scratch);
}

void md_conv_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const void *bias,
                 const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch)
{
    md_conv_int_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output, scratch);
}
