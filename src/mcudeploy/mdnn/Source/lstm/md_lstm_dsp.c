/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the integer LSTM's gate products for cores with the DSP extension (see
 * md_lstm_int.h, md_nn_support.h), two weight rows at a time. int8: each group of 4 values
 * unpacked to halfword pairs once (SXTAB16 adding the offset) and multiplied with both rows by
 * SMLAD. int16: each group of 4 values repacked to the weights' pair order once (PKHBT, PKHTB) and
 * multiplied by SMLALD into exact 64-bit sums, as TFLite's 16x8 kernels sum. */
#include "md_lstm_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_lstm_dsp);

/* sums[0] and sums[1]: the products of row_0 and row_1 with (values + offset) over depth. */
static void md_lstm_dot_2rows(const int8_t *values, int32_t offset, const int8_t *row_0, const int8_t *row_1,
                              int32_t depth, int32_t *sums)
{
    const int16x2_t offsets = (int16x2_t)((uint32_t)(uint16_t)offset * 0x10001u);
    int32_t s0 = 0;
    int32_t s1 = 0;
    int32_t k;
    for (k = 0; k + 4 <= depth; k += 4) {
        const uint32_t word = md_read32(values + k);
        const int16x2_t even = md_even_pair_add(offsets, word);
        const int16x2_t odd = md_odd_pair_add(offsets, word);
        const uint32_t w0 = md_read32(row_0 + k);
        const uint32_t w1 = md_read32(row_1 + k);
        s0 = __smlad(even, md_even_pair(w0), s0);
        s0 = __smlad(odd, md_odd_pair(w0), s0);
        s1 = __smlad(even, md_even_pair(w1), s1);
        s1 = __smlad(odd, md_odd_pair(w1), s1);
    }
    for (; k < depth; ++k) {
        s0 = md_wrap_add(s0, (values[k] + offset) * row_0[k]);
        s1 = md_wrap_add(s1, (values[k] + offset) * row_1[k]);
    }
    sums[0] = s0;
    sums[1] = s1;
}

void md_lstm_dots_s8(const int8_t *values, int32_t offset, const int8_t *weights, int32_t depth, int32_t rows,
                     int32_t *sums)
{
    int32_t pair[2];
    int32_t r;
    for (r = 0; r < rows; r += 2) {
        const int32_t second = md_min_i32(r + 1, rows - 1); /* an odd last row pairs with itself */
        md_lstm_dot_2rows(values, offset, weights + r * depth, weights + second * depth, depth, pair);
        sums[r] = pair[0];
        sums[second] = pair[1];
    }
}

/* {v0, v2} and {v1, v3} of the int16 values {v0, v1} (low) and {v2, v3} (high): one PKHBT and one
 * PKHTB (GCC 12 spells them in five instructions from C). */
static inline int16x2_t md_lstm_even_halves(uint32_t low, uint32_t high)
{
    int16x2_t pair;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(pair) : "r"(low), "r"(high));
    return pair;
}

static inline int16x2_t md_lstm_odd_halves(uint32_t low, uint32_t high)
{
    int16x2_t pair;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(pair) : "r"(high), "r"(low));
    return pair;
}

/* sums[0] and sums[1]: the products of row_0 and row_1 with int16 values over depth. */
static void md_lstm_dot16_2rows(const int16_t *values, const int8_t *row_0, const int8_t *row_1, int32_t depth,
                                int64_t *sums)
{
    int64_t s0 = 0;
    int64_t s1 = 0;
    int32_t k;
    for (k = 0; k + 4 <= depth; k += 4) {
        const uint32_t low = md_read32(values + k);      /* {v0, v1} */
        const uint32_t high = md_read32(values + k + 2); /* {v2, v3} */
        const int16x2_t even = md_lstm_even_halves(low, high);
        const int16x2_t odd = md_lstm_odd_halves(low, high);
        const uint32_t w0 = md_read32(row_0 + k);
        const uint32_t w1 = md_read32(row_1 + k);
        s0 = __smlald(even, md_even_pair(w0), s0);
        s0 = __smlald(odd, md_odd_pair(w0), s0);
        s1 = __smlald(even, md_even_pair(w1), s1);
        s1 = __smlald(odd, md_odd_pair(w1), s1);
    }
    for (; k < depth; ++k) {
        s0 += values[k] * row_0[k];
        s1 += values[k] * row_1[k];
    }
    sums[0] = s0;
    sums[1] = s1;
}

void md_lstm_dots_s16(const int16_t *values, const int8_t *weights, int32_t depth, int32_t rows, int64_t *sums)
{
    int64_t pair[2];
    int32_t r;
    for (r = 0; r < rows; r += 2) {
        const int32_t second = md_min_i32(r + 1, rows - 1); /* an odd last row pairs with itself */
        md_lstm_dot16_2rows(values, weights + r * depth, weights + second * depth, depth, pair);
        sums[r] = pair[0];
        sums[second] = pair[1];
    }
}

#endif /* MD_PATH_DSP */
