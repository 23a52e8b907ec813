"""The whole memory budget of a deployment: what goes in flash, what goes in RAM, and where.

Flash holds the constants exactly as the generated code stores them (`constant_layout`,
shared with the C generator; those of the layers whose variant reads them from SRAM are there too,
as the load image the C start-up copies), the code (measured from the linked ELF for the device's
core by `analysis.code_size`, or the estimate below where that cannot be done) and the
user's reserve. RAM holds the tensor arena (from
the memory plan), the variable tensors (state kept across inferences), the stack
and the user's reserve. Each item goes into one concrete
region of the device; a device fits the model when every item found a place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from mcudeploy.devices import Database, Device, MemoryRegion, RegionKind, Span, find_core
from mcudeploy.errors import McuDeployError
from mcudeploy.ir import NO_TENSOR, DType, Graph, Operator, WeightMemory
from mcudeploy.ir.options import called_subgraphs
from mcudeploy.params.constant_inputs import read_at_run_time, stored_dtype
from mcudeploy.params.requantization import requantization

DEFAULT_ALIGNMENT = 16
DEFAULT_STACK_BYTES = 8 * 1024


def align_up(value: int, alignment: int) -> int:
    return -(-value // alignment) * alignment


# ---------------------------------------------------------------- flash: constants


@dataclass(frozen=True)
class ConstantArray:
    """One array of the generated code's constant data, at `offset` in the constants block."""

    name: str
    layer: int
    """Index of the first operator that reads it (the layer it is reported under)."""
    dtype: DType
    count: int
    offset: int
    tensor: int | None = None
    """The constant tensor it holds; None for derived arrays (multipliers, shifts) and for the
    arrays of the other subgraphs (their tensors are not the main graph's)."""
    origin: tuple[int, int] = (0, 0)
    """(subgraph, index there) of what it holds: the constant tensor, or for a derived array the
    operator it belongs to (0: the main graph)."""
    kind: str | None = None
    """A derived array's kind ("multipliers", "shifts"); None for a constant tensor."""
    in_sram: bool = False
    """In the SRAM block (its layer's variant reads its weights from SRAM); `offset` is then in that block."""

    @property
    def nbytes(self) -> int:
        return self.dtype.nbytes(self.count)  # int4 packed two to a byte


@dataclass(frozen=True)
class ConstantLayout:
    arrays: tuple[ConstantArray, ...]
    alignment: int
    total_bytes: int
    """Flash of the constants: the flash block and the SRAM block's load image; every array starts on
    `alignment`, each block's end is rounded up too."""
    sram_bytes: int = 0
    """Size of the SRAM block (run image, a copy of its load image), 0 without one."""

    @property
    def flash_block_bytes(self) -> int:
        """Size of the constants read in place from flash."""
        return self.total_bytes - self.sram_bytes

    def layer_bytes(self, layer: int) -> int:
        """Flash bytes (padding included) of the arrays first read by operator `layer`."""
        return sum(align_up(a.nbytes, self.alignment) for a in self.arrays if a.layer == layer)

    def sram_layers(self) -> list[int]:
        """The layers whose arrays are in the SRAM block."""
        return sorted({a.layer for a in self.arrays if a.in_sram})


def constant_layout(graph: Graph, alignment: int = DEFAULT_ALIGNMENT, guard_bytes: int = 0) -> ConstantLayout:
    """The constant arrays the generated code stores, in the order it stores them.

    Operators in execution order; for each, its constant inputs not stored yet that its
    kernel reads at run time (`params.constant_inputs`; weights in their own type: int8
    filters, int4 ones packed two to a byte, int32 biases, ..., except filters the layer's variant
    widens to int16), then, for a quantized
    convolution or fully connected layer, its int32 output multipliers and int32 shifts,
    one per filter scale, and an int16-weight convolution's walk records
    (`mcudeploy.params.requantization`). The arrays of a layer whose
    variant reads its weights from SRAM (`ir.variants.WeightMemory`) go in a second block, the
    SRAM one, in the same order. Each array starts on
    `alignment` bytes. The C generator lays out its constants with this function, so
    flash figures here and in the linked image agree. `guard_bytes` (sanitizer builds
    only) leaves that many unused bytes after every array with elements.
    """
    arrays: list[ConstantArray] = []
    stored: dict[int, set[int]] = {number: set() for number in range(len(graph.subgraphs))}
    called: set[int] = set()
    ends = {False: 0, True: 0}  # each block's end, by `in_sram`
    for op in graph.operators:
        in_sram = op.variant is not None and op.variant.weights_in == WeightMemory.SRAM
        for number, reader in _with_called(graph, 0, op, called):
            subgraph = graph.subgraphs[number]
            for name, dtype, count, tensor, kind in _layer_constants(subgraph, reader, stored[number]):
                origin = (number, reader.index if tensor is None else tensor)
                if number:  # a called subgraph's constant, reported under the operator that calls it
                    name, tensor = f"{subgraph.name}/{name}", None
                offset = ends[in_sram]
                arrays.append(ConstantArray(name, op.index, dtype, count, offset, tensor, origin, kind, in_sram))
                ends[in_sram] = align_up(offset + dtype.nbytes(count) + (guard_bytes if count else 0), alignment)
    return ConstantLayout(tuple(arrays), alignment, ends[False] + ends[True], ends[True])


