/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 and int16 BATCH_MATMUL for MVE (Helium) cores (see md_nn.h, md_nn_support.h).
 *
 * int8, with rhs' columns side by side (no adj_y) or lhs' rows side by side (adj_x): two lines (lhs'
 * rows, rhs' columns) by 8 lanes (the other operand's lines side by side) at a time, each depth's 8
 * lane values widened to int32 (VLDRB.S32) and multiplied into both lines by VMLA with the line's
 * value plus its offset; the sums start from the lane offset's share, lane offset * sum(line + line
 * offset) (the same modulo 2^32); with adj_x the outputs of a block go down columns (scattered).
 * int8, lhs' rows and rhs' columns both contiguous along the depth (adj_y without adj_x): 2x2 blocks
 * of dot products, 16 depths a VMLADAVA, the offsets added afterwards as offset * sum (the same
 * modulo 2^32), the block requantized in one vector and scattered to its places. int16: below.
 */
#include "md_batch_matmul_int.h"

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_batch_matmul_mve);

/* The outputs of 4 sums (md_requantize32 on each lane). */
static inline int32x4_t requantize(const md_batch_matmul_params *p, int32x4_t sums)
{
    sums = vaddq_n_s32(md_mve_mbqm_n(sums, p->multiplier, p->shift), p->output_offset);
    return vminq_s32(vmaxq_s32(sums, vdupq_n_s32(p->act_min)), vdupq_n_s32(p->act_max));
}

/* One output matrix read as lanes and lines: the outputs of line l (an lhs' row or rhs' column) and
 * lane v (an rhs' column or lhs' row, side by side in memory) at out + l * out_line + v * out_lane,
 * each sum((line + line offset) * (lane + lane offset)) over the depth. */
typedef struct {
    const int8_t *lanes, *lines; /* lane 0 and line 0 at depth 0 */
    int32_t lane_count, line_count, line_step;
    int32_t lane_depth, line_depth; /* depth steps */
    int32_t lane_offset, line_offset;
    int32_t out_line, out_lane;
} lanes_view;

/* lane offset * sum(line[k * step] + line offset) over the depth, wrapping: the lane offset's share
 * of each output of a line. */
static int32_t lane_offset_share(const lanes_view *v, int32_t depth, const int8_t *line)
{
    int32_t sum = md_wrap_mul(depth, v->line_offset);
    int32_t k;
    for (k = 0; k < depth; ++k) {
        sum = md_wrap_add(sum, line[k * v->line_depth]);
    }
    return md_wrap_mul(v->lane_offset, sum);
}

/* Requantized output lanes stored as int8 where `lanes` holds, out_lane apart (scattered) or side by
 * side. */
static MD_ALWAYS_INLINE void store_s8(const md_batch_matmul_params *p, int8_t *at, int32x4_t sums,
                                      mve_pred16_t lanes, int32_t out_lane, const int scattered)
{
    if (scattered) {
        const uint32x4_t places = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)out_lane);
        vstrbq_scatter_offset_p_s32(at, places, requantize(p, sums), lanes);
    } else {
        vstrbq_p_s32(at, requantize(p, sums), lanes);
    }
}

/* The outputs of lines line_0 and line_1 at 8 lanes from `lanes`, from the lane offset's shares: the
 * lanes of `low` and `high` (all of them when `full`: no predicate in the loop). */
