/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: md_dw_copy_wide_4 (md_nn.h), the copy of 4 channels into the wide planes of
 * a stride-2 int8 depthwise layer whose image width is a multiple of 4, on cores with the DSP extension:
 * named only by the generated code of a layer taking it. */
#include "md_depthwise_dsp_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_depthwise_copy_dsp);

/* Channels c..c+3 (`from` at pixel 0's channel c) into 4 wide planes (`plane` the first's inside):
 * one word load a pixel takes its 4 channels; two pixels' words packed by channel pair (PKHBT {c0,
 * c1} of both, PKHTB {c2, c3}) and sign-extended by channel (SXTB16 and SXTB16 ROR 8), 16 values
 * from 4 loads in 26 M4 cycles (two channels' halfword gathers: 32). md_dw_copy_routine (md_nn.h). */

/* 4 pixels into the 4 planes (r1..r4 moved 8 bytes on): r0 from, r5 step, r12 3 step. No loaded
 * or packed value is read by the very next instruction (the M33's load-use and two-stage waits). */
#define DW_COPY_WIDE_4 \
    "ldr r6, [r0]\n\t" \
    "ldr r7, [r0, r5]\n\t" \
    "ldr r8, [r0, r5, lsl #1]\n\t" \
    "ldr r9, [r0, r12]\n\t" \
    "add r0, r0, r5, lsl #2\n\t" \
    "pkhbt r10, r6, r7, lsl #16\n\t" /* {a0, a1, b0, b1} */ \
    "pkhtb r7, r7, r6, asr #16\n\t" /* {a2, a3, b2, b3} */ \
    "pkhbt r6, r8, r9, lsl #16\n\t" /* {c0, c1, d0, d1} */ \
    "pkhtb r9, r9, r8, asr #16\n\t" /* {c2, c3, d2, d3} */ \
    "sxtb16 r8, r6\n\t" \
    "sxtb16 lr, r10\n\t" \
    "str r8, [r1, #4]\n\t" \
    "sxtb16 r6, r6, ror #8\n\t" \
    "str lr, [r1], #8\n\t" \
    "sxtb16 r10, r10, ror #8\n\t" \
    "str r6, [r2, #4]\n\t" \
    "sxtb16 r8, r9\n\t" \
    "str r10, [r2], #8\n\t" \
    "sxtb16 r9, r9, ror #8\n\t" \
    "str r8, [r3, #4]\n\t" \
    "sxtb16 r6, r7\n\t" \
    "str r9, [r4, #4]\n\t" \
    "sxtb16 r7, r7, ror #8\n\t" \
    "str r6, [r3], #8\n\t" \
    "str r7, [r4], #8\n\t"

/* Each row 8 pixels a loop (an odd count of 4 entered at the loop's second half); rows, inside and
 * the skips on the stack. */
__asm__(MD_ASM_FUNCTION("md_dw_copy_wide_4")
                "push {r4-r11, lr}\n\t"
        "sub sp, sp, #16\n\t"
        "ldm r2, {r5-r10}\n\t" /* step, distance, rows, inside, source skip, plane skip */
        "stm sp, {r7-r10}\n\t"
        "add r12, r5, r5, lsl #1\n\t"
        "add r2, r1, r6\n\t"
        "add r3, r2, r6\n\t"
        "add r4, r3, r6\n"
        "1:\n\t"
        "ldr r11, [sp, #4]\n\t"
        "tst r11, #8\n\t"
        "add r11, r1, r11\n\t" /* the first plane's row end */
        "bne 3f\n"
        "2:\n\t"
        DW_COPY_WIDE_4
        "3:\n\t"
        DW_COPY_WIDE_4
        "cmp r1, r11\n\t"
        "bne 2b\n\t"
        "ldrd r6, r7, [sp, #8]\n\t"
        "add r0, r0, r6\n\t"
        "add r1, r1, r7\n\t"
        "add r2, r2, r7\n\t"
        "add r3, r3, r7\n\t"
        "add r4, r4, r7\n\t"
        "ldr r6, [sp]\n\t"
        "subs r6, r6, #1\n\t"
        "str r6, [sp]\n\t"
        "bne 1b\n\t"
        "add sp, sp, #16\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size md_dw_copy_wide_4, .-md_dw_copy_wide_4\n\t"
        ".popsection");

#endif /* MD_PATH_DSP */