def _with_called(graph: Graph, number: int, op: Operator, called: set[int]) -> Iterator[tuple[int, Operator]]:
    """`op` (of subgraph `number`), then the operators of the subgraphs it runs (IF, WHILE,
    CALL_ONCE), depth first, each subgraph once (`called` holds those already walked)."""
    yield number, op
    for index in called_subgraphs(op.options):
        if index not in called:
            called.add(index)
            for inner in graph.subgraphs[index].operators:
                yield from _with_called(graph, index, inner, called)


def _layer_constants(
    graph: Graph, op: Operator, stored: set[int]
) -> list[tuple[str, DType, int, int | None, str | None]]:
    entries: list[tuple[str, DType, int, int | None, str | None]] = []
    for position, index in enumerate(op.inputs):
        if index == NO_TENSOR or index in stored or not graph.tensors[index].is_constant:
            continue
        if not read_at_run_time(op, position):
            continue
        stored.add(index)
        tensor = graph.tensors[index]
        entries.append((tensor.name, stored_dtype(op, position, tensor), tensor.size, index, None))
    derived = requantization(op, graph)
    if derived is not None:
        entries += [
            (f"{op.label} {kind}", DType.INT32, values.size, None, kind) for kind, values in derived.arrays.items()
        ]
    return entries


# ---------------------------------------------------------------- flash: code (estimate, when not measured)

KERNEL_CODE_BYTES: dict[str, int] = {
    "CONV_2D": 4096,
    "DEPTHWISE_CONV_2D": 3072,
    "TRANSPOSE_CONV": 3072,
    "FULLY_CONNECTED": 1536,
    "BATCH_MATMUL": 3584,  # the DSP path's four operand layouts: 3428 B at -Os for the Cortex-M4
    "AVERAGE_POOL_2D": 1024,
    "MAX_POOL_2D": 768,
    "ADD": 1024,
    "SUB": 1024,
    "MUL": 1024,
    "SOFTMAX": 1536,
    "LOGISTIC": 1024,
    "TANH": 1024,
    "QUANTIZE": 512,
    "DEQUANTIZE": 512,
    "CONCATENATION": 512,
    "PAD": 512,
    "MEAN": 1024,
    "RESHAPE": 64,
    "SQUEEZE": 64,
    "EXPAND_DIMS": 64,
}
"""ESTIMATE of the Thumb-2 code (-Os) of our int8 kernel for each operator, bytes.

Sized after CMSIS-NN-style kernels with their fast paths (e.g. 1x1 and 3x3 convolution).
Used only where the code cannot be measured: cores without an emulation target (M0+, M85)
or machines without arm-none-eabi-gcc.
"""
DEFAULT_KERNEL_CODE_BYTES = 1024
"""ESTIMATE for an operator the table does not list."""
RUNTIME_CODE_BYTES = 2048
"""ESTIMATE of the code every model links: start-up glue, arena set-up, shared fixed-point helpers."""
LAYER_CALL_CODE_BYTES = 48
"""ESTIMATE of the generated code that calls one layer (argument set-up and the call)."""


@dataclass(frozen=True)
class CodeEstimate:
    kernels: dict[str, int]
    """Code bytes per operator type used (each kernel linked once)."""
    runtime: int
    layer_calls: int
    measured_on: str | None = None
    """The core whose linked ELF the figure was measured from; None for the table estimate."""
    hot_bytes: int | None = None
    """The hot code `--code-section` copies to ITCM/SRAM: the linked `.mdnn_fast_code` section where
    measured so; None: the whole figure stands for it (the table estimate)."""

    @property
    def run_bytes(self) -> int:
        """The run image of the hot code in ITCM/SRAM (its load image stays in flash, in `total`)."""
        return self.hot_bytes if self.hot_bytes is not None else self.total

    @property
    def total(self) -> int:
        return sum(self.kernels.values()) + self.runtime + self.layer_calls

    @property
    def label(self) -> str:
        return MEASURED_CODE if self.measured_on else CODE


