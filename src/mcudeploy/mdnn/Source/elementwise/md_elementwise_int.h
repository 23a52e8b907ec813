/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the portable integer ADD, SUB and MUL and the broadcasting loop (see
 * md_nn.h), shared by md_elementwise.c and its variants, which specialise only some
 * cases. Static inline: each variant compiles the parts it uses.
 *
 * Quantized ADD and SUB rescale both inputs to twice the larger input scale with
 * `left_shift` bits of headroom, then the sum or difference to the output scale;
 * MUL scales the product of the centred inputs. int32 arithmetic wraps.
 */
#ifndef MD_ELEMENTWISE_INT_H
#define MD_ELEMENTWISE_INT_H

#include "md_nn_support.h"

static inline void md_broadcast_rows_portable(const md_broadcast *shape, const void *params, md_row_fn row,
                                              const void *input1, const void *input2, void *output)
{
    const int32_t last = shape->rank - 1;
    const int32_t width = shape->shape[last];
    const int32_t rows = md_shape_size(shape->shape, last);
    int32_t index[MD_MAX_DIMS] = {0};
    int32_t r;
    int32_t d;
    for (r = 0; r < rows; ++r) {
        int32_t index1 = 0;
        int32_t index2 = 0;
        for (d = 0; d < last; ++d) {
            index1 += index[d] * shape->strides1[d];
            index2 += index[d] * shape->strides2[d];
        }
        row(params, input1, index1, shape->strides1[last], input2, index2, shape->strides2[last], output, r * width,
            width);
        for (d = last - 1; d >= 0; --d) { /* next row: odometer over the outer dimensions */
            if (++index[d] < shape->shape[d]) {
                break;
            }
            index[d] = 0;
        }
    }
}

/* RoundingDivideByPOT as TFLite Micro's DIV runs it: from exponent 32 on (a tiny quotient) its build
 * shifts by the exponent modulo 32 under an all-ones mask; computed here without undefined shifts. */
static inline int32_t md_div_pot(int32_t x, int32_t exponent)
{
    if (exponent < 32) {
        return md_rdbpot(x, exponent);
    }
    return (x >> (exponent & 31)) + (x >= 0 ? 1 : 0);
}

/* TFLite Micro's int8 DIV of centred values (before the output offset): the divisor made positive, its
 * reciprocal 2^(31 + bits) / divisor rounded up (it may be 2^31), the dividend shifted by its headroom. */
static inline int32_t arith_divide(const md_arith_params *p, int32_t first, int32_t second)
{
    int32_t bits;
    int32_t headroom;
    int64_t reciprocal;
    int32_t unscaled;
    if (second < 0) {
        first = -first;
        second = -second;
    }
    if (second == 0) {
        return first > 0 ? p->act_max - p->output_offset : (first < 0 ? p->act_min - p->output_offset : 0);
    }
    bits = 31 - md_count_leading_zeros((uint32_t)second);
    reciprocal = (int64_t)(((UINT64_C(1) << (31 + bits)) + (uint64_t)second - 1u) / (uint64_t)second);
    headroom = md_count_leading_zeros((uint32_t)(first ^ (first >> 31))) - 1;
    unscaled = (int32_t)(((int64_t)(int32_t)((uint32_t)first << headroom) * reciprocal + (INT64_C(1) << 30)) >> 31);
    return md_div_pot(md_srdhm(unscaled, p->output_multiplier), bits + headroom - p->output_shift);
}

static inline int32_t arith_quantized(const md_arith_params *p, int32_t a, int32_t b)
{
    const int32_t first = a + p->input1_offset;
    const int32_t second = b + p->input2_offset;
    int32_t raw;
    if (p->op == MD_OP_DIV) {
        raw = arith_divide(p, first, second);
    } else if (p->op == MD_OP_MUL) {
        raw = md_mbqm(first * second, p->output_multiplier, p->output_shift);
    } else if (p->op == MD_OP_SQUARED_DIFFERENCE) { /* both scaled as ADD's, the difference squared */
        const int32_t difference = md_mbqm_smaller_than_one((int32_t)((uint32_t)first << p->left_shift),
                                                            p->input1_multiplier, p->input1_shift) -
                                   md_mbqm_smaller_than_one((int32_t)((uint32_t)second << p->left_shift),
                                                            p->input2_multiplier, p->input2_shift);
        raw = md_mbqm(difference * difference, p->output_multiplier, p->output_shift);
    } else {
        const int32_t scaled1 = md_mbqm_smaller_than_one((int32_t)((uint32_t)first << p->left_shift),
                                                         p->input1_multiplier, p->input1_shift);
        const int32_t scaled2 = md_mbqm_smaller_than_one((int32_t)((uint32_t)second << p->left_shift),
                                                         p->input2_multiplier, p->input2_shift);
        raw = md_mbqm_smaller_than_one(p->op == MD_OP_ADD ? scaled1 + scaled2 : scaled1 - scaled2,
                                       p->output_multiplier, p->output_shift);
    }
    return md_clamp_i32(raw + p->output_offset, p->act_min, p->act_max);
}

