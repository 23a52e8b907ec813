/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D 16x8 on the DSP extension (Cortex-M4, M7, M33; see md_nn.h).
 *
 * The im2col path, two output pixels at a time as the memory contract declares: each column's whole
 * groups of 4 int16 values are put in SMLAD pair order {v0, v2, v1, v3} (md_dsp_pair_order), so that
 * a word of 4 int8 weights, sign-extended by SXTB16 into {w0, w2} and {w1, w3}, meets two column
 * words in two SMLADs. Two output channels of both pixels at a time: every word loaded feeds two sums.
 * The sums are int32 (SMLAD) where md_s16_sums_fit_int32 proves them exact, or where the layer
 * accumulates in int32 (an int32 bias: SMLAD wraps as TFLite's int32 does); int64 otherwise (SMLALD),
 * as TFLite's 16x8 kernel. The direct path (no scratch) reads the input in place, two output channels
 * at a time, packing each 4 values into SMLAD pairs once for both. Grouped layers run the portable kernel. */
#include "md_conv_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_conv_s16_dsp);

/* {v0, v1, v2, v3} -> {v0, v2, v1, v3} in every whole group of 4 of a column (PKHBT, PKHTB). */
static void pair_order(int16_t *column, int32_t depth)
{
    int32_t k;
    for (k = 0; k + 4 <= depth; k += 4) {
        const uint32_t low = md_read32(column + k);      /* {v0, v1} */
        const uint32_t high = md_read32(column + k + 2); /* {v2, v3} */
        md_write32(column + k, (low & 0xFFFFu) | (high << 16));
        md_write32(column + k + 2, (high & 0xFFFF0000u) | (low >> 16));
    }
}

/* `wide` is a constant in each copy: SMLALD into int64 sums, or SMLAD into int32 ones. */
static MD_ALWAYS_INLINE conv_s16_sums dot_2x2(const int16_t *a, const int16_t *b, const int8_t *row_0,
                                              const int8_t *row_1, int32_t depth, int wide)
{
    int64_t la0 = 0, la1 = 0, lb0 = 0, lb1 = 0;
    int32_t na0 = 0, na1 = 0, nb0 = 0, nb1 = 0;
    conv_s16_sums sums;
    int32_t k;
    for (k = 0; k + 4 <= depth; k += 4) {
        const int16x2_t a_even = (int16x2_t)md_read32(a + k);
        const int16x2_t a_odd = (int16x2_t)md_read32(a + k + 2);
        const int16x2_t b_even = (int16x2_t)md_read32(b + k);
        const int16x2_t b_odd = (int16x2_t)md_read32(b + k + 2);
        const uint32_t w0 = md_read32(row_0 + k);
        const uint32_t w1 = md_read32(row_1 + k);
        const int16x2_t even_0 = md_even_pair(w0), odd_0 = md_odd_pair(w0);
        const int16x2_t even_1 = md_even_pair(w1), odd_1 = md_odd_pair(w1);
        if (wide) {
            la0 = __smlald(a_odd, odd_0, __smlald(a_even, even_0, la0));
            lb0 = __smlald(b_odd, odd_0, __smlald(b_even, even_0, lb0));
            la1 = __smlald(a_odd, odd_1, __smlald(a_even, even_1, la1));
            lb1 = __smlald(b_odd, odd_1, __smlald(b_even, even_1, lb1));
        } else {
            na0 = __smlad(a_odd, odd_0, __smlad(a_even, even_0, na0));
            nb0 = __smlad(b_odd, odd_0, __smlad(b_even, even_0, nb0));
            na1 = __smlad(a_odd, odd_1, __smlad(a_even, even_1, na1));
            nb1 = __smlad(b_odd, odd_1, __smlad(b_even, even_1, nb1));
        }
    }
    for (; k < depth; ++k) { /* the last values, in their own order */
        if (wide) {
            la0 += a[k] * row_0[k];
            lb0 += b[k] * row_0[k];
            la1 += a[k] * row_1[k];
            lb1 += b[k] * row_1[k];
        } else {
            na0 = md_wrap_add(na0, a[k] * row_0[k]);
            nb0 = md_wrap_add(nb0, b[k] * row_0[k]);
            na1 = md_wrap_add(na1, a[k] * row_1[k]);
            nb1 = md_wrap_add(nb1, b[k] * row_1[k]);
        }
    }
    sums.a0 = wide ? la0 : na0;
    sums.a1 = wide ? la1 : na1;
    sums.b0 = wide ? lb0 : nb0;
    sums.b1 = wide ? lb1 : nb1;
    return sums;
}

static MD_ALWAYS_INLINE void compute_pair_with(const conv_int_job *job, int16_t *a, int16_t *b, int32_t pixel,
                                               int paired, int wide)
{
    const md_window_params *p = job->p;
    const int32_t depth = p->filter_h * p->filter_w * p->input_c;
    int32_t oc;
    pair_order(a, depth);
    if (paired) {
        pair_order(b, depth);
    }
    for (oc = 0; oc < p->output_c; oc += 2) {
        const int two = oc + 1 < p->output_c;
        const int8_t *row_0 = job->filter + oc * depth;
        const conv_s16_sums sums = dot_2x2(a, b, row_0, two ? row_0 + depth : row_0, depth, wide);
        store_pair_sums(job, pixel, oc, two, paired, &sums);
    }
}

static MD_NOINLINE void compute_pair_narrow(const conv_int_job *job, int16_t *a, int16_t *b, int32_t pixel,
                                            int paired)
{
    compute_pair_with(job, a, b, pixel, paired, 0);
}

static MD_NOINLINE void compute_pair_wide(const conv_int_job *job, int16_t *a, int16_t *b, int32_t pixel, int paired)
{
    compute_pair_with(job, a, b, pixel, paired, 1);
}

/* ---- the direct path: the input read in place, its values in their own order */

/* Adds the products of `n` values by two weight rows: each group of 4 values is packed into the
 * pairs {x0, x2}, {x1, x3} (PKHBT, PKHTB) once for both rows. */
static MD_ALWAYS_INLINE void dot_direct(conv_s16_acc *acc, const int16_t *x, const int8_t *row_0, const int8_t *row_1,
                                        int32_t n, int wide)
{
    int32_t k;
    for (k = 0; k + 4 <= n; k += 4) {
        const uint32_t low = md_read32(x + k);
        const uint32_t high = md_read32(x + k + 2);
        const int16x2_t x_even = (int16x2_t)((low & 0xFFFFu) | (high << 16));
        const int16x2_t x_odd = (int16x2_t)((high & 0xFFFF0000u) | (low >> 16));
        const uint32_t w0 = md_read32(row_0 + k);
        const uint32_t w1 = md_read32(row_1 + k);
        if (wide) {
            acc->wide_0 = __smlald(x_odd, md_odd_pair(w0), __smlald(x_even, md_even_pair(w0), acc->wide_0));
            acc->wide_1 = __smlald(x_odd, md_odd_pair(w1), __smlald(x_even, md_even_pair(w1), acc->wide_1));
        } else {
            acc->narrow_0 = __smlad(x_odd, md_odd_pair(w0), __smlad(x_even, md_even_pair(w0), acc->narrow_0));
            acc->narrow_1 = __smlad(x_odd, md_odd_pair(w1), __smlad(x_even, md_even_pair(w1), acc->narrow_1));
        }
    }
    for (; k < n; ++k) {
        if (wide) {
            acc->wide_0 += x[k] * row_0[k];
            acc->wide_1 += x[k] * row_1[k];
        } else {
            acc->narrow_0 = md_wrap_add(acc->narrow_0, x[k] * row_0[k]);
            acc->narrow_1 = md_wrap_add(acc->narrow_1, x[k] * row_1[k]);
        }
    }
}

#include "md_conv_s16_entry.h"

#endif /* MD_PATH_DSP */
