/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 and int16 BATCH_MATMUL for cores with the DSP extension (see md_nn.h,
 * md_nn_support.h).
 *
 * int8: outputs in 2x2 blocks (two lhs' rows by two rhs' columns; an odd last row or column repeats
 * the one before it), 4 depths at a time: each operand's two lines unpacked once to pairs (SXTAB16
 * adding the lhs offset, SXTB16) and multiplied by 8 SMLADs, 16 products; the rhs offset's share,
 * rhs offset * sum(lhs' row + lhs offset), added once per output (the same modulo 2^32); outputs
 * requantized by one SMMULR when the sums cannot reach 2^30 (md_dsp_requantize_mode). An operand
 * line runs along the depth either contiguously (depth step 1: a word per line) or across lines
 * (line step 1, the adjoint case: a halfword holds both lines' values at one depth, two depths make
 * a word).
 *
 * int16: one lhs' row by two rhs' columns, 2 depths at a time, by SMLALD into int64 sums (exact, as
 * the portable kernel's): a word of each line's two values, or, for rhs' columns side by side, two
 * words repacked (PKHBT, PKHTB). Operands read with other steps run the portable kernels.
 */
#include "md_batch_matmul_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_batch_matmul_dsp);

static inline uint32_t read16(const int8_t *at)
{
    uint16_t half;
    memcpy(&half, at, sizeof half);
    return half;
}

/* Two lines of an operand at 4 depths from `at` (line 0 at depth k): pairs[0], pairs[1] line 0's
 * {k, k + 2} and {k + 1, k + 3}, pairs[2], pairs[3] line 1's, each value plus the offset when `add`. */
static MD_ALWAYS_INLINE void load_pairs(const int8_t *at, int32_t line_step, int32_t depth_step, const int contiguous,
                                        const int add, int16x2_t offsets, int16x2_t pairs[4])
{
    uint32_t first; /* line 0's 4 values, or both lines' at k and k + 2 */
    uint32_t second;
    if (contiguous) {
        first = md_read32(at);
        second = md_read32(at + line_step);
    } else { /* bytes {line 0, line 1} at depths k and k + 2, then at k + 1 and k + 3 */
        first = read16(at) | read16(at + 2 * depth_step) << 16;
        second = read16(at + depth_step) | read16(at + 3 * depth_step) << 16;
    }
    if (add) {
        pairs[0] = md_even_pair_add(offsets, first);
        pairs[contiguous ? 1 : 2] = md_odd_pair_add(offsets, first);
        pairs[contiguous ? 2 : 1] = md_even_pair_add(offsets, second);
        pairs[3] = md_odd_pair_add(offsets, second);
    } else {
        pairs[0] = md_even_pair(first);
        pairs[contiguous ? 1 : 2] = md_odd_pair(first);
        pairs[contiguous ? 2 : 1] = md_even_pair(second);
        pairs[3] = md_odd_pair(second);
    }
}

/* How one operand's lines are read: line l's value at depth k at base + l * line + k * depth. */
typedef struct {
    int32_t line, depth;
} operand;

/* sums[2 * a + b] = sum((lhs' line a + lhs offset) * rhs' line b) (from `lhs` and `rhs`), wrapping;
 * the rhs offset is added by the caller (as rhs offset * the sum of lhs' line). */
static MD_ALWAYS_INLINE void block_2x2(const int8_t *lhs, operand l, const int lhs_contiguous, const int8_t *rhs,
                                       operand r, const int rhs_contiguous, int32_t depth, int32_t lhs_offset,
                                       int32_t sums[4])
{
    const int16x2_t offsets = (int16x2_t)(((uint32_t)lhs_offset & 0xFFFFu) * 0x10001u);
    const int32_t lhs_step = lhs_contiguous ? 4 : 4 * l.depth, rhs_step = rhs_contiguous ? 4 : 4 * r.depth;
    const int8_t *end = lhs + (depth >> 2) * lhs_step;
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
    int32_t k;
    while (lhs != end) {
        int16x2_t a[4];
        int16x2_t b[4];
        load_pairs(lhs, l.line, l.depth, lhs_contiguous, 1, offsets, a);
        load_pairs(rhs, r.line, r.depth, rhs_contiguous, 0, 0, b);
        s00 = __smlad(a[1], b[1], __smlad(a[0], b[0], s00));
        s01 = __smlad(a[1], b[3], __smlad(a[0], b[2], s01));
        s10 = __smlad(a[3], b[1], __smlad(a[2], b[0], s10));
        s11 = __smlad(a[3], b[3], __smlad(a[2], b[2], s11));
        lhs += lhs_step;
        rhs += rhs_step;
    }
    for (k = depth & 3; k > 0; --k) {
        const int32_t a0 = lhs[0] + lhs_offset, a1 = lhs[l.line] + lhs_offset;
        s00 = md_wrap_add(s00, a0 * rhs[0]);
        s01 = md_wrap_add(s01, a0 * rhs[r.line]);
        s10 = md_wrap_add(s10, a1 * rhs[0]);
        s11 = md_wrap_add(s11, a1 * rhs[r.line]);
        lhs += l.depth;
        rhs += r.depth;
    }
    sums[0] = s00;
    sums[1] = s01;
    sums[2] = s10;
    sums[3] = s11;
}

/* sum(line[k * step] + offset) over k < depth, wrapping. */
static int32_t line_sum(const int8_t *line, int32_t step, int32_t depth, int32_t offset)
{
    int32_t sum = md_wrap_mul(depth, offset);
    int32_t k;
    for (k = 0; k < depth; ++k) {
        sum = md_wrap_add(sum, line[k * step]);
    }
    return sum;
}

/* The output requantization of a call: md_dsp_requantize_mode's mode, narrow when every sum stays
 * below 2^30 in magnitude (depth products of at most 255 * 255 each) and the shift is negative. */
typedef struct {
    int32_t multiplier, shift, offset, low, high;
    int mode;
} requant;

static requant requant_of(const md_batch_matmul_params *p)
{
    const int narrow = p->shift < 0 && (int64_t)p->depth * 255 * 255 < (INT64_C(1) << 30);
    const requant q = {p->multiplier, p->shift, p->output_offset, p->act_min, p->act_max,
                       md_dsp_mode(narrow, p->act_min, p->act_max)};
    return q;
}

static MD_ALWAYS_INLINE void store_2x2_mode(const requant *q, const int32_t sums[4], const int32_t shares[2],
                                            int8_t *out, int32_t row_step, int32_t col_step, const int mode)
{
    int32_t s;
    for (s = 0; s < 4; ++s) {
        const int32_t sum = md_wrap_add(sums[s], shares[s >> 1]);
        out[(s >> 1) * row_step + (s & 1) * col_step] =
            (int8_t)md_dsp_requantize_mode(mode, sum, q->multiplier, q->shift, q->offset, q->low, q->high);
    }
}

/* A 2x2 block's outputs from its sums plus the rhs offset's shares of its rows, output (a, b) at
 * out + a * row_step + b * col_step (a repeated line's outputs twice, the same value). Out of line:
 * the block loop keeps its registers. */
static MD_NOINLINE void store_2x2(const requant *q, const int32_t sums[4], const int32_t shares[2], int8_t *out,
                                  int32_t row_step, int32_t col_step)
{
    if (q->mode == MD_DSP_NARROW_INT8) {
        store_2x2_mode(q, sums, shares, out, row_step, col_step, MD_DSP_NARROW_INT8);
    } else if (q->mode == MD_DSP_NARROW) {
        store_2x2_mode(q, sums, shares, out, row_step, col_step, MD_DSP_NARROW);
    } else {
        store_2x2_mode(q, sums, shares, out, row_step, col_step, MD_DSP_GENERAL);
    }
}

/* One output matrix. A single row (column) is read as both lines of its blocks (line step 0). */
static MD_ALWAYS_INLINE void matrix_s8(const md_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs,
                                       int8_t *result, const int lhs_contiguous, const int rhs_contiguous)
{
    const int32_t rows = p->rows, cols = p->cols, depth = p->depth;
    const requant q = requant_of(p);
    const operand l = {rows > 1 ? p->lhs_row_step : 0, p->lhs_depth_step};
    const operand r = {cols > 1 ? p->rhs_col_step : 0, p->rhs_depth_step};
    int32_t i;
    int32_t j;
    for (i = 0; i < rows; i += 2) {
        const int32_t row = rows > 1 ? md_min_i32(i, rows - 2) : 0;
        const int8_t *lines = lhs + row * p->lhs_row_step;
        /* the rhs offset's share of each output: rhs offset * sum(lhs' line + lhs offset) */
        const int32_t shares[2] = {md_wrap_mul(p->rhs_offset, line_sum(lines, l.depth, depth, p->lhs_offset)),
                                   md_wrap_mul(p->rhs_offset, line_sum(lines + l.line, l.depth, depth, p->lhs_offset))};
        for (j = 0; j < cols; j += 2) {
            const int32_t col = cols > 1 ? md_min_i32(j, cols - 2) : 0;
            int32_t sums[4];
            block_2x2(lines, l, lhs_contiguous, rhs + col * p->rhs_col_step, r, rhs_contiguous, depth, p->lhs_offset,
                      sums);
            store_2x2(&q, sums, shares, result + row * cols + col, rows > 1 ? cols : 0, cols > 1 ? 1 : 0);
        }
    }
}

/* The int8 md_row_fn of each layout (lhs' lines contiguous, rhs' lines contiguous). */
MD_MATMUL_MATRICES(matmul_s8_rows_cols, int8_t, matrix_s8(p, lhs, rhs, result, 1, 1))   /* adj_y */
MD_MATMUL_MATRICES(matmul_s8_rows_across, int8_t, matrix_s8(p, lhs, rhs, result, 1, 0)) /* no adjoint */
MD_MATMUL_MATRICES(matmul_s8_across_cols, int8_t, matrix_s8(p, lhs, rhs, result, 0, 1)) /* adj_x and adj_y */
MD_MATMUL_MATRICES(matmul_s8_across_across, int8_t, matrix_s8(p, lhs, rhs, result, 0, 0)) /* adj_x */

/* ---- int16 (zero points 0): int64 sums, two products a SMLALD; one lhs' row by two rhs' columns. */

/* A line's values at depths k and k + 1 as the two halves of a word: one load along a contiguous line. */
static MD_ALWAYS_INLINE int16x2_t pair_s16(const int16_t *at, int32_t depth_step, const int contiguous)
{
    if (contiguous) {
        return (int16x2_t)md_read32(at);
    }
    return (int16x2_t)((uint32_t)(uint16_t)at[0] | (uint32_t)(uint16_t)at[depth_step] << 16);
}

/* sums[b] = lhs' line . rhs' line b, exactly. Lines side by side (rhs' line step 1): a word holds both
 * lines at one depth, so two words make the two lines' pairs (PKHBT, PKHTB). */
static MD_ALWAYS_INLINE void block_1x2_s16(const int16_t *lhs, int32_t lhs_depth, const int lhs_contiguous,
                                           const int16_t *rhs, operand r, const int rhs_contiguous, int32_t depth,
                                           int64_t sums[2])
{
    const int32_t lhs_step = lhs_contiguous ? 2 : 2 * lhs_depth, rhs_step = rhs_contiguous ? 2 : 2 * r.depth;
    int64_t s0 = 0, s1 = 0;
    int32_t k;
    for (k = depth >> 1; k > 0; --k) {
        const int16x2_t a = pair_s16(lhs, lhs_depth, lhs_contiguous);
        uint32_t b0;
        uint32_t b1;
        if (rhs_contiguous) {
            b0 = md_read32(rhs);
            b1 = md_read32(rhs + r.line);
        } else {
            const uint32_t first = md_read32(rhs), second = md_read32(rhs + r.depth);
            b0 = (first & 0xFFFFu) | second << 16;
            b1 = (second & 0xFFFF0000u) | first >> 16;
        }
        s0 = __smlald(a, (int16x2_t)b0, s0);
        s1 = __smlald(a, (int16x2_t)b1, s1);
        lhs += lhs_step;
        rhs += rhs_step;
    }
    if (depth & 1) {
        s0 += (int32_t)lhs[0] * rhs[0];
        s1 += (int32_t)lhs[0] * rhs[r.line];
    }
    sums[0] = s0;
    sums[1] = s1;
}

/* One int16 output matrix. A single column is read as both lines of its blocks (line step 0). */
static MD_ALWAYS_INLINE void matrix_s16(const md_batch_matmul_params *p, const int16_t *lhs, const int16_t *rhs,
                                        int16_t *result, const int lhs_contiguous, const int rhs_contiguous)
{
    const int32_t rows = p->rows, cols = p->cols;
    const operand r = {cols > 1 ? p->rhs_col_step : 0, p->rhs_depth_step};
    int32_t i;
    int32_t j;
    for (i = 0; i < rows; ++i) {
        for (j = 0; j < cols; j += 2) {
            const int32_t col = cols > 1 ? md_min_i32(j, cols - 2) : 0;
            int64_t sums[2];
            block_1x2_s16(lhs + i * p->lhs_row_step, p->lhs_depth_step, lhs_contiguous, rhs + col * p->rhs_col_step, r,
                          rhs_contiguous, p->depth, sums);
            result[i * cols + col] = (int16_t)md_requantize64(sums[0], p->multiplier, p->shift, 0, p->act_min,
                                                              p->act_max);
            result[i * cols + col + (cols > 1)] = (int16_t)md_requantize64(sums[1], p->multiplier, p->shift, 0,
                                                                           p->act_min, p->act_max);
        }
    }
}

/* The int16 md_row_fn of each layout. */
MD_MATMUL_MATRICES(matmul_s16_rows_cols, int16_t, matrix_s16(p, lhs, rhs, result, 1, 1))
MD_MATMUL_MATRICES(matmul_s16_rows_across, int16_t, matrix_s16(p, lhs, rhs, result, 1, 0))
MD_MATMUL_MATRICES(matmul_s16_across_cols, int16_t, matrix_s16(p, lhs, rhs, result, 0, 1))
MD_MATMUL_MATRICES(matmul_s16_across_across, int16_t, matrix_s16(p, lhs, rhs, result, 0, 0))

/* 1: lines contiguous along the depth, 0: lines side by side, -1: neither (the portable kernel). */
static int layout_of(int32_t lines, int32_t line_step, int32_t depth_step)
{
    if (depth_step == 1) {
        return 1;
    }
    return lines > 1 && line_step == 1 ? 0 : -1;
}

md_status md_batch_matmul_s8(const md_batch_matmul_params *p, const md_broadcast *batches, const int8_t *lhs,
                             const int8_t *rhs, int8_t *output)
{
    static const md_row_fn layouts[2][2] = {{matmul_s8_across_across, matmul_s8_across_cols},
                                            {matmul_s8_rows_across, matmul_s8_rows_cols}};
    const int lhs_layout = layout_of(p->rows, p->lhs_row_step, p->lhs_depth_step);
    const int rhs_layout = layout_of(p->cols, p->rhs_col_step, p->rhs_depth_step);
    const md_row_fn row =
        lhs_layout < 0 || rhs_layout < 0 ? md_matmul_s8_portable : layouts[lhs_layout][rhs_layout];
    md_broadcast_rows(batches, p, row, lhs, rhs, output);
    return MD_OK;
}

md_status md_batch_matmul_s16(const md_batch_matmul_params *p, const md_broadcast *batches, const int16_t *lhs,
                              const int16_t *rhs, int16_t *output)
{
    static const md_row_fn layouts[2][2] = {{matmul_s16_across_across, matmul_s16_across_cols},
                                            {matmul_s16_rows_across, matmul_s16_rows_cols}};
    const int rhs_layout = layout_of(p->cols, p->rhs_col_step, p->rhs_depth_step);
    const md_row_fn row = rhs_layout < 0 ? md_matmul_s16_portable : layouts[p->lhs_depth_step == 1][rhs_layout];
    md_broadcast_rows(batches, p, row, lhs, rhs, output);
    return MD_OK;
}

#endif /* MD_PATH_DSP */
