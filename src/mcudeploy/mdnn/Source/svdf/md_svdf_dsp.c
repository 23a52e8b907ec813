/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 SVDF for cores with the DSP extension (see md_nn.h,
 * md_nn_support.h).
 *
 * The feature products (two filters at a time, each input word unpacked once for both) and the int8
 * state's time products: 4 values a word, unpacked to pairs (SXTAB16 adding the offset to the values,
 * SXTB16 for the weights) and multiplied by SMLAD. The int16 state's: 2 values a word straight into
 * SMLAD (every product fits int32), the zero point taken out afterwards as zero_point * sum(w) (the
 * same modulo 2^32). The state moves one value left
 * a word at a time (memmove copies bytes when source and destination are not equally aligned).
 */
#include "md_svdf_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_svdf_dsp);

static int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t offset)
{
    const int16x2_t offsets = (int16x2_t)(((uint32_t)offset & 0xFFFFu) * 0x10001u);
    const int8_t *end = x + (n & ~3);
    int32_t sum = 0;
    while (x < end) {
        const uint32_t values = md_read32(x);
        const uint32_t weights = md_read32(w);
        sum = __smlad(md_even_pair_add(offsets, values), md_even_pair(weights), sum);
        sum = __smlad(md_odd_pair_add(offsets, values), md_odd_pair(weights), sum);
        x += 4;
        w += 4;
    }
    return md_wrap_add(sum, md_svdf_dot_s8_portable(x, w, n & 3, offset));
}

/* Two weight rows at a time: each word of 4 input values unpacked once for both. */
static void dot2_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t offset, int32_t sums[2])
{
    const int16x2_t offsets = (int16x2_t)(((uint32_t)offset & 0xFFFFu) * 0x10001u);
    const int8_t *v = w + n;
    const int8_t *end = x + (n & ~3);
    int32_t first = 0;
    int32_t second = 0;
    while (x < end) {
        const uint32_t values = md_read32(x);
        const int16x2_t even = md_even_pair_add(offsets, values), odd = md_odd_pair_add(offsets, values);
        const uint32_t w_word = md_read32(w), v_word = md_read32(v);
        first = __smlad(odd, md_odd_pair(w_word), __smlad(even, md_even_pair(w_word), first));
        second = __smlad(odd, md_odd_pair(v_word), __smlad(even, md_even_pair(v_word), second));
        x += 4;
        w += 4;
        v += 4;
    }
    sums[0] = md_wrap_add(first, md_svdf_dot_s8_portable(x, w, n & 3, offset));
    sums[1] = md_wrap_add(second, md_svdf_dot_s8_portable(x, v, n & 3, offset));
}

/* sum(x[k] * w[k]) by SMLAD on the raw pairs, less zero_point * sum(w[k]) (SMLAD by {1, 1}) when
 * the zero point is not 0. */
static int32_t dot_s16(const int16_t *x, const int16_t *w, int32_t n, int32_t zero_point)
{
    const int16_t *end = x + (n & ~1);
    int32_t sum = 0;
    int32_t weights = 0;
    if (zero_point == 0) {
        while (x < end) {
            sum = __smlad((int16x2_t)md_read32(x), (int16x2_t)md_read32(w), sum);
            x += 2;
            w += 2;
        }
    } else {
        while (x < end) {
            const int16x2_t pair = (int16x2_t)md_read32(w);
            sum = __smlad((int16x2_t)md_read32(x), pair, sum);
            weights = __smlad(pair, (int16x2_t)0x00010001, weights);
            x += 2;
            w += 2;
        }
    }
    sum = md_wrap_sub(sum, md_wrap_mul(zero_point, weights));
    return md_wrap_add(sum, md_svdf_dot_s16_portable(x, w, n & 1, zero_point));
}

/* Forward, a word at a time (unaligned words are single loads and stores on these cores): each word
 * is read before the store that overlaps it. */
static void move(void *to, const void *from, size_t bytes)
{
    uint8_t *out = (uint8_t *)to;
    const uint8_t *in = (const uint8_t *)from;
    const uint8_t *end = in + (bytes & ~(size_t)3);
    while (in < end) {
        md_write32(out, md_read32(in));
        in += 4;
        out += 4;
    }
    for (end += bytes & 3; in < end; ++in, ++out) {
        *out = *in;
    }
}

md_status md_svdf_s8(const md_svdf_params *p, const int8_t *input, const int8_t *features, const void *time_weights,
                     const int32_t *bias, void *state, int state_is16, int8_t *output)
{
    static const md_svdf_kernels dsp = {dot_s8, dot2_s8, dot_s16, move};
    md_svdf_s8_with(p, input, features, time_weights, bias, state, state_is16, output, &dsp);
    return MD_OK;
}

#endif /* MD_PATH_DSP */