static MD_ALWAYS_INLINE void lanes_block(const md_batch_matmul_params *p, const lanes_view *v, const int8_t *lanes,
                                         const int8_t *line_0, const int8_t *line_1, int32_t share_0, int32_t share_1,
                                         mve_pred16_t low, mve_pred16_t high, const int full, int8_t *out_0,
                                         int8_t *out_1, const int scattered)
{
    const int32_t lane_depth = v->lane_depth, line_depth = v->line_depth, line_offset = v->line_offset;
    int32x4_t a_low = vdupq_n_s32(share_0), a_high = a_low, b_low = vdupq_n_s32(share_1), b_high = b_low;
    int32_t k;
    for (k = p->depth; k > 0; --k) {
        const int32x4_t r_low = full ? vldrbq_s32(lanes) : vldrbq_z_s32(lanes, low);
        const int32x4_t r_high = full ? vldrbq_s32(lanes + 4) : vldrbq_z_s32(lanes + 4, high);
        const int32_t a = *line_0 + line_offset, b = *line_1 + line_offset;
        a_low = vmlaq_n_s32(a_low, r_low, a);
        a_high = vmlaq_n_s32(a_high, r_high, a);
        b_low = vmlaq_n_s32(b_low, r_low, b);
        b_high = vmlaq_n_s32(b_high, r_high, b);
        lanes += lane_depth;
        line_0 += line_depth;
        line_1 += line_depth;
    }
    store_s8(p, out_0, a_low, low, v->out_lane, scattered);
    store_s8(p, out_0 + 4 * v->out_lane, a_high, high, v->out_lane, scattered);
    store_s8(p, out_1, b_low, low, v->out_lane, scattered);
    store_s8(p, out_1 + 4 * v->out_lane, b_high, high, v->out_lane, scattered);
}

/* Blocks of two lines by 8 lanes (an odd last line computed twice). */
static MD_ALWAYS_INLINE void matrix_lanes(const md_batch_matmul_params *p, const lanes_view *v, int8_t *result,
                                          const int scattered)
{
    const int32_t count = v->lane_count;
    int32_t l;
    int32_t j;
    for (l = 0; l < v->line_count; l += 2) {
        const int32_t second = md_min_i32(l + 1, v->line_count - 1);
        const int8_t *line_0 = v->lines + l * v->line_step, *line_1 = v->lines + second * v->line_step;
        const int32_t share_0 = lane_offset_share(v, p->depth, line_0);
        const int32_t share_1 = lane_offset_share(v, p->depth, line_1);
        int8_t *out_0 = result + l * v->out_line, *out_1 = result + second * v->out_line;
        for (j = 0; j + 8 <= count; j += 8) {
            lanes_block(p, v, v->lanes + j, line_0, line_1, share_0, share_1, 0xFFFF, 0xFFFF, 1,
                        out_0 + j * v->out_lane, out_1 + j * v->out_lane, scattered);
        }
        if (j < count) {
            lanes_block(p, v, v->lanes + j, line_0, line_1, share_0, share_1, vctp32q((uint32_t)(count - j)),
                        vctp32q((uint32_t)md_max_i32(count - j - 4, 0)), 0, out_0 + j * v->out_lane,
                        out_1 + j * v->out_lane, scattered);
        }
    }
}

/* rhs' columns side by side (column step 1): lanes along them, lines along lhs' rows. */
static void matrix_columns(const md_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *result)
{
    const lanes_view v = {rhs, lhs, p->cols, p->rows, p->lhs_row_step, p->rhs_depth_step, p->lhs_depth_step,
                          p->rhs_offset, p->lhs_offset, p->cols, 1};
    matrix_lanes(p, &v, result, 0);
}

/* lhs' rows side by side (row step 1: adj_x): lanes along them, lines along rhs' columns, the outputs
 * of a line scattered down a column. */
static void matrix_rows(const md_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *result)
{
    const lanes_view v = {lhs, rhs, p->rows, p->cols, p->rhs_col_step, p->lhs_depth_step, p->rhs_depth_step,
                          p->lhs_offset, p->rhs_offset, 1, p->cols};
    matrix_lanes(p, &v, result, 1);
}

/* {(a + lhs offset) . (c + rhs offset), a . d, b . c, b . d} over `depth` values, modulo 2^32: the
 * products of the values, then each offset times the other operand's sum, then depth times both. */
