/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: helpers of the MVE (Helium) variants (Cortex-M55, M85).
 *
 * Bit-exactness rests on two facts:
 * - int8 dot products add (x + offset) * w; we add x * w and offset * sum(w) instead, which
 *   is the same modulo 2^32, and the portable int32 accumulators wrap modulo 2^32 too;
 * - VQRDMULH is exactly md_srdhm (saturating only for INT32_MIN * INT32_MIN), and VRSHL by a
 *   negative amount rounds ties up where md_rdbpot rounds them away from zero: subtracting 1
 *   from negative values first (saturating) turns one rounding into the other, and changes
 *   nothing else since only a tie sits exactly on a rounding boundary.
 */
#ifndef MD_MVE_H
#define MD_MVE_H

#include "md_common.h"

#if !MD_PATH_MVE
#error "md_*_mve.c includes md_mve.h on cores with integer MVE (Cortex-M55, M85) only: see MD_PATH_MVE"
#endif

#include <arm_mve.h>

/* What turns a weighted kernel's int32 sums into int8 outputs (see md_requantize_sum). */
typedef struct {
    const int32_t *bias; /* or NULL */
    const int32_t *multipliers;
    const int32_t *shifts;
    int32_t per_channel;
    int32_t output_offset;
    int32_t low, high; /* the activation range, within int8 */
} md_mve_requant;

static inline md_mve_requant md_mve_requant_s8(const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                               int32_t per_channel, int32_t output_offset, int32_t act_min,
                                               int32_t act_max)
{
    md_mve_requant r;
    r.bias = bias;
    r.multipliers = multipliers;
    r.shifts = shifts;
    r.per_channel = per_channel;
    r.output_offset = output_offset;
    /* Clamping to the activation range, then saturating to int8, is clamping to both at once. */
    r.low = md_max_i32(act_min, INT8_MIN);
    r.high = md_min_i32(act_max, INT8_MAX);
    return r;
}

/* md_mbqm on 4 lanes, each with its own multiplier and shift. */
static inline int32x4_t md_mve_mbqm(int32x4_t x, int32x4_t multiplier, int32x4_t shift)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t right = vminq_s32(shift, zero); /* <= 0: VRSHL by it shifts right */
    const int32x4_t high = vqrdmulhq_s32(vshlq_s32(x, vmaxq_s32(shift, zero)), multiplier);
    const int32x4_t minus_one_if_negative = vshrq_n_s32(vandq_s32(high, right), 31); /* 0 without a right shift */
    return vrshlq_s32(vqaddq_s32(high, minus_one_if_negative), right);
}

/* md_mve_mbqm with one multiplier and shift for every lane, given as scalars (fewer vector
 * registers held across a pixel loop). */
static inline int32x4_t md_mve_mbqm_n(int32x4_t x, int32_t multiplier, int32_t shift)
{
    if (shift >= 0) {
        return vqrdmulhq_n_s32(vshlq_r_s32(x, shift), multiplier);
    }
    x = vqrdmulhq_n_s32(x, multiplier);
    return vrshlq_n_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), shift);
}

/* {a, b, c, d} as one vector. */
static inline int32x4_t md_mve_vector4(int32_t a, int32_t b, int32_t c, int32_t d)
{
    int32x4_t v = vdupq_n_s32(a);
    v = vsetq_lane_s32(b, v, 1);
    v = vsetq_lane_s32(c, v, 2);
    return vsetq_lane_s32(d, v, 3);
}

/* The requantized sums, given each lane's multiplier and shift (the bias already added). */
static inline int32x4_t md_mve_requantize_lanes(const md_mve_requant *r, int32x4_t sums, int32x4_t multiplier,
                                                int32x4_t shift)
{
    sums = vaddq_n_s32(md_mve_mbqm(sums, multiplier, shift), r->output_offset);
    return vminq_s32(vmaxq_s32(sums, vdupq_n_s32(r->low)), vdupq_n_s32(r->high));
}