def code_estimate(graph: Graph) -> CodeEstimate:
    operators = [op for subgraph in graph.subgraphs for op in subgraph.operators]
    used = Counter(op.op_type for op in operators)
    return CodeEstimate(
        kernels={op_type: KERNEL_CODE_BYTES.get(op_type, DEFAULT_KERNEL_CODE_BYTES) for op_type in used},
        runtime=RUNTIME_CODE_BYTES,
        layer_calls=LAYER_CALL_CODE_BYTES * len(operators),
    )


# ---------------------------------------------------------------- placement


class Memory(StrEnum):
    FLASH = "flash"
    RAM = "ram"


class CodeSection(StrEnum):
    """Where the hot code (kernel library and layers) runs: in place from flash, or copied at start-up."""

    FLASH = "flash"
    ITCM = "itcm"
    RAM = "ram"


class Preference(StrEnum):
    TCM = "tcm"
    """Data the core works on: DTCM first on cores with a data cache (zero wait states, no cache jitter)."""
    GENERAL = "general"
    """Buffers peripherals and DMA may reach: general SRAM before TCM."""
    ON_CHIP = "on-chip"
    """Flash contents: on-chip flash before off-chip flash."""
    ITCM = "itcm"
    """Code run from the instruction TCM: there only."""
    CODE_SRAM = "code-sram"
    """Code run from RAM: on-chip general SRAM only (a DTCM does not execute on Cortex-M7/M55); first an
    SRAM with a code alias (`MemoryRegion.code_alias`, e.g. the STM32L4's SRAM2), fetched there over
    I-Code/D-Code instead of the System bus, where the code fits it whole."""


@dataclass(frozen=True)
class BudgetItem:
    name: str
    size: int
    memory: Memory
    preference: Preference


@dataclass(frozen=True)
class BudgetRequest:
    """What a model needs, independent of the device (so any device can be tried)."""

    items: tuple[BudgetItem, ...]

    def total(self, memory: Memory) -> int:
        return sum(item.size for item in self.items if item.memory == memory)


ARENA = "tensor arena"
STATE = "variable tensors (state)"
STACK = "stack"
RAM_RESERVE = "RAM reserve"
WEIGHTS = "weights and constants"
CODE = "kernel code (estimate)"
MEASURED_CODE = "kernel code (measured)"
RUN_CODE = "kernel code (run image)"
"""The hot code's copy in ITCM/SRAM (`--code-section`); its load image stays in flash in the code item."""
SRAM_WEIGHTS = "weights in SRAM (run image)"
"""The constants of the layers that read them from SRAM; their load image stays in flash in the weights item."""
FLASH_RESERVE = "flash reserve"


def budget_request(
    arena_bytes: int,
    constants: ConstantLayout,
    code: CodeEstimate,
    stack_bytes: int = DEFAULT_STACK_BYTES,
    reserve_ram: int = 0,
    reserve_flash: int = 0,
    state_bytes: int = 0,
    code_section: CodeSection = CodeSection.FLASH,
) -> BudgetRequest:
    """The items to place, in placement order (RAM: arena first so it gets the fastest memory); with
    `code_section` itcm or ram the hot code twice: its load image in flash, its run image there; the
    constants' SRAM block twice too (in the weights' flash, and in RAM after everything else of RAM)."""
    run_preference = {CodeSection.ITCM: Preference.ITCM, CodeSection.RAM: Preference.CODE_SRAM}.get(code_section)
    items = (
        BudgetItem(ARENA, arena_bytes, Memory.RAM, Preference.TCM),
        BudgetItem(STATE, state_bytes, Memory.RAM, Preference.TCM),
        BudgetItem(STACK, stack_bytes, Memory.RAM, Preference.TCM),
        BudgetItem(RAM_RESERVE, reserve_ram, Memory.RAM, Preference.GENERAL),
        *((BudgetItem(RUN_CODE, code.run_bytes, Memory.RAM, run_preference),) if run_preference else ()),
        BudgetItem(SRAM_WEIGHTS, constants.sram_bytes, Memory.RAM, Preference.TCM),
        BudgetItem(WEIGHTS, constants.total_bytes, Memory.FLASH, Preference.ON_CHIP),
        BudgetItem(code.label, code.total, Memory.FLASH, Preference.ON_CHIP),
        BudgetItem(FLASH_RESERVE, reserve_flash, Memory.FLASH, Preference.ON_CHIP),
    )
    return BudgetRequest(tuple(item for item in items if item.size > 0))


@dataclass
class SpanUse:
    span: Span
    items: list[BudgetItem] = field(default_factory=list)
    pinned: dict[str, MemoryRegion] = field(default_factory=dict)
    """Items held in one region of the span (by name): code run through that region's code alias. They
    count against the span's bytes like the others: the span's room for the rest shrinks by theirs."""

    @property
    def used(self) -> int:
        return sum(item.size for item in self.items)

    @property
    def free(self) -> int:
        return self.span.size - self.used


