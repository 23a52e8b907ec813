/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: what the DSP path's int8 depthwise sources share: md_depthwise_dsp.c and
 * the routines made for one shape, each in a source of its own that the generated code ships only with
 * a layer taking it (kernels/depthwise_routines.py): md_depthwise_rows_dsp.c, md_depthwise_copy_dsp.c,
 * md_depthwise_small_dsp.c. */
#ifndef MD_DEPTHWISE_DSP_INT_H
#define MD_DEPTHWISE_DSP_INT_H

#include "md_depthwise_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

/* The head of a function written in assembly: `name` (a string: the assembler expands a .macro's
 * arguments in it) in a section of its own, which the linker drops when nothing calls it, global, Thumb. */
#define MD_ASM_FUNCTION(name) \
    ".pushsection .text." name ",\"ax\",%progbits\n\t" \
    ".p2align 2\n\t" \
    ".global " name "\n\t" \
    ".thumb\n\t" \
    ".thumb_func\n\t" \
    ".type " name ", %function\n" name ":\n\t"

/* The input offset in each halfword. */
static inline uint32_t offset_pair(const md_window_params *p)
{
    return ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u;
}

/* Halfword 0 of `low` and halfword 0 of `high` (PKHBT). */
static MD_ALWAYS_INLINE int32_t bottoms(int16x2_t low, int16x2_t high)
{
    return (int32_t)(((uint32_t)low & 0xFFFFu) | ((uint32_t)high << 16));
}

/* Halfword 1 of `low` and halfword 1 of `high` (PKHTB). */
static MD_ALWAYS_INLINE int32_t tops(int16x2_t low, int16x2_t high)
{
    return (int32_t)(((uint32_t)low >> 16) | ((uint32_t)high & 0xFFFF0000u));
}

/* An input row's word in lr unpacked: even {x0, x2} in r12, odd {x1, x3} in lr. */
#define DW_BLOCK_UNPACK \
    "sxtb16 r12, lr\n\t" \
    "sxtb16 lr, lr, ror #8\n\t"

/* The left (from even) and right (from odd) windows of one output row plus one filter row: the
 * even pair {w0, w2} in `pair` (SMLAD; SMUAD for the first row, no accumulator) and w1 in half
 * `half` of `middle`: the left window's x1 is odd's bottom, the right one's x2 even's top; `then`
 * before the last multiply (which reads r12 only). */
#define DW_BLOCK_MACS(left, right, pair, middle, half, then) \
    DW_MACS_KEEPING(DW_ALWAYS, left, right, pair, middle, half, then)

/* DW_BLOCK_MACS whose right window's instructions go through `keep_right` (DW_ALWAYS or DW_IF_RIGHT). */
#define DW_MACS_KEEPING(keep_right, left, right, pair, middle, half, then) \
    "smlad " left ", r12, " pair ", " left "\n\t" \
    keep_right("smlad " right ", lr, " pair ", " right "\n\t") \
    "smlab" half " " left ", lr, " middle ", " left "\n\t" \
    then \
    keep_right("smlat" half " " right ", r12, " middle ", " right "\n\t")

/* DW_BLOCK_FIRST with the sums starting from r1. */
#define DW_FUSED_FIRST(left, right, pair, middle, half, then) \
    DW_FIRST_KEEPING(DW_ALWAYS, left, right, pair, middle, half, then)

/* DW_FUSED_FIRST whose right window's instructions go through `keep_right`. */
#define DW_FIRST_KEEPING(keep_right, left, right, pair, middle, half, then) \
    "smlad " left ", r12, " pair ", r1\n\t" \
    keep_right("smlad " right ", lr, " pair ", r1\n\t") \
    "smlab" half " " left ", lr, " middle ", " left "\n\t" \
    then \
    keep_right("smlat" half " " right ", r12, " middle ", " right "\n\t")

/* keep_right's: every instruction kept; or one of md_dw_fused_block's (md_dw_fused_pair's) right column,
 * left out when its `right` is 0. */
#define DW_ALWAYS(instruction) instruction
#define DW_IF_RIGHT(instruction) ".if \\right\n\t" instruction ".endif\n\t"