/* Requantizes the sums of channels first .. first + 3 (lanes past `lanes` are ignored). */
static inline int32x4_t md_mve_requantize(const md_mve_requant *r, int32x4_t sums, int32_t first, mve_pred16_t lanes)
{
    if (r->bias) {
        sums = vaddq_s32(sums, vldrwq_z_s32(r->bias + first, lanes));
    }
    if (r->per_channel) {
        return md_mve_requantize_lanes(r, sums, vldrwq_z_s32(r->multipliers + first, lanes),
                                       vldrwq_z_s32(r->shifts + first, lanes));
    }
    return md_mve_requantize_lanes(r, sums, vdupq_n_s32(r->multipliers[0]), vdupq_n_s32(r->shifts[0]));
}

/* Requantizes the sums of channels first + channels[0 .. 3] (gathered; lanes past `lanes` ignored). */
static inline int32x4_t md_mve_requantize_at(const md_mve_requant *r, int32x4_t sums, int32_t first,
                                             uint32x4_t channels, mve_pred16_t lanes)
{
    if (r->bias) {
        sums = vaddq_s32(sums, vldrwq_gather_shifted_offset_z_s32(r->bias + first, channels, lanes));
    }
    if (r->per_channel) {
        return md_mve_requantize_lanes(r, sums,
                                       vldrwq_gather_shifted_offset_z_s32(r->multipliers + first, channels, lanes),
                                       vldrwq_gather_shifted_offset_z_s32(r->shifts + first, channels, lanes));
    }
    return md_mve_requantize_lanes(r, sums, vdupq_n_s32(r->multipliers[0]), vdupq_n_s32(r->shifts[0]));
}

/* Outputs first .. first + count - 1 (count <= 4) from their sums, stored as int8 from `out`. */
static inline void md_mve_store_s8(const md_mve_requant *r, const int32_t *sums, int32_t first, int32_t count,
                                   int8_t *out)
{
    const mve_pred16_t lanes = vctp32q((uint32_t)count);
    vstrbq_p_s32(out, md_mve_requantize(r, vldrwq_s32(sums), first, lanes), lanes);
}

/* `count` bytes from `from` to `to`. */
static inline void md_mve_copy_s8(int8_t *to, const int8_t *from, int32_t count)
{
    while (count > 0) {
        const mve_pred16_t lanes = vctp8q((uint32_t)count);
        vstrbq_p_s8(to, vldrbq_z_s8(from, lanes), lanes);
        to += 16;
        from += 16;
        count -= 16;
    }
}

/* `count` bytes of `value` from `to` on. */
static inline void md_mve_fill_s8(int8_t *to, int8_t value, int32_t count)
{
    const int8x16_t values = vdupq_n_s8(value);
    while (count > 0) {
        vstrbq_p_s8(to, values, vctp8q((uint32_t)count));
        to += 16;
        count -= 16;
    }
}

/* The first `n` bytes from `from` in a vector, zeros after them (n < 16). */
static inline int8x16_t md_mve_load_tail_s8(const int8_t *from, int32_t n)
{
    return vldrbq_z_s8(from, vctp8q((uint32_t)n));
}

/* sums[2 * i + j] = sum((x_j[k] + offset) * w_i[k]) over k < n, modulo 2^32, for two inputs x_0 = a,
 * x_1 = b and two weight rows w_0 = w, w_1 = w + n: each vector loaded feeds two products. Whole
 * vectors first, then the tail (a predicate kept out of the main loop keeps it short). */
