/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the int8 depthwise routines of stride-1 grouped planes at a fixed width and
 * depth (md_dw_fused_rows_<width>_<depth>, md_nn.h) or of a tall image's transposed planes
 * (md_dw_fused_tall_<height>x<width>_<depth>), on cores with the DSP extension: each in a section of its
 * own, named only by the generated code of a layer whose rows it was made for. */
#include "md_depthwise_dsp_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_depthwise_rows_dsp);

/* ---- stride 1, rows of 12k outputs at a fixed width and depth (vww's and person_detect's 48x48x8,
 * 24x24x32 and 12x12x64 layers): a group of 4 planes in one call */

/* md_dw_rows_routine: the outputs of 4 channels' planes (`planes` on, one after the other, `width` + 2 bytes a row and
 * 2 `row_pairs` + 2 rows each; `folded` their dw_folded) at stride 1 into `out` (channel 0's top
 * left output; `depth` bytes a pixel, `width` pixels a row): md_dw_fused_routine's blocks in chunks of
 * `blocks` (2 `blocks` columns) with every plane byte and output at an immediate offset, a plane's
 * constants loaded once for all its rows, a chunk's output base and the row's end kept on the stack. */

/* md_dw_fused_rows' stack: the addend, the chunk's outputs, the row's end, the start, the row pairs
 * left, the plane's outputs, the row pairs a plane, the planes left, the next plane's dw_folded. A
 * row that is one chunk has no chunk loop, the row's end unused. */
#define DW_ROWS_FRAME "40"

/* The entry of md_dw_fused_rows' and md_dw_fused_tall's instance `name` (a section of its own): the
 * registers and the frame pushed, the plane's outputs and row pairs (r2, r3) kept on the stack, 4 planes
 * left, then at label 1 each plane (r0) with its dw_folded (r3). */
#define DW_ROWS_ENTRY(name) \
    MD_ASM_FUNCTION(name) \
        "push {r4-r11, lr}\n\t" \
    "sub sp, sp, #" DW_ROWS_FRAME "\n\t" \
    "strd r2, r3, [sp, #20]\n\t" \
    "mov r3, r1\n\t" \
    "mov r12, #4\n\t" \
    "str r12, [sp, #28]\n" \
    "1:\n\t"

/* The next plane, `skip` bytes on (r0), with its dw_folded (r3), back to label 1 while planes are left;
 * then the return. */
#define DW_NEXT_PLANE(skip) \
    "ldr r12, [sp, #28]\n\t" \
    "adds r0, r0, #" skip "\n\t" \
    "subs r12, r12, #1\n\t" \
    "str r12, [sp, #28]\n\t" \
    "ldr r3, [sp, #32]\n\t" \
    "bne 1b\n\t" \
    "add sp, sp, #" DW_ROWS_FRAME "\n\t" \
    "pop {r4-r11, pc}\n\t"

/* A plane's start in md_dw_fused_rows and md_dw_fused_tall (r0 the plane, r3 its dw_folded): its
 * outputs from the stack's next plane's, the first row's (chunks') end `row_end` bytes on, both kept
 * on the stack with the row pairs a plane ... */
#define DW_PLANE_START(row_end) \
    "ldrd r12, r1, [sp, #20]\n\t" \
    "add r11, r0, #" row_end "\n\t" \
    "add r10, r12, #1\n\t" \
    "str r10, [sp, #20]\n\t" /* the next plane's outputs */ \
    "str r1, [sp, #16]\n\t" \
    "strd r12, r11, [sp, #4]\n\t"

/* ... then its constants: the next plane's dw_folded, the start and addend on the stack, the multiplier
 * in r2, the filter in r3..r6 and {exponent, 2 w1 of row 2} in r7 (ASR reads the bottom byte), lr the
 * first row word. */
#define DW_PLANE_CONSTANTS \
    "add r12, r3, #36\n\t" \
    "str r12, [sp, #32]\n\t" \
    "ldrd r1, r2, [r3, #20]\n\t" /* start, multiplier */ \
    "ldrd r10, r11, [r3, #28]\n\t" /* exponent, addend */ \
    "str r1, [sp, #12]\n\t" \
    "str r11, [sp]\n\t" \
    "ldr r7, [r3, #16]\n\t" /* {2 w1 of row 2, 0} */ \
    "ldr lr, [r0]\n\t" \
    "pkhbt r7, r10, r7, lsl #16\n\t" \
    "ldm r3, {r3-r6}\n" /* even0..2, middle01 */

/* A chunk's `blocks` blocks of a row pair (`block` md_dw_fused_block) or of a tall image's last row
 * (md_dw_fused_pair), block i at plane byte 2i and output column 2i: plane rows `width` + 2 bytes apart,
 * output columns `column` bytes apart (`rows_operand`: the block's output rows') ... */
