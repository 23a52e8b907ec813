"""docs/promises.md: every promise names the tests that check it, and those tests exist.
The promises no other test file checks are checked here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import MODELS, TESTS
from mcudeploy.emulation.elf import MAX_ELF_BYTES, ElfImage
from mcudeploy.errors import McuDeployError, ModelError
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite.reader import MAX_MODEL_BYTES
from mcudeploy.inputs import MAX_INPUT_BYTES, load_inputs

PROMISES = TESTS.parent / "docs" / "promises.md"
REFERENCE = re.compile(r"`tests/(\w+\.py)::(\w+)`")


def _promises() -> list[str]:
    """Each bullet of the document, joined onto one line."""
    bullets: list[str] = []
    for line in PROMISES.read_text().splitlines():
        if line.startswith("- **"):
            bullets.append(line)
        elif line.startswith("  ") and bullets:
            bullets[-1] += " " + line.strip()
    return bullets


def _test_names(file: str) -> set[str]:
    tree = ast.parse((TESTS / file).read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_promise_names_tests_that_exist() -> None:
    promises = _promises()
    assert len(promises) >= 15
    for promise in promises:
        references = REFERENCE.findall(promise)
        assert references, f"no test named for: {promise[:80]}"
        for file, name in references:
            assert name in _test_names(file), f"{file}::{name} (named in docs/promises.md) does not exist"


def _sparse(path: Path, size: int) -> Path:
    """A file of `size` bytes that takes no disk space."""
    with path.open("wb") as stream:
        stream.truncate(size)
    return path


def test_oversized_files_are_refused_unread(tmp_path: Path) -> None:
    model = _sparse(tmp_path / "huge.tflite", MAX_MODEL_BYTES + 1)
    with pytest.raises(ModelError, match=f"is {MAX_MODEL_BYTES + 1:,} bytes, more than the {MAX_MODEL_BYTES:,}"):
        load_model(model)
    graph = load_model(MODELS / "tflm" / "hello_world_int8.tflite")
    for suffix in (".npy", ".npz", ".bin", ".bmp"):
        given = _sparse(tmp_path / f"huge{suffix}", MAX_INPUT_BYTES + 1)
        with pytest.raises(McuDeployError, match=f"is {MAX_INPUT_BYTES + 1:,} bytes, more than"):
            load_inputs(given, graph)
    with pytest.raises(McuDeployError, match=f"is {MAX_ELF_BYTES + 1:,} bytes, more than"):
        ElfImage(_sparse(tmp_path / "huge.elf", MAX_ELF_BYTES + 1))
