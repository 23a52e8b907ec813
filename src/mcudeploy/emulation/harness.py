"""The one build-and-run harness: a generated network in a C program, built for a target, run on inputs.

validate, estimate, the code-size measurement and the tests build and run generated code
through it. The same `main` builds for the host and for every emulated core (through the
emulation runtime's `mcu_host.h`): it reads `input_<i>.bin` straight into the arena's input
buffers, brackets the inference with instruction-count marks and writes `output_<i>.bin`.
With `steps` it runs that many inferences after one `init`, as an application calling the
network again and again does (recurrent and stateful models carry their state over), each on
the files of its own folder `step_<k>/`. With `dump` the network's layer hook writes every
layer's output to `tensor_<index>.bin`, so a divergence can be located; with `paint_stack` it
measures the inference's stack. With red
zones (sanitizer builds, `emulation.guards`) it poisons the arena's and the weights block's
unused bytes after `init`, so AddressSanitizer reports any access to them; it then compiles
as one translation unit with `network.c`, whose weights block it must name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mcudeploy.codegen import GeneratedCode, generate
from mcudeploy.codegen.cformat import identifier
from mcudeploy.emulation.elf import ElfImage
from mcudeploy.emulation.guards import RedZones
from mcudeploy.emulation.linker import DEFAULT_ARENA_SECTION, DEFAULT_STACK_SIZE
from mcudeploy.emulation.plugin import InstructionCounting
from mcudeploy.emulation.qemu import ProgramRun, run_elf
from mcudeploy.emulation.stack_usage import CALL_GRAPH_FLAGS
from mcudeploy.emulation.targets import Target
from mcudeploy.emulation.toolchain import Defines, build
from mcudeploy.errors import McuDeployError
from mcudeploy.ir import Graph, Tensor
from mcudeploy.ir.shapes import graph_can_wait
from mcudeploy.memory.plan import MemoryPlan

PREFIX = "net"
ARENA_SECTION = DEFAULT_ARENA_SECTION
RUN_TIMEOUT_S = 600.0
MARK_OVERHEAD = 3
"""Instructions between two count marks that are not the inference: the first mark's return,
the call into the network and the call to the second mark."""

HOOK_FUNCTION = "harness_layer_hook"
DUMP_DEFINE = "HARNESS_DUMP_LAYERS"
STACK_PAINT_DEFINE = "HARNESS_STACK_PAINT"
STACK_USED_FILE = "stack_used.bin"
STACK_LIMIT_DEFINE = "HARNESS_STACK_LIMIT"
"""Armv8-M only: bytes below main's stack pointer the core's MSPLIM allows (a deeper push faults)."""
STACK_LAYERS_FILE = "stack_layers.bin"
"""Paint mode: one little-endian uint32 per operator, the stack its layer used (0: no hook call)."""
STACK_HOOK_FUNCTION = "harness_stack_hook"
STATUS_STEM = "status"
STATUS_FILE = f"{STATUS_STEM}.bin"
"""Models that can wait for frames (CIRCULAR_BUFFER): two little-endian int32 per inference, its
status and the layer that ended it waiting (-1: none)."""
STEPS_DEFINE = "HARNESS_STEPS"
"""Inferences after one init (1 unless defined), each reading and writing the files of `step_<k>/`."""
REPEAT_DEFINE = "HARNESS_REPEAT"
"""Two inferences, each between its own count marks: the first from reset (cold caches), then steady state."""
STACK_PAINT = 0x5AC3A55C
"""A word no kernel is likely to leave on the stack: where it survives, the stack was not reached."""

# Exit codes of the harness itself (the network's own errors are negative and reported as 10 + |code|).
EXIT_INIT_FAILED = 2
EXIT_BAD_INPUT_FILE = 3
EXIT_WRITE_FAILED = 5
EXIT_NETWORK_ERROR_BASE = 10

_FILE_NAMES = """\
#ifndef {steps}
#define {steps} 1
#endif
static int harness_step;