#define DW_CHUNK_BLOCKS(block, column, rows_operand) \
    ".irp i, 0, 1, 2, 3, 4, 5\n\t" \
    ".if \\i < \\blocks\n\t" \
    block " (2*\\i), (\\width+2), (2*\\i+2), (2*\\i*" column "), (" column "), " rows_operand "0, 12\n\t" \
    ".endif\n\t" \
    ".endr\n\t"

/* ... then the next chunk: its plane bytes (r0) and outputs, the flags r0's against the row's end. */
#define DW_CHUNK_NEXT(column) \
    "ldrd r1, r12, [sp, #4]\n\t" /* the chunk's outputs, the row's end */ \
    "adds r0, r0, #(2*\\blocks)\n\t" \
    "add r1, r1, #(2*\\blocks*" column ")\n\t" \
    "cmp r0, r12\n\t" \
    "str r1, [sp, #4]\n\t" \
    "ldr r1, [sp, #12]\n\t"

/* A chunk of md_dw_fused_tall. */
#define DW_TALL_CHUNK(block, rows_operand) \
    DW_CHUNK_BLOCKS(block, "\\height*\\depth", rows_operand) DW_CHUNK_NEXT("\\height*\\depth")

/* md_dw_fused_rows_<width>_<depth><suffix>: unrolled, chunks of 6 blocks (1.5 KB); rolled (`_rolled`), of
 * 3 (0.85 KB, for a small flash cache: ir/variants.py Loops; person_detect's 48x48x8 layer on the L4R5
 * from flash 0.444 MACs/cycle, chunks of 2 taking 0.6 KB 0.435, of 1 taking 0.4 KB 0.408). r0 the plane's
 * row pair, r1 the start, r2 the multiplier, r3..r7 the filter and exponent, lr the chunk's first top
 * row word. */
__asm__(DW_FUSED_BLOCK_MACRO
        ".macro md_dw_fused_rows width, depth, blocks, suffix\n\t"
        DW_ROWS_ENTRY("md_dw_fused_rows_\\width\\()_\\depth\\suffix")
        DW_PLANE_START("\\width")
        DW_PLANE_CONSTANTS
        "2:\n\t"
        DW_CHUNK_BLOCKS("md_dw_fused_block", "\\depth", "(\\width*\\depth), ")
        ".if \\width > 2*\\blocks\n\t"
        DW_CHUNK_NEXT("\\depth")
        "bne 2b\n\t"
        "ldrd r1, r12, [sp, #4]\n\t" /* the next row pair: past the bottom row's outputs, 2 plane rows on */
        "adds r0, r0, #(\\width+4)\n\t"
        "add r1, r1, #(\\width*\\depth)\n\t"
        "add r12, r12, #(2*\\width+4)\n\t"
        "strd r1, r12, [sp, #4]\n\t"
        "ldr r12, [sp, #16]\n\t"
        "ldr lr, [r0]\n\t"
        "ldr r1, [sp, #12]\n\t"
        ".else\n\t" /* one chunk a row: r0 and the outputs still at the row pair's start */
        "ldr r1, [sp, #4]\n\t"
        "adds r0, r0, #(2*\\width+4)\n\t"
        "ldr r12, [sp, #16]\n\t"
        "add r1, r1, #(2*\\width*\\depth)\n\t"
        "str r1, [sp, #4]\n\t"
        "ldr lr, [r0]\n\t"
        "ldr r1, [sp, #12]\n\t"
        ".endif\n\t"
        "subs r12, r12, #1\n\t"
        "str r12, [sp, #16]\n\t"
        "bne 2b\n\t"
        DW_NEXT_PLANE("(2*\\width+4)") /* 2 rows past the last row pair's */
        ".size md_dw_fused_rows_\\width\\()_\\depth\\suffix, .-md_dw_fused_rows_\\width\\()_\\depth\\suffix\n\t"
        ".popsection\n\t"
        ".endm\n\t"
        "md_dw_fused_rows 12, 64, 6\n\t"
        "md_dw_fused_rows 12, 64, 3, _rolled\n\t"
        "md_dw_fused_rows 24, 32, 6\n\t"
        "md_dw_fused_rows 24, 32, 3, _rolled\n\t"
        "md_dw_fused_rows 48, 8, 6\n\t"
        "md_dw_fused_rows 48, 8, 3, _rolled\n\t"
        ".purgem md_dw_fused_rows\n\t"
        ".purgem md_dw_fused_block");

/* ---- stride 1, a tall image's planes transposed (kws' 25x5x64 layers): rows of 12k + 1 outputs, an odd
 * count of them, a group of 4 planes in one call */

/* md_dw_fused_pair at, pitch, next, out, step, addend, start, right=1: md_dw_fused_block's one-row
 * block, the windows at `at` and `at` + 1 (3 row words), their outputs at r12 + `out` and + `step` (the
 * right window left out when `right` is 0). */
