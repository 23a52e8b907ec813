"""The kernel library's objects give a function's name to that function only: an assembler symbol that
leaks into an object's symbol table under a C function's name (an inline-asm `.set` counter) has objdump
label code with it, and the stack analysis then follows calls to a "function" it has no frame for."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mcudeploy.codegen.library import INCLUDE_DIR, library_files, library_root
from mcudeploy.emulation import ElfImage, get_target
from mcudeploy.emulation.toolchain import COMMON_CFLAGS, find_compiler


@pytest.mark.parametrize("target_name", ["m4", "m7", "m55"])  # the DSP path, its dual-issue variant, MVE
def test_no_kernel_object_gives_a_function_name_to_another_symbol(tmp_path: Path, target_name: str) -> None:
    target = get_target(target_name)
    root = Path(str(library_root()))
    sources = [root / path for name, path in library_files().items() if name.endswith(".c")]
    includes = sorted({f"-I{source.parent}" for source in sources} | {f"-I{root.parent / INCLUDE_DIR}"})
    command = [str(find_compiler(target)), *target.cflags, *COMMON_CFLAGS, *includes, "-c", *map(str, sources)]
    compiled = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert compiled.returncode == 0, compiled.stderr
    symbols = [symbol for path in sorted(tmp_path.glob("*.o")) for symbol in ElfImage(path).symbols if symbol.defined]
    functions = {symbol.name for symbol in symbols if symbol.kind == "func"}
    assert len(functions) > 100  # the whole library compiled
    assert sorted({symbol.name for symbol in symbols if symbol.kind != "func" and symbol.name in functions}) == []