static inline int32x4_t dots_2x2(const md_batch_matmul_params *p, const int8_t *a, const int8_t *b, const int8_t *c,
                                 const int8_t *d)
{
    int32_t ac = 0, ad = 0, bc = 0, bd = 0, a_sum = 0, b_sum = 0, c_sum = 0, d_sum = 0;
    int32_t n;
    for (n = p->depth; n > 0; n -= 16) {
        const mve_pred16_t lanes = vctp8q((uint32_t)n);
        const int8x16_t av = vldrbq_z_s8(a, lanes), bv = vldrbq_z_s8(b, lanes);
        const int8x16_t cv = vldrbq_z_s8(c, lanes), dv = vldrbq_z_s8(d, lanes);
        ac = vmladavaq_s8(ac, av, cv);
        ad = vmladavaq_s8(ad, av, dv);
        bc = vmladavaq_s8(bc, bv, cv);
        bd = vmladavaq_s8(bd, bv, dv);
        a_sum = vaddvaq_s8(a_sum, av);
        b_sum = vaddvaq_s8(b_sum, bv);
        c_sum = vaddvaq_s8(c_sum, cv);
        d_sum = vaddvaq_s8(d_sum, dv);
        a += 16;
        b += 16;
        c += 16;
        d += 16;
    }
    {
        const int32x4_t products = md_mve_vector4(ac, ad, bc, bd);
        const int32x4_t lhs_sums = md_mve_vector4(a_sum, a_sum, b_sum, b_sum);
        const int32x4_t rhs_sums = md_mve_vector4(c_sum, d_sum, c_sum, d_sum);
        const int32_t both = md_wrap_mul(p->depth, md_wrap_mul(p->lhs_offset, p->rhs_offset));
        return vaddq_n_s32(vmlaq_n_s32(vmlaq_n_s32(products, lhs_sums, p->rhs_offset), rhs_sums, p->lhs_offset), both);
    }
}

/* One output matrix, lhs' rows and rhs' columns contiguous along the depth: 2x2 blocks (an odd last
 * row or column repeats the one before it, its outputs stored twice), each requantized in one
 * vector and scattered to its places. */
static void matrix_dots(const md_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *result)
{
    const int32_t rows = p->rows, cols = p->cols;
    int32_t i;
    int32_t j;
    for (i = 0; i < rows; i += 2) {
        const int32_t row = rows > 1 ? md_min_i32(i, rows - 2) : 0, next = md_min_i32(row + 1, rows - 1);
        const int32_t down = (next - row) * cols;
        for (j = 0; j < cols; j += 2) {
            const int32_t col = cols > 1 ? md_min_i32(j, cols - 2) : 0, after = md_min_i32(col + 1, cols - 1);
            const int32_t right = after - col;
            const int32x4_t sums = dots_2x2(p, lhs + row * p->lhs_row_step, lhs + next * p->lhs_row_step,
                                            rhs + col * p->rhs_col_step, rhs + after * p->rhs_col_step);
            const uint32x4_t places = vreinterpretq_u32_s32(md_mve_vector4(0, right, down, down + right));
            vstrbq_scatter_offset_s32(result + row * cols + col, places, requantize(p, sums));
        }
    }
}

MD_MATMUL_MATRICES(matmul_s8_columns, int8_t, matrix_columns(p, lhs, rhs, result))
MD_MATMUL_MATRICES(matmul_s8_dots, int8_t, matrix_dots(p, lhs, rhs, result))
MD_MATMUL_MATRICES(matmul_s8_rows, int8_t, matrix_rows(p, lhs, rhs, result))

md_status md_batch_matmul_s8(const md_batch_matmul_params *p, const md_broadcast *batches, const int8_t *lhs,
                             const int8_t *rhs, int8_t *output)
{
    md_row_fn row = md_matmul_s8_portable;
    if (p->rhs_col_step == 1) {
        row = matmul_s8_columns;
    } else if (p->lhs_depth_step == 1 && p->rhs_depth_step == 1) {
        row = matmul_s8_dots;
    } else if (p->lhs_row_step == 1) {
        row = matmul_s8_rows;
    }
    md_broadcast_rows(batches, p, row, lhs, rhs, output);
    return MD_OK;
}

/* ---- int16 (zero points 0): one lhs' row by two rhs' columns, 8 depths a VMLALDAVA into int64 sums
 * (exact, as the portable kernel's); a line not contiguous along the depth gathered (VLDRH with
 * offsets of its depth step, in 16 bits: 7 steps must fit). */

