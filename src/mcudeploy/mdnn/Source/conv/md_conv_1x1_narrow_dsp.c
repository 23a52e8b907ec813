/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D int8, 1x1, with few input channels (4 to 16 a multiple of 4,
 * 32 or 64) and the filter pre-expanded to int16 (md_conv_s8_w16's layout), for cores with the DSP
 * extension.
 *
 * Short columns leave little to amortise a pixel's or a channel's overhead over, so:
 * - a pixel's input channels are its column: four pixels' words read straight from the input and
 *   widened once (SXTAB16 with the input offset) into md_conv_s8_w16's 4-column scratch, in the
 *   same assembly as the walk (no im2col of windows); stride 2 only picks other pixels;
 * - each pair of output channels has a record in the scratch after the columns, written once per
 *   call (md_conv_s8_w16_records_bytes) from the filter and the generate-time walk records
 *   (md_nn.h's `walk`): its biases and weights doubled (each sum 2 x TFLite's, the doubling
 *   SMMLAR's requantization needs: an output costs the SMMLAR, the sign correction, the shift, the
 *   SSAT and the store) and its channels' requantization constants, read with LDRs and LDMs from
 *   RAM instead of four arrays' loads from flash;
 * - one copy of the walk per column length, its products unrolled at immediate offsets, the first
 *   pair of values adding to the biases in place of copying them into the sums; the pair's output
 *   addresses of pixels b to d computed once, in the sum registers the first channel frees.
 * The layers md_conv_s8_w16's walk takes (walk_pairs_int8: the walk records given).
 */
#include "md_conv_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

#define COLUMNS 4 /* md_conv_s8_w16_get_buffer_size */

/* The walk's arguments, copied onto its stack: offsets fixed by the assembly. */
typedef struct {
    int16_t *columns;        /* #0: the four interleaved columns (the scratch) */
    int8_t *out;             /* #4: pixel a's output of the next pair's first channel */
    int32_t stride;          /* #8: from a pixel's outputs to the next's: output_c (0: one pixel 4 times) */
    const int8_t *pixel;     /* #12: the next group's first pixel's input channels */
    int32_t step;            /* #16: from a pixel's input channels to the next's */
    int32_t groups;          /* #20: groups of 4 pixels left (at least 1) */
    const int32_t *records;  /* #24: the first pair's record */
    int16x2_t offsets;       /* #28: the input offset in both halves */
} narrow_walk;

MD_STATIC_CHECK(narrow_walk_layout, sizeof(void *) == 4 && sizeof(narrow_walk) == 32);

/* A record of a pair of channels (oc, oc + 1): their biases and weights doubled, the weights as the
 * filter holds them (md_w16_index), then per channel its requantization constants as the walk loads
 * them: (2 x output offset + 1) << (e - 1), the exponent e (a right shift; the last channel's with
 * LAST_CHANNEL set, which ASR ignores: it reads the low byte), the multiplier. */
#define RECORD_CONSTANTS 3
#define WALK_RECORD (2 + 2 * RECORD_CONSTANTS) /* params/requantization.py WALK_RECORD */
#define LAST_CHANNEL 0x100
#define TEXT(value) #value
#define VALUE_TEXT(value) TEXT(value)

/* One word of each of the four pixels (r6..r9, advanced), plus the input offsets (r10), into the
 * columns at r0 + .Lmd_fill (a local assembler symbol, advanced; r0 is not): the even pairs of the four,
 * then the odd ones (md_w16_index's order), each stored by a single STR (1 cycle on the M4, where an
 * STM of 4 takes 5). */
#define FILL_STORE(a, b, c, d)                                                                                    \
    "str " a ", [r0, #.Lmd_fill]\n\t"                                                                          \
    "str " b ", [r0, #.Lmd_fill + 4]\n\t"                                                                      \
    "str " c ", [r0, #.Lmd_fill + 8]\n\t"                                                                      \
    "str " d ", [r0, #.Lmd_fill + 12]\n\t"                                                                     \
    ".set .Lmd_fill, .Lmd_fill + 16\n\t"
/* One word of each of the four pixels widened (SXTAB16 adds the offset pairs), stored by `store`. */
#define FILL_WORD_BY(store)                                                                                       \
    "ldr r2, [r6], #4\n\t"                                                                                     \
    "ldr r3, [r7], #4\n\t"                                                                                     \
    "ldr r4, [r8], #4\n\t"                                                                                     \
    "ldr r5, [r9], #4\n\t"                                                                                     \
    "sxtab16 r1, r10, r2\n\t"                                                                                  \
    "sxtab16 r11, r10, r3\n\t"                                                                                 \
    "sxtab16 r12, r10, r4\n\t"                                                                                 \
    "sxtab16 lr, r10, r5\n\t" store("r1", "r11", "r12", "lr")                                                   \
    "sxtab16 r1, r10, r2, ror #8\n\t"                                                                          \
    "sxtab16 r11, r10, r3, ror #8\n\t"                                                                         \
    "sxtab16 r12, r10, r4, ror #8\n\t"                                                                         \
    "sxtab16 lr, r10, r5, ror #8\n\t" store("r1", "r11", "r12", "lr")
#define FILL_WORD FILL_WORD_BY(FILL_STORE)
/* The four pixels' sums of a channel pair (r4..r9, beside r2, r3) started from its biases in r2 and r3. */
#define SUMS_FROM_BIASES "mov r4, r2\n\tmov r5, r3\n\tmov r6, r2\n\tmov r7, r3\n\tmov r8, r2\n\tmov r9, r3\n\t"

#if MD_W16_DUAL_ISSUE
/* Cortex-M7: the `words` (a string) words of FILL_WORD, software-pipelined: each load issued beside an
 * SXTAB16, the next word's four beside this word's odd pairs (4 cycles a word fewer). */
#define FILL_EVEN_PAIRS                                                                                           \
    "sxtab16 r12, r10, r4\n\t"                                                                                  \
    "sxtab16 lr, r10, r5\n\t"                                                                                   \
    "stm r0!, {r1, r11, r12, lr}\n\t"
#define FILL_ODD_PAIR(value, column, load)                                                                        \
    "sxtab16 " column ", r10, " value ", ror #8\n\t" load
#define FILL_ODD_PAIRS(load_2, load_3, load_4, load_5)                                                            \
    FILL_ODD_PAIR("r2", "r1", load_2) FILL_ODD_PAIR("r3", "r11", load_3) FILL_ODD_PAIR("r4", "r12", load_4)        \
    FILL_ODD_PAIR("r5", "lr", load_5) "stm r0!, {r1, r11, r12, lr}\n\t"
#define FILL_WORDS(words)                                                                                         \
    "ldr r2, [r6], #4\n\t"                                                                                      \
    "ldr r3, [r7], #4\n\t"                                                                                      \
    "sxtab16 r1, r10, r2\n\t"                                                                                   \
    "ldr r4, [r8], #4\n\t"                                                                                      \
    "sxtab16 r11, r10, r3\n\t"                                                                                  \
    "ldr r5, [r9], #4\n\t" FILL_EVEN_PAIRS ".rept " words " - 1\n\t"                                           \
    FILL_ODD_PAIRS("ldr r2, [r6], #4\n\t", "ldr r3, [r7], #4\n\t", "ldr r4, [r8], #4\n\t",                     \
                   "ldr r5, [r9], #4\n\t")                                                                      \
    "sxtab16 r1, r10, r2\n\t"                                                                                   \
    "sxtab16 r11, r10, r3\n\t" FILL_EVEN_PAIRS ".endr\n\t" FILL_ODD_PAIRS("", "", "", "")
#else
#define FILL_WORDS(words) ".set .Lmd_fill, 0\n\t.rept " words "\n\t" FILL_WORD ".endr\n\t"
#endif

/* The products of the pairs of values of a pair of channels' weight words from r1 by the four
 * columns' words from r0, into the sums r2..r9 {a0, a1, b0, b1, c0, c1, d0, d1}, the first pair
 * added to the biases in r2 and r3 (r1 advanced past what it read). Cortex-M4 and M33: loads
 * grouped, 16 cycles per 16 MACs. Cortex-M7
 * (MD_W16_DUAL_ISSUE, md_conv_int.h): each load beside an SMLAD, the next pair's first words loaded during
 * this pair's last products, 8 cycles per 16 MACs; the biases copied first (dual-issued). */
#if MD_W16_DUAL_ISSUE
/* `pairs` pairs of values (a string). */
#define DOT(pairs)                                                                                                \
    SUMS_FROM_BIASES                                                                                           \
    "ldr r10, [r0]\n\t"                                                                                        \
    "ldr r12, [r1]\n\t"                                                                                        \
    "ldr lr, [r1, #4]\n\t"                                                                                     \
    ".rept " pairs " - 1\n\t" MD_W16_PAIR ".endr\n\t" MD_W16_PAIR_START "smlad r8, r11, r12, r8\n\t"                 \
    "smlad r9, r11, lr, r9\n\t"                                                                               \
    "add r1, r1, #8\n\t"
#else
/* The first pair adds to the biases, channels c and d first, while r2 and r3 still hold them; its
 * loads as md_conv_int.h's MD_W16_PAIR_FROM's, from `weights` and `columns` (its strings). */
#define PRODUCTS_FROM_BIASES(weights, columns)                                                                    \
    "ldr r12, [" weights "]\n\t"                                                                                \
    "ldr lr, [" weights " + 4]\n\t"                                                                             \
    "ldr r10, [" columns " + 8]\n\t"                                                                            \
    "ldr r11, [" columns " + 12]\n\t"                                                                           \
    "smlad r6, r10, r12, r2\n\t"                                                                               \
    "smlad r7, r10, lr, r3\n\t"                                                                                \
    "smlad r8, r11, r12, r2\n\t"                                                                               \
    "smlad r9, r11, lr, r3\n\t"                                                                                \
    "ldr r11, [" columns " + 4]\n\t" /* r11 first: the M33 waits a cycle for a register the load before loaded */ \
    "ldr r10, [" columns "]\n\t"                                                                                \
    "smlad r4, r11, r12, r2\n\t"                                                                               \
    "smlad r5, r11, lr, r3\n\t"                                                                                \
    "smlad r2, r10, r12, r2\n\t"                                                                               \
    "smlad r3, r10, lr, r3\n\t"                                                                                \
    ".set md_at, 0\n\t"
#define NEXT_PAIR(weights, columns, then) ".set md_at, md_at + 1\n\t" MD_W16_PAIR_FROM(weights, columns, then)
/* At least 2 pairs, `then` (a string) run after the last one's loads. */
#define DOT_FROM(weights, columns, pairs, then)                                                                   \
    PRODUCTS_FROM_BIASES(weights, columns) ".rept " pairs " - 2\n\t" NEXT_PAIR(weights, columns, "")            \
    ".endr\n\t" NEXT_PAIR(weights, columns, then)
/* ... from r1 and r0, r1 advanced past the weights in the last one (not right before its next load:
 * an address computed by the instruction before a load costs a cycle). */
#define DOT(pairs) DOT_FROM("r1, #0", "r0, #0", pairs, "add r1, r1, #(8 * " pairs ")\n\t")
#endif

/* The output of the doubled sum `sum` with addend r10 (half + (offset << e)), exponent r11,
 * multiplier r12, stored at `at`; `spare` is scratch; `then` (which leaves `spare`) runs between the
 * SMMLAR and the shift of its result (the M33 waits a cycle for a multiply-accumulate's result read
 * by the next instruction as other than an accumulator). The sign correction is added to the
 * addend (OUTPUTS_CHANNEL_1). */
#define OUTPUT(sum, spare, at, then)                                                                              \
    "add " spare ", r10, " sum ", asr #31\n\t"                                                               \
    "smmlar " spare ", " sum ", r12, " spare "\n\t" then                                                    \
    "asr " spare ", " spare ", r11\n\t"                                                                      \
    "ssat " spare ", #8, " spare "\n\t"                                                                      \
    "strb " spare ", " at "\n\t"

/* The second channel's four outputs (sums r3, r5, r7, r9; pixels b to d's addresses in r4, r6, r8), r2
 * scratch: each sum's sign correction added to the addend (into r2) before its SMMLAR, which then
 * writes over the sum, so that the four chains interleave (the M7 issues an SMMLAR or a store
 * beside a shift, add or saturation of another chain: 13 cycles where one chain after the other
 * takes 20; the M4's cycles are the same). (v + sign) is SMMLAR's with the addend plus sign exactly. */
#define OUTPUTS_CHANNEL_1                                                                                         \
    "add r2, r10, r3, asr #31\n\t"                                                                          \
    "smmlar r3, r3, r12, r2\n\t"                                                                            \
    "add r2, r10, r5, asr #31\n\t"                                                                          \
    "smmlar r5, r5, r12, r2\n\t"                                                                            \
    "asr r3, r3, r11\n\t"                                                                                   \
    "add r2, r10, r7, asr #31\n\t"                                                                          \
    "ssat r3, #8, r3\n\t"                                                                                   \
    "smmlar r7, r7, r12, r2\n\t"                                                                            \
    "asr r5, r5, r11\n\t"                                                                                   \
    "strb r3, [r1, #1]\n\t"                                                                                 \
    "add r2, r10, r9, asr #31\n\t"                                                                          \
    "ssat r5, #8, r5\n\t"                                                                                   \
    "smmlar r9, r9, r12, r2\n\t"                                                                            \
    "asr r7, r7, r11\n\t"                                                                                   \
    "strb r5, [r4, #1]\n\t"                                                                                 \
    "ssat r7, #8, r7\n\t"                                                                                   \
    "asr r9, r9, r11\n\t"                                                                                   \
    "strb r7, [r6, #1]\n\t"                                                                                 \
    "ssat r9, #8, r9\n\t"                                                                                   \
    "strb r9, [r8, #1]\n\t"

/* ... the next pixel's, its sum `sum` (a register) with r2 as scratch, stored at `from` + lr: the
 * address left in `sum`'s register for the pair's second channel (computed early: an address
 * written by the instruction before a store costs a cycle); `then` after the last read of r10-r12. */
#define OUTPUT_NEXT(sum, from, then)                                                                              \
    "add r2, r10, " sum ", asr #31\n\t"                                                                      \
    "smmlar r2, " sum ", r12, r2\n\t"                                                                        \
    "add " sum ", " from ", lr\n\t"                                                                         \
    "asr r2, r2, r11\n\t" then                                                                               \
    "ssat r2, #8, r2\n\t"                                                                                    \
    "strb r2, [" sum "]\n\t"

#if MD_W16_DUAL_ISSUE
/* Cortex-M7: the first channel's four outputs (sums r2, r4, r6, r8) as OUTPUTS_CHANNEL_1's, in place,
 * interleaved (lr the addend's scratch until the stride is loaded into it), stored at register
 * offsets from the previous pixel's address (loaded into r1 first), which then goes into the sum's register;
 * then the second channel's constants from r0. */
#define OUTPUTS_CHANNEL_0                                                                                         \
    "ldr r1, [sp, #4]\n\t"                                                                                  \
    "add lr, r10, r2, asr #31\n\t"                                                                          \
    "smmlar r2, r2, r12, lr\n\t"                                                                            \
    "add lr, r10, r4, asr #31\n\t"                                                                          \
    "smmlar r4, r4, r12, lr\n\t"                                                                            \
    "asr r2, r2, r11\n\t"                                                                                   \
    "add lr, r10, r6, asr #31\n\t"                                                                          \
    "ssat r2, #8, r2\n\t"                                                                                   \
    "smmlar r6, r6, r12, lr\n\t"                                                                            \
    "asr r4, r4, r11\n\t"                                                                                   \
    "strb r2, [r1]\n\t"                                                                                     \
    "add lr, r10, r8, asr #31\n\t"                                                                          \
    "ssat r4, #8, r4\n\t"                                                                                   \
    "smmlar r8, r8, r12, lr\n\t"                                                                            \
    "asr r6, r6, r11\n\t"                                                                                   \
    "ldr lr, [sp, #8]\n\t"                                                                                  \
    "ssat r6, #8, r6\n\t"                                                                                   \
    "asr r8, r8, r11\n\t"                                                                                   \
    "strb r4, [r1, lr]\n\t"                                                                                 \
    "add r4, r1, lr\n\t"                                                                                    \
    "ssat r8, #8, r8\n\t"                                                                                   \
    "strb r6, [r4, lr]\n\t"                                                                                 \
    "add r6, r4, lr\n\t"                                                                                    \
    "strb r8, [r6, lr]\n\t"                                                                                 \
    "add r8, r6, lr\n\t"                                                                                    \
    "ldm r0!, {r10-r12}\n\t"
#else
/* The first channel's four outputs (sums r2, r4, r6, r8), its output address loaded into r1 (after
 * the first SMMLAR), the stride into lr, then the second channel's constants from r0 (right after the
 * last read of the first's: two instructions before r11 is read). */
#define OUTPUTS_CHANNEL_0                                                                                         \
    OUTPUT("r2", "lr", "[r1]", "ldr r1, [sp, #4]\n\t") "ldr lr, [sp, #8]\n\t" OUTPUT_NEXT("r4", "r1", "")      \
    OUTPUT_NEXT("r6", "r4", "") OUTPUT_NEXT("r8", "r6", "ldm r0!, {r10-r12}\n\t")
#endif

/* The groups' loop of WALK: its four pixels' columns filled (r1 then pixel a's output of the next pair's
 * first channel), then `walk` (the records' walk, a string), the next group's outputs 3 pixels on
 * (`next`, a string: r1 or r0 after `pairs`, into [sp, #4]). */
#define GROUPS(words, walk, next) GROUPS_OF("0", "ldr r0, [sp]\n\t", FILL_WORDS(words), walk, next)
/* ... `frame` (a string) bytes kept on the stack after the narrow_walk, the columns at r0 after
 * `columns` (a string), filled by `fill` (a string). */
#define GROUPS_OF(frame, columns, fill, walk, next)                                                              \
    __asm__("push {r4-r11, lr}\n\t"                                                                           \
            ".if " frame "\n\t"                                                                               \
            "sub sp, sp, #" frame "\n\t"                                                                      \
            ".endif\n\t"                                                                                      \
            "ldm r0, {r1-r8}\n\t"                                                                             \
            "push {r1-r8}\n\t" /* the narrow_walk at sp */                                                    \
            "2:\n\t"                                                                                          \
            "ldr r6, [sp, #12]\n\t"                                                                           \
            "ldr r1, [sp, #16]\n\t"                                                                           \
            "ldr r10, [sp, #28]\n\t" columns                                                                  \
            "add r7, r6, r1\n\t"                                                                              \
            "add r8, r7, r1\n\t"                                                                              \
            "add r9, r8, r1\n\t"                                                                              \
            "add r2, r9, r1\n\t"                                                                              \
            "str r2, [sp, #12]\n\t"                                                                           \
            fill walk next                                                                                    \
            "ldr r0, [sp, #20]\n\t"                                                                           \
            "subs r0, r0, #1\n\t"                                                                             \
            "str r0, [sp, #20]\n\t"                                                                           \
            "bne 2b\n\t"                                                                                      \
            "add sp, sp, #(32 + " frame ")\n\t"                                                                \
            "pop {r4-r11, pc}")

/* The walk over the records (the first at [sp, #24]), `pairs` pairs of values a column (a string),
 * the last record's second exponent (LAST_CHANNEL) ending it, r1 then pixel a's output of the next
 * pair's first channel; the outputs' stride in lr. */
#define PAIRS(pairs)                                                                                              \
    "ldr r0, [sp, #24]\n\t"                                                                                     \
    "1:\n\t" /* r0: the pair's record */                                                                       \
    "add r1, r0, #8\n\t" /* its weights */                                                                     \
    "ldr r0, [sp]\n\t"                                                                                         \
    "ldr r2, [r1, #-8]\n\t"                                                                                    \
    "ldr r3, [r1, #-4]\n\t" DOT(pairs) "ldm r1, {r10-r12}\n\t"                                                \
    "add r0, r1, #12\n\t" /* not its writeback: the M33 waits for a loaded register */                        \
    OUTPUTS_CHANNEL_0                                                                                           \
    "tst r11, #" VALUE_TEXT(LAST_CHANNEL) "\n\t" /* no instruction below sets the flags */                    \
    OUTPUTS_CHANNEL_1                                                                                           \
    "add r1, r1, #2\n\t"                                                                                       \
    "str r1, [sp, #4]\n\t"                                                                                     \
    "beq 1b\n\t"
#define NEXT_GROUP "add r1, r1, lr, lsl #1\n\tadd r1, r1, lr\n\tstr r1, [sp, #4]\n\t"
#define WALK(words, pairs) GROUPS(words, PAIRS(pairs), NEXT_GROUP)

typedef void (*walk_function)(const narrow_walk *walk);

#define WALK_FUNCTION(name, words, pairs)                                                                         \
    __attribute__((naked, noinline)) static void name(const narrow_walk *walk __attribute__((unused)))     \
    {                                                                                                           \
        WALK(words, pairs);                                                                                     \
    }
WALK_FUNCTION(walk_4, "1", "2")
WALK_FUNCTION(walk_8, "2", "4")
WALK_FUNCTION(walk_12, "3", "6")
WALK_FUNCTION(walk_16, "4", "8")
WALK_FUNCTION(walk_32, "8", "16")
WALK_FUNCTION(walk_64, "16", "32")
#undef WALK_FUNCTION

#if !MD_W16_DUAL_ISSUE
/* Cortex-M4 and M33: walks of groups whose outputs are `stride` (a constant: output_c) apart, each
 * output stored at an immediate offset from pixel a's first (no address per pixel, no stride
 * loaded), the record pointer kept in r1 from one pair to the next, pixel a's output in r0. */
#define STORE_AT(sum, stride, pixel, channel)                                                                     \
    "strb " sum ", [r0, #(" #pixel " * " #stride " + " channel " - md_moved)]\n\t"
/* Pixel a's output of a pair's first channel: where the pair's outputs move r0 on by md_advance (an
 * assembler symbol: a loop of one pair a pass, its channel 0 at r0), stored post-indexed (no add a
 * pass), the later stores md_moved back. */
#define FIRST_STORE_AT(sum, stride, channel)                                                                     \
    ".if md_moved < md_advance\n\t"                                                                          \
    "strb " sum ", [r0], #md_advance\n\t"                                                                    \
    ".set md_moved, md_advance\n\t"                                                                          \
    ".else\n\t" STORE_AT(sum, stride, 0, channel) ".endif\n\t"
/* A channel's four outputs (sums a..d) in place, interleaved as OUTPUTS_CHANNEL_1's (lr the addend's
 * scratch, no result read by the next instruction but an SMMLAR's addend), `then` after the last
 * read of r10-r12. */
#define CHANNEL_AT(a, b, c, d, stride, channel, then)                                                             \
    "add lr, r10, " a ", asr #31\n\t"                                                                         \
    "smmlar " a ", " a ", r12, lr\n\t"                                                                        \
    "add lr, r10, " b ", asr #31\n\t"                                                                         \
    "smmlar " b ", " b ", r12, lr\n\t"                                                                        \
    "asr " a ", " a ", r11\n\t"                                                                               \
    "add lr, r10, " c ", asr #31\n\t"                                                                         \
    "ssat " a ", #8, " a "\n\t"                                                                               \
    "smmlar " c ", " c ", r12, lr\n\t"                                                                        \
    "asr " b ", " b ", r11\n\t" FIRST_STORE_AT(a, stride, channel)                                            \
    "add lr, r10, " d ", asr #31\n\t"                                                                         \
    "ssat " b ", #8, " b "\n\t"                                                                               \
    "smmlar " d ", " d ", r12, lr\n\t"                                                                        \
    "asr " c ", " c ", r11\n\t" STORE_AT(b, stride, 1, channel)                                               \
    "ssat " c ", #8, " c "\n\t"                                                                               \
    "asr " d ", " d ", r11\n\t" then STORE_AT(c, stride, 2, channel)                                          \
    "ssat " d ", #8, " d "\n\t" STORE_AT(d, stride, 3, channel)
/* A pair's products and outputs with the columns on the stack (COLUMN_FRAME bytes after the
 * narrow_walk: r0 keeps pixel a's output for every pair, no pointer loaded again) and its record at
 * immediate offsets from r1 (md_record, an assembler symbol, the caller's): its biases by single
 * loads in the run of its first products' (an LDRD or LDM does not pipeline with the loads after
 * it), its constants by three; `channel` (a string) its first channel's offset from r0, `check` (a
 * string) run between its channels (it keeps the flags), `then` (a string) after the last read of
 * the second's constants. */
#define COLUMN_FRAME(words) "(32 * " words ")"
#define RECORD_AT(field) "[r1, #(md_record + " field ")]"
#define PAIR_ON_STACK(pairs, stride, channel, check, then, advance)                                           \
    "ldr r2, " RECORD_AT("0") "\n\t"                                                                          \
    "ldr r3, " RECORD_AT("4") "\n\t" DOT_FROM("r1, #md_record + 8", "sp, #32", pairs, "")                     \
    PAIR_OUTPUTS_ON_STACK("8 + 8 * " pairs, stride, channel, check, then, advance)
/* ... its outputs, its channels' constants from `constants` (a string: their offset in the record); where
 * md_record_move (an assembler symbol, the caller's) is set, the last constant's load moves r1 on by its
 * offset (to a word before the next record, when md_record is 4). */
#define PAIR_OUTPUTS_ON_STACK(constants, stride, channel, check, then, advance)                               \
    ".set md_advance, " advance "\n\t"                                                                        \
    ".set md_moved, 0\n\t"                                                                                   \
    "ldr r10, " RECORD_AT(constants " + 0") "\n\t"                                                            \
    "ldr r11, " RECORD_AT(constants " + 4") "\n\t"                                                            \
    "ldr r12, " RECORD_AT(constants " + 8") "\n\t"                                                            \
    CHANNEL_AT("r2", "r4", "r6", "r8", stride, channel,                                                       \
               "ldr r10, " RECORD_AT(constants " + 12") "\n\t"                                                \
               "ldr r11, " RECORD_AT(constants " + 16") "\n\t"                                                \
               ".if md_record_move\n\t"                                                                  \
               "ldr r12, [r1, #(md_record + " constants " + 20)]!\n\t"                                    \
               ".else\n\t"                                                                               \
               "ldr r12, " RECORD_AT(constants " + 20") "\n\t"                                             \
               ".endif\n\t")                                                                             \
    check CHANNEL_AT("r3", "r5", "r7", "r9", stride, channel " + 1", then)
#define RECORD_BYTES(pairs) "4 * (2 * " pairs " + " VALUE_TEXT(WALK_RECORD) ")"
/* The pairs unrolled (no loop, no test, the records at offsets from the first), then the next
 * group's outputs. */
#define PAIRS_ON_STACK(pairs, stride)                                                                             \
    ".set md_record_move, 0\n\t"                                                                              \
    "ldr r0, [sp, #4]\n\t"                                                                                     \
    "ldr r1, [sp, #24]\n\t"                                                                                    \
    ".set md_pair, 0\n\t"                                                                                      \
    ".rept " #stride " / 2\n\t"                                                                                \
    ".set md_record, md_pair * " RECORD_BYTES(pairs) "\n\t" PAIR_ON_STACK(pairs, stride, "2 * md_pair", "", "", "0") \
    ".set md_pair, md_pair + 1\n\t"                                                                            \
    ".endr\n\t"                                                                                                \
    "add r0, r0, #4 * " #stride "\n\t"                                                                         \
    "str r0, [sp, #4]\n\t"
/* ... in a loop of `pass` (a string) pairs a pass (a count of pairs a multiple of it; r0 advanced 2 a pair,
 * r1 `pass` records, the last record's LAST_CHANNEL ending it): a pass's branch and adds once per `pass`
 * pairs (two where the loop fits its cache beside the fill; one for a small flash cache, `advance` "2",
 * else "0": then r0 moved by the pair's first store, r1 by its last constant's load, from a word before
 * the record: no add a pair). */
#define PAIRS_LOOP_ON_STACK(pairs, stride, pass, advance)                                                      \
    ".set md_record_move, " advance "\n\t"                                                                     \
    "ldr r0, [sp, #4]\n\t"                                                                                     \
    "ldr r1, [sp, #24]\n\t"                                                                                    \
    ".if " advance "\n\t"                                                                                      \
    "sub r1, r1, #4\n\t"                                                                                       \
    ".endif\n\t"                                                                                               \
    "1:\n\t"                                                                                                   \
    ".set md_pair, 0\n\t"                                                                                      \
    ".rept " pass " - 1\n\t"                                                                                   \
    ".set md_record, md_pair * " RECORD_BYTES(pairs) "\n\t" PAIR_ON_STACK(pairs, stride, "2 * md_pair", "", "", "0") \
    ".set md_pair, md_pair + 1\n\t"                                                                            \
    ".endr\n\t"                                                                                                \
    ".set md_record, md_pair * " RECORD_BYTES(pairs) "\n\t"                                                    \
    ".if " advance "\n\t"                                                                                      \
    ".set md_record, 4\n\t"                                                                                    \
    ".endif\n\t"                                                                                               \
    PAIR_ON_STACK(pairs, stride, "2 * md_pair", "tst r11, #" VALUE_TEXT(LAST_CHANNEL) "\n\t",                  \
                  ".if " advance " == 0\n\tadd r1, r1, #" pass " * " RECORD_BYTES(pairs) "\n\t.endif\n\t",  \
                  advance)                                                                                     \
    ".if " advance " == 0\n\t"                                                                                 \
    "add r0, r0, #2 * " pass "\n\t"                                                                            \
    ".endif\n\t"                                                                                               \
    "beq 1b\n\t"                                                                                               \
    "add r0, r0, #3 * " #stride "\n\t"                                                                         \
    "str r0, [sp, #4]\n\t"
/* The columns on the stack filled in a loop, for a small flash cache: two words a pass (STMs at r0,
 * advanced: one copy of the word's code), ending at the columns' end (an address from sp: no count kept). */
#define COLUMNS_END(into, words) "add " into ", sp, #(32 + " COLUMN_FRAME(words) ")\n\t"
#define STORE_AT_R0(a, b, c, d) "stm r0!, {" a ", " b ", " c ", " d "}\n\t"
#define FILL_WORD_AT_R0 FILL_WORD_BY(STORE_AT_R0)
#define FILL_LOOP(words) "3:\n\t" FILL_WORD_AT_R0 FILL_WORD_AT_R0 COLUMNS_END("r2", words) "cmp r0, r2\n\tbne 3b\n\t"
/* The walk of `words` words a pixel (a string) filled by `fill` (a string), then `pairs` (a string). */
#define STACK_WALK_FUNCTION(name, words, fill, pairs)                                                             \
    __attribute__((naked, noinline)) static void name(const narrow_walk *walk __attribute__((unused)))     \
    {                                                                                                           \
        GROUPS_OF(COLUMN_FRAME(words), "add r0, sp, #32\n\t", fill, pairs, "");                                 \
    }
STACK_WALK_FUNCTION(walk_8_to_16, "2", FILL_WORDS("2"), PAIRS_ON_STACK("4", 16))
STACK_WALK_FUNCTION(walk_16_to_32, "4", FILL_WORDS("4"), PAIRS_LOOP_ON_STACK("8", 32, "2", "0"))
STACK_WALK_FUNCTION(walk_32_to_32, "8", FILL_WORDS("8"), PAIRS_LOOP_ON_STACK("16", 32, "2", "0"))
STACK_WALK_FUNCTION(walk_32_to_64, "8", FILL_WORDS("8"), PAIRS_LOOP_ON_STACK("16", 64, "2", "0"))
STACK_WALK_FUNCTION(walk_64_to_64, "16", FILL_WORDS("16"), PAIRS_LOOP_ON_STACK("32", 64, "2", "0"))
STACK_WALK_FUNCTION(walk_64_to_128, "16", FILL_WORDS("16"), PAIRS_LOOP_ON_STACK("32", 128, "2", "0"))
/* Their rolled copies for a small flash cache (md_conv_s8_w16_rolled), 8 -> 16 and 16 -> 32: one pair a
 * pass (0.6 and 0.8 KB on the M4, where the unrolled 3.4 and 1.6 KB and walk_16's 1 KB miss a 1 KB
 * cache on every group), the 16 -> 32's fill FILL_LOOP's. */
STACK_WALK_FUNCTION(walk_8_to_16_rolled, "2", FILL_WORDS("2"), PAIRS_LOOP_ON_STACK("4", 16, "1", "2"))
STACK_WALK_FUNCTION(walk_16_to_32_rolled, "4", FILL_LOOP("4"), PAIRS_LOOP_ON_STACK("8", 32, "1", "2"))
/* ... and of 32 and 64 input channels: the fill in a loop, each pair's products in passes of eight
 * pairs of values from its biases (MD_W16_DOT_ENTERED: no copy of the biases, a pass's pointers moved
 * by its first loads), ending at the columns' end, r1 then at the pair's constants; its outputs at
 * offsets from pixel a's, loaded into r0 (the columns' pointer in the products). */
#define PAIRS_ROLLED_ON_STACK(words, stride)                                                                  \
    ".set md_record_move, 0\n\t"                                                                             \
    "ldr r1, [sp, #24]\n\t"                                                                                   \
    "1:\n\t"                                                                                                  \
    "ldr r2, [r1], #8\n\t"                                                                                    \
    "add r0, sp, #32\n\t"                                                                                     \
    "ldr r3, [r1, #-4]\n\t"                                                                                   \
    MD_W16_DOT_ENTERED(MD_W16_PASS_FIRST_FROM_BIASES, MD_W16_PASS_FIRST, MD_W16_PASS_SEVEN,                   \
                       COLUMNS_END("r10", words) "cmp r0, r10\n\t")                                           \
    "ldr r0, [sp, #4]\n\t"                                                                                    \
    ".set md_record, 0\n\t"                                                                                   \
    PAIR_OUTPUTS_ON_STACK("0", stride, "0", "tst r11, #" VALUE_TEXT(LAST_CHANNEL) "\n\t",                     \
                          "add r1, r1, #4 * 2 * " VALUE_TEXT(RECORD_CONSTANTS) "\n\t", "2")                   \
    "str r0, [sp, #4]\n\t"                                                                                    \
    "beq 1b\n\t"                                                                                              \
    "add r0, r0, #3 * " #stride "\n\t"                                                                        \
    "str r0, [sp, #4]\n\t"
STACK_WALK_FUNCTION(walk_32_to_32_rolled, "8", FILL_LOOP("8"), PAIRS_ROLLED_ON_STACK("8", 32))
STACK_WALK_FUNCTION(walk_32_to_64_rolled, "8", FILL_LOOP("8"), PAIRS_ROLLED_ON_STACK("8", 64))
STACK_WALK_FUNCTION(walk_64_to_64_rolled, "16", FILL_LOOP("16"), PAIRS_ROLLED_ON_STACK("16", 64))
STACK_WALK_FUNCTION(walk_64_to_128_rolled, "16", FILL_LOOP("16"), PAIRS_ROLLED_ON_STACK("16", 128))
#undef PAIRS_ROLLED_ON_STACK
#undef STACK_WALK_FUNCTION

/* The rolled walks of 32 or 64 input channels (md_conv_s8_w16_rolled): small enough for a 1 KB flash
 * cache, where the unrolled fill and products (2 to 4 KB) miss it on every group; the fill FILL_LOOP's. */
/* A pair's products `pass` (a string) pairs of values a pass from r1 and r0 (both advanced after the
 * last loads of a pass), the sums starting from the biases copied; then its outputs as PAIRS'. */
#define PAIRS_ROLLED(words, pass)                                                                                 \
    "ldr r0, [sp, #24]\n\t"                                                                                   \
    "1:\n\t"                                                                                                   \
    "add r1, r0, #8\n\t"                                                                                      \
    "ldr r2, [r0]\n\t"                                                                                        \
    "ldr r3, [r0, #4]\n\t"                                                                                    \
    "add r0, sp, #32\n\t"                                                                                     \
    SUMS_FROM_BIASES                                                                                           \
    "4:\n\t"                                                                                                   \
    ".set md_at, -1\n\t"                                                                                      \
    ".rept " pass " - 1\n\t" NEXT_PAIR("r1, #0", "r0, #0", "") ".endr\n\t"                                   \
    NEXT_PAIR("r1, #0", "r0, #0", "add r1, r1, #(8 * " pass ")\n\tadd r0, r0, #(16 * " pass ")\n\t")           \
    COLUMNS_END("r10", words)                                                                                  \
    "cmp r0, r10\n\t"                                                                                         \
    "bne 4b\n\t"                                                                                              \
    "ldm r1, {r10-r12}\n\t"                                                                                   \
    "add r0, r1, #12\n\t" OUTPUTS_CHANNEL_0                                                                   \
    "tst r11, #" VALUE_TEXT(LAST_CHANNEL) "\n\t" OUTPUTS_CHANNEL_1                                             \
    "add r1, r1, #2\n\t"                                                                                      \
    "str r1, [sp, #4]\n\t"                                                                                    \
    "beq 1b\n\t"
#define ROLLED_WALK_FUNCTION(name, words, pass)                                                                   \
    __attribute__((naked, noinline)) static void name(const narrow_walk *walk __attribute__((unused)))     \
    {                                                                                                           \
        GROUPS_OF(COLUMN_FRAME(words), "add r0, sp, #32\n\t", FILL_LOOP(words), PAIRS_ROLLED(words, pass),     \
                  NEXT_GROUP);                                                                                  \
    }
ROLLED_WALK_FUNCTION(walk_32_rolled, "8", "8")
ROLLED_WALK_FUNCTION(walk_64_rolled, "16", "8")
#undef ROLLED_WALK_FUNCTION
#undef PAIRS_ROLLED
#undef FILL_LOOP
#undef FILL_WORD_AT_R0
#undef STORE_AT_R0
#undef COLUMNS_END
#undef PAIRS_LOOP_ON_STACK
#undef PAIRS_ON_STACK
#undef RECORD_BYTES
#undef PAIR_ON_STACK
#undef PAIR_OUTPUTS_ON_STACK
#undef RECORD_AT
#undef COLUMN_FRAME
#undef CHANNEL_AT
#undef FIRST_STORE_AT
#undef STORE_AT
#endif

#if !MD_W16_DUAL_ISSUE
/* The walks with the stride built in, by depth in and out: unrolled, and rolled (md_conv_s8_w16_rolled's). */
typedef struct {
    int32_t input_c;
    int32_t output_c;
    walk_function unrolled;
    walk_function rolled;
} fixed_walks;

static const fixed_walks FIXED_WALKS[] = {
    {8, 16, walk_8_to_16, walk_8_to_16_rolled},     {16, 32, walk_16_to_32, walk_16_to_32_rolled},
    {32, 32, walk_32_to_32, walk_32_to_32_rolled},  {32, 64, walk_32_to_64, walk_32_to_64_rolled},
    {64, 64, walk_64_to_64, walk_64_to_64_rolled},  {64, 128, walk_64_to_128, walk_64_to_128_rolled},
};
#endif

/* The walk of groups of 4 pixels of the layer with its stride built in (`rolled`: its rolled form), or NULL
 * (kernels/loops.py NARROW_BOTH_WAYS: a layer that has one has both: the rolled smaller, faster where the
 * unrolled one misses a small flash cache). */
static walk_function fixed_walk(const md_window_params *p, int rolled)
{
#if !MD_W16_DUAL_ISSUE
    size_t i;
    for (i = 0; i < sizeof FIXED_WALKS / sizeof FIXED_WALKS[0]; ++i) {
        if (FIXED_WALKS[i].input_c == p->input_c && FIXED_WALKS[i].output_c == p->output_c) {
            return rolled ? FIXED_WALKS[i].rolled : FIXED_WALKS[i].unrolled;
        }
    }
#endif
    (void)p;
    (void)rolled;
    return NULL;
}

/* The walk of md_conv_s8_w16_rolled for the layer's lone pixels, and its groups where rolled_fixed_walk
 * has none: its input channels' compact one (32 or 64 on the Cortex-M4 and M33), else the general walk
 * `walk_pixels`. */
static walk_function rolled_walk(const md_window_params *p, walk_function walk_pixels)
{
#if !MD_W16_DUAL_ISSUE
    if (p->input_c == 32 || p->input_c == 64) {
        return p->input_c == 32 ? walk_32_rolled : walk_64_rolled;
    }
#endif
    (void)p;
    return walk_pixels;
}
#undef NEXT_GROUP
#undef PAIRS
#undef GROUPS_OF
#undef GROUPS
#undef WALK
#undef OUTPUTS_CHANNEL_1
#undef OUTPUTS_CHANNEL_0
#undef OUTPUT_NEXT
#undef OUTPUT
#undef DOT
#undef DOT_FROM
#undef NEXT_PAIR
#undef PRODUCTS_FROM_BIASES
#undef FILL_WORDS
#undef FILL_ODD_PAIRS
#undef FILL_ODD_PAIR
#undef FILL_EVEN_PAIRS
#undef FILL_WORD
#undef FILL_WORD_BY
#undef SUMS_FROM_BIASES
#undef FILL_STORE
#undef VALUE_TEXT
#undef TEXT

/* `words` (a multiple of 4) words of a pair's weights (the filter word-aligned, as md_conv_s8_w16's
 * LDRDs read it) doubled into its record: both halves of each word by one SADD16 (each fits: |w| <=
 * 128), four words a pass by LDM and STM (4.5 M4 cycles a word, where a word at a time in C takes 9:
 * 10% of a 64 -> 128 layer of 12x12 pixels). */
__attribute__((naked, noinline)) static void copy_doubled(const int16_t *weights __attribute__((unused)),
                                                         int32_t *record __attribute__((unused)),
                                                         int32_t words __attribute__((unused)))
{
    __asm__("push {r4, r5}\n\t"
            "add r2, r0, r2, lsl #2\n\t"
            "1:\n\t"
            "ldm r0!, {r3, r4, r5, r12}\n\t"
            "sadd16 r3, r3, r3\n\t"
            "sadd16 r4, r4, r4\n\t"
            "sadd16 r5, r5, r5\n\t"
            "sadd16 r12, r12, r12\n\t"
            "stm r1!, {r3, r4, r5, r12}\n\t"
            "cmp r0, r2\n\t"
            "bne 1b\n\t"
            "pop {r4, r5}\n\t"
            "bx lr");
}

/* The records of the layer's pairs of channels from `record` on, from the filter and the walk's
 * records (WALK_RECORD int32 a pair, made when the code is generated: a pruned channel's constants
 * give its constant output). */
static void pack_records(const md_window_params *p, const int16_t *filter, const int32_t *walk, int32_t *record)
{
    const int32_t depth = p->input_c;
    int32_t oc;
    int32_t k;
    for (oc = 0; oc < p->output_c; oc += 2, walk += WALK_RECORD, record += depth + 2 + 2 * RECORD_CONSTANTS) {
        int32_t *constants = record + 2 + depth;
        record[0] = (int32_t)((uint32_t)walk[0] << 1);
        record[1] = (int32_t)((uint32_t)walk[1] << 1);
        copy_doubled(filter + oc * depth, record + 2, depth);
        for (k = 0; k < 2 * RECORD_CONSTANTS; ++k) {
            constants[k] = walk[2 + k];
        }
        if (oc + 2 == p->output_c) {
            constants[RECORD_CONSTANTS + 1] |= LAST_CHANNEL;
        }
    }
}

/* md_conv_int.h: the records of a 3x3 stem over one channel (md_conv_s8_w16_stem_records_bytes), as
 * pack_records' with the filter's pair of channels as it is (8 whole words and the last value of each
 * channel in one word), doubled, and no LAST_CHANNEL (the stems' walk knows its channel count). */
void md_conv_stem_records(const md_window_params *p, const int16_t *filter, const int32_t *walk, int32_t *record)
{
    const int32_t depth = 9;
    int32_t oc;
    int32_t k;
    for (oc = 0; oc < p->output_c; oc += 2, walk += WALK_RECORD, record += depth + 2 + 2 * RECORD_CONSTANTS) {
        const int16_t *pair = filter + oc * depth;
        int32_t *constants = record + 2 + depth;
        record[0] = (int32_t)((uint32_t)walk[0] << 1);
        record[1] = (int32_t)((uint32_t)walk[1] << 1);
        copy_doubled(pair, record + 2, depth - 1);
        record[1 + depth] = (int32_t)((((uint32_t)pair[2 * depth - 2] << 1) & 0xFFFFu) | (uint32_t)pair[2 * depth - 1] << 17);
        for (k = 0; k < 2 * RECORD_CONSTANTS; ++k) {
            constants[k] = walk[2 + k];
        }
    }
}

/* The `count` output pixels from `out` on whose input channels are `step` bytes apart from `pixel`
 * on: four at a time (`walk_groups`), then one at a time (`walk_pixels`: its column 4 times, its
 * outputs in one place). */
static void walk_run(walk_function walk_pixels, walk_function walk_groups, narrow_walk *walk,
                     const md_window_params *p, const int8_t *pixel, int32_t step, int32_t count, int8_t *out)
{
    const int32_t groups = count / COLUMNS;
    int32_t lone;
    walk->out = out;
    walk->pixel = pixel;
    if (groups > 0) {
        walk->stride = p->output_c;
        walk->step = step;
        walk->groups = groups;
        walk_groups(walk);
    }
    walk->stride = 0;
    walk->step = 0;
    for (lone = groups * COLUMNS; lone < count; ++lone) {
        walk->out = out + lone * p->output_c;
        walk->pixel = pixel + lone * step;
        walk->groups = 1;
        walk_pixels(walk);
    }
}

void md_conv_1x1_narrow_s8_w16(const md_window_params *p, const int8_t *input, const int16_t *filter,
                               const int32_t *walk_records, int8_t *output, int16_t *scratch, int rolled)
{
    static const walk_function walks[4] = {walk_4, walk_8, walk_12, walk_16};
    const walk_function general = p->input_c == 64   ? walk_64
                                  : p->input_c == 32 ? walk_32
                                                     : walks[p->input_c / 4 - 1];
    const walk_function walk_pixels = rolled ? rolled_walk(p, general) : general;
    const walk_function fixed = fixed_walk(p, rolled);
    const walk_function walk_groups = fixed != NULL ? fixed : walk_pixels;
    const int32_t step = p->stride_w * p->input_c;
    const int32_t row_step = p->stride_h * p->input_w * p->input_c;
    const int32_t row_outputs = p->output_w * p->output_c;
    int32_t *records = (int32_t *)(void *)(scratch + COLUMNS * p->input_c);
    narrow_walk walk;
    int32_t batch;
    int32_t y;
    pack_records(p, filter, walk_records, records);
    walk.columns = scratch;
    walk.records = records;
    walk.offsets = (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->input_h * p->input_w * p->input_c;
        int8_t *out = output + batch * p->output_h * row_outputs;
        if (row_step == p->output_w * step) { /* the rows' pixels one run (stride 1) */
            walk_run(walk_pixels, walk_groups, &walk, p, image, step, p->output_h * p->output_w, out);
            continue;
        }
        for (y = 0; y < p->output_h; ++y) {
            walk_run(walk_pixels, walk_groups, &walk, p, image + y * row_step, step, p->output_w, out + y * row_outputs);
        }
    }
}

#endif /* MD_PATH_DSP */