static inline void md_mve_dot2x2_s8(const int8_t *a, const int8_t *b, const int8_t *w, int32_t n, int32_t offset,
                                    int32_t *sums)
{
    const int8_t *v = w + n;
    int32_t a_w = 0;
    int32_t b_w = 0;
    int32_t a_v = 0;
    int32_t b_v = 0;
    int32_t w_sum = 0;
    int32_t v_sum = 0;
    int32_t i;
    for (i = n >> 4; i > 0; --i) {
        const int8x16_t av = vldrbq_s8(a);
        const int8x16_t bv = vldrbq_s8(b);
        const int8x16_t wv = vldrbq_s8(w);
        const int8x16_t vv = vldrbq_s8(v);
        a_w = vmladavaq_s8(a_w, av, wv);
        b_w = vmladavaq_s8(b_w, bv, wv);
        a_v = vmladavaq_s8(a_v, av, vv);
        b_v = vmladavaq_s8(b_v, bv, vv);
        w_sum = vaddvaq_s8(w_sum, wv);
        v_sum = vaddvaq_s8(v_sum, vv);
        a += 16;
        b += 16;
        w += 16;
        v += 16;
    }
    if (n & 15) {
        const int8x16_t av = md_mve_load_tail_s8(a, n & 15);
        const int8x16_t bv = md_mve_load_tail_s8(b, n & 15);
        const int8x16_t wv = md_mve_load_tail_s8(w, n & 15);
        const int8x16_t vv = md_mve_load_tail_s8(v, n & 15);
        a_w = vmladavaq_s8(a_w, av, wv);
        b_w = vmladavaq_s8(b_w, bv, wv);
        a_v = vmladavaq_s8(a_v, av, vv);
        b_v = vmladavaq_s8(b_v, bv, vv);
        w_sum = vaddvaq_s8(w_sum, wv);
        v_sum = vaddvaq_s8(v_sum, vv);
    }
    sums[0] = md_wrap_add(a_w, md_wrap_mul(offset, w_sum));
    sums[1] = md_wrap_add(b_w, md_wrap_mul(offset, w_sum));
    sums[2] = md_wrap_add(a_v, md_wrap_mul(offset, v_sum));
    sums[3] = md_wrap_add(b_v, md_wrap_mul(offset, v_sum));
}

/* sums[i] = sum((x[k] + offset) * w_i[k]) over k < n, modulo 2^32, for the two weight rows
 * w_0 = w and w_1 = w + n: each input vector loaded feeds two products. */
static inline void md_mve_dot1x2_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t offset, int32_t *sums)
{
    const int8_t *v = w + n;
    int32_t x_w = 0;
    int32_t x_v = 0;
    int32_t w_sum = 0;
    int32_t v_sum = 0;
    int32_t i;
    for (i = n >> 4; i > 0; --i) {
        const int8x16_t xv = vldrbq_s8(x);
        const int8x16_t wv = vldrbq_s8(w);
        const int8x16_t vv = vldrbq_s8(v);
        x_w = vmladavaq_s8(x_w, xv, wv);
        x_v = vmladavaq_s8(x_v, xv, vv);
        w_sum = vaddvaq_s8(w_sum, wv);
        v_sum = vaddvaq_s8(v_sum, vv);
        x += 16;
        w += 16;
        v += 16;
    }
    if (n & 15) {
        const int8x16_t xv = md_mve_load_tail_s8(x, n & 15);
        const int8x16_t wv = md_mve_load_tail_s8(w, n & 15);
        const int8x16_t vv = md_mve_load_tail_s8(v, n & 15);
        x_w = vmladavaq_s8(x_w, xv, wv);
        x_v = vmladavaq_s8(x_v, xv, vv);
        w_sum = vaddvaq_s8(w_sum, wv);
        v_sum = vaddvaq_s8(v_sum, vv);
    }
    sums[0] = md_wrap_add(x_w, md_wrap_mul(offset, w_sum));
    sums[1] = md_wrap_add(x_v, md_wrap_mul(offset, v_sum));
}

/* sum((a[k] + offset) * w[k]) over k < n, modulo 2^32. */
static inline int32_t md_mve_dot_s8(const int8_t *a, const int8_t *w, int32_t n, int32_t offset)
{
    int32_t acc = 0;
    int32_t weights = 0;
    int32_t i;
    for (i = n >> 4; i > 0; --i) {
        const int8x16_t wv = vldrbq_s8(w);
        acc = vmladavaq_s8(acc, vldrbq_s8(a), wv);
        weights = vaddvaq_s8(weights, wv);
        a += 16;
        w += 16;
    }
    if (n & 15) {
        const int8x16_t wv = md_mve_load_tail_s8(w, n & 15);
        acc = vmladavaq_s8(acc, md_mve_load_tail_s8(a, n & 15), wv);
        weights = vaddvaq_s8(weights, wv);
    }
    return md_wrap_add(acc, md_wrap_mul(offset, weights));
}

#endif /* MD_MVE_H */
