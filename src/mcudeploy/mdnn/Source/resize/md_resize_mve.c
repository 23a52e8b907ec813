/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 RESIZE_BILINEAR for MVE (Helium) cores (see md_nn.h, md_nn_support.h).
 *
 * The portable kernel's 20-bit sum in int32 (md_resize_int.h), 4 channels a vector (widened by
 * VLDRB.S32, a last partial one predicated): each column's two rows weighted by 2^10 - dy and dy, then the
 * two columns by 2^10 - dx and dx (VMUL, VMLA by scalars), rounded half away from zero on the
 * magnitudes.
 */
#include "md_resize_int.h"

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_resize_mve);

/* md_resize_round on 4 lanes. */
static inline int32x4_t round_lanes(int32x4_t total)
{
    const int32x4_t sign = vshrq_n_s32(total, 31);
    const int32x4_t rounded =
        vshrq_n_s32(vaddq_n_s32(vabsq_s32(total), 1 << (2 * MD_FRACTION_BITS - 1)), 2 * MD_FRACTION_BITS);
    return vsubq_s32(veorq_s32(rounded, sign), sign);
}

/* 4 output values (those of `lanes`, all of them when `full`) from the values at the four corners:
 * each column's two rows weighted by `top` = 2^10 - dy and dy, then the two columns by 2^10 - dx and dx. */
static MD_ALWAYS_INLINE void interpolate(const int8_t *lower_left, const int8_t *upper_left, const int8_t *lower_right,
                                         const int8_t *upper_right, int32_t top, int32_t dy, int32_t dx, int8_t *out,
                                         mve_pred16_t lanes, const int full)
{
    const int32x4_t a = full ? vldrbq_s32(lower_left) : vldrbq_z_s32(lower_left, lanes);
    const int32x4_t b = full ? vldrbq_s32(upper_left) : vldrbq_z_s32(upper_left, lanes);
    const int32x4_t c = full ? vldrbq_s32(lower_right) : vldrbq_z_s32(lower_right, lanes);
    const int32x4_t d = full ? vldrbq_s32(upper_right) : vldrbq_z_s32(upper_right, lanes);
    const int32x4_t left = vmlaq_n_s32(vmulq_n_s32(a, top), b, dy);
    const int32x4_t right = vmlaq_n_s32(vmulq_n_s32(c, top), d, dy);
    const int32x4_t total = round_lanes(vmlaq_n_s32(vmulq_n_s32(left, MD_ONE - dx), right, dx));
    if (full) {
        vstrbq_s32(out, total);
    } else {
        vstrbq_p_s32(out, total, lanes);
    }
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
            const int32_t top = MD_ONE - dy;
            for (x = 0; x < p->output_w; ++x) {
                const int32_t dx = columns->fixed[x] - MD_ONE * columns->lower[x];
                const int8_t *lower_left = lower_row + columns->lower[x] * channels;
                const int8_t *upper_left = upper_row + columns->lower[x] * channels;
                const int8_t *lower_right = lower_row + columns->upper[x] * channels;
                const int8_t *upper_right = upper_row + columns->upper[x] * channels;
                for (ch = 0; ch + 4 <= channels; ch += 4) {
                    interpolate(lower_left + ch, upper_left + ch, lower_right + ch, upper_right + ch, top, dy, dx,
                                output + ch, 0, 1);
                }
                if (ch < channels) {
                    interpolate(lower_left + ch, upper_left + ch, lower_right + ch, upper_right + ch, top, dy, dx,
                                output + ch, vctp32q((uint32_t)(channels - ch)), 0);
                }
                output += channels;
            }
        }
    }
    return MD_OK;
}

#endif /* MD_PATH_MVE */
