/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mcudeploy: decoding of Thumb / Thumb-2 instructions into timing kinds and registers.
 *
 * The encoding groups follow the Armv7-M and Armv8-M Architecture Reference Manuals
 * ("Thumb instruction set encoding": 16-bit groups, then the 32-bit groups selected by
 * op1/op2/op of the first and second halfwords). MVE multiply encodings are matched
 * against (mask, value) patterns that mcudeploy derived by assembling every variant of
 * each MVE mnemonic with binutils and keeping the bits common to a mnemonic form.
 */
#include "thumb_decode.h"

#define REG(n) ((uint16_t)(1u << (n)))
#define PC 15
#define LR 14
#define SP 13

const char *const KIND_NAMES[KIND_COUNT] = {
    "alu", "it", "load", "load_double", "store", "store_double", "load_multiple", "store_multiple",
    "multiply", "multiply_accumulate", "multiply_long", "multiply_long_accumulate", "dsp_mac", "dsp_simd",
    "divide", "branch", "call", "branch_indirect", "branch_load", "branch_table", "branch_untaken", "loop_end",
    "loop_setup", "fpu_alu", "fpu_mac", "fpu_divide", "fpu_load", "fpu_store", "fpu_load_multiple",
    "fpu_store_multiple", "fpu_move", "mve_load", "mve_store", "mve_mac", "mve_alu", "system", "other",
};

const char *const EVENT_NAMES[EVENT_COUNT] = {
    "transfers", "pipelined", "store_register_offset", "address_stall", "it_folded",
    "dual_issue", "load_use", "mve_overlap", "mispredict", "unaligned_split_2", "unaligned_split_3",
    "store_of_load", "untaken_paired", "unaligned_wide_target", "result_latency", "load_to_accumulator",
    "two_cycle_flags", "unaligned_wide_run", "taken_paired",
};

struct pattern {
    uint32_t mask;
    uint32_t value;
};

/* MVE data-processing encodings (first halfword << 16 | second) of multiplies. */
static const struct pattern MVE_MULTIPLY[] = {
    {0xffc11ff0u, 0xee000e00u}, /* VQDMLADH, VQRDMLADH, VCMUL */
    {0xffc10fd0u, 0xee000e40u}, /* VQDMLAH, VQDMLASH, VQRDMLAH, VQRDMLASH */
    {0xffc11ff1u, 0xee001e00u}, /* VQDMLADHX, VCMUL */
    {0xefc10ff0u, 0xee010e00u}, /* VMULH, VMULLB, VMULLT, VRMULH */
    {0xefc10fd0u, 0xee010e40u}, /* VFMA, VFMAS, VMLA, VMLAS, VMUL, VQDMULH, VQRDMULH (scalar) */
    {0xeff10ff1u, 0xee300f01u}, /* VQDMULLB, VQDMULLT */
    {0xefffeffeu, 0xee320e04u}, /* VCMUL */
    {0xef801fd1u, 0xee800e00u}, /* VMLALDAV, VMLALDAVA, VMLADAV, VMLADAVA */
    {0xff801fd1u, 0xee800e01u}, /* VMLSDAV, VMLSDAVA, VMLSLDAV, VMLSLDAVA */
    {0xef811fd1u, 0xee800f00u}, /* VMLADAV, VMLADAVA, VRMLALDAVH, VRMLALDAVHA */
    {0xef801ff1u, 0xee801e00u}, /* VMLADAVX, VMLALDAVX */
    {0xeff00fd1u, 0xeef00e01u}, /* VMLSDAV, VMLSDAVA, VMLSDAVX, VMLSDAVAX */
    {0xfff01ff1u, 0xeef01e20u}, /* VMLADAVAX */
    {0xfff11fd1u, 0xeef01f00u}, /* VMLADAVX, VMLADAVAX */
    {0xffc11ff1u, 0xef000950u}, /* VMUL (vector, integer) */
    {0xefc11ff1u, 0xef000b40u}, /* VQDMULH, VQRDMULH (vector) */
    {0xffc11ff1u, 0xef000c50u}, /* VFMA, VFMS (vector) */
    {0xfe6fffffu, 0xfc220844u}, /* VCMLA */
    {0xffc11ff1u, 0xfe000e00u}, /* VQDMLSDH, VCMUL */
    {0xffc11ff1u, 0xfe001e01u}, /* VQRDMLSDHX, VCMUL */
    {0xff811ff1u, 0xfe800e01u}, /* VMLSDAV, VRMLSLDAVH */
    {0xffe11ff1u, 0xff000d50u}, /* VMUL (vector, float) */
};

/* Non-multiply MVE encodings that the multiply patterns above would otherwise take. */
static const struct pattern MVE_NOT_MULTIPLY[] = {
    {0xffc11ff0u, 0xfe011e60u}, /* VBRSR */
    {0xffffffffu, 0xee3f0e05u}, /* VCVTB */
    {0xffffffffu, 0xfe3f1e05u}, /* VCVTT */
    {0xfff38ff1u, 0xeee00f00u}, /* VMAXAV */
    {0xefffffffu, 0xeeec0f02u}, /* VMAXNMAV */
    {0xefffffffu, 0xeeee0f02u}, /* VMAXNMV */
    {0xeff38ff1u, 0xeee20f00u}, /* VMAXV */
    {0xeffb3ffbu, 0xee330e03u}, /* VQMOVNB */
    {0xeffb3ffbu, 0xee331e03u}, /* VQMOVNT */
    {0xeff35ff6u, 0xee331e62u}, /* VRSHL (scalar) */
    {0xefc11ff1u, 0xef000540u}, /* VRSHL (vector) */
    {0xeff35ff6u, 0xee311e62u}, /* VSHL (scalar) */
    {0xefc11ff1u, 0xef000440u}, /* VSHL (vector) */
    {0xffc11ff5u, 0xef810550u}, /* VSHL (immediate) */
};