/* md_dw_fused_block at, pitch, next, out, step, row, addend, start: the 2x2 block whose top left
 * window starts `at` bytes into the plane at r0 (rows `pitch` bytes apart), its outputs stored at
 * r12 + `out`, + `step`, + `row`, + `row` + `step` (r12 loaded with the addend from [sp, #addend]);
 * r1 the start ([sp, #start]) and lr the block's top row word on entry (loaded by the block before),
 * the next block's (plane byte `next`) loaded on exit. r2 the multiplier, r3..r7 the filter and
 * exponent (as md_dw_fused_blocks). Immediate offsets only: no address computed a block. `right` 0:
 * the right column left out (a row's last output alone: its words read, their right window unused). */
#define DW_FUSED_BLOCK_MACRO \
    ".macro md_dw_fused_block at, pitch, next, out, step, row, addend, start, right=1\n\t" \
    DW_BLOCK_UNPACK \
    DW_FIRST_KEEPING(DW_IF_RIGHT, "r8", "r9", "r3", "r6", "b", "ldr lr, [r0, #(\\at + \\pitch)]\n\t") \
    DW_BLOCK_UNPACK \
    DW_MACS_KEEPING(DW_IF_RIGHT, "r8", "r9", "r4", "r6", "t", "") \
    DW_FIRST_KEEPING(DW_IF_RIGHT, "r10", "r11", "r3", "r6", "b", "ldr lr, [r0, #(\\at + 2 * \\pitch)]\n\t") \
    DW_BLOCK_UNPACK \
    DW_MACS_KEEPING(DW_IF_RIGHT, "r8", "r9", "r5", "r7", "t", "") \
    DW_MACS_KEEPING(DW_IF_RIGHT, "r10", "r11", "r4", "r6", "t", "ldr lr, [r0, #(\\at + 3 * \\pitch)]\n\t") \
    DW_BLOCK_UNPACK \
    DW_MACS_KEEPING(DW_IF_RIGHT, "r10", "r11", "r5", "r7", "t", "") \
    "ldrd r1, r12, [sp, #\\addend]\n\t" /* addend, the outputs' base */ \
    "add lr, r1, r8, asr #31\n\t" \
    "smmlar r8, r8, r2, lr\n\t" \
    DW_IF_RIGHT("add lr, r1, r9, asr #31\n\t") \
    DW_IF_RIGHT("smmlar r9, r9, r2, lr\n\t") \
    "add lr, r1, r10, asr #31\n\t" \
    "smmlar r10, r10, r2, lr\n\t" \
    DW_IF_RIGHT("add lr, r1, r11, asr #31\n\t") \
    DW_IF_RIGHT("smmlar r11, r11, r2, lr\n\t") \
    "asr r8, r8, r7\n\t" \
    DW_IF_RIGHT("asr r9, r9, r7\n\t") \
    "ssat r8, #8, r8\n\t" \
    "asr r10, r10, r7\n\t" \
    DW_IF_RIGHT("ssat r9, #8, r9\n\t") \
    DW_IF_RIGHT("asr r11, r11, r7\n\t") \
    "ssat r10, #8, r10\n\t" \
    DW_IF_RIGHT("ssat r11, #8, r11\n\t") \
    "strb r8, [r12, #(\\out)]\n\t" \
    DW_IF_RIGHT("strb r9, [r12, #(\\out + \\step)]\n\t") \
    "strb r10, [r12, #(\\out + \\row)]\n\t" \
    "ldr r1, [sp, #\\start]\n\t" /* each load right after a transfer (the M4 pipelines it) */ \
    "ldr lr, [r0, #(\\next)]\n\t" \
    DW_IF_RIGHT("strb r11, [r12, #(\\out + \\row + \\step)]\n\t") /* the M33 unpacks lr a cycle later */ \
    ".endm\n\t"

/* md_dw_copy_wide_4's geometry: channels c..c+3 of an image whose width is a multiple of 4 into the
 * insides of 4 wide planes. */
typedef struct md_dw_wide_copy {
    int32_t step;        /* source bytes between pixels of a row */
    int32_t distance;    /* bytes between the planes */
    int32_t rows;        /* the image's rows, at least 1 */
    int32_t inside;      /* plane bytes of a row's inside (2 a pixel, a multiple of 8) */
    int32_t source_skip; /* source bytes from past a row's last pixel to the next row's first */
    int32_t plane_skip;  /* plane bytes from past a row's inside to the next row's */
} dw_wide_copy;

#endif /* MD_PATH_DSP */

#endif /* MD_DEPTHWISE_DSP_INT_H */