@dataclass(frozen=True)
class Shortfall:
    """An item no region could hold."""

    item: BudgetItem
    best_region: str | None
    """The eligible region with the most room left, None if the device has none of that memory."""
    room: int

    @property
    def over_by(self) -> int:
        return self.item.size - self.room


@dataclass(frozen=True)
class MemoryBudget:
    device: Device
    request: BudgetRequest
    uses: tuple[SpanUse, ...]
    shortfalls: tuple[Shortfall, ...]

    @property
    def fits(self) -> bool:
        return not self.shortfalls

    @property
    def flash_bytes(self) -> int:
        return self.request.total(Memory.FLASH)

    @property
    def ram_bytes(self) -> int:
        return self.request.total(Memory.RAM)

    def region_of(self, item_name: str) -> MemoryRegion | None:
        """The one region of its span the item was pinned to (code run through a code alias), else None."""
        return next((use.pinned[item_name] for use in self.uses if item_name in use.pinned), None)

    def external_room(self) -> list[Span]:
        """Off-chip RAM that could hold a RAM item that found no place (never used on its own)."""
        missing = [s.item.size for s in self.shortfalls if s.item.memory == Memory.RAM]
        if not missing:
            return []
        return [use.span for use in self.uses if use.span.kind == RegionKind.EXTERNAL and use.free >= max(missing)]


def memory_budget(request: BudgetRequest, device: Device) -> MemoryBudget:
    """Place every item into one region (span) of the device; record those that find none."""
    uses = tuple(SpanUse(span) for span in device.spans())
    shortfalls: list[Shortfall] = []
    for item in request.items:
        if item.preference == Preference.CODE_SRAM and _pin_to_code_alias(item, uses):
            continue
        eligible = [use for use in uses if _eligible(item, use.span)]
        roomy = [use for use in eligible if use.free >= item.size]
        if roomy:
            min(roomy, key=lambda use: _rank(item, use, device)).items.append(item)
            continue
        best = max(eligible, key=lambda use: use.free, default=None)
        shortfalls.append(Shortfall(item, best.span.name if best else None, best.free if best else 0))
    return MemoryBudget(device, request, uses, tuple(shortfalls))


def _pin_to_code_alias(item: BudgetItem, uses: tuple[SpanUse, ...]) -> bool:
    """Place `item` in the first SRAM with a code alias it fits whole, beside what that region holds
    already and within its span's room; False where none holds it."""
    for use in uses:
        for region in use.span.regions:
            taken = sum(other.size for other in use.items if use.pinned.get(other.name) == region)
            if region.code_alias is not None and region.size - taken >= item.size and use.free >= item.size:
                use.items.append(item)
                use.pinned[item.name] = region
                return True
    return False


def fitting_devices(request: BudgetRequest, database: Database) -> list[Device]:
    """Parts of the database that would hold the request, smallest RAM (then flash) first."""
    devices = [database.device(part) for part in database.parts]
    fitting = [device for device in devices if memory_budget(request, device).fits]
    return sorted(fitting, key=lambda d: (d.internal_ram_bytes(), d.flash_bytes(), d.name))


def check_code_section(device: Device, code_section: CodeSection | None) -> None:
    """One clear error for code asked into an ITCM the device does not have."""
    if code_section == CodeSection.ITCM and not any(span.kind == RegionKind.ITCM for span in device.spans()):
        raise McuDeployError(
            "--code-section itcm", f"{device.name} has no ITCM: its code runs from flash or SRAM (--code-section ram)"
        )


def _eligible(item: BudgetItem, span: Span) -> bool:
    if item.preference == Preference.ITCM:
        return span.kind == RegionKind.ITCM
    if item.preference == Preference.CODE_SRAM:
        return span.kind == RegionKind.SRAM and not span.off_chip
    if item.memory == Memory.FLASH:
        return span.kind == RegionKind.FLASH
    # Never silently in external RAM, never in ITCM: on-chip data memory only.
    return span.kind in (RegionKind.SRAM, RegionKind.DTCM)


def _rank(item: BudgetItem, use: SpanUse, device: Device) -> tuple[int, int]:
    """Lower is better: the preferred kind of memory first, then the region with the most room."""
    tcm = use.span.kind == RegionKind.DTCM
    if item.preference == Preference.TCM:
        first = 0 if tcm and find_core(device.core).data_cache else 1
    elif item.preference == Preference.GENERAL:
        first = int(tcm)
    else:
        first = int(use.span.off_chip)
    return first, -use.free
