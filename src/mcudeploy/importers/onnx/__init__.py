"""ONNX → graph IR (needs the optional `onnx` package: `pip install 'mcudeploy[onnx]'`).

The model is read and made static (model.py; QOperator nodes rewritten as QDQ in
qoperator.py, ConvInteger and MatMulInteger in integer.py), simplified as TFLite's
converter would (rewrite.py), then walked node by node (convert.py), each operator
family converted by one module of ops/
into the NHWC IR the TFLite importer produces, layout transposes folded away
(layout.py).
"""

from __future__ import annotations

from pathlib import Path

from mcudeploy.importers.onnx.convert import convert
from mcudeploy.importers.onnx.integer import expand_integer_ops
from mcudeploy.importers.onnx.model import read_onnx_model
from mcudeploy.importers.onnx.rewrite import rewrite
from mcudeploy.ir import Graph


def read_onnx(path: str | Path) -> Graph:
    """Read an .onnx file into a Graph (NHWC, float or int8)."""
    model = read_onnx_model(Path(path))
    expand_integer_ops(model, str(path))
    rewrite(model)
    graph = convert(model, str(path))
    graph.metadata["format"] = "onnx"
    graph.metadata["opset"] = str(model.opset)
    if model.fixed_dims:
        graph.metadata["fixed_dims"] = ", ".join(model.fixed_dims)
    return graph


__all__ = ["read_onnx"]
