/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mcudeploy: Thumb / Thumb-2 (Armv6-M, Armv7-M, Armv8-M, Armv8.1-M with MVE) instruction classes.
 *
 * The counting plugin decodes each instruction once, when QEMU translates it, into a
 * timing kind (what a core's cycle table distinguishes), the core registers it reads
 * and writes, and the registers that form its memory address. From consecutive
 * instructions (in a translation block, or across the seam into the block it falls through to)
 * it also derives pipeline events (a load that pipelines behind another, an address that
 * waits for the previous result, a pair a dual-issue core can issue together). The cycle
 * model in Python prices kinds and events.
 */
#ifndef THUMB_DECODE_H
#define THUMB_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kinds of instruction, in the order the plugin prints them. Keep KIND_NAMES in step. */
enum kind {
    KIND_ALU,                  /* data processing, moves, shifts, extends, bit fields, compares */
    KIND_IT,                   /* IT (may fold into the previous 16-bit instruction) */
    KIND_LOAD,                 /* single load, literal or exclusive */
    KIND_LOAD_DOUBLE,          /* LDRD */
    KIND_STORE,                /* single store */
    KIND_STORE_DOUBLE,         /* STRD */
    KIND_LOAD_MULTIPLE,        /* LDM, POP without PC */
    KIND_STORE_MULTIPLE,       /* STM, PUSH */
    KIND_MULTIPLY,             /* MUL */
    KIND_MULTIPLY_ACCUMULATE,  /* MLA, MLS */
    KIND_MULTIPLY_LONG,        /* SMULL, UMULL */
    KIND_MULTIPLY_LONG_ACCUMULATE, /* SMLAL, UMLAL, UMAAL */
    KIND_DSP_MAC,              /* DSP extension multiplies: SMLAD, SMUAD, SMLAxy, SMULWy, SMMLA, SMLALD... */
    KIND_DSP_SIMD,             /* DSP extension SIMD and saturation: SADD16, QADD, SXTB16, SEL, USADA8... */
    KIND_DIVIDE,               /* SDIV, UDIV */
    KIND_BRANCH,               /* direct branch taken: B, B<c>, CBZ/CBNZ, WLS */
    KIND_CALL,                 /* BL */
    KIND_BRANCH_INDIRECT,      /* BX, BLX register, MOV/ADD to PC */
    KIND_BRANCH_LOAD,          /* PC loaded from memory: POP {..PC}, LDM with PC, LDR PC */
    KIND_BRANCH_TABLE,         /* TBB, TBH */
    KIND_BRANCH_UNTAKEN,       /* any conditional PC write that fell through (decided at run time) */
    KIND_LOOP_END,             /* LE, LETP taken (low-overhead loop back edge) */
    KIND_LOOP_SETUP,           /* DLS, DLSTP, LCTP */
    KIND_FPU_ALU,              /* VADD, VSUB, VMUL, VABS, VCVT, VCMP, VSEL, VMAXNM... (scalar FP) */
    KIND_FPU_MAC,              /* VMLA, VMLS, VNMLA, VFMA, VFMS... (scalar FP) */
    KIND_FPU_DIVIDE,           /* VDIV, VSQRT */
    KIND_FPU_LOAD,             /* VLDR */
    KIND_FPU_STORE,            /* VSTR */
    KIND_FPU_LOAD_MULTIPLE,    /* VLDM, VPOP */
    KIND_FPU_STORE_MULTIPLE,   /* VSTM, VPUSH */
    KIND_FPU_MOVE,             /* VMOV between core and FP registers, VMRS, VMSR */
    KIND_MVE_LOAD,             /* VLDRB/H/W/D, VLD2x, VLD4x, gathers */
    KIND_MVE_STORE,            /* VSTRB/H/W/D, VST2x, VST4x, scatters */
    KIND_MVE_MAC,              /* MVE multiplies: VMLADAV, VMLALDAV, VMLA, VMUL, VQRDMULH, VFMA... */
    KIND_MVE_ALU,              /* other MVE: VADD, VSHL, VMOVL, VCTP, VPST, VPSEL, VADDV... */
    KIND_SYSTEM,               /* barriers, MRS/MSR, CPS, hints, BKPT, SVC, UDF */
    KIND_OTHER,                /* not decoded (custom coprocessor, unallocated) */
    KIND_COUNT
};

/* Pipeline events: counted per execution, priced per core by the cycle model. Keep EVENT_NAMES in step. */
enum event {
    EVENT_TRANSFERS,        /* words moved by LDM/STM/PUSH/POP/VLDM/VSTM, LDRD/STRD, LDR PC */
    EVENT_PIPELINED,        /* load (or register-offset store) right after a single load/store, address independent */
    EVENT_STORE_REGISTER_OFFSET, /* single store with a register offset */
    EVENT_ADDRESS_STALL,    /* load/store whose address register the previous data-processing instruction wrote */
    EVENT_IT_FOLDED,        /* IT right after a 16-bit instruction */
    EVENT_DUAL_ISSUE,       /* issued with the previous instruction under Cortex-M7-like pairing rules */
    EVENT_LOAD_USE,         /* reads a register the previous instruction loaded */
    EVENT_MVE_OVERLAP,      /* MVE instruction after an MVE instruction of the other group (memory / arithmetic) */
    EVENT_MISPREDICT,       /* conditional direct branch mispredicted by 2-bit counters indexed by address */
    EVENT_UNALIGNED_SPLIT_2, /* unaligned data access the bus splits into 2 aligned transfers (counted per access) */
    EVENT_UNALIGNED_SPLIT_3, /* unaligned word at address % 4 == 1 or 3: 3 aligned transfers (counted per access) */
    EVENT_STORE_OF_LOAD,    /* store (single or dual) whose data, not its address, the previous instruction loaded */
    EVENT_UNTAKEN_PAIRED,   /* 16-bit conditional branch, untaken, right after a 16-bit instruction (run time) */
    EVENT_UNALIGNED_WIDE_TARGET, /* taken branch to a 32-bit instruction at address % 4 == 2 (run time) */
    EVENT_RESULT_LATENCY,   /* reads a result of the previous instruction that takes two stages (see `result`) */
    EVENT_LOAD_TO_ACCUMULATOR, /* multiply-accumulate whose only loaded operand is its accumulator (with load_use) */
    EVENT_TWO_CYCLE_FLAGS,  /* MULS.N, or a flag-setting operation on a rotated constant (not MOVS/MVNS) */
    EVENT_UNALIGNED_WIDE_RUN, /* once per run of 32-bit instructions at address % 4 == 2: at its third, or its
                                 fourth when all before are single stores */
    EVENT_TAKEN_PAIRED,     /* 16-bit direct branch, taken, right after a 16-bit instruction that sets no flags */
    EVENT_COUNT
};

extern const char *const KIND_NAMES[KIND_COUNT];
extern const char *const EVENT_NAMES[EVENT_COUNT];

/* When a result can be read (Cortex-M33 measurements price it; the other cores do not). */
enum result_stage {
    RESULT_FIRST,      /* available to the next instruction */
    RESULT_ACCUMULATE, /* second stage: multiply-accumulates, extend-and-adds, shifted-operand operations;
                          forwarded to the accumulator of a multiply-accumulate or extend-and-add */
    RESULT_SECOND,     /* second stage, not forwarded: DSP SIMD, saturating and packing operations */
};

struct decoded {
    uint8_t kind;
    uint8_t size;          /* bytes: 2 or 4 */
    uint8_t transfers;     /* words moved (multiple and dual transfers, loads to PC) */
    bool conditional;      /* a PC write that may fall through: taken or not is decided at run time */
    bool shifted;          /* shifted or rotated operand, extend, bit field, saturate (pairing resource) */
    bool register_offset;  /* load/store with a register offset */
    bool registers_known;  /* `reads`, `writes` and `address` are exact */
    uint16_t reads;        /* core registers read, bit n = Rn */
    uint16_t writes;       /* core registers written */
    uint16_t address;      /* registers forming a memory address */
    uint8_t result;        /* enum result_stage of `writes` */
    bool mac;              /* a multiply-accumulate (MLA, MLS, SMLAD, SMLAxy, SMMLA, SMLAL...) */
    uint16_t accumulator;  /* registers read only as an accumulator (by the second stage) */
    bool two_cycle_flags;  /* sets flags from its second stage: issues in two cycles */
    bool sets_flags;       /* 16-bit instruction that may set the condition flags */
};

/* Decodes the instruction at `bytes` (`size` bytes available, little-endian halfwords; the
 * instruction's own width is in the result). `in_it_block`: conditional under a preceding IT. */
struct decoded thumb_decode(const uint8_t *bytes, size_t size, bool in_it_block);

/* Instructions an IT instruction makes conditional (0 when `decoded` is not an IT). */
unsigned thumb_it_length(const uint8_t *bytes, const struct decoded *decoded);

/* Pipeline events of `current` given the instruction before it (NULL when there is none to pair
 * with: a block entered by a branch). `*paired` carries whether `previous` was itself issued as the
 * second of a pair; it is updated for `current`. Adds one count per event to `events`. */
void thumb_events(const struct decoded *previous, const struct decoded *current, bool *paired,
                  unsigned events[EVENT_COUNT]);

/* True when a 16-bit `branch`, taken, issues with `previous`: a 16-bit instruction that sets no flags. */
bool thumb_issues_with_branch(const struct decoded *previous, const struct decoded *branch);

/* True for kinds whose execution reads or writes memory through the load/store unit. */
bool thumb_kind_accesses_memory(unsigned kind);

#endif /* THUMB_DECODE_H */
