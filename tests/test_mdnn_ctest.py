"""The kernel library's own CMake project (`mdnn/CMakeLists.txt`) builds on the host and its C unit
tests (`mdnn/Tests`, run by ctest) pass."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from mcudeploy.codegen.library import library_root

pytestmark = pytest.mark.skipif(
    shutil.which("cmake") is None or shutil.which("ctest") is None, reason="cmake is not installed"
)


def test_library_unit_tests_pass(tmp_path):
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(library_root()), "-B", str(build)], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "-j", "2"], check=True, capture_output=True)
    result = subprocess.run(["ctest", "--output-on-failure"], cwd=build, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "100% tests passed" in result.stdout
