"""Flash taken by the generated code, measured from a linked ELF for the device's core.

The figure is the flash (code, read-only and initialised data) of the generated
project, built for that core (so with its kernel paths: DSP, MVE), linked with a minimal `main`
that initialises and invokes the network, minus the same program without the
network and minus the weights, which the
budget counts on their own. So it holds the kernel library actually linked, the
layer functions and their parameter tables. Built through the one harness
(`mcudeploy.emulation.harness.code_flash`), once per generated project and core,
then cached by content.

The same link, compiled with `-fstack-usage`, bounds the stack one inference takes:
`net_invoke`'s worst case over gcc's frames and the ELF's call graph
(`emulation.stack_usage`), without running anything.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcudeploy.codegen import RenderedProject, generate, render
from mcudeploy.codegen.library import FAST_CODE_SECTION
from mcudeploy.emulation import ElfImage, Target, core_target, find_compiler, harness, linker, stack_usage
from mcudeploy.emulation.harness import code_flash
from mcudeploy.emulation.plugin import cache_dir
from mcudeploy.emulation.stack_usage import CALL_GRAPH_FLAGS, call_graph
from mcudeploy.errors import McuDeployError
from mcudeploy.files import write_file
from mcudeploy.ir import Graph
from mcudeploy.memory.budget import CodeEstimate, CodeSection
from mcudeploy.memory.plan import MemoryPlan


@dataclass(frozen=True)
class StaticStack:
    bytes: int
    """net_invoke's worst case from `-fstack-usage` frames and the call graph."""
    left_out: tuple[str, ...]
    """Functions reached whose frame could not be derived (counted 0: `bytes` then bounds nothing)."""


def measured_code(
    graph: Graph, plan: MemoryPlan, core: str, code_section: CodeSection = CodeSection.FLASH
) -> CodeEstimate | None:
    """The generated code's flash on `core` (with `code_section` itcm/ram, also the size of its hot code
    section, run from there); None when the core has no machine of its own (the Cortex-M0+ keeps the
    estimate) or no cross compiler is installed."""
    figures = _measured(graph, plan, core, code_section)
    if figures is None:
        return None
    return CodeEstimate(
        kernels={"generated code": figures["flash"]},
        runtime=0,
        layer_calls=0,
        measured_on=core,
        hot_bytes=figures.get("hot_code"),
    )


def static_stack(graph: Graph, plan: MemoryPlan, core: str) -> StaticStack | None:
    """The stack one inference of the generated code can take at most on `core`, from the same link;
    None where `measured_code` is."""
    figures = _measured(graph, plan, core)
    return None if figures is None else StaticStack(figures["stack"], tuple(figures["stack_left_out"]))


def _measured(
    graph: Graph, plan: MemoryPlan, core: str, code_section: CodeSection = CodeSection.FLASH
) -> dict[str, Any] | None:
    target = core_target(core)
    if target is None or target.core is None or target.core.proxy:
        return None
    try:
        find_compiler(target)
    except McuDeployError:
        return None
    try:
        rendered = render(graph, plan)
    except McuDeployError:  # an operator without a C kernel: the caller falls back to the estimate
        return None
    cached = cache_dir() / f"code-size-{_cache_key(rendered, core, code_section)}.json"
    if cached.exists():
        figures = json.loads(cached.read_text())
        if "stack" in figures:
            return figures
    flash, stack, hot = _measure(graph, plan, core, target, code_section)
    figures = {
        "core": core,
        "flash": flash - rendered.weights_bytes,
        "stack": stack.bytes,
        "stack_left_out": list(stack.left_out),
        **({"hot_code": hot} if code_section != CodeSection.FLASH else {}),
    }
    cached.parent.mkdir(parents=True, exist_ok=True)
    write_file(cached, json.dumps(figures).encode(), replace=True)
    return figures


def _measure(
    graph: Graph, plan: MemoryPlan, core: str, target: Target, code_section: CodeSection
) -> tuple[int, StaticStack, int]:
    """Flash, the static stack and the hot code section's bytes (0 without one)."""
    with tempfile.TemporaryDirectory(prefix="mcudeploy-code-size-") as scratch:
        folder = Path(scratch)
        code = generate(graph, plan, folder / "gen", force=True)
        flash, network = code_flash(code, target, folder, CALL_GRAPH_FLAGS, str(code_section))
        worst, left_out = call_graph(network, target).worst("net_invoke")
        image = ElfImage(network)
        hot = sum(section.size for section in image.sections if section.name == FAST_CODE_SECTION)
        return flash, StaticStack(worst, tuple(sorted(left_out))), hot


def _cache_key(rendered: RenderedProject, core: str, code_section: CodeSection) -> str:
    """The project, the core, where its code runs and the measuring code itself: a change to how figures
    are taken (or to their format) must not read figures an older version cached."""
    digest = hashlib.sha256(f"{core}\0{code_section}".encode())
    for module in (__file__, harness.__file__, stack_usage.__file__, linker.__file__):
        digest.update(Path(module).read_bytes())
    for name, text in sorted(rendered.files.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:24]
