"""The C test harness around a generated network: files in, one inference, files out.

The same source builds for the host and for every emulated core (through the
emulation runtime's `mcu_host.h`). It reads `input_<i>.bin` straight into the
arena's input buffers, brackets the inference with instruction-count marks and
writes `output_<i>.bin`. In dump mode the network's layer hook writes every
layer's output tensor to `tensor_<index>.bin`, so a divergence can be located.
With red zones (sanitizer builds, `validation.guards`) it poisons the arena's and
the weights block's unused bytes after `init`, so AddressSanitizer reports any
access to them; it then compiles as one translation unit with `network.c`, whose
weights block it must name.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mcudeploy.codegen import GeneratedCode
from mcudeploy.codegen.cformat import identifier
from mcudeploy.emulation import Target, build
from mcudeploy.emulation.linker import DEFAULT_ARENA_SECTION, DEFAULT_STACK_SIZE
from mcudeploy.emulation.toolchain import Defines
from mcudeploy.ir import Graph
from mcudeploy.validation.guards import RedZones

ARENA_SECTION = DEFAULT_ARENA_SECTION

HOOK_FUNCTION = "harness_layer_hook"
DUMP_DEFINE = "HARNESS_DUMP_LAYERS"
STACK_PAINT_DEFINE = "HARNESS_STACK_PAINT"
STACK_USED_FILE = "stack_used.bin"
STACK_LAYERS_FILE = "stack_layers.bin"
"""Paint mode: one little-endian uint32 per operator, the stack its layer used (0: no hook call)."""
STACK_HOOK_FUNCTION = "harness_stack_hook"
STACK_LIMIT_DEFINE = "HARNESS_STACK_LIMIT"
"""Armv8-M only: bytes below main's stack pointer the core's MSPLIM allows (a deeper push faults)."""
REPEAT_DEFINE = "HARNESS_REPEAT"
"""Two inferences, each between its own count marks: the first from reset (cold caches), then steady state."""
STACK_PAINT = 0x5AC3A55C
"""A word no kernel is likely to leave on the stack: where it survives, the stack was not reached."""

# Exit codes of the harness itself (the network's own errors are negative and reported as 10 + |code|).
EXIT_INIT_FAILED = 2
EXIT_BAD_INPUT_FILE = 3
EXIT_WRITE_FAILED = 5
EXIT_NETWORK_ERROR_BASE = 10

_DUMP_HOOK = """\
#ifdef {dump}
/* Writes one layer's output tensor to tensor_<index>.bin. */
void {hook}(int layer, int tensor, const void *data, uint32_t bytes)
{{
    char name[32] = "tensor_";
    char digits[12];
    unsigned value = (unsigned)tensor;
    int count = 0;
    int at = 7;
    (void)layer;
    do {{
        digits[count++] = (char)('0' + value % 10u);
        value /= 10u;
    }} while (value != 0u);
    while (count > 0) {{
        name[at++] = digits[--count];
    }}
    name[at++] = '.';
    name[at++] = 'b';
    name[at++] = 'i';
    name[at++] = 'n';
    name[at] = '\\0';
    (void)mcu_host_write_file(name, data, bytes);
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
    reads = "".join(
        f'    if (mcu_host_read_file("input_{i}.bin", {prefix}_input_{i}(), {upper}_INPUT_{i}_BYTES)'
        f" != {upper}_INPUT_{i}_BYTES) {{\n        return {EXIT_BAD_INPUT_FILE};\n    }}\n"
        for i in range(len(graph.inputs))
    )
    writes = "".join(
        f'    if (mcu_host_write_file("output_{i}.bin", {prefix}_output_{i}(), {upper}_OUTPUT_{i}_BYTES) != 0) {{\n'
        f"        return {EXIT_WRITE_FAILED};\n    }}\n"
        for i in range(len(graph.outputs))
    )
    stack_paint = _STACK_PAINT.format(
        define=STACK_PAINT_DEFINE, paint=STACK_PAINT, hook=STACK_HOOK_FUNCTION, layers=max(1, len(graph.operators))
    )
    return f"""\
/* Validation harness generated by mcudeploy: input files in, one inference, output files out. */
#include <stdint.h>

#include "mcu_host.h"
#include "network.h"
{_poison_source(prefix, red_zones) if red_zones else ""}
{_DUMP_HOOK.format(dump=DUMP_DEFINE, hook=HOOK_FUNCTION)}
{stack_paint}
int main(void)
{{
    int status;
#ifdef {STACK_PAINT_DEFINE}
    uint32_t *stack_top = harness_stack_pointer();
    uint32_t stack_used;
    harness_stack_top = stack_top;
#endif
#ifdef {STACK_LIMIT_DEFINE}
    __asm__ volatile("msr msplim, %0" : : "r"((uintptr_t)stack_top - {STACK_LIMIT_DEFINE}));
#endif
    if ({prefix}_init() != {upper}_OK) {{
        return {EXIT_INIT_FAILED};
    }}
{"    poison_red_zones();" + chr(10) if red_zones else ""}{reads}#ifdef {STACK_PAINT_DEFINE}
    harness_paint_stack(stack_top);
#endif
    mcu_count_mark();
    status = {prefix}_invoke();
    mcu_count_mark();
#ifdef {REPEAT_DEFINE}
    /* A second inference on the same inputs, after the first warmed the caches: its own count interval. */
{reads}    mcu_count_mark();
    status = {prefix}_invoke();
    mcu_count_mark();
#endif
#ifdef {STACK_PAINT_DEFINE}
    stack_used = harness_stack_used(stack_top);
    if (harness_stack_peak > stack_used) {{
        stack_used = harness_stack_peak;
    }}
    if (mcu_host_write_file("{STACK_USED_FILE}", &stack_used, sizeof stack_used) != 0
        || mcu_host_write_file("{STACK_LAYERS_FILE}", harness_layer_stack, sizeof harness_layer_stack) != 0) {{
        return {EXIT_WRITE_FAILED};
    }}
#endif
    if (status != {upper}_OK) {{
        return {EXIT_NETWORK_ERROR_BASE} - status;
    }}
{writes}    return 0;
}}
"""


def dump_defines(prefix: str) -> dict[str, str | None]:
    """Compile-time definitions that turn on the per-layer dump."""
    return {DUMP_DEFINE: None, f"{identifier(prefix)}_LAYER_HOOK": HOOK_FUNCTION}


def build_harness(
    graph: Graph,
    code: GeneratedCode,
    target: Target,
    folder: Path,
    dump: bool = False,
    paint_stack: bool = False,
    stack_limit: int | None = None,
    red_zones: RedZones | None = None,
    repeat: bool = False,
    extra_defines: Defines | None = None,
) -> Path:
    """Compile the generated project with the harness for `target` into `folder`/network.elf; an
    arena too large for the target's RAM region goes to a larger one. `paint_stack` (emulated
    targets): the harness writes the inference's stack high-water mark to `STACK_USED_FILE`, each
    layer's to `STACK_LAYERS_FILE`, and gcc each function's frame to `network.elf-<source>.su`;
    `stack_limit` (Armv8-M, with `paint_stack`): MSPLIM lets the inference use that many bytes only;
    `red_zones` (sanitizer builds): poisoned after init; `repeat`: a second inference between its own
    count marks (`REPEAT_DEFINE`); `extra_defines`: e.g. MD_PORTABLE, MD_PROFILE_LAYERS (see
    mdnn/Include/md_common.h)."""
    defines = {**(dump_defines(code.prefix) if dump else {}), **(extra_defines or {})}
    flags = ["-lm"] if code.needs_libm else []
    if paint_stack:  # the layer hook reads each layer's mark; gcc writes each function's frame (.su files)
        defines[STACK_PAINT_DEFINE] = None
        defines[f"{identifier(code.prefix)}_LAYER_HOOK"] = STACK_HOOK_FUNCTION
        flags.append("-fstack-usage")
    if stack_limit is not None:
        defines[STACK_LIMIT_DEFINE] = f"{stack_limit}u"
    if repeat:
        defines[REPEAT_DEFINE] = None
    folder.mkdir(parents=True, exist_ok=True)
    harness = folder / "harness.c"
    harness.write_text(harness_source(graph, code.prefix, red_zones))
    sources = [s for s in code.sources if not (red_zones and s == "network.c")]  # then the harness includes it
    return build(
        target,
        [*(code.directory / s for s in sources), harness],
        [code.directory / d for d in code.include_dirs],
        folder / "network.elf",
        defines=defines or None,
        extra_flags=flags,
        arena_section=ARENA_SECTION,
        arena_region=target.memory.arena_region(code.arena_bytes, DEFAULT_STACK_SIZE) if target.memory else "ram",
    )


def write_inputs(graph: Graph, inputs: Sequence[np.ndarray], folder: Path) -> None:
    """The files the harness reads: input_<i>.bin, each input's bytes in its tensor's type."""
    for index, (array, tensor) in enumerate(zip(inputs, graph.graph_inputs, strict=True)):
        (folder / f"input_{index}.bin").write_bytes(np.ascontiguousarray(array, dtype=tensor.dtype.numpy).tobytes())