/* Writes the decimal digits of `value` at `at`; returns the end. */
static char *harness_append_number(char *at, unsigned value)
{{
    char digits[12];
    int count = 0;
    do {{
        digits[count++] = (char)('0' + value % 10u);
        value /= 10u;
    }} while (value != 0u);
    while (count > 0) {{
        *at++ = digits[--count];
    }}
    return at;
}}

/* `stem`, `number` (unless negative) and ".bin", in the current step's folder step_<k>/ when the
 * program runs several inferences. */
static const char *harness_path(const char *stem, int number)
{{
    static char path[64];
    char *at = path;
    if ({steps} > 1) {{
        const char *folder = "step_";
        while (*folder) {{
            *at++ = *folder++;
        }}
        at = harness_append_number(at, (unsigned)harness_step);
        *at++ = '/';
    }}
    while (*stem) {{
        *at++ = *stem++;
    }}
    if (number >= 0) {{
        at = harness_append_number(at, (unsigned)number);
    }}
    *at++ = '.';
    *at++ = 'b';
    *at++ = 'i';
    *at++ = 'n';
    *at = '\\0';
    return path;
}}
"""

_DUMP_HOOK = """\
#ifdef {dump}
/* Writes one layer's output tensor to tensor_<index>.bin. */
void {hook}(int layer, int tensor, const void *data, uint32_t bytes)
{{
    (void)layer;
    (void)mcu_host_write_file(harness_path("tensor_", tensor), data, bytes);
}}
#endif
"""

_STACK_PAINT = """\
#ifdef {define}
/* Stack painting (emulated cores only): every word between the linker's stack limit and main's stack
 * pointer is painted before the inference; the deepest word not holding the paint afterwards is the
 * high-water mark. Volatile stores: a compiler turning the loop into a memset call would paint over
 * memset's own frame. */
extern uint32_t __stack_limit[];

static inline __attribute__((always_inline)) uint32_t *harness_stack_pointer(void)
{{
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}}

