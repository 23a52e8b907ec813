/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: RESIZE_BILINEAR (see md_nn.h): float32, and int8 in portable C. */
#include "md_resize_int.h"

/* The four input pixels (first channel) around an output pixel: rows lower/upper x columns lower/upper. */
typedef struct {
    size_t ll, ul, lu, uu; /* (row, column) = (lower, lower), (upper, lower), (lower, upper), (upper, upper) */
} corners;

static corners corners_of(const md_resize_params *p, int32_t batch, const md_interpolation_axis *rows,
                                 const md_interpolation_axis *columns, int32_t y, int32_t x)
{
    const size_t base = (size_t)batch * p->input_h;
    const size_t lower_row = (base + (size_t)rows->lower[y]) * p->input_w;
    const size_t upper_row = (base + (size_t)rows->upper[y]) * p->input_w;
    corners c;
    c.ll = (lower_row + (size_t)columns->lower[x]) * p->channels;
    c.ul = (upper_row + (size_t)columns->lower[x]) * p->channels;
    c.lu = (lower_row + (size_t)columns->upper[x]) * p->channels;
    c.uu = (upper_row + (size_t)columns->upper[x]) * p->channels;
    return c;
}

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_resize_portable);

md_status md_resize_bilinear_s8(const md_resize_params *p, const md_interpolation_axis *rows,
                                const md_interpolation_axis *columns, const int8_t *input, int8_t *output)
{
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t ch;
    for (b = 0; b < p->batches; ++b) {
        for (y = 0; y < p->output_h; ++y) {
            const int64_t dy = rows->fixed[y] - MD_ONE * rows->lower[y];
            for (x = 0; x < p->output_w; ++x) {
                const int64_t dx = columns->fixed[x] - MD_ONE * columns->lower[x];
                const corners c = corners_of(p, b, rows, columns, y, x);
                for (ch = 0; ch < p->channels; ++ch) {
                    const int64_t total = input[c.ll + ch] * (MD_ONE - dy) * (MD_ONE - dx) +
                                          input[c.ul + ch] * dy * (MD_ONE - dx) +
                                          input[c.lu + ch] * (MD_ONE - dy) * dx + input[c.uu + ch] * dy * dx;
                    const int64_t half = (int64_t)1 << (2 * MD_FRACTION_BITS - 1);
                    const int64_t rounded = total > 0 ? total + half : total - half;
                    *output++ = (int8_t)(rounded / ((int64_t)1 << (2 * MD_FRACTION_BITS)));
                }
            }
        }
    }
    return MD_OK;
}

#endif /* !MD_PATH_DSP && !MD_PATH_MVE */

md_status md_resize_bilinear_f32(const md_resize_params *p, const md_interpolation_axis *rows,
                                 const md_interpolation_axis *columns, const float *input, float *output)
{
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t ch;
    for (b = 0; b < p->batches; ++b) {
        for (y = 0; y < p->output_h; ++y) {
            const float dy = rows->position[y] - (float)rows->lower[y];
            for (x = 0; x < p->output_w; ++x) {
                const float dx = columns->position[x] - (float)columns->lower[x];
                const corners c = corners_of(p, b, rows, columns, y, x);
                for (ch = 0; ch < p->channels; ++ch) {
                    const float total = input[c.ll + ch] * (1.0f - dy) * (1.0f - dx) +
                                        input[c.ul + ch] * dy * (1.0f - dx) + input[c.lu + ch] * (1.0f - dy) * dx +
                                        input[c.uu + ch] * dy * dx;
                    *output++ = total + 0.0f;
                }
            }
        }
    }
    return MD_OK;
}
