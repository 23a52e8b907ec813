"""Importers: model files → graph IR. Every later stage reads only the IR."""

from __future__ import annotations

from pathlib import Path

from mcudeploy.errors import ModelError
from mcudeploy.importers.tflite import read_tflite
from mcudeploy.ir import Graph
from mcudeploy.ir.validate import validate_graph


def load_model(path: str | Path) -> Graph:
    """Read a model file into the IR, choosing the importer by the file's suffix, and check the
    graph's semantics once (`validate_graph`), whichever importer made it."""
    path = Path(path)
    suffix = path.suffix.lower()
    graph = _read(path, suffix)
    validate_graph(graph)
    return graph


def _read(path: Path, suffix: str) -> Graph:
    if suffix in (".h5", ".keras"):
        from mcudeploy.importers.keras import read_keras  # TensorFlow is imported only when needed

        return read_keras(path)
    if suffix == ".onnx":
        return _read_onnx(path)
    return read_tflite(path)


def _read_onnx(path: Path) -> Graph:
    try:
        from mcudeploy.importers.onnx import read_onnx
    except ModuleNotFoundError as error:
        if error.name not in ("onnx", "onnx.reference"):
            raise
        raise ModelError(
            str(path), "reading ONNX models needs the onnx package: pip install 'mcudeploy[onnx]'"
        ) from None
    return read_onnx(path)