static bool matches(const struct pattern *patterns, size_t count, uint32_t word)
{
    for (size_t index = 0; index < count; index++) {
        if ((word & patterns[index].mask) == patterns[index].value) {
            return true;
        }
    }
    return false;
}

static struct decoded instruction(unsigned kind, unsigned size, uint16_t reads, uint16_t writes)
{
    struct decoded decoded = {0};
    decoded.kind = (uint8_t)kind;
    decoded.size = (uint8_t)size;
    decoded.reads = reads;
    decoded.writes = writes;
    decoded.registers_known = true;
    return decoded;
}

static struct decoded unknown_registers(unsigned kind, unsigned size)
{
    struct decoded decoded = instruction(kind, size, 0, 0);
    decoded.registers_known = false;
    return decoded;
}

static struct decoded memory(unsigned kind, unsigned size, uint16_t address, uint16_t data, bool load)
{
    struct decoded decoded = instruction(kind, size, address | (load ? 0 : data), load ? data : 0);
    decoded.address = address;
    return decoded;
}

/* A multiply-accumulate: its result comes from the second stage, which alone reads the addend `added`
 * (unless a multiplicand is the same register). */
static struct decoded accumulating(struct decoded decoded, uint16_t added, uint16_t multiplicands)
{
    decoded.mac = true;
    decoded.result = RESULT_ACCUMULATE;
    decoded.accumulator = added & (uint16_t)~multiplicands;
    return decoded;
}

/* A 16-bit instruction setting flags (outside an IT block): shifts, adds, moves, compares, data processing. */
static struct decoded setting_flags(struct decoded decoded)
{
    decoded.sets_flags = true;
    return decoded;
}

static unsigned count_bits(uint32_t value)
{
    return (unsigned)__builtin_popcount(value);
}

/* A multiple load/store: `list` registers from/to the address in `base`. */
static struct decoded multiple(unsigned size, unsigned base, uint16_t list, bool load, bool writeback)
{
    unsigned kind = load ? ((list & REG(PC)) ? KIND_BRANCH_LOAD : KIND_LOAD_MULTIPLE) : KIND_STORE_MULTIPLE;
    struct decoded decoded = memory(kind, size, REG(base), list, load);
    decoded.transfers = (uint8_t)count_bits(list);
    if (writeback) {
        decoded.writes |= REG(base);
    }
    return decoded;
}

/* ---------------------------------------------------------------- 16-bit instructions */

static struct decoded shift_add_subtract_move_compare(uint16_t hw)
{
    const unsigned opcode = (hw >> 9) & 0x1F;
    const unsigned low = hw & 7;
    const unsigned middle = (hw >> 3) & 7;
    const unsigned high = (hw >> 8) & 7;
    if (opcode < 0x0C) { /* LSL, LSR, ASR by immediate */
        return instruction(KIND_ALU, 2, REG(middle), REG(low));
    }
    if (opcode < 0x0E) { /* ADD, SUB register */
        return instruction(KIND_ALU, 2, REG(middle) | REG((hw >> 6) & 7), REG(low));
    }
    if (opcode < 0x10) { /* ADD, SUB 3-bit immediate */
        return instruction(KIND_ALU, 2, REG(middle), REG(low));
    }
    switch (opcode >> 2) {
    case 4: /* MOV immediate */
        return instruction(KIND_ALU, 2, 0, REG(high));
    case 5: /* CMP immediate */
        return instruction(KIND_ALU, 2, REG(high), 0);
    default: /* ADD, SUB 8-bit immediate */
        return instruction(KIND_ALU, 2, REG(high), REG(high));
    }
}

static struct decoded data_processing16(uint16_t hw)
{
    const unsigned opcode = (hw >> 6) & 0xF;
    const unsigned destination = hw & 7;
    const unsigned source = (hw >> 3) & 7;
    switch (opcode) {
    case 0x8: /* TST */
    case 0xA: /* CMP */
    case 0xB: /* CMN */
        return instruction(KIND_ALU, 2, REG(destination) | REG(source), 0);
    case 0x9: /* RSB #0 */
    case 0xF: /* MVN */
        return instruction(KIND_ALU, 2, REG(source), REG(destination));
    case 0xD: { /* MULS: its flags come from the second stage (cleared again inside an IT block: MUL) */
        struct decoded decoded = instruction(KIND_MULTIPLY, 2, REG(destination) | REG(source), REG(destination));
        decoded.two_cycle_flags = true;
        return decoded;
    }
    default:
        return instruction(KIND_ALU, 2, REG(destination) | REG(source), REG(destination));
    }
}

static struct decoded special_data_and_branch16(uint16_t hw)
{
    const unsigned opcode = (hw >> 8) & 3;
    const unsigned destination = ((hw >> 4) & 8) | (hw & 7);
    const unsigned source = (hw >> 3) & 0xF;
    if (opcode == 3) { /* BX, BLX register */
        return instruction(KIND_BRANCH_INDIRECT, 2, REG(source), (hw & 0x80) ? REG(LR) : 0);
    }
    if (opcode == 1) { /* CMP high registers */
        return setting_flags(instruction(KIND_ALU, 2, REG(destination) | REG(source), 0));
    }
    const uint16_t reads = REG(source) | (opcode == 0 ? REG(destination) : 0);
    return instruction(destination == PC ? KIND_BRANCH_INDIRECT : KIND_ALU, 2, reads, REG(destination));
}