/* Inline: a called painter would paint over its own saved registers. */
static inline __attribute__((always_inline)) void harness_paint_stack(uint32_t *top)
{{
    volatile uint32_t *word = __stack_limit;
    while (word < top) {{
        *word++ = {paint:#x}u;
    }}
}}

static inline __attribute__((always_inline)) uint32_t harness_stack_used(uint32_t *top)
{{
    const volatile uint32_t *word = __stack_limit;
    while (word < top && *word == {paint:#x}u) {{
        ++word;
    }}
    return (uint32_t)((uintptr_t)top - (uintptr_t)word);
}}

/* Called by the network after each layer: that layer's high-water mark, then a fresh paint below the
 * hook's own frame, so the next layer's figure is its own (never less than this hook's depth). */
static uint32_t *harness_stack_top;
static uint32_t harness_stack_peak;
static uint32_t harness_layer_stack[{layers}];

void {hook}(int layer, int tensor, const void *data, uint32_t bytes)
{{
    uint32_t used = harness_stack_used(harness_stack_top);
    (void)tensor;
    (void)data;
    (void)bytes;
    if (used > harness_layer_stack[layer]) {{
        harness_layer_stack[layer] = used;
    }}
    if (used > harness_stack_peak) {{
        harness_stack_peak = used;
    }}
    harness_paint_stack(harness_stack_pointer());
}}
#endif
"""


_NETWORK_ONLY_MAIN = (
    '#include "network.h"\nint main(void) {{ return {p}_init() != {P}_OK || {p}_invoke() != {P}_OK; }}\n'
)
_EMPTY_MAIN = "int main(void) { return 0; }\n"


def _copy_files(graph: Graph, prefix: str, read: str, write: str, indent: str) -> tuple[str, str]:
    """The C that reads every input file to `read`(i) and writes every output file from `write`(i)."""
    upper = identifier(prefix)
    reads = "".join(
        f'{indent}if (mcu_host_read_file(harness_path("input_", {i}), {read.format(i=i)}, {upper}_INPUT_{i}_BYTES)'
        f" != {upper}_INPUT_{i}_BYTES) {{\n{indent}    return {EXIT_BAD_INPUT_FILE};\n{indent}}}\n"
        for i in range(len(graph.inputs))
    )
    writes = "".join(
        f'{indent}if (mcu_host_write_file(harness_path("output_", {i}), {write.format(i=i)}, {upper}_OUTPUT_{i}_BYTES)'
        f" != 0) {{\n{indent}    return {EXIT_WRITE_FAILED};\n{indent}}}\n"
        for i in range(len(graph.outputs))
    )
    return reads, writes


def _poison_source(prefix: str, red_zones: RedZones) -> str:
    """network.c in this translation unit, and a function poisoning the red zones under ASan."""
    calls = [f"    ASAN_POISON_MEMORY_REGION({prefix}_arena + {at}, {size});\n" for at, size in red_zones.arena]
    calls += [
        f"    ASAN_POISON_MEMORY_REGION((const uint8_t *)&{prefix}_weights + {at}, {size});\n"
        for at, size in red_zones.weights
    ]
    return f"""\
#include "network.c"
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

/* The bytes no buffer or constant array owns: any access to them is an overrun. */
static void poison_red_zones(void)
{{
#if defined(__SANITIZE_ADDRESS__)
{"".join(calls)}#endif
}}
"""


def harness_source(graph: Graph, prefix: str, red_zones: RedZones | None = None) -> str:
    upper = identifier(prefix)
    reads, writes = _copy_files(graph, prefix, f"{prefix}_input_{{i}}()", f"{prefix}_output_{{i}}()", " " * 8)
    stack_paint = _STACK_PAINT.format(
        define=STACK_PAINT_DEFINE, paint=STACK_PAINT, hook=STACK_HOOK_FUNCTION, layers=max(1, len(graph.operators))
    )
    return f"""\
/* Harness generated by mcudeploy: per inference, input files in, the network run, output files out. */
#include <stdint.h>

#include "mcu_host.h"
#include "network.h"
{_poison_source(prefix, red_zones) if red_zones else ""}
{_FILE_NAMES.format(steps=STEPS_DEFINE)}
{_DUMP_HOOK.format(dump=DUMP_DEFINE, hook=HOOK_FUNCTION)}
{stack_paint}
int main(void)
{{
    int status = {upper}_OK;
#ifdef {STACK_PAINT_DEFINE}
    uint32_t *stack_top = harness_stack_pointer();
    uint32_t stack_used = 0;
    uint32_t step_stack_used;
    harness_stack_top = stack_top;
#endif
#ifdef {STACK_LIMIT_DEFINE}
    __asm__ volatile("msr msplim, %0" : : "r"((uintptr_t)stack_top - {STACK_LIMIT_DEFINE}));
#endif
    if ({prefix}_init() != {upper}_OK) {{
        return {EXIT_INIT_FAILED};
    }}
{"    poison_red_zones();" + chr(10) if red_zones else ""}\
    /* One init, then every inference: the network's state (recurrent models) carries over. */
    for (harness_step = 0; harness_step < {STEPS_DEFINE}; ++harness_step) {{
{reads}#ifdef {STACK_PAINT_DEFINE}
        harness_paint_stack(stack_top);
#endif
        mcu_count_mark();
        status = {prefix}_invoke();
        mcu_count_mark();
#ifdef {REPEAT_DEFINE}
        /* A second inference on the same inputs, after the first warmed the caches: its own count interval. */
{reads}        mcu_count_mark();
        status = {prefix}_invoke();
        mcu_count_mark();
#endif
#ifdef {STACK_PAINT_DEFINE}
        step_stack_used = harness_stack_used(stack_top);
        if (step_stack_used > stack_used) {{
            stack_used = step_stack_used;
        }}
#endif
        if (status != {upper}_OK && status != {upper}_WAITING) {{
            break;
        }}
{_status_write(prefix) if graph_can_wait(graph) else ""}\
{writes}    }}
#ifdef {STACK_PAINT_DEFINE}
    if (harness_stack_peak > stack_used) {{
        stack_used = harness_stack_peak;
    }}
    if (mcu_host_write_file("{STACK_USED_FILE}", &stack_used, sizeof stack_used) != 0
        || mcu_host_write_file("{STACK_LAYERS_FILE}", harness_layer_stack, sizeof harness_layer_stack) != 0) {{
        return {EXIT_WRITE_FAILED};
    }}
#endif
    if (status != {upper}_OK && status != {upper}_WAITING) {{
        return {EXIT_NETWORK_ERROR_BASE} - status;
    }}
    return 0;
}}
"""


def _status_write(prefix: str) -> str:
    """The C that writes `STATUS_FILE`: the inference's status and the layer that ended it waiting."""
    return f"""\
        {{
            int32_t ended[2] = {{status, {prefix}_waiting_layer()}};
            if (mcu_host_write_file(harness_path("{STATUS_STEM}", -1), ended, sizeof ended) != 0) {{
                return {EXIT_WRITE_FAILED};
            }}
        }}
"""


def harness_defines(
    prefix: str, dump: bool, paint_stack: bool, stack_limit: int | None, repeat: bool, steps: int = 1
) -> dict[str, str | None]:
    """Compile-time definitions: the per-layer dump, stack painting (the layer hook reads each
    layer's mark), the repeated inference, the number of inferences."""
    defines: dict[str, str | None] = {STEPS_DEFINE: str(steps)} if steps > 1 else {}
    if dump:
        defines.update({DUMP_DEFINE: None, f"{identifier(prefix)}_LAYER_HOOK": HOOK_FUNCTION})
    if paint_stack:
        defines.update({STACK_PAINT_DEFINE: None, f"{identifier(prefix)}_LAYER_HOOK": STACK_HOOK_FUNCTION})
    if stack_limit is not None:
        defines[STACK_LIMIT_DEFINE] = f"{stack_limit}u"
    if repeat:
        defines[REPEAT_DEFINE] = None
    return defines


def generate_project(
    graph: Graph,
    plan: MemoryPlan,
    target: Target,
    folder: Path,
    prefix: str = PREFIX,
    guard_bytes: int = 0,
) -> GeneratedCode:
    """The generated project a harness builds (the same for every core: the library picks its
    kernel paths at compile time), the arena in the linker script's section on emulated targets,
    `guard_bytes` of red zone after each constant array (sanitizer builds)."""
    section = None if target.is_host else ARENA_SECTION
    return generate(graph, plan, folder, prefix, section, force=True, guard_bytes=guard_bytes)


def build_harness(
    graph: Graph,
    code: GeneratedCode,
    target: Target,
    folder: Path,
    dump: bool = False,
    extra_flags: Sequence[str] = (),
    extra_sources: Sequence[Path] = (),
    paint_stack: bool = False,
    stack_limit: int | None = None,
    red_zones: RedZones | None = None,
    repeat: bool = False,
    extra_defines: Defines | None = None,
    steps: int = 1,
    code_section: str = "flash",
    fast_functions: Sequence[str] | None = None,
) -> Path:
    """Compile the generated project with the harness for `target` into `folder`/network.elf; an
    arena or constants read from SRAM too large for the target's RAM region go to a larger one.
    `extra_flags` come after ours (e.g. sanitizers on the host); `extra_sources` are linked in (e.g. a driver stub).
    `paint_stack` (emulated targets): the harness writes the inference's stack high-water mark to
    `STACK_USED_FILE`, each layer's to `STACK_LAYERS_FILE`, and gcc each function's frame to
    `network.elf-<source>.su`; `stack_limit` (Armv8-M, with `paint_stack`): MSPLIM lets the
    inference use that many bytes only; `red_zones` (sanitizer builds): poisoned after init, the
    harness then compiling `network.c` in its own translation unit; `repeat`: a second inference
    between its own count marks (`REPEAT_DEFINE`); `extra_defines`: e.g. MD_PORTABLE,
    MD_PROFILE_LAYERS (see mdnn/Include/md_nn.h); `steps`: inferences after one init, each on the
    files of its own folder (run it with `run_harness_steps`); `code_section` itcm or ram: the kernels
    and layers run from there, copied from flash at start-up (`emulation.linker.FAST_CODE_SECTION`), or
    only the functions `fast_functions` names."""
    folder.mkdir(parents=True, exist_ok=True)
    harness = folder / "harness.c"
    harness.write_text(harness_source(graph, code.prefix, red_zones))
    sources = [s for s in code.sources if not (red_zones and s == "network.c")]  # then the harness includes it
    placement = target.ram_placement(code.arena_bytes, code.sram_weights_bytes, DEFAULT_STACK_SIZE)
    return build(
        target,
        [*(code.directory / s for s in sources), harness, *extra_sources],
        [code.directory / d for d in code.include_dirs],
        folder / "network.elf",
        defines={
            **harness_defines(code.prefix, dump, paint_stack, stack_limit, repeat, steps),
            **(extra_defines or {}),
        },
        extra_flags=(
            *(("-lm",) if code.needs_libm else ()),
            *(CALL_GRAPH_FLAGS if paint_stack else ()),
            *extra_flags,
        ),
        arena_section=ARENA_SECTION,
        arena_region=placement.arena,
        code_section=code_section,
        fast_functions=fast_functions,
        sram_weights_region=placement.sram_weights,
    )


@dataclass
class StepOutputs:
    """What one inference of a harness program wrote."""

    outputs: list[np.ndarray]
    """The graph outputs the generated code computed."""
    layer_tensors: dict[int, np.ndarray] = field(default_factory=dict)
    """Every layer output the dump wrote, by tensor index (dump builds only)."""
    waiting_at: int | None = None
    """The layer that ended the inference with WAITING (its later layers' outputs not produced)."""


@dataclass
class HarnessRun:
    """One run of a harness program: what each inference wrote, and how it ended."""

    program: ProgramRun
    steps: list[StepOutputs] = field(default_factory=list)
    """One per inference, in order (empty when the program failed)."""

    @property
    def outputs(self) -> list[np.ndarray]:
        """The last inference's graph outputs (empty when the program failed)."""
        return self.steps[-1].outputs if self.steps else []

    @property
    def waiting_at(self) -> int | None:
        """The layer that ended the last inference waiting for frames, if one did."""
        return self.steps[-1].waiting_at if self.steps else None

    @property
    def layer_tensors(self) -> dict[int, np.ndarray]:
        """The last inference's layer outputs, by tensor index (dump builds only)."""
        return self.steps[-1].layer_tensors if self.steps else {}

    @property
    def instructions(self) -> int | None:
        """Instructions of the (first) inference alone, when counted."""
        between = self.program.instructions_between_marks()
        return between[0] - MARK_OVERHEAD if between else None

    @property
    def step_instructions(self) -> list[int] | None:
        """Instructions of each inference alone, when counted (a program built without `repeat`)."""
        between = self.program.instructions_between_marks()
        return [count - MARK_OVERHEAD for count in between[0::2]] if between else None


def step_folder(folder: Path, step: int, steps: int) -> Path:
    """Where inference `step` of `steps` reads and writes its files (harness_path in the C)."""
    return folder / f"step_{step}" if steps > 1 else folder


def write_inputs(graph: Graph, inputs: Sequence[np.ndarray], folder: Path) -> None:
    """The files the harness reads: input_<i>.bin, each input's bytes in its tensor's type."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, (array, tensor) in enumerate(zip(inputs, graph.graph_inputs, strict=True)):
        (folder / f"input_{index}.bin").write_bytes(np.ascontiguousarray(array, dtype=tensor.dtype.numpy).tobytes())


def run_harness(
    graph: Graph,
    target: Target,
    elf: Path,
    inputs: Sequence[np.ndarray],
    folder: Path,
    plugin: InstructionCounting | None = None,
    check: bool = True,
) -> HarnessRun:
    """Run a harness program on one set of inputs in `folder`; with `check`, a failing program
    (non-zero exit code) is an error."""
    return run_harness_steps(graph, target, elf, [inputs], folder, plugin, check)


def run_harness_steps(
    graph: Graph,
    target: Target,
    elf: Path,
    input_sets: Sequence[Sequence[np.ndarray]],
    folder: Path,
    plugin: InstructionCounting | None = None,
    check: bool = True,
) -> HarnessRun:
    """Run a harness program built with `steps=len(input_sets)`: one inference per input set,
    after one init, the network's state carrying over."""
    folder.mkdir(parents=True, exist_ok=True)
    steps = len(input_sets)
    for step, inputs in enumerate(input_sets):
        write_inputs(graph, inputs, step_folder(folder, step, steps))
    program = run_elf(target, elf, folder, RUN_TIMEOUT_S, plugin=plugin)
    result = HarnessRun(program)
    if program.exit_code != 0:
        if check:
            reason = f"the generated code failed on {target.name} (exit code {program.exit_code})"
            raise McuDeployError(graph.subject, reason + _failure_detail(program))
        return result
    result.steps = [_read_step(graph, step_folder(folder, step, steps)) for step in range(steps)]
    return result


def _read_step(graph: Graph, folder: Path) -> StepOutputs:
    outputs = [read_tensor(folder / f"output_{i}.bin", t) for i, t in enumerate(graph.graph_outputs)]
    layers = {}
    for op in graph.operators:
        for index in op.outputs:
            path = folder / f"tensor_{index}.bin"
            if path.exists():
                layers[index] = read_tensor(path, graph.tensors[index])
    status = folder / STATUS_FILE
    layer = int(np.frombuffer(status.read_bytes(), dtype="<i4")[1]) if status.exists() else -1
    return StepOutputs(outputs, layers, layer if layer >= 0 else None)


def _failure_detail(program: ProgramRun) -> str:
    """The sanitizer's first line saying what went wrong and where, when one stopped the program;
    else what the program printed."""
    found = (
        line.strip() for line in program.stderr.splitlines() if "runtime error:" in line or line.startswith("SUMMARY:")
    )
    report = next(found, None)
    if report is not None:
        return f": {report}"
    printed = program.stdout.strip() or program.stderr.strip()
    return f" {printed}" if printed else ""


def read_tensor(path: Path, tensor: Tensor) -> np.ndarray:
    data = path.read_bytes()
    if len(data) != tensor.nbytes:
        raise McuDeployError(str(path), f"holds {len(data)} bytes, tensor '{tensor.name}' has {tensor.nbytes}")
    return np.frombuffer(data, dtype=tensor.dtype.numpy).reshape(tensor.shape)


def code_flash(
    code: GeneratedCode, target: Target, folder: Path, extra_flags: Sequence[str] = (), code_section: str = "flash"
) -> tuple[int, Path]:
    """Flash (code, read-only and initialised data) the generated project adds to a program on
    `target`: linked with a `main` that only initialises and invokes the network, minus an empty
    program linked alike; and that network program's ELF (its hot code in ITCM/RAM with `code_section`:
    the load image in flash is counted, as the run image is the same bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    network_main = folder / "network_main.c"
    network_main.write_text(_NETWORK_ONLY_MAIN.format(p=code.prefix, P=identifier(code.prefix)))
    empty_main = folder / "empty_main.c"
    empty_main.write_text(_EMPTY_MAIN)
    sources = [*(code.directory / s for s in code.sources), network_main]
    includes = [code.directory / d for d in code.include_dirs]
    flags = (*(("-lm",) if code.needs_libm else ()), *extra_flags)
    network = build(target, sources, includes, folder / "net.elf", extra_flags=flags, code_section=code_section)
    empty = build(target, [empty_main], (), folder / "empty.elf")
    return _flash(network) - _flash(empty), network


def _flash(elf: Path) -> int:
    sizes = ElfImage(elf).section_sizes()
    return sizes.text + sizes.rodata + sizes.data