/* int32 DIV: C's truncating division; a zero divisor (undefined in TFLite Micro) gives 0 and
 * INT32_MIN / -1 wraps to INT32_MIN. */
static inline int32_t divide_int32(int32_t a, int32_t b)
{
    if (b == 0) {
        return 0;
    }
    return b == -1 ? (int32_t)(0u - (uint32_t)a) : a / b;
}

static inline int32_t arith_wrapping(const md_arith_params *p, int32_t a, int32_t b)
{
    const int32_t result = p->op == MD_OP_ADD   ? md_wrap_add(a, b)
                           : p->op == MD_OP_SUB ? md_wrap_sub(a, b)
                           : p->op == MD_OP_MUL ? md_wrap_mul(a, b)
                           : p->op == MD_OP_DIV ? divide_int32(a, b)
                                                : md_wrap_mul(md_wrap_sub(a, b), md_wrap_sub(a, b));
    return md_clamp_i32(result, p->act_min, p->act_max);
}

/* Whether int8 ADD or SUB can take arith_add_sub_s8: every scale below one (shifts <= 0), where
 * md_mbqm is MultiplyByQuantizedMultiplierSmallerThanOneExp in fewer instructions. */
static inline int arith_fast_add_sub_s8(const md_arith_params *p)
{
    return p->dtype == MD_INT8 && (p->op == MD_OP_ADD || p->op == MD_OP_SUB) && p->input1_shift <= 0 && p->input2_shift <= 0 &&
           p->output_shift <= 0;
}

/* int8 ADD or SUB of one row, the parameters in locals: int8 stores could alias *p. */
static inline void arith_add_sub_s8(const md_arith_params *p, const int8_t *input1, int32_t step1,
                                    const int8_t *input2, int32_t step2, int8_t *output, int32_t count)
{
    const int32_t offset1 = p->input1_offset, offset2 = p->input2_offset, left_shift = p->left_shift;
    const int32_t multiplier1 = p->input1_multiplier, shift1 = p->input1_shift;
    const int32_t multiplier2 = p->input2_multiplier, shift2 = p->input2_shift;
    const int32_t output_multiplier = p->output_multiplier, output_shift = p->output_shift;
    const int32_t output_offset = p->output_offset, low = p->act_min, high = p->act_max;
    const int32_t sign = p->op == MD_OP_SUB ? -1 : 1;
    int32_t i;
    for (i = 0; i < count; ++i, input1 += step1, input2 += step2) {
        const int32_t scaled1 = md_mbqm((int32_t)((uint32_t)(*input1 + offset1) << left_shift), multiplier1, shift1);
        const int32_t scaled2 = md_mbqm((int32_t)((uint32_t)(*input2 + offset2) << left_shift), multiplier2, shift2);
        const int32_t raw = md_mbqm(scaled1 + sign * scaled2, output_multiplier, output_shift);
        output[i] = (int8_t)md_clamp_i32(raw + output_offset, low, high);
    }
}

/* ---- int8 ADD and SUB by tables ----
 * Each scaled input of TFLite's int8 ADD/SUB depends on one int8 value: over many elements, a
 * table of the 256 values of each (doubled, negated for SUB's second input) leaves per element
 * two loads, an add and the output scale (about 12 instructions on the DSP cores). */

#define MD_ADD_SUB_TABLE_MIN 512 /* elements from which the tables pay for their 512 entries */

/* The tables take 2 KB of stack while the layer runs: not on cores without the DSP extension (M0+,
 * M3), whose parts are the ones with the least RAM. */
#if defined(__arm__) && !defined(__ARM_FEATURE_DSP)
#define MD_ADD_SUB_TABLES 0
#else
#define MD_ADD_SUB_TABLES 1
#endif

/* round((a * b + 2^31) / 2^32) + acc: SMMLAR on the DSP cores. */
static inline int32_t md_smmlar(int32_t a, int32_t b, int32_t acc)
{
#if defined(__ARM_FEATURE_DSP)
    int32_t result;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(result) : "r"(a), "r"(b), "r"(acc));
    return result;
