"""What arithmetic a model runs in, said once by every command that reads a model."""

from __future__ import annotations

from mcudeploy.ir import Graph

_CONVERSIONS = {"QUANTIZE", "DEQUANTIZE"}
_DATA_MOVEMENT = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS", "TRANSPOSE", "CONCATENATION", "PAD", "PADV2"}
_HANDLES = {"VAR_HANDLE"}
"""Outputs a resource variable's handle, no values."""


def precision(graph: Graph) -> str:
    """ "float32", "int8", "int16"..., or "mixed: float32 + int8", from what the computing layers output."""
    computing = [op for op in graph.operators if op.op_type not in _CONVERSIONS | _DATA_MOVEMENT | _HANDLES]
    dtypes = sorted({str(graph.tensors[op.outputs[0]].dtype) for op in computing if op.outputs})
    if not dtypes:
        return "none"
    return dtypes[0] if len(dtypes) == 1 else "mixed: " + " + ".join(dtypes)


def precision_note(graph: Graph) -> str | None:
    """A line for the text output when the model does not run in integer arithmetic only."""
    kind = precision(graph)
    source = {"onnx": "ONNX", "keras": "Keras"}.get(graph.metadata.get("format", ""), "this")
    if kind == "float32":
        return (
            f"{source} model is float: it runs as float32 (TFLite's float kernels, no int8 speed or size); to run "
            f"int8, give --calibration DATA (or write an int8 .tflite with mcudeploy quantize)"
        )
    if kind.startswith("mixed") and "float32" in kind:
        return f"{source} model runs partly as float32 ({kind}): the float layers get no int8 speed or size"
    return None
