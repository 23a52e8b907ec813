/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: FULLY_CONNECTED for MVE (Helium) cores (see md_nn.h, md_nn_support.h).
 *
 * int8 with a zero filter offset (always so for per-channel filters): two outputs at a time, so
 * that each input vector loaded feeds two products, and four outputs requantized together.
 * Other cases run the portable kernel.
 */
#include "md_fully_connected_int.h"

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_fully_connected_mve);

#define MD_FC_BLOCK 4 /* outputs requantized together: one int32x4 */

/* Every output of one input row. */
static void fully_connected_row_s8(const md_fully_connected_params *p, const int8_t *row, const int8_t *filter,
                                   const md_mve_requant *requant, int8_t *out)
{
    /* [0] is the output before a block: an odd last block recomputes it, with its last output */
    int32_t sums[MD_FC_BLOCK + 1];
    int32_t o;
    int32_t j;
    for (o = 0; o < p->output_depth; o += MD_FC_BLOCK) {
        const int32_t count = md_min_i32(MD_FC_BLOCK, p->output_depth - o);
        for (j = 0; j < count; j += 2) {
            const int32_t output = md_min_i32(o + j, p->output_depth - 2);
            md_mve_dot1x2_s8(row, filter + output * p->accum_depth, p->accum_depth, p->input_offset,
                             sums + output - o + 1);
        }
        md_mve_store_s8(requant, sums + 1, o, count, out + o);
    }
}

md_status md_fully_connected_s8(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts, int8_t *output)
{
    if (p->filter_offset == 0 && p->output_depth >= 2) {
        const md_mve_requant requant = md_mve_requant_s8(bias, multipliers, shifts, p->per_channel,
                                                         p->output_offset, p->act_min, p->act_max);
        int32_t b;
        for (b = 0; b < p->batches; ++b) {
            fully_connected_row_s8(p, input + b * p->accum_depth, filter, &requant, output + b * p->output_depth);
        }
        return MD_OK;
    }
    md_fully_connected_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output);
    return MD_OK;
}

md_status md_fully_connected_s16(const md_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                                 const void *bias, const int32_t *multipliers, const int32_t *shifts, int16_t *output)
{
    md_fully_connected_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output);
    return MD_OK;
}

#endif /* MD_PATH_MVE */
