/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 SVDF for MVE (Helium) cores (see md_nn.h, md_nn_support.h).
 *
 * The feature products (two filters at a time, each input vector loaded once: md_mve_dot1x2_s8) and
 * the int8 state's time products (md_mve_dot_s8): 16 values a vector by VMLADAVA; the int16 state's: 8 a vector, every product within int32, the zero point
 * taken out afterwards as zero_point * sum(w) (the same modulo 2^32). Tails predicated. The state
 * moves one value left a vector at a time.
 */
#include "md_svdf_int.h"

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_svdf_mve);

static int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t offset)
{
    return md_mve_dot_s8(x, w, n, offset);
}

static void dot2_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t offset, int32_t sums[2])
{
    md_mve_dot1x2_s8(x, w, n, offset, sums);
}

static int32_t dot_s16(const int16_t *x, const int16_t *w, int32_t n, int32_t zero_point)
{
    int32_t sum = 0;
    int32_t weights = 0;
    while (n > 0) {
        const mve_pred16_t lanes = vctp16q((uint32_t)n);
        const int16x8_t wv = vldrhq_z_s16(w, lanes);
        sum = vmladavaq_s16(sum, vldrhq_z_s16(x, lanes), wv);
        weights = vaddvaq_s16(weights, wv);
        x += 8;
        w += 8;
        n -= 8;
    }
    return md_wrap_sub(sum, md_wrap_mul(zero_point, weights));
}

/* Forward, a vector at a time: each vector is read before the store that overlaps it. */
static void move(void *to, const void *from, size_t bytes)
{
    md_mve_copy_s8((int8_t *)to, (const int8_t *)from, (int32_t)bytes);
}

md_status md_svdf_s8(const md_svdf_params *p, const int8_t *input, const int8_t *features, const void *time_weights,
                     const int32_t *bias, void *state, int state_is16, int8_t *output)
{
    static const md_svdf_kernels helium = {dot_s8, dot2_s8, dot_s16, move};
    md_svdf_s8_with(p, input, features, time_weights, bias, state, state_is16, output, &helium);
    return MD_OK;
}

#endif /* MD_PATH_MVE */
