/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D 16x8 on Helium (Cortex-M55, M85; see md_nn.h).
 *
 * The im2col path, two output pixels at a time as the memory contract declares: 8 int16 column
 * values and 8 int8 weights widened to int16 (VLDRB.S16) a step, two output channels of both pixels
 * at a time, so that every vector loaded feeds two dot products. VMLALDAVA sums into int64, as
 * TFLite's 16x8 kernel; VMLADAVA into int32 where md_s16_sums_fit_int32 proves the sums exact, or
 * where the layer accumulates in int32 (an int32 bias: VMLADAVA wraps as TFLite's int32 does).
 * The direct path (no scratch) reads the input in place, two output channels at a time. Grouped
 * layers run the portable kernel. */
#include "md_conv_int.h"

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_conv_s16_mve);

typedef struct {
    int64_t la0, la1, lb0, lb1;
    int32_t na0, na1, nb0, nb1;
} pair_acc;

static MD_ALWAYS_INLINE void accumulate(pair_acc *acc, int16x8_t a, int16x8_t b, int16x8_t w0, int16x8_t w1,
                                        int wide)
{
    if (wide) {
        acc->la0 = vmlaldavaq_s16(acc->la0, a, w0);
        acc->lb0 = vmlaldavaq_s16(acc->lb0, b, w0);
        acc->la1 = vmlaldavaq_s16(acc->la1, a, w1);
        acc->lb1 = vmlaldavaq_s16(acc->lb1, b, w1);
    } else {
        acc->na0 = vmladavaq_s16(acc->na0, a, w0);
        acc->nb0 = vmladavaq_s16(acc->nb0, b, w0);
        acc->na1 = vmladavaq_s16(acc->na1, a, w1);
        acc->nb1 = vmladavaq_s16(acc->nb1, b, w1);
    }
}

/* `wide` is a constant in each copy. Whole vectors first, then a predicated tail. */
static MD_ALWAYS_INLINE conv_s16_sums dot_2x2(const int16_t *a, const int16_t *b, const int8_t *row_0,
                                              const int8_t *row_1, int32_t depth, int wide)
{
    pair_acc acc = {0, 0, 0, 0, 0, 0, 0, 0};
    conv_s16_sums sums;
    int32_t k;
    for (k = 0; k + 8 <= depth; k += 8) {
        accumulate(&acc, vldrhq_s16(a + k), vldrhq_s16(b + k), vldrbq_s16(row_0 + k), vldrbq_s16(row_1 + k), wide);
    }
    if (k < depth) {
        const mve_pred16_t lanes = vctp16q((uint32_t)(depth - k));
        accumulate(&acc, vldrhq_z_s16(a + k, lanes), vldrhq_z_s16(b + k, lanes), vldrbq_z_s16(row_0 + k, lanes),
                   vldrbq_z_s16(row_1 + k, lanes), wide);
    }
    sums.a0 = wide ? acc.la0 : acc.na0;
    sums.a1 = wide ? acc.la1 : acc.na1;
    sums.b0 = wide ? acc.lb0 : acc.nb0;
    sums.b1 = wide ? acc.lb1 : acc.nb1;
    return sums;
}

static MD_ALWAYS_INLINE void compute_pair_with(const conv_int_job *job, const int16_t *a, const int16_t *b,
                                               int32_t pixel, int paired, int wide)
{
    const md_window_params *p = job->p;
    const int32_t depth = p->filter_h * p->filter_w * p->input_c;
    int32_t oc;
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

/* ---- the direct path: the input read in place */

/* Adds the products of `n` values by two weight rows: each vector of values feeds both. */
static MD_ALWAYS_INLINE void dot_direct(conv_s16_acc *acc, const int16_t *x, const int8_t *row_0, const int8_t *row_1,
                                        int32_t n, int wide)
{
    int32_t k;
    for (k = 0; k < n; k += 8) {
        const mve_pred16_t lanes = vctp16q((uint32_t)(n - k));
        const int16x8_t values = vldrhq_z_s16(x + k, lanes);
        const int16x8_t w0 = vldrbq_z_s16(row_0 + k, lanes);
        const int16x8_t w1 = vldrbq_z_s16(row_1 + k, lanes);
        if (wide) {
            acc->wide_0 = vmlaldavaq_s16(acc->wide_0, values, w0);
            acc->wide_1 = vmlaldavaq_s16(acc->wide_1, values, w1);
        } else {
            acc->narrow_0 = vmladavaq_s16(acc->narrow_0, values, w0);
            acc->narrow_1 = vmladavaq_s16(acc->narrow_1, values, w1);
        }
    }
}

#include "md_conv_s16_entry.h"

#endif /* MD_PATH_MVE */
