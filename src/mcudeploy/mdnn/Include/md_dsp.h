/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: helpers of the DSP-extension variants (Cortex-M4, M7, M33, M55).
 *
 * An int8 dot product runs on SMLAD, two 16x16-bit multiplies added into a 32-bit
 * accumulator. SXTB16 sign-extends bytes 0 and 2 of a word into two halfwords, and
 * bytes 1 and 3 once the word is rotated by 8 bits: a group of 4 int8 values
 * {v0, v1, v2, v3} thus becomes the pairs {v0, v2} and {v1, v3}. Operands that meet
 * such weights must be laid out in the same order: md_dsp_pair_order.
 *
 * SMLAD wraps modulo 2^32 like the portable kernels' int32 accumulators (it only sets
 * the Q flag), so the sums are bit-exact in any order.
 */
#ifndef MD_DSP_H
#define MD_DSP_H

#include <string.h>

#include "md_common.h"
#include "md_fixedpoint.h"

#if !defined(__ARM_FEATURE_DSP)
#error "md_*_dsp.c includes md_dsp.h on cores with the DSP extension only: see MD_PATH_DSP"
#endif

#include <arm_acle.h>

/* A 32-bit word from any address: the DSP cores allow unaligned single loads (one LDR). */
static inline uint32_t md_read32(const void *address)
{
    uint32_t word;
    memcpy(&word, address, sizeof word);
    return word;
}

static inline void md_write32(void *address, uint32_t word) { memcpy(address, &word, sizeof word); }

/* GCC 12's arm_acle.h has no __ror; this compiles to one ROR. */
static inline uint32_t md_ror(uint32_t value, uint32_t bits) { return (value >> bits) | (value << ((32u - bits) & 31u)); }

/* The halfword pairs {v0, v2} (even) and {v1, v3} (odd) of 4 int8 values. */
static inline int16x2_t md_even_pair(uint32_t bytes) { return __sxtb16((int8x4_t)bytes); }

/* SXTB16 and SXTAB16 rotate their operand themselves; GCC 12 emits a separate ROR for
 * __sxtb16(md_ror(x, 8)), hence the inline assembly. */
static inline int16x2_t md_odd_pair(uint32_t bytes)
{
    int16x2_t pair;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(pair) : "r"(bytes));
    return pair;
}

/* {v0 + a0, v2 + a1} and {v1 + a0, v3 + a1} for 4 int8 values and the halfwords {a0, a1}. */
static inline int16x2_t md_even_pair_add(int16x2_t addend, uint32_t bytes)
{
    return __sxtab16(addend, (int8x4_t)bytes);
}

static inline int16x2_t md_odd_pair_add(int16x2_t addend, uint32_t bytes)
{
    int16x2_t pair;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(pair) : "r"(addend), "r"(bytes));
    return pair;
}

/* Where element j of a group of 4 goes so that int16 operands line up with md_even_pair (words
 * 0) and md_odd_pair (word 1) of the int8 weights: {v0, v2, v1, v3}. */
static inline int32_t md_dsp_pair_order(int32_t j) { return (j & ~3) | ((j & 1) << 1) | ((j & 2) >> 1); }

/* The requantization constants of a weighted layer, copied out of its job: int8 stores may alias
 * the job, which would otherwise reload every field for every output. */
typedef struct {
    const int32_t *bias; /* or NULL */
    const int32_t *multipliers, *shifts;
    int32_t channel_step; /* 1: per-channel scales, 0: one for the tensor */
    int32_t offset, low, high;
} md_dsp_requant;

static inline md_dsp_requant md_dsp_requant_of(const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                               int32_t per_channel, int32_t offset, int32_t low, int32_t high)
{
    md_dsp_requant r;
    r.bias = bias;
    r.multipliers = multipliers;
    r.shifts = shifts;
    r.channel_step = per_channel ? 1 : 0;
    r.offset = offset;
    r.low = low;
    r.high = high;
    return r;
}

/* Output channel `channel` from its sum (bias included). */
static inline int32_t md_dsp_requantize(const md_dsp_requant *r, int32_t channel, int32_t sum)
{
    const int32_t q = channel * r->channel_step;
    return md_requantize32(sum, r->multipliers[q], r->shifts[q], r->offset, r->low, r->high);
}

static inline int32_t md_dsp_bias(const md_dsp_requant *r, int32_t channel)
{
    return r->bias ? r->bias[channel] : 0;
}

#endif /* MD_DSP_H */
