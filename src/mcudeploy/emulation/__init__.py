"""Building C programs for emulated Cortex-M cores (or the host) and running them under QEMU.

Typical use: `build(target, sources, include_dirs, output_elf)` then
`run_elf(target, elf, workdir, timeout_s, plugin=InstructionCounting())`.
"""

from mcudeploy.emulation.elf import ElfImage, FunctionRange, SectionSizes, Symbol
from mcudeploy.emulation.plugin import InstructionCounting, plugin_library
from mcudeploy.emulation.qemu import ProgramRun, run_elf
from mcudeploy.emulation.targets import EMULATED_TARGET_NAMES, Target, core_target, get_target, targets
from mcudeploy.emulation.toolchain import RUNTIME_DIR, build, find_compiler

__all__ = [
    "EMULATED_TARGET_NAMES",
    "RUNTIME_DIR",
    "ElfImage",
    "FunctionRange",
    "InstructionCounting",
    "ProgramRun",
    "SectionSizes",
    "Symbol",
    "Target",
    "build",
    "core_target",
    "find_compiler",
    "get_target",
    "plugin_library",
    "run_elf",
    "targets",
]
