"""The C kernel library mdnn (`mcudeploy/mdnn/`, package data) and the part of it a model needs.

A generated project carries it under `mdnn/` with the library's own layout: `Include/`
(the public header md_nn.h and the kernels' internal support header md_nn_support.h),
`Source/<family>/` (sources, and the family's private header where its paths share a portable
kernel) and the LICENSE. The files do not depend on the core: a family's ISA paths
(`md_<family>_dsp.c`, `md_<family>_mve.c`) ship beside its portable source, and the compiler's
target macros pick one (MD_PATH_* in md_nn_support.h); the others compile to nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from mcudeploy.devices import find_core

LIBRARY_DIR = "mdnn"
"""The library's folder, in the package and in a generated project."""
PUBLIC_HEADER = "md_nn.h"
INCLUDE_DIR = f"{LIBRARY_DIR}/Include"
FAST_CODE_SECTION = ".mdnn_fast_code"
"""The output section of the hot code run from ITCM or SRAM (`--code-section`), loaded in flash."""
SRAM_WEIGHTS_SECTION = ".data.mdnn_sram_weights"
"""The input section of the constants read from SRAM (`<prefix>_weights_sram`): initialised data, so any
linker script's `.data.*` takes it into RAM with its load image in flash, and the C start-up copies it."""
HOT_OBJECTS = ("md_*.o", "network.o")
"""The objects whose code `--code-section` moves: the kernel library's (md_*.c) and the generated
layers' (network.c), by object name (make names them so; CMake's are md_*.c.o, network.c.o)."""


def fast_code_inputs(fast_functions: Sequence[str] | None) -> list[str]:
    """The input-section patterns of the fast code: the hot objects' whole code (None), else those
    functions' sections only (the code is compiled with -ffunction-sections: `.text.<function>`)."""
    if fast_functions is None:
        return [f"{pattern}(.text .text.*)" for pattern in HOT_OBJECTS]
    return [f"*(.text.{name})" for name in fast_functions]


ISA_SUFFIXES = ("_dsp", "_mve")
"""Sources defining the same functions as `md_<family>.c` for one instruction-set extension."""

SOURCE_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "md_conv_f32.c": ("md_conv.c",),
    "md_conv.c": ("md_conv_1x1_dsp.c",),
    "md_conv_w16.c": ("md_conv_stem_dsp.c", "md_conv_1x1_narrow_dsp.c"),
    "md_conv_s4.c": ("md_conv.c", "md_copy.c"),
    "md_depthwise_s4.c": ("md_depthwise.c", "md_copy.c"),
    "md_fully_connected_s4.c": ("md_fully_connected.c", "md_copy.c"),
    "md_fully_connected_w16.c": ("md_fully_connected.c",),
    "md_depthwise.c": ("md_window.c",),
    "md_depthwise_s16.c": ("md_window.c",),
    "md_depthwise_f32.c": ("md_window.c",),
    "md_pool.c": ("md_window.c",),
    "md_pool_f32.c": ("md_window.c",),
    "md_elementwise_f32.c": ("md_elementwise.c",),
    "md_compare.c": ("md_elementwise.c",),
    "md_prelu.c": ("md_elementwise.c",),
    "md_batch_matmul.c": ("md_elementwise.c",),
    "md_reduce_f32.c": ("md_reduce.c",),
    "md_quantize_f32.c": ("md_quantize.c",),
    "md_lstm_f32.c": ("md_activations_f32.c",),
    "md_lstm.c": ("md_activations_s16.c",),
}
"""Library sources that call functions defined in another source (loop drivers, shared helpers)."""


def isa_suffixes(core: str | None) -> tuple[str, ...]:
    """The ISA paths a build for `core` can take, best first (None: portable code only); which one a
    family takes is the best it has (md_nn_support.h's MD_PATH_*)."""
    return tuple(f"_{variant}" for variant in find_core(core).kernel_variants) if core else ()


def library_root() -> Traversable:
    return resources.files("mcudeploy") / LIBRARY_DIR


@cache
def library_files() -> dict[str, str]:
    """Every header and source of the library by file name, as its path inside the library
    ("md_conv.c": "Source/conv/md_conv.c", "md_conv_int.h": "Source/conv/md_conv_int.h")."""
    root = library_root()
    paths = {entry.name: f"Include/{entry.name}" for entry in (root / "Include").iterdir() if entry.name.endswith(".h")}
    for family in (root / "Source").iterdir():
        paths.update(
            {e.name: f"Source/{family.name}/{e.name}" for e in family.iterdir() if e.name.endswith((".c", ".h"))}
        )
    return paths


def library_text(name: str) -> str:
    """A library file by name ("md_conv.c") or by path inside the library ("LICENSE")."""
    return (library_root() / library_files().get(name, name)).read_text(encoding="utf-8")


def needed_files(sources: Iterable[str]) -> list[str]:
    """Paths inside the library of what a set of kernel sources needs: the LICENSE, the two headers
    of Include/, the sources with the sources they call into, each one's ISA paths, and the private
    headers of their families."""
    files = library_files()
    needed: set[str] = set()
    pending = list(sources)
    while pending:
        source = pending.pop()
        if source not in needed:
            needed.add(source)
            pending.extend(SOURCE_DEPENDENCIES.get(source, ()))
    stems = [source.removesuffix(".c") for source in needed]
    needed |= {f"{stem}{suffix}.c" for stem in stems for suffix in ISA_SUFFIXES if f"{stem}{suffix}.c" in files}
    sources = sorted(files[name] for name in needed)
    families = {path.rsplit("/", 1)[0] for path in sources}
    headers = [path for name, path in files.items() if name.endswith(".h")]
    shipped_headers = [path for path in headers if path.startswith("Include/") or path.rsplit("/", 1)[0] in families]
    return ["LICENSE", *sorted(shipped_headers), *sources]
