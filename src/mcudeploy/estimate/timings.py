"""Instruction timings of each Cortex-M core, from its Technical Reference Manual or, for the
Cortex-M33, published measurements of its silicon.

Each core prices the instruction kinds our QEMU plugin decodes (cycles per execution, at
zero wait states) and the pipeline events it detects (cycles added, or saved when
negative). Figures come from the table each `CoreTiming.source` names; where a manual
gives a range (`P`, the pipeline refill, is 1 to 3 cycles; SDIV 2 to 12) we take the value
named in `approximations`, never a figure fitted to measurements. Where a manual publishes
no table (Cortex-M7, M55) the timing is an approximation, said so in `approximations`; the
Cortex-M33's figures come from published measurements of M33 silicon (`M33_SOURCES`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mcudeploy.devices import Core, find_core
from mcudeploy.errors import McuDeployError

REFILL_M3_M4 = 2
"""P, the pipeline refill after a taken branch: "1 to 3 depending on the alignment and width of the
target instruction, and whether the processor manages to speculate the address early" (Cortex-M3/M4
TRM, Table 3-1 notes). Middle of that range: targets are not always aligned, nor speculated."""

DIVIDE_M3_M4 = 7
"""SDIV/UDIV take 2 to 12 cycles, terminating early on small quotients (TRM Table 3-1): the middle."""

REFILL_M7 = 4
"""Cortex-M7 approximation: six-stage pipeline, branches resolved late; a mispredicted or
unpredicted (indirect) branch refills about four stages."""

MVE_BEATS_M55 = 2
"""Cortex-M55 is a dual-beat MVE implementation: a 128-bit vector instruction takes two cycles."""


@dataclass(frozen=True)
class CoreTiming:
    core: Core
    source: str
    """The manual and table the figures come from."""
    kind_cycles: Mapping[str, float]
    event_cycles: Mapping[str, float]
    int8_macs_per_cycle: float
    """Peak int8 multiply-accumulates per cycle of the fastest MAC instruction."""
    peak_source: str
    approximations: tuple[str, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        return self.core.title

    def cycles_of(self, kind: str) -> float:
        if kind not in self.kind_cycles:
            raise McuDeployError(kind, f"{self.title} has no timing for this instruction kind")
        return self.kind_cycles[kind]


def _frozen(values: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(values))


def _armv7m_kinds(
    refill: float, multiply_accumulate: float, multiply_long: float, multiply_long_accumulate: float
) -> dict[str, float]:
    """Cortex-M3/M4 Table 3-1 pattern: loads 2, stores 1 (a store completes while the next
    instruction runs), multiple transfers 1+N (N added by the `transfers` event), branches 1+P."""
    return {
        "alu": 1, "it": 1, "loop_setup": 1,
        "load": 2, "load_double": 1, "store": 1, "store_double": 1,
        "load_multiple": 1, "store_multiple": 1,
        "multiply": 1, "multiply_accumulate": multiply_accumulate,
        "multiply_long": multiply_long, "multiply_long_accumulate": multiply_long_accumulate,
        "dsp_mac": 1, "dsp_simd": 1, "divide": DIVIDE_M3_M4,
        "branch": 1 + refill, "call": 1 + refill, "branch_indirect": 1 + refill, "branch_load": 1 + refill,
        "branch_table": 2 + refill, "branch_untaken": 1, "loop_end": 1 + refill,
        # Cortex-M4 TRM r0p1, Table 7-1 (FPU instruction set): VMLA/VFMA 3, VDIV/VSQRT 14, VLDR 2, VSTR 2.
        "fpu_alu": 1, "fpu_mac": 3, "fpu_divide": 14, "fpu_load": 2, "fpu_store": 2,
        "fpu_load_multiple": 1, "fpu_store_multiple": 1, "fpu_move": 1,
        "mve_load": 1, "mve_store": 1, "mve_mac": 1, "mve_alu": 1,
        "system": 1, "other": 1,
    }  # fmt: skip


ARMV7M_EVENTS = {
    "transfers": 1,  # the N of 1+N
    "pipelined": -1,  # §3.3.2: "one cycle is removed from the cost of the next instruction"
    "store_register_offset": 1,  # Table 3-1: STR 2; only STR Rx,[Ry,#imm] is "always one cycle"
    "address_stall": 1,  # §3.3.2: an address computed by the previous data-processing instruction
    "it_folded": -1,  # "IT instructions can be folded onto a preceding 16-bit Thumb instruction"
    "dual_issue": 0, "load_use": 0, "mve_overlap": 0, "mispredict": 0,
    # §3.3.2: a byte-aligned halfword or a halfword-aligned word takes one extra cycle (two transfers),
    # a byte-aligned word two (a byte, a halfword and a byte).
    "unaligned_split_2": 1, "unaligned_split_3": 2,
    # Cortex-M33 measurements; on the M3/M4 a store waits for its loaded data like any use (`pipelined` is
    # the TRM's rule) and the target's width and alignment are inside P.
    "store_of_load": 0, "untaken_paired": 0, "unaligned_wide_target": 0,
    # Cortex-M33 measurements of two-stage results and fetch; the M3/M4 TRM's table has none of them.
    "result_latency": 0, "load_to_accumulator": 0, "two_cycle_flags": 0, "unaligned_wide_run": 0,
    "taken_paired": 0,
}  # fmt: skip

UNALIGNED_M3_M4 = (
    "unaligned LDR/STR/LDRH/STRH: +1 cycle for a byte-aligned halfword or a halfword-aligned word (two "
    "aligned transfers), +2 for a byte-aligned word (three), as the load/store timing notes state"
)
UNALIGNED_M7 = (
    "unaligned LDR/STR/LDRH/STRH: +1 cycle whatever the offset; the Cortex-M7 TRM (DDI 0489, §2.4.2) only "
    "says they become two or more aligned accesses inside the core and gives no cycle count"
)
UNALIGNED_EVENTS_M7 = {"unaligned_split_2": 1, "unaligned_split_3": 1}

CORTEX_M4 = CoreTiming(
    core=find_core("cortex-m4"),
    source="Arm Cortex-M4 Processor Technical Reference Manual r0p1 (DDI 0439), §3.3.1 Table 3-1 "
    "'Processor instruction set summary', §3.3.2 'Load/store timings'; §7.2.3 Table 7-1 (FPU)",
    kind_cycles=_frozen(_armv7m_kinds(REFILL_M3_M4, 1, 1, 1)),
    event_cycles=_frozen(ARMV7M_EVENTS),
    int8_macs_per_cycle=2,
    peak_source="SMLAD: two 16x16 multiply-accumulates in 1 cycle (Table 3-1)",
    approximations=(
        f"P (pipeline refill) = {REFILL_M3_M4} cycles, the middle of the manual's 1-3",
        f"SDIV/UDIV = {DIVIDE_M3_M4} cycles, the middle of the manual's 2-12 (early termination not modelled)",
        "conditional instructions that fail their condition cost as if executed",
        UNALIGNED_M3_M4,
    ),
)

CORTEX_M3 = CoreTiming(
    core=find_core("cortex-m3"),
    source="Arm Cortex-M3 Technical Reference Manual r2p1 (DDI 0337), §3.3 Table 3-1 "
    "'Cortex-M3 instruction set summary' and its load/store timing notes",
    kind_cycles=_frozen(_armv7m_kinds(REFILL_M3_M4, 2, 4, 5.5)),
    event_cycles=_frozen(ARMV7M_EVENTS),
    int8_macs_per_cycle=0.5,
    peak_source="MLA: one multiply-accumulate in 2 cycles (Table 3-1); no SIMD MAC",
    approximations=(
        f"P (pipeline refill) = {REFILL_M3_M4} cycles, the middle of the manual's 1-3",
        f"SDIV/UDIV = {DIVIDE_M3_M4}, UMULL/SMULL = 4 (3-5), UMLAL/SMLAL = 5.5 (4-7): middles of the "
        "manual's data-dependent ranges",
        UNALIGNED_M3_M4,
    ),
)

REFILL_M33 = 1
"""Cortex-M33 taken branch: 2 cycles (1 + a refill of 1), measured on hardware by both M33 sources below
(compendium: "branches that are taken take two cycles"; jnk0le: `bne` "2 cycles taken"). The M33 resolves
branches in its second pipeline stage (elektroniknet), not in the third as the M3/M4."""

M33_SOURCES = (
    "Arm's Cortex-M33 TRM (100230) publishes no cycle table; figures measured on M33 silicon: jnk0le, "
    "'pipeline cycle test/doc/cortex_m33.md' (RP2350, cm33 r1p0; https://github.com/jnk0le/random) and the "
    "Cortex-M33 compendium (https://compendium.i-0.nl/docs/control-flow/branch_timing, "
    "/docs/instruction-alignment/rules, /docs/data-operations/load; code in flash, data in SRAM2); pipeline: "
    "elektroniknet.de 'Cortex-M23 und M33 sind erste ARMv8-M-CPUs' p. 3 (address generation in stage 2, "
    "dual issue of 16-bit Thumb and branch instructions)"
)

_M33_KINDS = {
    **_armv7m_kinds(REFILL_M33, 1, 1, 1),
    # jnk0le: IT "can dual issue with preceding instruction", whatever it is: no cycle of its own.
    "it": 0,
    # elektroniknet: the address is generated in stage 2, so a load issues in 1 cycle (not 2 as on the
    # M3/M4); jnk0le: "load to use latency is 2 cycles" (the `load_use` event adds the stall).
    "load": 1,
    # jnk0le: LDRD/STRD "execute in 2 cycles", LDM/STM of x registers "in exactly x cycles" (both also for
    # the FPU's VLDR.64/VSTR.64 and VLDM/VSTM); `transfers` adds 1 per word moved.
    "load_double": 0, "store_double": 0, "load_multiple": 0, "store_multiple": 0,
    "fpu_load_multiple": 0, "fpu_store_multiple": 0,
    # POP {.., pc}: its x words as an LDM, then the taken-branch refill.
    "branch_load": REFILL_M33,
    # jnk0le: "vldr.32 has 1 cycle of load to use latency".
    "fpu_load": 1,
}  # fmt: skip

CORTEX_M33 = CoreTiming(
    core=find_core("cortex-m33"),
    source=M33_SOURCES,
    kind_cycles=_frozen(_M33_KINDS),
    event_cycles=_frozen(
        {
            **ARMV7M_EVENTS,
            "pipelined": 0,  # loads are single-cycle already: nothing to remove
            "it_folded": 0,  # IT is free after any instruction (its kind costs 0)
            "load_use": 1,  # jnk0le: "load to use latency is 2 cycles"
            "store_of_load": -1,  # jnk0le: "load to store latency is 1 cycle": no load-use stall
            "untaken_paired": -1,  # jnk0le: an untaken 16-bit branch dual-issues after a 16-bit instruction
            "unaligned_wide_target": 1,  # compendium: "branching to an unaligned wide instruction takes three cycles"
            # jnk0le: multiply-accumulates, extend-and-adds, shifted-operand and DSP SIMD operations have a
            # result latency of 2; the accumulator of a multiply-accumulate or extend-and-add takes the first
            # three at once, and a store takes a multiply-accumulate's result at once.
            "result_latency": 1,
            "load_to_accumulator": -1,  # jnk0le: a loaded accumulator is consumed in 1 cycle: no load-use stall
            "two_cycle_flags": 1,  # jnk0le: MULS.N and flag-setting shifted-constant operations take 2 cycles
            "unaligned_wide_run": 1,  # compendium: groups of three or more unaligned wide instructions, +1
            "taken_paired": -1,  # jnk0le: a taken 16-bit branch after a 16-bit flag-less instruction: 1 cycle
        }
    ),
    int8_macs_per_cycle=2,
    peak_source="SMLAD: two 16x16 multiply-accumulates per cycle (DSP extension)",
    approximations=(
        "Cortex-M4 TRM figures where no M33 source gives one: SDIV/UDIV "
        f"{DIVIDE_M3_M4}, +1 for a register-offset store and for an address the previous data-processing "
        "instruction computed, FP arithmetic (VMLA/VFMA 3, VDIV/VSQRT 14), VSTR 2, and "
        f"{UNALIGNED_M3_M4}",
        f"every taken branch (BL, BX, POP {{pc}} too) costs the refill measured for B/Bcc, {REFILL_M33} cycle",
        "a second-stage result (latency 2) delays only the instruction right after it, by 1; a run of "
        "unaligned 32-bit instructions costs 1 cycle (a run mixing memory and other instructions can cost "
        "more: would add) and ends at a taken branch",
        "result latency 1 where no source measures it, each would add a cycle if 2: multiplies without "
        "accumulate (MUL, SMULxy, SMUAD, SMMUL, SMULL), extends without add (SXTB, UXTH), SSAT/USAT, "
        "bit-field extracts, MOV/MVN with a shift or a rotated constant",
        "not modelled, each would add cycles: flags of a shifted-register operation read by the next "
        "instruction (a cycle later), loads with writeback in a run of loads (the compendium gives no count)",
        "not modelled, each would save a cycle: BX issued with the 16-bit instruction before it, a NOP paired "
        "with its neighbour, a taken branch after a 16-bit instruction inside an IT block (taken as setting "
        "flags), a store right after the extend-and-add, shifted-operand or DSP SIMD result it stores "
        "(counted as a stall: only a multiply-accumulate's result is measured to store at once)",
    ),
)

_M0PLUS_KINDS = {
    # Cortex-M0+ TRM Table 3.1: two-stage pipeline, every taken branch 2 cycles (BL 3), loads and stores 2.
    "alu": 1, "load": 2, "store": 2, "load_multiple": 1, "store_multiple": 1, "multiply": 1,
    "branch": 2, "call": 3, "branch_indirect": 2, "branch_load": 3, "branch_untaken": 1, "system": 1,
}  # fmt: skip

CORTEX_M0PLUS = CoreTiming(
    core=find_core("cortex-m0+"),
    source="Arm Cortex-M0+ Technical Reference Manual r0p1 (DDI 0484C), §3.3 Table 3.1 "
    "'Cortex-M0+ instruction summary'",
    kind_cycles=_frozen({kind: _M0PLUS_KINDS.get(kind, 1) for kind in _armv7m_kinds(0, 1, 1, 1)}),
    event_cycles=_frozen({event: (1 if event == "transfers" else 0) for event in ARMV7M_EVENTS}),
    int8_macs_per_cycle=0.5,
    peak_source="MULS then ADDS: one multiply-accumulate per 2 cycles (single-cycle multiplier)",
    approximations=(
        "the code is compiled for Armv6-M (-mcpu=cortex-m0plus) and run on the Cortex-M3 machine "
        "(mps2-an385): the instruction stream is the M0+'s own; unaligned accesses would not fault there",
        "MULS = 1 cycle: the fast-multiplier configuration (the small one takes 32)",
    ),
)

_M7_KINDS = {
    **_armv7m_kinds(REFILL_M7, 1, 1, 1),
    # Single-cycle issue for loads and stores; the 64-bit load/store unit moves two words per cycle
    # (`transfers` adds 0.5 per word: LDRD/STRD 1 cycle, LDM of N words 1 + N/2).
    "load": 1, "load_double": 0, "store": 1, "store_double": 0,
    "branch": 1, "call": 1, "loop_end": 1,
    "fpu_mac": 1, "fpu_load": 1, "fpu_store": 1,
}  # fmt: skip

CORTEX_M7 = CoreTiming(
    core=find_core("cortex-m7"),
    source="Arm Cortex-M7 Processor Technical Reference Manual (DDI 0489) describes a six-stage dual-issue "
    "pipeline with branch prediction but publishes no instruction cycle table: timings are approximated",
    kind_cycles=_frozen(_M7_KINDS),
    event_cycles=_frozen(
        {
            **ARMV7M_EVENTS,
            "transfers": 0.5,
            "pipelined": 0,
            "store_register_offset": 0,
            "address_stall": 0,
            "dual_issue": -1,
            "load_use": 1,
            "mispredict": REFILL_M7,
            **UNALIGNED_EVENTS_M7,
        }
    ),
    int8_macs_per_cycle=2,
    peak_source="SMLAD: two 16x16 multiply-accumulates per cycle (one MAC pipeline)",
    approximations=(
        "dual issue: an instruction pairs with the one before it (not already paired) when they use "
        "different resources (ALU, load/store, multiplier, FPU; at most one shifted operand; DSP only in the "
        "older slot, a direct branch only in the younger) and the younger does not use the older's result",
        "direct branches cost 1 cycle when 2-bit counters indexed by address (4096) predict them, "
        f"{1 + REFILL_M7} when not; indirect branches always {1 + REFILL_M7}",
        "loads: 1 cycle plus 1 when the next instruction uses the loaded register; FP multiply-accumulate "
        "pipelined at 1 per cycle (its latency is not modelled)",
        f"SDIV/UDIV = {DIVIDE_M3_M4} cycles",
        UNALIGNED_M7,
    ),
)

_M55_KINDS = {
    **_armv7m_kinds(REFILL_M3_M4, 1, 1, 1),
    "mve_load": MVE_BEATS_M55, "mve_store": MVE_BEATS_M55, "mve_mac": MVE_BEATS_M55, "mve_alu": MVE_BEATS_M55,
    # Low-overhead loops: the loop end is a branch the core knows in advance, no refill.
    "loop_end": 1,
    "fpu_mac": 1,
}  # fmt: skip

CORTEX_M55 = CoreTiming(
    core=find_core("cortex-m55"),
    source="Arm Cortex-M55 Processor Technical Reference Manual (101051): a dual-beat MVE implementation "
    "(two of a vector instruction's four beats per cycle); Armv8.1-M Architecture Reference Manual (DDI 0553), "
    "beat-wise execution and overlap of consecutive vector instructions. No scalar cycle table is published: "
    "Cortex-M4 TRM r0p1 Table 3-1 timings are used for scalar code",
    kind_cycles=_frozen(_M55_KINDS),
    event_cycles=_frozen({**ARMV7M_EVENTS, "mve_overlap": -1, **UNALIGNED_EVENTS_M7}),
    int8_macs_per_cycle=8,
    peak_source="VMLADAVA.S8: 16 multiply-accumulates per instruction in two beats (dual-beat MVE)",
    approximations=(
        "scalar instructions timed as on the Cortex-M4",
        f"every MVE instruction {MVE_BEATS_M55} cycles; one cycle saved when it follows an MVE instruction of "
        "the other group (memory / arithmetic), whose beats it overlaps",
        "LE (low-overhead loop end) taken costs 1 cycle: no pipeline refill",
        f"{UNALIGNED_M7}; taken as the Cortex-M7's for the M55 (its manual gives no unaligned-access timing)",
    ),
)

CORE_TIMINGS: dict[str, CoreTiming] = {
    timing.core.name: timing for timing in (CORTEX_M0PLUS, CORTEX_M3, CORTEX_M4, CORTEX_M7, CORTEX_M33, CORTEX_M55)
}


def core_timing(core: str) -> CoreTiming:
    """The timing of a device-database core name (cortex-m0+ ... cortex-m55)."""
    if core not in CORE_TIMINGS:
        known = ", ".join(CORE_TIMINGS)
        raise McuDeployError(core, f"no cycle model for this core yet (modelled: {known})")
    return CORE_TIMINGS[core]
