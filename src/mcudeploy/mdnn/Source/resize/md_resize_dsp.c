/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 RESIZE_BILINEAR for cores with the DSP extension (see md_nn.h,
 * md_nn_support.h).
 *
 * The portable kernel's 20-bit sum in int32 (md_resize_int.h): each column's two rows interpolated
 * by one SMUAD of the pair {lower row, upper row} with the row weights {2^10 - dy, dy} (halfwords),
 * then the two columns weighted by 2^10 - dx and dx (MUL, MLA), rounded branch-free.
 */
#include "md_resize_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_resize_dsp);

/* {low, high} as the two halfwords of a word. */
static inline int16x2_t halves(int32_t low, int32_t high)
{
    return (int16x2_t)(((uint32_t)low & 0xFFFFu) | ((uint32_t)high << 16));
}

md_status md_resize_bilinear_s8(const md_resize_params *p, const md_interpolation_axis *rows,
                                const md_interpolation_axis *columns, const int8_t *input, int8_t *output)
{
    const int32_t channels = p->channels;
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t ch;
    for (b = 0; b < p->batches; ++b) {
        for (y = 0; y < p->output_h; ++y) {
            const int8_t *lower_row = md_resize_row(p, input, b, rows->lower[y]);
            const int8_t *upper_row = md_resize_row(p, input, b, rows->upper[y]);
            const int32_t dy = rows->fixed[y] - MD_ONE * rows->lower[y];
            const int16x2_t vertical = halves(MD_ONE - dy, dy);
            for (x = 0; x < p->output_w; ++x) {
                const int32_t dx = columns->fixed[x] - MD_ONE * columns->lower[x];
                const int32_t lower = columns->lower[x] * channels, upper = columns->upper[x] * channels;
                for (ch = 0; ch < channels; ++ch) { /* each column's two rows, then the two columns */
                    const int32_t left = __smuad(halves(lower_row[lower + ch], upper_row[lower + ch]), vertical);
                    const int32_t right = __smuad(halves(lower_row[upper + ch], upper_row[upper + ch]), vertical);
                    *output++ = (int8_t)md_resize_round(left * (MD_ONE - dx) + right * dx);
                }
            }
        }
    }
    return MD_OK;
}

#endif /* MD_PATH_DSP */