static struct decoded load_store16(uint16_t hw)
{
    const unsigned data = hw & 7;
    const unsigned base = (hw >> 3) & 7;
    if ((hw >> 12) == 0x5) { /* register offset: STR, STRH, STRB, LDRSB, LDR, LDRH, LDRB, LDRSH */
        const bool load = ((hw >> 9) & 7) >= 3;
        struct decoded decoded = memory(load ? KIND_LOAD : KIND_STORE, 2, REG(base) | REG((hw >> 6) & 7),
                                        REG(data), load);
        decoded.register_offset = true;
        return decoded;
    }
    const bool load = (hw >> 11) & 1;
    if ((hw >> 12) == 0x9) { /* SP relative */
        return memory(load ? KIND_LOAD : KIND_STORE, 2, REG(SP), REG((hw >> 8) & 7), load);
    }
    /* word, byte and halfword with a 5-bit immediate */
    return memory(load ? KIND_LOAD : KIND_STORE, 2, REG(base), REG(data), load);
}

static struct decoded miscellaneous16(uint16_t hw)
{
    const unsigned low = hw & 7;
    if ((hw & 0xFF00) == 0xB000) { /* ADD, SUB SP immediate */
        return instruction(KIND_ALU, 2, REG(SP), REG(SP));
    }
    if ((hw & 0xF500) == 0xB100) { /* CBZ, CBNZ */
        struct decoded decoded = instruction(KIND_BRANCH, 2, REG(low), 0);
        decoded.conditional = true;
        return decoded;
    }
    if ((hw & 0xFF00) == 0xB200 || (hw & 0xFF00) == 0xBA00) { /* extends, byte reversal */
        struct decoded decoded = instruction(KIND_ALU, 2, REG((hw >> 3) & 7), REG(low));
        decoded.shifted = (hw & 0xFF00) == 0xB200;
        return decoded;
    }
    if ((hw & 0xFE00) == 0xB400) { /* PUSH */
        struct decoded decoded = multiple(2, SP, (uint16_t)((hw & 0xFF) | ((hw & 0x100) ? REG(LR) : 0)), false,
                                          true);
        return decoded;
    }
    if ((hw & 0xFE00) == 0xBC00) { /* POP */
        return multiple(2, SP, (uint16_t)((hw & 0xFF) | ((hw & 0x100) ? REG(PC) : 0)), true, true);
    }
    if ((hw & 0xFF00) == 0xBF00 && (hw & 0xF) != 0) {
        return instruction(KIND_IT, 2, 0, 0);
    }
    /* CPS, BKPT, hints */
    return instruction(KIND_SYSTEM, 2, 0, 0);
}

static struct decoded decode16(uint16_t hw)
{
    if ((hw >> 14) == 0) {
        return setting_flags(shift_add_subtract_move_compare(hw));
    }
    if ((hw >> 10) == 0x10) {
        return setting_flags(data_processing16(hw));
    }
    if ((hw >> 10) == 0x11) {
        return special_data_and_branch16(hw);
    }
    if ((hw >> 11) == 0x9) { /* LDR literal */
        return memory(KIND_LOAD, 2, REG(PC), REG((hw >> 8) & 7), true);
    }
    if ((hw >> 12) == 0x5 || (hw >> 13) == 0x3 || (hw >> 12) == 0x8 || (hw >> 12) == 0x9) {
        return load_store16(hw);
    }
    if ((hw >> 12) == 0xA) { /* ADR, ADD Rd, SP, #imm */
        return instruction(KIND_ALU, 2, (hw & 0x800) ? REG(SP) : REG(PC), REG((hw >> 8) & 7));
    }
    if ((hw >> 12) == 0xB) {
        return miscellaneous16(hw);
    }
    if ((hw >> 12) == 0xC) { /* STM, LDM */
        const unsigned base = (hw >> 8) & 7;
        const bool load = (hw >> 11) & 1;
        return multiple(2, base, hw & 0xFF, load, !load || !(hw & REG(base)));
    }
    if ((hw >> 12) == 0xD) {
        const unsigned condition = (hw >> 8) & 0xF;
        if (condition >= 0xE) { /* UDF, SVC */
            return instruction(KIND_SYSTEM, 2, 0, 0);
        }
        struct decoded decoded = instruction(KIND_BRANCH, 2, 0, 0);
        decoded.conditional = true;
        return decoded;
    }
    return instruction(KIND_BRANCH, 2, 0, 0); /* B */
}

/* ---------------------------------------------------------------- 32-bit: load/store groups */

static struct decoded load_store_multiple32(uint16_t hw1, uint16_t hw2)
{
    const unsigned mode = (hw1 >> 7) & 3;
    if (mode == 0 || mode == 3) { /* SRS, RFE: not in M profile */
        return unknown_registers(KIND_OTHER, 4);
    }
    return multiple(4, hw1 & 0xF, hw2, (hw1 >> 4) & 1, (hw1 >> 5) & 1);
}

