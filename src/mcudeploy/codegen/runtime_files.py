"""The kernel library shipped with the package (`runtime/`), and which of its files a model needs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources

from mcudeploy.devices import find_core

RUNTIME_PACKAGE_DIR = "runtime"

SOURCE_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "md_conv_f32.c": ("md_conv.c",),
    "md_depthwise.c": ("md_window.c",),
    "md_depthwise_f32.c": ("md_window.c",),
    "md_pool.c": ("md_window.c",),
    "md_pool_f32.c": ("md_window.c",),
    "md_elementwise_f32.c": ("md_elementwise.c",),
    "md_compare.c": ("md_elementwise.c",),
    "md_reduce_f32.c": ("md_reduce.c",),
    "md_quantize_f32.c": ("md_quantize.c",),
    "md_lstm_f32.c": ("md_activations_f32.c",),
    "md_lstm.c": ("md_activations_s16.c",),
}
"""Library sources that call functions defined in another source (loop drivers, shared helpers).
A variant (below) needs what its portable source needs."""

_INCLUDE = re.compile(r'^#include "([^"]+)"', re.MULTILINE)


def runtime_text(name: str) -> str:
    return (resources.files("mcudeploy.codegen") / RUNTIME_PACKAGE_DIR / name).read_text(encoding="utf-8")


def all_runtime_files() -> list[str]:
    directory = resources.files("mcudeploy.codegen") / RUNTIME_PACKAGE_DIR
    return sorted(entry.name for entry in directory.iterdir() if entry.name.endswith((".c", ".h")))


def variant_suffixes(core: str | None) -> tuple[str, ...]:
    """Variant suffixes a core can run, best first (None: portable code only)."""
    return tuple(f"_{variant}" for variant in find_core(core).kernel_variants) if core else ()


def best_variant(source: str, core: str | None) -> str:
    """`md_<family>_mve.c` or `md_<family>_dsp.c` when the library has it and the core runs it, else
    `source` itself. A variant defines the same functions as its portable source: exactly one ships."""
    available = set(all_runtime_files())
    stem = source.removesuffix(".c")
    return next((f"{stem}{s}.c" for s in variant_suffixes(core) if f"{stem}{s}.c" in available), source)


def needed_files(
    sources: Iterable[str], headers: Iterable[str], core: str | None = None
) -> tuple[list[str], list[str]]:
    """(sources, headers) of the library a set of kernel sources and included headers needs on
    `core`: each portable source replaced by its best variant, source dependencies first, then
    every header they include, transitively."""
    portable: set[str] = set()
    pending = list(sources)
    while pending:
        source = pending.pop()
        if source not in portable:
            portable.add(source)
            pending.extend(SOURCE_DEPENDENCIES.get(source, ()))
    needed_sources = {best_variant(source, core) for source in portable}
    needed_headers: set[str] = set()
    pending = list(headers)
    for source in needed_sources:
        pending.extend(_includes(source))
    while pending:
        header = pending.pop()
        if header not in needed_headers:
            needed_headers.add(header)
            pending.extend(_includes(header))
    return sorted(needed_sources), sorted(needed_headers)


def _includes(name: str) -> list[str]:
    return _INCLUDE.findall(runtime_text(name))