#define DW_FUSED_PAIR_MACRO \
    ".macro md_dw_fused_pair at, pitch, next, out, step, addend, start, right=1\n\t" \
    DW_BLOCK_UNPACK \
    DW_FIRST_KEEPING(DW_IF_RIGHT, "r8", "r9", "r3", "r6", "b", "ldr lr, [r0, #(\\at + \\pitch)]\n\t") \
    DW_BLOCK_UNPACK \
    DW_MACS_KEEPING(DW_IF_RIGHT, "r8", "r9", "r4", "r6", "t", "ldr lr, [r0, #(\\at + 2 * \\pitch)]\n\t") \
    DW_BLOCK_UNPACK \
    DW_MACS_KEEPING(DW_IF_RIGHT, "r8", "r9", "r5", "r7", "t", "") \
    "ldrd r1, r12, [sp, #\\addend]\n\t" /* addend, the outputs' base */ \
    "add lr, r1, r8, asr #31\n\t" \
    "smmlar r8, r8, r2, lr\n\t" \
    DW_IF_RIGHT("add lr, r1, r9, asr #31\n\t") \
    DW_IF_RIGHT("smmlar r9, r9, r2, lr\n\t") \
    "asr r8, r8, r7\n\t" \
    DW_IF_RIGHT("asr r9, r9, r7\n\t") \
    "ssat r8, #8, r8\n\t" \
    DW_IF_RIGHT("ssat r9, #8, r9\n\t") \
    "strb r8, [r12, #(\\out)]\n\t" \
    "ldr r1, [sp, #\\start]\n\t" \
    "ldr lr, [r0, #(\\next)]\n\t" \
    DW_IF_RIGHT("strb r9, [r12, #(\\out + \\step)]\n\t") \
    ".endm\n\t"

/* md_dw_fused_tall_<width>x<height>_<depth><suffix> (md_dw_rows_routine): md_dw_fused_rows over a tall
 * image's transposed planes, `width` (a multiple of 2 `blocks`, plus 1) outputs a row `height` * `depth`
 * bytes apart, rows `depth` bytes apart, `row_pairs` pairs and one last row: a row pair's chunks of
 * `blocks` blocks, then its last column as a block whose right window is left out; the last row in
 * one-row blocks (md_dw_fused_pair) likewise. The stack as md_dw_fused_rows', word 9 the row pair's
 * outputs. Unrolled, chunks of 6 blocks (2.6 KB); rolled (`_rolled`), of 1 (0.8 KB, for a small flash
 * cache: ir/variants.py Loops; kws on the L4R5 from flash 0.35 MACs/cycle, chunks of 2 taking 1.1 KB 0.33). */
__asm__(DW_FUSED_BLOCK_MACRO DW_FUSED_PAIR_MACRO
        ".macro md_dw_fused_tall width, height, depth, blocks, suffix\n\t"
        DW_ROWS_ENTRY("md_dw_fused_tall_\\width\\()x\\height\\()_\\depth\\suffix")
        DW_PLANE_START("(\\width-1)")
        "str r12, [sp, #36]\n\t" /* the row pair's outputs */
        DW_PLANE_CONSTANTS
        "2:\n\t"
        DW_TALL_CHUNK("md_dw_fused_block", "\\depth, ")
        "bne 2b\n\t"
        /* the last column; lr the next row pair's first word */
        "md_dw_fused_block 0, (\\width+2), (\\width+5), 0, (\\height*\\depth), \\depth, 0, 12, 0\n\t"
        "ldrd r1, r12, [sp, #32]\n\t" /* the row pair's outputs (r12) */
        "adds r0, r0, #(\\width+5)\n\t" /* 2 plane rows on from the row pair's first window */
        "add r12, r12, #(2*\\depth)\n\t"
        "add r1, r0, #(\\width-1)\n\t"
        "str r12, [sp, #36]\n\t"
        "strd r12, r1, [sp, #4]\n\t"
        "ldr r12, [sp, #16]\n\t"
        "ldr r1, [sp, #12]\n\t"
        "subs r12, r12, #1\n\t"
        "str r12, [sp, #16]\n\t"
        "bne 2b\n"
        "3:\n\t" /* the last row */
        DW_TALL_CHUNK("md_dw_fused_pair", "")
        "bne 3b\n\t"
        "md_dw_fused_pair 0, (\\width+2), 0, 0, (\\height*\\depth), 0, 12, 0\n\t"
        DW_NEXT_PLANE("(2*\\width+7)") /* 3 rows past the last row's first window */
        ".size md_dw_fused_tall_\\width\\()x\\height\\()_\\depth\\suffix, "
        ".-md_dw_fused_tall_\\width\\()x\\height\\()_\\depth\\suffix\n\t"
        ".popsection\n\t"
        ".endm\n\t"
        "md_dw_fused_tall 25, 5, 64, 6\n\t"
        "md_dw_fused_tall 25, 5, 64, 1, _rolled\n\t"
        ".purgem md_dw_fused_tall\n\t"
        ".purgem md_dw_fused_pair\n\t"
        ".purgem md_dw_fused_block");

#endif /* MD_PATH_DSP */