static struct decoded dual_exclusive_table32(uint16_t hw1, uint16_t hw2)
{
    const unsigned op1 = (hw1 >> 7) & 3;
    const unsigned op2 = (hw1 >> 4) & 3;
    const unsigned op3 = (hw2 >> 4) & 0xF;
    const unsigned base = hw1 & 0xF;
    const unsigned data = hw2 >> 12;
    const bool dual = (op1 < 2) ? op2 >= 2 : true;
    if (dual) { /* LDRD, STRD */
        const bool load = op2 & 1;
        struct decoded decoded = memory(load ? KIND_LOAD_DOUBLE : KIND_STORE_DOUBLE, 4, REG(base),
                                        REG(data) | REG((hw2 >> 8) & 0xF), load);
        decoded.transfers = 2;
        if ((hw1 >> 5) & 1) {
            decoded.writes |= REG(base);
        }
        return decoded;
    }
    if (op1 == 1 && op2 == 1 && op3 <= 1) { /* TBB, TBH */
        return memory(KIND_BRANCH_TABLE, 4, REG(base) | REG(hw2 & 0xF), 0, true);
    }
    const bool load = op2 & 1;
    struct decoded decoded = memory(load ? KIND_LOAD : KIND_STORE, 4, REG(base), REG(data), load);
    if (!load && (op1 == 0 || (op3 & 4))) { /* store-exclusive forms write a status register */
        decoded.writes |= REG(op1 == 0 ? (hw2 >> 8) & 0xF : hw2 & 0xF);
    }
    return decoded;
}

/* Single load or store (op1 = 11): immediate, register-offset, literal and unprivileged forms. */
static struct decoded load_store_single32(uint16_t hw1, uint16_t hw2, bool load)
{
    const unsigned base = hw1 & 0xF;
    const unsigned data = hw2 >> 12;
    const unsigned size = (hw1 >> 5) & 3;
    const bool immediate12 = (hw1 >> 7) & 1;
    const bool register_offset = !immediate12 && base != PC && (hw2 & 0x0FC0) == 0;
    if (load && data == PC) {
        if (size != 2) { /* PLD, PLI: memory hints */
            return instruction(KIND_SYSTEM, 4, REG(base), 0);
        }
        struct decoded decoded = memory(KIND_BRANCH_LOAD, 4, REG(base), REG(PC), true);
        decoded.transfers = 1;
        return decoded;
    }
    uint16_t address = REG(base);
    if (register_offset) {
        address |= REG(hw2 & 0xF);
    }
    struct decoded decoded = memory(load ? KIND_LOAD : KIND_STORE, 4, address, REG(data), load);
    decoded.register_offset = register_offset;
    decoded.shifted = register_offset && ((hw2 >> 4) & 3) != 0;
    if (!immediate12 && base != PC && !register_offset && (hw2 & 0x0100)) { /* writeback */
        decoded.writes |= REG(base);
    }
    return decoded;
}

/* ---------------------------------------------------------------- 32-bit: data processing */

static bool is_compare(unsigned opcode)
{
    return opcode == 0x0 || opcode == 0x4 || opcode == 0x8 || opcode == 0xD; /* TST, TEQ, CMN, CMP */
}

static struct decoded data_processing_shifted32(uint16_t hw1, uint16_t hw2)
{
    const unsigned opcode = (hw1 >> 5) & 0xF;
    const unsigned first = hw1 & 0xF;
    const unsigned destination = (hw2 >> 8) & 0xF;
    const unsigned second = hw2 & 0xF;
    if ((hw1 & 0xFFF0) == 0xEA50 && (second == SP || second == PC)) { /* Armv8.1-M long shifts */
        return unknown_registers(KIND_ALU, 4);
    }
    const unsigned amount = ((hw2 >> 10) & 0x1C) | ((hw2 >> 6) & 3);
    const bool rotate = ((hw2 >> 4) & 3) == 3;
    const bool moves = (opcode == 0x2 || opcode == 0x3) && first == PC; /* MOV, MVN and shifts */
    const uint16_t reads = REG(second) | (moves ? 0 : REG(first));
    const bool compare = is_compare(opcode) && destination == PC && ((hw1 >> 4) & 1);
    struct decoded decoded = instruction(opcode == 0x6 ? KIND_DSP_SIMD : KIND_ALU, 4, reads,
                                         compare ? 0 : REG(destination));
    decoded.shifted = amount != 0 || rotate;
    if (opcode == 0x6) { /* PKHBT, PKHTB */
        decoded.result = RESULT_SECOND;
    } else if (decoded.shifted && !moves) { /* a shifted register operand; MOV/MVN with a shift are shifts */
        decoded.result = RESULT_ACCUMULATE;
    }
    return decoded;
}

static struct decoded modified_immediate32(uint16_t hw1, uint16_t hw2)
{
    const unsigned opcode = (hw1 >> 5) & 0xF;
    const unsigned source = hw1 & 0xF;
    const unsigned destination = (hw2 >> 8) & 0xF;
    const bool moves = (opcode == 0x2 || opcode == 0x3) && source == PC;
    const bool compare = is_compare(opcode) && destination == PC && ((hw1 >> 4) & 1);
    struct decoded decoded = instruction(KIND_ALU, 4, moves ? 0 : REG(source), compare ? 0 : REG(destination));
    decoded.shifted = ((hw1 >> 10) & 1) || ((hw2 >> 12) & 7); /* a rotated constant or a byte pattern */
    const bool rotated = ((hw1 >> 10) & 1) || ((hw2 >> 12) & 7) >= 4; /* i:imm3 >= 4: not 0x00XY or a pattern */
    if (rotated && !moves) {
        /* Flag setting (compares too) takes a second cycle, which also covers the result's second stage. */
        decoded.two_cycle_flags = (hw1 >> 4) & 1;
        decoded.result = decoded.two_cycle_flags ? RESULT_FIRST : RESULT_ACCUMULATE;
    }
    return decoded;
}

