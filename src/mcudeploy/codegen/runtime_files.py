"""The kernel library shipped with the package (`runtime/`), and which of its files a model needs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources

RUNTIME_PACKAGE_DIR = "runtime"

SOURCE_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "md_conv_f32.c": ("md_conv.c",),
    "md_depthwise.c": ("md_window.c",),
    "md_depthwise_f32.c": ("md_window.c",),
    "md_pool.c": ("md_window.c",),
    "md_pool_f32.c": ("md_window.c",),
    "md_elementwise_f32.c": ("md_elementwise.c",),
    "md_reduce_f32.c": ("md_reduce.c",),
    "md_quantize_f32.c": ("md_quantize.c",),
}
"""Library sources that call functions defined in another source (loop drivers, shared helpers)."""

_INCLUDE = re.compile(r'^#include "([^"]+)"', re.MULTILINE)


def runtime_text(name: str) -> str:
    return (resources.files("mcudeploy.codegen") / RUNTIME_PACKAGE_DIR / name).read_text(encoding="utf-8")


def all_runtime_files() -> list[str]:
    directory = resources.files("mcudeploy.codegen") / RUNTIME_PACKAGE_DIR
    return sorted(entry.name for entry in directory.iterdir() if entry.name.endswith((".c", ".h")))


def needed_files(sources: Iterable[str], headers: Iterable[str]) -> tuple[list[str], list[str]]:
    """(sources, headers) of the library a set of kernel sources and included headers needs:
    source dependencies first, then every header they include, transitively."""
    needed_sources: set[str] = set()
    pending = list(sources)
    while pending:
        source = pending.pop()
        if source not in needed_sources:
            needed_sources.add(source)
            pending.extend(SOURCE_DEPENDENCIES.get(source, ()))
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
