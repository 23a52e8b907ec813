"""Compilers for the targets: arm-none-eabi-gcc with our start-up code and linker script, or host gcc."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from mcudeploy.emulation.linker import DEFAULT_ARENA_SECTION, DEFAULT_STACK_SIZE, render_linker_script
from mcudeploy.emulation.targets import Target, get_target
from mcudeploy.errors import InternalError, McuDeployError

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"

COMMON_CFLAGS: tuple[str, ...] = (
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-O2",
    "-ffunction-sections",
    "-fdata-sections",
)
ARM_LINK_FLAGS: tuple[str, ...] = ("-nostartfiles", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments")
HOST_LINK_FLAGS: tuple[str, ...] = ("-Wl,--gc-sections",)

ARM_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi"
BUILD_TIMEOUT_S = 600

Defines = Mapping[str, str | int | None]

COMPILE_ERROR = re.compile(
    r"^(?P<source>[^\s:][^:]*\.[ch]):(?P<message>\d+:(?:\d+:)? (?:fatal )?error: .*)$", re.MULTILINE
)
"""gcc's line for an error in a C source or header (a link's errors name objects or the linker instead)."""

MISSING_SYSTEM_HEADER = re.compile(
    r"fatal error: (?P<header>[\w/]+\.h): No such file or directory\n\s*\d+ \| #include <(?P=header)>"
)
"""A system header (#include <...>) not found: newlib is not installed, the machine's failing, not a defect."""

UNDEFINED_SYMBOL = re.compile(r"undefined reference to [`'](?P<symbol>[^`']+)'")
"""ld's line for a symbol our objects call and none defines (a region overflow is the configuration's, not ours)."""


def find_compiler(target: Target) -> Path:
    """The C compiler for `target`, or an error naming the Debian packages to install."""
    name = "gcc" if target.is_host else "arm-none-eabi-gcc"
    found = shutil.which(name)
    if found is None:
        packages = "gcc" if target.is_host else ARM_PACKAGES
        raise McuDeployError(
            name,
            f"compiler not found on PATH; on Debian/Ubuntu install it with "
            f"`apt-get install --no-install-recommends {packages}`",
        )
    return Path(found)


def runtime_sources(target: Target) -> list[Path]:
    """Our runtime C files linked into every program for `target`."""
    if target.is_host:
        return [RUNTIME_DIR / "host" / "mcu_host_stdio.c"]
    return [RUNTIME_DIR / "startup.c", RUNTIME_DIR / "semihosting.c"]


def _define_flags(target: Target, defines: Defines | None) -> list[str]:
    flags = [f"-DMCUDEPLOY_TARGET_{target.name.upper().replace('-', '_')}=1"]
    if target.has_fpu:
        flags.append("-DMCU_HAS_FPU=1")
    for name, value in (defines or {}).items():
        flags.append(f"-D{name}" if value is None else f"-D{name}={value}")
    return flags


def _run_compiler(command: list[str], target: Target, cwd: Path | None = None) -> None:
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False, cwd=cwd
        )
    except subprocess.TimeoutExpired:
        raise McuDeployError(f"build for {target.name}", f"compiler timed out after {BUILD_TIMEOUT_S} s") from None
    if completed.returncode != 0:
        output = (completed.stderr + completed.stdout).strip()
        if (missing := MISSING_SYSTEM_HEADER.search(output)) is not None:
            reason = f"the C library's {missing['header']} is missing: install the Debian packages {ARM_PACKAGES}"
            raise McuDeployError(f"build for {target.name}", reason)
        if (error := COMPILE_ERROR.search(output)) is not None:
            first = f"{Path(error['source']).name}:{error['message']}"
            raise InternalError(f"build for {target.name}", f"our C failed to compile (an mcudeploy defect): {first}")
        if (undefined := UNDEFINED_SYMBOL.search(output)) is not None:
            reason = f"our C failed to link (an mcudeploy defect): undefined reference to {undefined['symbol']}"
            raise InternalError(f"build for {target.name}", reason)
        raise McuDeployError(f"build for {target.name}", f"compiler failed:\n{output}")


def build(
    target: Target | str,
    sources: Sequence[Path | str],
    include_dirs: Sequence[Path | str] = (),
    output_elf: Path | str = "program.elf",
    defines: Defines | None = None,
    extra_flags: Sequence[str] = (),
    *,
    arena_section: str = DEFAULT_ARENA_SECTION,
    arena_region: str = "ram",
    stack_size: int = DEFAULT_STACK_SIZE,
    code_section: str = "flash",
    fast_functions: Sequence[str] | None = None,
    sram_weights_region: str = "ram",
) -> Path:
    """Compiles and links `sources` with our runtime (`mcu_host.h` is on the include path) into
    `output_elf`. For Cortex-M targets the linker script and a map file are written beside it
    (same name, `.ld` / `.map`). `extra_flags` come after ours, so they can override e.g. `-O2`.
    `code_section` itcm or ram (Cortex-M): the sources are first compiled to objects named after
    them (in `<elf>.objects/`), which the linker script's hot-code patterns select by name (only the
    functions `fast_functions` names, when given: the rest stays in `.text`)."""
    target = get_target(target) if isinstance(target, str) else target
    output_elf = Path(output_elf)
    output_elf.parent.mkdir(parents=True, exist_ok=True)
    compile_flags = [
        str(find_compiler(target)),
        *target.cflags,
        *COMMON_CFLAGS,
        *_define_flags(target, defines),
        f"-I{RUNTIME_DIR}",
        *(f"-I{Path(directory).resolve()}" for directory in include_dirs),
        *extra_flags,
    ]
    inputs = [Path(source).resolve() for source in sources]
    objects = None
    if code_section != "flash" and not target.is_host:
        objects = output_elf.resolve().with_suffix(".objects")
        inputs = _compile_objects(compile_flags, inputs, objects, target)
    command = [
        *compile_flags,
        *(str(source) for source in inputs),
        *(str(source) for source in runtime_sources(target)),
        *_link_flags(
            target,
            output_elf.resolve(),
            arena_section,
            arena_region,
            stack_size,
            code_section,
            fast_functions,
            sram_weights_region,
        ),
    ]
    _run_compiler(command, target, cwd=objects)  # the objects then named as the script's patterns say
    return output_elf


def _compile_objects(compile_flags: list[str], sources: list[Path], folder: Path, target: Target) -> list[Path]:
    """`sources` compiled in one call into `folder`, each object named after its source (relative to
    `folder`, where the link then runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    c_sources = [source for source in sources if source.suffix == ".c"]
    flags = [flag for flag in compile_flags if not flag.startswith("-l")]
    _run_compiler([*flags, "-c", *(str(source) for source in c_sources)], target, cwd=folder)
    return [Path(f"{source.stem}.o") if source.suffix == ".c" else source for source in sources]


def _link_flags(
    target: Target,
    output_elf: Path,
    arena_section: str,
    arena_region: str,
    stack_size: int,
    code_section: str,
    fast_functions: Sequence[str] | None,
    sram_weights_region: str,
) -> list[str]:
    """Host: the system's usual link. Cortex-M: our linker script (written beside the ELF) and a map file."""
    if target.is_host:
        return [*HOST_LINK_FLAGS, "-o", str(output_elf), "-lm"]
    script = output_elf.with_suffix(".ld")
    script.write_text(
        render_linker_script(
            target, arena_section, arena_region, stack_size, code_section, fast_functions, sram_weights_region
        )
    )
    map_file = output_elf.with_suffix(".map")
    return [*ARM_LINK_FLAGS, f"-T{script}", f"-Wl,-Map={map_file}", "-o", str(output_elf), "-lm"]