static struct decoded plain_immediate32(uint16_t hw1, uint16_t hw2)
{
    const unsigned opcode = (hw1 >> 4) & 0x1F;
    const unsigned source = hw1 & 0xF;
    const unsigned destination = (hw2 >> 8) & 0xF;
    const bool no_shift = ((hw2 >> 12) & 7) == 0 && ((hw2 >> 6) & 3) == 0;
    if (opcode == 0x04) { /* MOVW */
        return instruction(KIND_ALU, 4, 0, REG(destination));
    }
    if (opcode == 0x0C) { /* MOVT */
        return instruction(KIND_ALU, 4, REG(destination), REG(destination));
    }
    if (opcode == 0x00 || opcode == 0x0A) { /* ADDW, SUBW, ADR */
        return instruction(KIND_ALU, 4, REG(source), REG(destination));
    }
    const bool simd = (opcode == 0x12 || opcode == 0x1A) && no_shift; /* SSAT16, USAT16 */
    uint16_t reads = source == PC ? 0 : REG(source);
    if (opcode == 0x16) { /* BFI, BFC keep the other bits of the destination */
        reads |= REG(destination);
    }
    struct decoded decoded = instruction(simd ? KIND_DSP_SIMD : KIND_ALU, 4, reads, REG(destination));
    decoded.shifted = true; /* saturates and bit fields use the shifter */
    decoded.result = simd ? RESULT_SECOND : RESULT_FIRST;
    return decoded;
}

static struct decoded data_processing_register32(uint16_t hw1, uint16_t hw2)
{
    const unsigned op1 = (hw1 >> 4) & 0xF;
    const unsigned op2 = (hw2 >> 4) & 0xF;
    unsigned kind = KIND_ALU;
    const unsigned first = hw1 & 0xF;
    const bool extend_add = !(op1 & 8) && (op2 & 8) && first != PC; /* SXTAB, UXTAH, SXTAB16... */
    if (op1 & 8) {
        if ((op2 & 0xC) == 0x8) { /* QADD..QDSUB, REV.., SEL, CLZ */
            const unsigned group = op1 & 3;
            kind = (group == 0 || group == 2) ? KIND_DSP_SIMD : KIND_ALU;
        } else { /* parallel add and subtract */
            kind = KIND_DSP_SIMD;
        }
    } else if (op2 & 8) { /* extend and add: the 16-bit pair forms are DSP */
        kind = ((op1 >> 1) == 1) ? KIND_DSP_SIMD : KIND_ALU;
    }
    const uint16_t reads = REG(hw2 & 0xF) | (first == PC ? 0 : REG(first));
    struct decoded decoded = instruction(kind, 4, reads, REG((hw2 >> 8) & 0xF));
    decoded.shifted = !(op1 & 8) || kind == KIND_DSP_SIMD;
    if (extend_add) { /* the addend is read by the second stage, like a multiply-accumulate's */
        decoded.result = RESULT_ACCUMULATE;
        decoded.accumulator = REG(first) & (uint16_t)~REG(hw2 & 0xF);
    } else if (kind == KIND_DSP_SIMD) {
        decoded.result = RESULT_SECOND;
    }
    return decoded;
}

static struct decoded multiply32(uint16_t hw1, uint16_t hw2)
{
    const unsigned op1 = (hw1 >> 4) & 7;
    const unsigned accumulator = hw2 >> 12;
    uint16_t reads = REG(hw1 & 0xF) | REG(hw2 & 0xF);
    if (accumulator != PC) {
        reads |= REG(accumulator);
    }
    unsigned kind = KIND_DSP_MAC;
    if (op1 == 0) {
        kind = (accumulator == PC && ((hw2 >> 4) & 3) == 0) ? KIND_MULTIPLY : KIND_MULTIPLY_ACCUMULATE;
    } else if (op1 == 7) { /* USAD8, USADA8 */
        kind = KIND_DSP_SIMD;
    }
    struct decoded decoded = instruction(kind, 4, reads, REG((hw2 >> 8) & 0xF));
    if (kind == KIND_DSP_SIMD) {
        decoded.result = RESULT_SECOND;
    } else if (accumulator != PC) {
        decoded = accumulating(decoded, REG(accumulator), REG(hw1 & 0xF) | REG(hw2 & 0xF));
    }
    return decoded;
}

static struct decoded long_multiply_divide32(uint16_t hw1, uint16_t hw2)
{
    const unsigned op1 = (hw1 >> 4) & 7;
    const unsigned op2 = (hw2 >> 4) & 0xF;
    const uint16_t low = REG(hw2 >> 12);
    const uint16_t high = REG((hw2 >> 8) & 0xF);
    const uint16_t sources = REG(hw1 & 0xF) | REG(hw2 & 0xF);
    if (op1 == 1 || op1 == 3) { /* SDIV, UDIV */
        return instruction(KIND_DIVIDE, 4, sources, high);
    }
    if (op1 == 0 || op1 == 2) { /* SMULL, UMULL */
        return instruction(KIND_MULTIPLY_LONG, 4, sources, low | high);
    }
    const bool plain = (op1 == 4 && op2 == 0) || op1 == 6; /* SMLAL, UMLAL, UMAAL */
    const struct decoded decoded =
        instruction(plain ? KIND_MULTIPLY_LONG_ACCUMULATE : KIND_DSP_MAC, 4, sources | low | high, low | high);
    return accumulating(decoded, low | high, sources); /* SMLALxy, SMLALD, SMLSLD accumulate too */
}

/* ---------------------------------------------------------------- 32-bit: branches and control */

