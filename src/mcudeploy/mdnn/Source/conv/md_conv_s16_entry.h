/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: md_conv_s16's entry on the DSP and Helium paths, written once for the two
 * sources that include it last (md_conv_s16_dsp.c, md_conv_s16_mve.c), each having defined its own
 * dot_direct (the products of `n` values by two weight rows, `wide` a constant) and compute_pair_narrow /
 * compute_pair_wide (two output pixels from their im2col columns). The wrappers fix `wide` so that each
 * copy is compiled with it a constant. */

static inline void dot_direct_narrow(conv_s16_acc *acc, const int16_t *x, const int8_t *row_0, const int8_t *row_1,
                                     int32_t n)
{
    dot_direct(acc, x, row_0, row_1, n, 0);
}

static inline void dot_direct_wide(conv_s16_acc *acc, const int16_t *x, const int8_t *row_0, const int8_t *row_1,
                                   int32_t n)
{
    dot_direct(acc, x, row_0, row_1, n, 1);
}

static MD_NOINLINE void compute_direct_narrow(const conv_int_job *job, const int16_t *image, const md_taps *taps,
                                              int32_t pixel)
{
    conv_s16_direct_pixel(job, image, taps, pixel, dot_direct_narrow, 0);
}

static MD_NOINLINE void compute_direct_wide(const conv_int_job *job, const int16_t *image, const md_taps *taps,
                                            int32_t pixel)
{
    conv_s16_direct_pixel(job, image, taps, pixel, dot_direct_wide, 1);
}

md_status md_conv_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const void *bias,
                      const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch)
{
    const conv_int_job job = conv_s16_job(p, input, filter, bias, multipliers, shifts, output);
    const int wide = conv_s16_wide(p, filter);
    if (!conv_s16_fast(p)) {
        md_conv_int_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output, scratch);
    } else if (scratch) {
        conv_s16_pairs(&job, scratch, wide ? compute_pair_wide : compute_pair_narrow);
    } else {
        conv_s16_direct(&job, wide ? compute_direct_wide : compute_direct_narrow);
    }
    return MD_OK;
}

