/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer AVERAGE_POOL_2D and MAX_POOL_2D for MVE (Helium) cores (see md_nn.h).
 *
 * int8, pixel by pixel as the memory contract declares, the channels of a pixel a vector at a time
 * over the window's taps inside the image: an average sums 8 channels in int16 lanes (windows of at
 * most MD_POOL_SUM16_TAPS taps: no overflow), then divides each channel's sum as the portable
 * kernel does; a maximum takes 16 channels by VMAX. Other cases (int16, larger windows) run the
 * portable kernel.
 */
#include "md_pool_int.h"

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_pool_mve);

/* Windows whose int16 sums cannot overflow: 256 values of [-128, 127] stay within [-32768, 32512]. */
#define MD_POOL_SUM16_TAPS 256

/* The averages of one output pixel's channels (window taps `taps`, the image at `image`). */
static void average_pixel_s8(const md_window_params *p, const int8_t *image, const md_taps *taps, int8_t *out)
{
    const int32_t channels = p->input_c;
    const int32_t count = (taps->y_last - taps->y_first) * (taps->x_last - taps->x_first);
    int16_t sums[8];
    int32_t c;
    int32_t k;
    int32_t fy;
    int32_t fx;
    for (c = 0; c < channels; c += 8) {
        const mve_pred16_t lanes = vctp16q((uint32_t)(channels - c));
        const int32_t values = md_min_i32(8, channels - c);
        int16x8_t sum = vdupq_n_s16(0);
        for (fy = taps->y_first; fy < taps->y_last; ++fy) {
            for (fx = taps->x_first; fx < taps->x_last; ++fx) {
                sum = vaddq_s16(sum, vldrbq_z_s16(image + md_taps_pixel(p, taps, fy, fx) * channels + c, lanes));
            }
        }
        vstrhq_s16(sums, sum);
        for (k = 0; k < values; ++k) {
            out[c + k] = (int8_t)md_clamp_i32(md_pool_average(sums[k], count), p->act_min, p->act_max);
        }
    }
}

/* The maxima of one output pixel's channels, 16 a vector. */
static void max_pixel_s8(const md_window_params *p, const int8_t *image, const md_taps *taps, int8_t *out)
{
    const int32_t channels = p->input_c;
    const int8x16_t low = vdupq_n_s8((int8_t)p->act_min), high = vdupq_n_s8((int8_t)p->act_max);
    int32_t c;
    int32_t fy;
    int32_t fx;
    for (c = 0; c < channels; c += 16) {
        const mve_pred16_t lanes = vctp8q((uint32_t)(channels - c));
        int8x16_t largest = vdupq_n_s8(INT8_MIN);
        for (fy = taps->y_first; fy < taps->y_last; ++fy) {
            for (fx = taps->x_first; fx < taps->x_last; ++fx) {
                largest = vmaxq_s8(largest, vldrbq_z_s8(image + md_taps_pixel(p, taps, fy, fx) * channels + c, lanes));
            }
        }
        vstrbq_p_s8(out + c, vminq_s8(vmaxq_s8(largest, low), high), lanes);
    }
}

/* Output pixel by output pixel (the contract's order), each by `pixel`. */
static void pool_s8(const md_window_params *p, const int8_t *input, int8_t *output,
                    void (*pixel)(const md_window_params *, const int8_t *, const md_taps *, int8_t *))
{
    int32_t batch;
    int32_t oy;
    int32_t ox;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const md_taps taps = md_window_taps(p, oy, ox);
                pixel(p, image, &taps, output + ((batch * p->output_h + oy) * p->output_w + ox) * p->output_c);
            }
        }
    }
}

md_status md_average_pool_int(const md_window_params *p, const void *input, void *output, int32_t element_bytes)
{
    if (element_bytes == 1 && p->filter_h * p->filter_w <= MD_POOL_SUM16_TAPS) {
        pool_s8(p, (const int8_t *)input, (int8_t *)output, average_pixel_s8);
    } else {
        md_pool_portable(p, input, output, element_bytes, average_channel);
    }
    return MD_OK;
}

md_status md_max_pool_int(const md_window_params *p, const void *input, void *output, int32_t element_bytes)
{
    if (element_bytes == 1) {
        pool_s8(p, (const int8_t *)input, (int8_t *)output, max_pixel_s8);
    } else {
        md_pool_portable(p, input, output, element_bytes, max_channel);
    }
    return MD_OK;
}

#endif /* MD_PATH_MVE */