static struct decoded low_overhead_loop32(uint16_t hw1, uint16_t hw2)
{
    if ((hw2 & 0xF001) == 0xC001) { /* LE, LETP (back) or WLS, WLSTP (forward) */
        const bool loop_end = (hw1 & 0xF) == 0xF;
        struct decoded decoded = instruction(loop_end ? KIND_LOOP_END : KIND_BRANCH, 4,
                                             loop_end ? REG(LR) : REG(hw1 & 0xF), REG(LR));
        decoded.conditional = true;
        return decoded;
    }
    if (hw2 == 0xE801) { /* VCTP */
        return instruction(KIND_MVE_ALU, 4, REG(hw1 & 0xF), 0);
    }
    if ((hw2 & 0xF001) == 0xE001) { /* DLS, DLSTP, LCTP */
        return instruction(KIND_LOOP_SETUP, 4, (hw1 & 0xF) == 0xF ? 0 : REG(hw1 & 0xF), REG(LR));
    }
    return instruction(KIND_SYSTEM, 4, 0, 0); /* branch future hints */
}

static struct decoded branch_control32(uint16_t hw1, uint16_t hw2)
{
    const unsigned op1 = (hw2 >> 12) & 5;
    if (op1 == 0) {
        if (((hw1 >> 7) & 7) != 7) { /* B<c> */
            struct decoded decoded = instruction(KIND_BRANCH, 4, 0, 0);
            decoded.conditional = true;
            return decoded;
        }
        return unknown_registers(KIND_SYSTEM, 4); /* MSR, MRS, hints, barriers, UDF */
    }
    if (op1 == 1) { /* B */
        return instruction(KIND_BRANCH, 4, 0, 0);
    }
    if (op1 == 5) {
        return instruction(KIND_CALL, 4, 0, REG(LR));
    }
    return low_overhead_loop32(hw1, hw2);
}

/* ---------------------------------------------------------------- 32-bit: FP and MVE */

static unsigned fp_data_processing_kind(uint16_t hw1, uint16_t hw2)
{
    if ((hw1 >> 8) == 0xFE) { /* VSEL, VMAXNM, VRINT, VCVT with rounding */
        return KIND_FPU_ALU;
    }
    const unsigned opcode = (hw1 >> 4) & 0xB;
    if (opcode == 0x0 || opcode == 0x1 || opcode == 0x9 || opcode == 0xA) {
        return KIND_FPU_MAC;
    }
    const bool square_root = opcode == 0xB && (hw1 & 0xF) == 1 && ((hw2 >> 6) & 3) == 3;
    return (opcode == 0x8 || square_root) ? KIND_FPU_DIVIDE : KIND_FPU_ALU;
}

static struct decoded fp_instruction(uint16_t hw1, uint16_t hw2)
{
    const unsigned top = hw1 >> 8;
    const unsigned base = hw1 & 0xF;
    const uint16_t core = REG(hw2 >> 12);
    if ((top & 0xEE) == 0xEC) { /* extension register load/store, 64-bit transfers */
        if ((hw1 & 0xFFE0) == 0xEC20) { /* VLSTM, VLLDM */
            return unknown_registers(KIND_SYSTEM, 4);
        }
        if ((hw1 & 0x01E0) == 0x0040) { /* VMOV two core registers <-> doubleword */
            const uint16_t pair = core | REG(base);
            return (hw1 & 0x10) ? instruction(KIND_FPU_MOVE, 4, 0, pair) : instruction(KIND_FPU_MOVE, 4, pair, 0);
        }
        const bool load = (hw1 >> 4) & 1;
        if ((hw1 & 0x0120) == 0x0100) { /* VLDR, VSTR */
            return memory(load ? KIND_FPU_LOAD : KIND_FPU_STORE, 4, REG(base), 0, load);
        }
        struct decoded decoded = memory(load ? KIND_FPU_LOAD_MULTIPLE : KIND_FPU_STORE_MULTIPLE, 4, REG(base), 0,
                                        load);
        decoded.transfers = (uint8_t)(hw2 & 0xFF);
        if ((hw1 >> 5) & 1) {
            decoded.writes |= REG(base);
        }
        return decoded;
    }
    if (hw2 & 0x10) { /* transfers between core and FP/vector registers */
        if (((hw2 >> 8) & 0xF) == 0xB && (hw1 & 0x0090) == 0x0080) { /* VDUP */
            return instruction(KIND_MVE_ALU, 4, core, 0);
        }
        return (hw1 & 0x10) ? instruction(KIND_FPU_MOVE, 4, 0, core) : instruction(KIND_FPU_MOVE, 4, core, 0);
    }
    return instruction(fp_data_processing_kind(hw1, hw2), 4, 0, 0);
}

static struct decoded mve_instruction(uint16_t hw1, uint16_t hw2)
{
    const unsigned top = hw1 >> 8;
    const uint32_t word = ((uint32_t)hw1 << 16) | hw2;
    if ((top & 0xEE) == 0xEC && ((hw2 >> 8) & 0xF) >= 0xE) {
        if ((hw1 & 0x01E0) == 0) { /* VMOV two vector lanes <-> two core registers */
            return unknown_registers(KIND_MVE_ALU, 4);
        }
        const bool load = (hw1 >> 4) & 1;
        struct decoded decoded = memory(load ? KIND_MVE_LOAD : KIND_MVE_STORE, 4, REG(hw1 & 0xF), 0, load);
        if ((hw1 >> 5) & 1) {
            decoded.writes |= REG(hw1 & 0xF);
        }
        decoded.registers_known = false; /* gathers and scatters also use vector offsets */
        return decoded;
    }
    const bool multiply = !matches(MVE_NOT_MULTIPLY, sizeof MVE_NOT_MULTIPLY / sizeof *MVE_NOT_MULTIPLY, word) &&
                          matches(MVE_MULTIPLY, sizeof MVE_MULTIPLY / sizeof *MVE_MULTIPLY, word);
    return unknown_registers(multiply ? KIND_MVE_MAC : KIND_MVE_ALU, 4);
}