/* 8 values of a line from `at` (the first `lanes`), contiguous or `offsets` apart. */
static MD_ALWAYS_INLINE int16x8_t load_s16(const int16_t *at, uint16x8_t offsets, mve_pred16_t lanes,
                                           const int contiguous)
{
    return contiguous ? vldrhq_z_s16(at, lanes) : vldrhq_gather_shifted_offset_z_s16(at, offsets, lanes);
}

static MD_ALWAYS_INLINE void matrix_s16(const md_batch_matmul_params *p, const int16_t *lhs, const int16_t *rhs,
                                        int16_t *result, const int lhs_contiguous, const int rhs_contiguous)
{
    const int32_t rows = p->rows, cols = p->cols, lhs_depth = p->lhs_depth_step, rhs_depth = p->rhs_depth_step;
    const uint16x8_t lhs_offsets = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)lhs_depth);
    const uint16x8_t rhs_offsets = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)rhs_depth);
    int32_t i;
    int32_t j;
    int32_t n;
    for (i = 0; i < rows; ++i) {
        for (j = 0; j < cols; j += 2) {
            const int32_t col = cols > 1 ? md_min_i32(j, cols - 2) : 0, after = md_min_i32(col + 1, cols - 1);
            const int16_t *a = lhs + i * p->lhs_row_step;
            const int16_t *c = rhs + col * p->rhs_col_step, *d = rhs + after * p->rhs_col_step;
            int64_t ac = 0;
            int64_t ad = 0;
            for (n = p->depth; n > 0; n -= 8) {
                const mve_pred16_t lanes = vctp16q((uint32_t)n);
                const int16x8_t av = load_s16(a, lhs_offsets, lanes, lhs_contiguous);
                ac = vmlaldavaq_s16(ac, av, load_s16(c, rhs_offsets, lanes, rhs_contiguous));
                ad = vmlaldavaq_s16(ad, av, load_s16(d, rhs_offsets, lanes, rhs_contiguous));
                a += 8 * lhs_depth;
                c += 8 * rhs_depth;
                d += 8 * rhs_depth;
            }
            result[i * cols + col] = (int16_t)md_requantize64(ac, p->multiplier, p->shift, 0, p->act_min, p->act_max);
            result[i * cols + after] = (int16_t)md_requantize64(ad, p->multiplier, p->shift, 0, p->act_min,
                                                                p->act_max);
        }
    }
}

/* The int16 md_row_fn of each layout (lhs' rows contiguous, rhs' columns contiguous). */
MD_MATMUL_MATRICES(matmul_s16_rows_cols, int16_t, matrix_s16(p, lhs, rhs, result, 1, 1))   /* adj_y */
MD_MATMUL_MATRICES(matmul_s16_rows_across, int16_t, matrix_s16(p, lhs, rhs, result, 1, 0)) /* no adjoint */
MD_MATMUL_MATRICES(matmul_s16_across_cols, int16_t, matrix_s16(p, lhs, rhs, result, 0, 1)) /* adj_x and adj_y */
MD_MATMUL_MATRICES(matmul_s16_across_across, int16_t, matrix_s16(p, lhs, rhs, result, 0, 0)) /* adj_x */

md_status md_batch_matmul_s16(const md_batch_matmul_params *p, const md_broadcast *batches, const int16_t *lhs,
                              const int16_t *rhs, int16_t *output)
{
    static const md_row_fn layouts[2][2] = {{matmul_s16_across_across, matmul_s16_across_cols},
                                            {matmul_s16_rows_across, matmul_s16_rows_cols}};
    const int gathered = 7 * md_max_i32(p->lhs_depth_step, p->rhs_depth_step) <= UINT16_MAX;
    const md_row_fn row = gathered ? layouts[p->lhs_depth_step == 1][p->rhs_depth_step == 1] : md_matmul_s16_portable;
    md_broadcast_rows(batches, p, row, lhs, rhs, output);
    return MD_OK;
}

#endif /* MD_PATH_MVE */