#else
    return md_wrap_add((int32_t)(((int64_t)a * b + INT64_C(0x80000000)) >> 32), acc);
#endif
}

/* A value clamped to [-128, 127]: one SSAT where the core has it. */
static inline int32_t md_saturate_s8(int32_t value)
{
#if defined(__ARM_FEATURE_SAT)
    return __builtin_arm_ssat(value, 8);
#else
    return md_clamp_i32(value, INT8_MIN, INT8_MAX);
#endif
}

typedef struct {
    const int32_t *table1, *table2; /* entry v (v in [-128, 127]) at [v] */
    /* The output scale of a doubled sum d (|d| < 2^30): md_srdhm(d / 2, m) is SMMULR(d, m), then
     * the rounding divide by 2^exponent (ties away from zero, exponent >= 1) is
     * floor((y + 2^(exponent-1) - [y < 0]) / 2^exponent); [y < 0] is [d < 0] (m >= 0: y = 0
     * for small negative d rounds to 0 either way). Up to exponent 23, `nudge` also holds the
     * output offset times 2^exponent (below 2^30), added before the exact floor division;
     * beyond, offset_after adds it after. */
    int32_t multiplier, nudge, exponent, offset_after;
    int32_t low, high, full_range; /* activation; full_range: [-128, 127], one saturation */
} add_sub_tables;

/* Whether the table path applies and keeps every int32 in range: |centred input| <= 2^8 (offsets
 * -zero points) shifted by at most 20, scaled by at most one (non-negative multipliers, right
 * shifts only), so the doubled sum is below 2^30, its scaled value below 2^29, and that plus the
 * nudge below 2^31. */
static inline int add_sub_tables_apply(const md_arith_params *p, int32_t count)
{
    return MD_ADD_SUB_TABLES && p->dtype == MD_INT8 && (p->op == MD_OP_ADD || p->op == MD_OP_SUB) && count >= MD_ADD_SUB_TABLE_MIN &&
           p->left_shift >= 0 && p->left_shift <= 20 && p->input1_offset >= -128 && p->input1_offset <= 128 &&
           p->input2_offset >= -128 && p->input2_offset <= 128 && p->input1_multiplier >= 0 &&
           p->input2_multiplier >= 0 && p->input1_shift <= 0 && p->input2_shift <= 0 && p->output_multiplier >= 0 &&
           p->output_shift <= -1 && p->output_shift >= -31 && p->output_offset >= INT8_MIN &&
           p->output_offset <= INT8_MAX;
}

/* Fills the 256 entries of a table (entry v in [-128, 127] at storage[v + 128]) with sign * 2 *
 * the scaled input v. */
typedef void (*add_sub_table_fn)(int32_t *storage, int32_t offset, int32_t left_shift, int32_t multiplier,
                                 int32_t shift, int32_t sign);

static inline void add_sub_fill_table(int32_t *storage, int32_t offset, int32_t left_shift, int32_t multiplier,
                                      int32_t shift, int32_t sign)
{
    int32_t v;
    for (v = INT8_MIN; v <= INT8_MAX; ++v) {
        const int32_t shifted = (int32_t)((uint32_t)(v + offset) << left_shift);
        storage[v - INT8_MIN] = sign * 2 * md_mbqm_smaller_than_one(shifted, multiplier, shift);
    }
}

/* The tables' places in `storage` (2 x 256 entries, not filled yet) and the output constants. */
static inline add_sub_tables add_sub_tables_in(const md_arith_params *p, int32_t *storage)
{
    add_sub_tables t;
    const int32_t exponent = -p->output_shift;
    t.table1 = storage - INT8_MIN;
    t.table2 = storage + 256 - INT8_MIN;
    t.multiplier = p->output_multiplier;
    t.exponent = exponent;
    t.offset_after = exponent <= 23 ? 0 : p->output_offset;
    t.nudge = (int32_t)((UINT32_C(1) << (exponent - 1)) + ((uint32_t)(p->output_offset - t.offset_after) << exponent));
    t.low = p->act_min;
    t.high = p->act_max;
    t.full_range = p->act_min == INT8_MIN && p->act_max == INT8_MAX && t.offset_after == 0;
    return t;
}

/* One output from its doubled sum, but for offset_after. */
static inline int32_t add_sub_output(const add_sub_tables *t, int32_t doubled_sum)
{
    return (md_smmlar(doubled_sum, t->multiplier, t->nudge) + (doubled_sum >> 31)) >> t->exponent;
}