/* First halfword 0xEC00-0xEFFF or 0xFC00-0xFFFF: FP (coprocessors 9-11), MVE (14, 15 and the
 * Advanced-SIMD-like space 0xEF/0xFF), anything else is a custom coprocessor. */
static struct decoded coprocessor32(uint16_t hw1, uint16_t hw2)
{
    const unsigned top = hw1 >> 8;
    const unsigned coprocessor = (hw2 >> 8) & 0xF;
    if ((top & 0xEF) == 0xEF || coprocessor >= 0xE) {
        return mve_instruction(hw1, hw2);
    }
    if (coprocessor == 8 && (top & 0xFE) == 0xFC) { /* VCMLA */
        return unknown_registers(KIND_MVE_MAC, 4);
    }
    if (coprocessor >= 9 && coprocessor <= 11) {
        return fp_instruction(hw1, hw2);
    }
    return unknown_registers(KIND_OTHER, 4);
}

static struct decoded decode32(uint16_t hw1, uint16_t hw2)
{
    const unsigned op1 = (hw1 >> 11) & 3;
    const unsigned op2 = (hw1 >> 4) & 0x7F;
    if ((op2 & 0x40) && op1 != 2) {
        return coprocessor32(hw1, hw2);
    }
    if (op1 == 1) {
        if ((op2 & 0x64) == 0x00) {
            return load_store_multiple32(hw1, hw2);
        }
        if ((op2 & 0x64) == 0x04) {
            return dual_exclusive_table32(hw1, hw2);
        }
        return data_processing_shifted32(hw1, hw2);
    }
    if (op1 == 2) {
        if (hw2 & 0x8000) {
            return branch_control32(hw1, hw2);
        }
        return (hw1 & 0x0200) ? plain_immediate32(hw1, hw2) : modified_immediate32(hw1, hw2);
    }
    if ((op2 & 0x71) == 0x00) {
        return load_store_single32(hw1, hw2, false);
    }
    if ((op2 & 0x61) == 0x01 && ((op2 >> 1) & 3) != 3) {
        return load_store_single32(hw1, hw2, true);
    }
    if ((op2 & 0x70) == 0x20) {
        return data_processing_register32(hw1, hw2);
    }
    if ((op2 & 0x78) == 0x30) {
        return multiply32(hw1, hw2);
    }
    if ((op2 & 0x78) == 0x38) {
        return long_multiply_divide32(hw1, hw2);
    }
    return unknown_registers(KIND_OTHER, 4);
}

static bool writes_pc(const struct decoded *decoded)
{
    return decoded->kind == KIND_BRANCH || decoded->kind == KIND_CALL || decoded->kind == KIND_BRANCH_INDIRECT ||
           decoded->kind == KIND_BRANCH_LOAD || decoded->kind == KIND_BRANCH_TABLE;
}

struct decoded thumb_decode(const uint8_t *bytes, size_t size, bool in_it_block)
{
    const uint16_t hw1 = (uint16_t)(bytes[0] | (bytes[1] << 8));
    /* The width comes from the first halfword: QEMU may hand over more bytes than the
     * instruction has (it peeks at the next one near a page end). */
    const bool wide = (hw1 >> 11) >= 0x1D;
    struct decoded decoded;
    if (wide && size >= 4) {
        decoded = decode32(hw1, (uint16_t)(bytes[2] | (bytes[3] << 8)));
    } else if (wide) {
        decoded = unknown_registers(KIND_OTHER, 4);
    } else {
        decoded = decode16(hw1);
    }
    if (in_it_block && writes_pc(&decoded)) {
        decoded.conditional = true;
    }
    if (in_it_block && !wide) { /* 16-bit data processing sets no flags inside an IT block */
        decoded.two_cycle_flags = false;
    }
    return decoded;
}

unsigned thumb_it_length(const uint8_t *bytes, const struct decoded *decoded)
{
    if (decoded->kind != KIND_IT) {
        return 0;
    }
    const unsigned mask = bytes[0] & 0xF;
    return 4u - (unsigned)__builtin_ctz(mask);
}

/* ---------------------------------------------------------------- pipeline events */

bool thumb_kind_accesses_memory(unsigned kind)
{
    switch (kind) {
    case KIND_LOAD:
    case KIND_LOAD_DOUBLE:
    case KIND_STORE:
    case KIND_STORE_DOUBLE:
    case KIND_LOAD_MULTIPLE:
    case KIND_STORE_MULTIPLE:
    case KIND_BRANCH_LOAD:
    case KIND_BRANCH_TABLE:
    case KIND_FPU_LOAD:
    case KIND_FPU_STORE:
    case KIND_FPU_LOAD_MULTIPLE:
    case KIND_FPU_STORE_MULTIPLE:
    case KIND_MVE_LOAD:
    case KIND_MVE_STORE:
    case KIND_OTHER:
        return true;
    default:
        return false;
    }
}

static bool is_single_transfer(unsigned kind)
{
    return kind == KIND_LOAD || kind == KIND_STORE;
}

static bool is_data_processing(unsigned kind)
{
    return kind == KIND_ALU || (kind >= KIND_MULTIPLY && kind <= KIND_DSP_SIMD);
}

static bool is_mve(unsigned kind)
{
    return kind >= KIND_MVE_LOAD && kind <= KIND_MVE_ALU;
}

static bool is_mve_memory(unsigned kind)
{
    return kind == KIND_MVE_LOAD || kind == KIND_MVE_STORE;
}

