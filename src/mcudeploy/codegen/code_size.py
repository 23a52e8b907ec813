"""Flash taken by the generated code, measured from a linked ELF for the device's core.

The figure is the flash (code, read-only and initialised data) of the generated
project, with that core's kernel variants (DSP, MVE), linked with a minimal `main`
that initialises and invokes the network, minus the same program without the
network and minus the weights, which the
budget counts on their own. So it holds the kernel library actually linked, the
layer functions and their parameter tables. Measured once per generated project
and core, then cached by content.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from mcudeploy.codegen.generator import RenderedProject, generate, render
from mcudeploy.emulation import ElfImage, build, get_target
from mcudeploy.emulation.plugin import cache_dir
from mcudeploy.emulation.toolchain import find_compiler
from mcudeploy.errors import McuDeployError
from mcudeploy.files import write_file
from mcudeploy.ir import Graph
from mcudeploy.memory.budget import CodeEstimate
from mcudeploy.memory.plan import MemoryPlan

# The emulation target whose compiler flags and memory map stand for each core (no QEMU run is needed).
CORE_TARGETS = {"cortex-m3": "m3", "cortex-m4": "m4", "cortex-m7": "m7", "cortex-m33": "m33", "cortex-m55": "m55"}

_NETWORK_MAIN = '#include "network.h"\nint main(void) { return net_init() != NET_OK || net_invoke() != NET_OK; }\n'
_EMPTY_MAIN = "int main(void) { return 0; }\n"


def measured_code(graph: Graph, plan: MemoryPlan, core: str) -> CodeEstimate | None:
    """The generated code's flash on `core`; None when the core has no target or no cross compiler is installed."""
    target = CORE_TARGETS.get(core)
    if target is None:
        return None
    try:
        find_compiler(get_target(target))
    except McuDeployError:
        return None
    try:
        rendered = render(graph, plan, core=core)
    except McuDeployError:  # an operator without a C kernel: the caller falls back to the estimate
        return None
    cached = cache_dir() / f"code-size-{_cache_key(rendered, core)}.json"
    if cached.exists():
        flash = json.loads(cached.read_text())["flash"]
    else:
        flash = _measure(graph, plan, core, target) - rendered.weights_bytes
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_file(cached, json.dumps({"core": core, "flash": flash}).encode(), replace=True)
    return CodeEstimate(kernels={"generated code": flash}, runtime=0, layer_calls=0, measured_on=core)


def _measure(graph: Graph, plan: MemoryPlan, core: str, target: str) -> int:
    with tempfile.TemporaryDirectory(prefix="mcudeploy-code-size-") as scratch:
        folder = Path(scratch)
        code = generate(graph, plan, folder / "gen", force=True, core=core)
        (folder / "network_main.c").write_text(_NETWORK_MAIN)
        (folder / "empty_main.c").write_text(_EMPTY_MAIN)
        sources = [code.directory / s for s in code.sources]
        includes = [code.directory / d for d in code.include_dirs]
        libm = ("-lm",) if code.needs_libm else ()
        network = build(target, [*sources, folder / "network_main.c"], includes, folder / "net.elf", extra_flags=libm)
        empty = build(target, [folder / "empty_main.c"], (), folder / "empty.elf")
        return _flash(network) - _flash(empty)


def _flash(elf: Path) -> int:
    sizes = ElfImage(elf).section_sizes()
    return sizes.text + sizes.rodata + sizes.data


def _cache_key(rendered: RenderedProject, core: str) -> str:
    digest = hashlib.sha256(core.encode())
    for name, text in sorted(rendered.files.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:24]