/* Contiguous rows; `full_range` (a compile-time flag): the clamp is one saturation, no offset_after. */
static inline void add_sub_tabled_contiguous(const add_sub_tables *t, const int8_t *input1, const int8_t *input2,
                                             int8_t *output, int32_t count, int full_range)
{
    const int32_t *table1 = t->table1, *table2 = t->table2;
    const add_sub_tables local = *t; /* int8 stores could alias *t */
    const int32_t low = t->low, high = t->high;
    const int8_t *end = output + count;
    while (output < end) {
        const int32_t value = add_sub_output(&local, table1[*input1++] + table2[*input2++]);
        *output++ = (int8_t)(full_range ? md_saturate_s8(value) : md_clamp_i32(value + local.offset_after, low, high));
    }
}

static inline void add_sub_row_tabled(const void *params, const void *input1, int32_t index1, int32_t step1,
                                      const void *input2, int32_t index2, int32_t step2, void *output, int32_t out,
                                      int32_t count)
{
    const add_sub_tables *t = (const add_sub_tables *)params;
    const int8_t *first = (const int8_t *)input1 + index1, *second = (const int8_t *)input2 + index2;
    int8_t *result = (int8_t *)output + out;
    int32_t i;
    if (step1 == 1 && step2 == 1) {
        if (t->full_range) {
            add_sub_tabled_contiguous(t, first, second, result, count, 1);
        } else {
            add_sub_tabled_contiguous(t, first, second, result, count, 0);
        }
        return;
    }
    for (i = 0; i < count; ++i) {
        const int32_t value = add_sub_output(t, t->table1[first[i * step1]] + t->table2[second[i * step2]]);
        result[i] = (int8_t)md_clamp_i32(value + t->offset_after, t->low, t->high);
    }
}

/* The table path, out of line so that its 2 KB of tables are on the stack only while an ADD or SUB
 * that takes it runs, not under every elementwise layer (MUL, int16, small ADDs). */
static MD_NOINLINE void add_sub_s8_tabled(const md_arith_params *p, const md_broadcast *shape, const void *input1,
                                          const void *input2, void *output, add_sub_table_fn fill, md_row_fn row)
{
    int32_t storage[512];
    const add_sub_tables tables = add_sub_tables_in(p, storage);
    /* The multipliers are non-negative (add_sub_tables_apply); the masks, no-ops, tell the compiler,
     * which then drops the rounding-doubling multiply's overflow case from the fill loops. */
    fill(storage, p->input1_offset, p->left_shift, p->input1_multiplier & INT32_MAX, p->input1_shift, 1);
    fill(storage + 256, p->input2_offset, p->left_shift, p->input2_multiplier & INT32_MAX, p->input2_shift,
         p->op == MD_OP_SUB ? -1 : 1);
    md_broadcast_rows(shape, &tables, row, input1, input2, output);
}

/* int8 ADD or SUB by tables when add_sub_tables_apply, each filled by `fill`, the rows computed by
 * `row`; 0 when it does not apply. */
static inline int md_add_sub_s8_tabled(const md_arith_params *p, const md_broadcast *shape, const void *input1,
                                       const void *input2, void *output, add_sub_table_fn fill, md_row_fn row)
{
    if (!add_sub_tables_apply(p, md_shape_size(shape->shape, shape->rank))) {
        return 0;
    }
    add_sub_s8_tabled(p, shape, input1, input2, output, fill, row);
    return 1;
}

static inline void md_arith_row_portable(const void *params, const void *input1, int32_t index1, int32_t step1,
                                         const void *input2, int32_t index2, int32_t step2, void *output,
                                         int32_t out, int32_t count)
{
    const md_arith_params *p = (const md_arith_params *)params;
    int32_t i;
    if (arith_fast_add_sub_s8(p)) {
        arith_add_sub_s8(p, (const int8_t *)input1 + index1, step1, (const int8_t *)input2 + index2, step2,
                         (int8_t *)output + out, count);
        return;
    }
    for (i = 0; i < count; ++i) {
        const int32_t a = md_load(input1, index1 + i * step1, p->dtype);
        const int32_t b = md_load(input2, index2 + i * step2, p->dtype);
        const int32_t value = p->dtype == MD_INT32 ? arith_wrapping(p, a, b) : arith_quantized(p, a, b);
        md_store_saturated(output, out + i, p->dtype, value);
    }
}

#endif /* MD_ELEMENTWISE_INT_H */