/* Pairing groups of the dual-issue approximation (see mcudeploy.estimate.timings). */
enum pair_group { PAIR_NONE, PAIR_ALU, PAIR_MEMORY, PAIR_MULTIPLY, PAIR_FPU, PAIR_BRANCH };

static enum pair_group pair_group(unsigned kind)
{
    switch (kind) {
    case KIND_ALU:
    case KIND_DSP_SIMD:
        return PAIR_ALU;
    case KIND_LOAD:
    case KIND_STORE:
    case KIND_FPU_LOAD:
    case KIND_FPU_STORE:
        return PAIR_MEMORY;
    case KIND_MULTIPLY:
    case KIND_MULTIPLY_ACCUMULATE:
    case KIND_MULTIPLY_LONG:
    case KIND_MULTIPLY_LONG_ACCUMULATE:
    case KIND_DSP_MAC:
        return PAIR_MULTIPLY;
    case KIND_FPU_ALU:
    case KIND_FPU_MAC:
    case KIND_FPU_MOVE:
        return PAIR_FPU;
    case KIND_BRANCH:
        return PAIR_BRANCH;
    default:
        return PAIR_NONE;
    }
}

static bool is_dsp(unsigned kind)
{
    return kind == KIND_DSP_MAC || kind == KIND_DSP_SIMD;
}

/* Whether `second` can issue in the same cycle as `first`: different resources, no register
 * dependency, at most one shifter use, DSP only in the older slot, a branch only in the younger. */
static bool can_pair(const struct decoded *first, const struct decoded *second)
{
    const enum pair_group a = pair_group(first->kind);
    const enum pair_group b = pair_group(second->kind);
    if (a == PAIR_NONE || b == PAIR_NONE || a == PAIR_BRANCH || !first->registers_known ||
        !second->registers_known) {
        return false;
    }
    if ((a == b && a != PAIR_ALU) || is_dsp(second->kind) || (first->shifted && second->shifted)) {
        return false;
    }
    return (second->reads & first->writes) == 0 && (second->writes & first->writes) == 0;
}

static bool is_load(unsigned kind)
{
    return kind == KIND_LOAD || kind == KIND_LOAD_DOUBLE || kind == KIND_LOAD_MULTIPLE;
}

bool thumb_issues_with_branch(const struct decoded *previous, const struct decoded *branch)
{
    return branch->size == 2 && previous->size == 2 && !previous->sets_flags;
}

static bool is_store(unsigned kind)
{
    return kind == KIND_STORE || kind == KIND_STORE_DOUBLE;
}

/* A second-stage result `used` by the next instruction without a stall: as the accumulator of a
 * multiply-accumulate or extend-and-add, or a multiply-accumulate's result stored (as data). */
static bool forwarded(const struct decoded *previous, const struct decoded *current, uint16_t used,
                      bool as_accumulator)
{
    if (previous->result == RESULT_ACCUMULATE && as_accumulator) {
        return true;
    }
    return previous->mac && is_store(current->kind) && !(used & current->address);
}

void thumb_events(const struct decoded *previous, const struct decoded *current, bool *paired,
                  unsigned events[EVENT_COUNT])
{
    events[EVENT_TRANSFERS] += current->transfers;
    events[EVENT_TWO_CYCLE_FLAGS] += current->two_cycle_flags;
    if (previous != NULL && current->kind == KIND_BRANCH && !current->conditional) {
        events[EVENT_TAKEN_PAIRED] += thumb_issues_with_branch(previous, current);
    }
    const bool single = is_single_transfer(current->kind);
    if (current->kind == KIND_STORE && current->register_offset) {
        events[EVENT_STORE_REGISTER_OFFSET]++;
    }
    if (previous == NULL) {
        *paired = false;
        return;
    }
    const bool known = previous->registers_known && current->registers_known;
    const uint16_t loaded = previous->kind == KIND_LOAD ? previous->writes : 0;
    const bool costs_two = current->kind == KIND_LOAD || current->register_offset;
    if (single && costs_two && is_single_transfer(previous->kind) && known && !(current->address & loaded)) {
        events[EVENT_PIPELINED]++;
    }
    if (thumb_kind_accesses_memory(current->kind) && is_data_processing(previous->kind) && known &&
        (current->address & previous->writes)) {
        events[EVENT_ADDRESS_STALL]++;
    }
    if (current->kind == KIND_IT && previous->size == 2) {
        events[EVENT_IT_FOLDED]++;
    }
    const uint16_t used = known ? current->reads & previous->writes : 0;
    const bool as_accumulator = used != 0 && !(used & (uint16_t)~current->accumulator);
    if (used && previous->result != RESULT_FIRST && !forwarded(previous, current, used, as_accumulator)) {
        events[EVENT_RESULT_LATENCY]++;
    }
    if (is_load(previous->kind) && used && current->mac && as_accumulator) {
        events[EVENT_LOAD_TO_ACCUMULATOR]++;
    }
    if (is_load(previous->kind) && known && (current->reads & previous->writes)) {
        events[EVENT_LOAD_USE]++;
        if (is_store(current->kind) && !(current->address & previous->writes)) {
            events[EVENT_STORE_OF_LOAD]++;
        }
    }
    if (is_mve(previous->kind) && is_mve(current->kind) &&
        is_mve_memory(previous->kind) != is_mve_memory(current->kind)) {
        events[EVENT_MVE_OVERLAP]++;
    }
    const bool pair = !*paired && can_pair(previous, current);
    if (pair) {
        events[EVENT_DUAL_ISSUE]++;
    }
    *paired = pair;
}
