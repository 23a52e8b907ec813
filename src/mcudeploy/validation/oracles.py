"""The oracles our engine is checked against: TFLite Micro's and LiteRT's interpreters.

Both keep every intermediate tensor so a mismatch can be located to the layer.
They are optional dependencies (the `oracles` extra), imported only when called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class OracleRun:
    outputs: list[np.ndarray]
    tensors: dict[int, np.ndarray]


def _model_bytes(model: bytes | Path | str) -> bytes:
    return model if isinstance(model, bytes) else Path(model).read_bytes()


def tflm_run(
    model: bytes | Path | str, inputs: Sequence[np.ndarray], tensor_count: int, output_count: int = 1
) -> OracleRun:
    """Run TFLite Micro's Python interpreter (reference kernels), keeping all tensors."""
    return tflm_runs(model, [inputs], tensor_count, output_count)[0]


def tflm_runs(
    model: bytes | Path | str,
    input_sets: Sequence[Sequence[np.ndarray]],
    tensor_count: int,
    output_count: int = 1,
    unreadable: frozenset[int] = frozenset(),
) -> list[OracleRun]:
    """Invoke one TFLite Micro interpreter on each set of inputs in turn (variable tensors, the
    state of SVDF or LSTM layers, and resource variables carry over from one invocation to the
    next). The `unreadable` tensors are not read back: resource handles crash the reader."""
    from tflite_micro.python.tflite_micro import runtime

    data = _model_bytes(model)
    # Generous arena: too small an arena segfaults the interpreter instead of failing.
    interpreter = runtime.Interpreter.from_bytes(
        data,
        arena_size=max(4 << 20, 16 * len(data)),
        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors,
    )
    runs = []
    for inputs in input_sets:
        for i, array in enumerate(inputs):
            interpreter.set_input(array, i)
        interpreter.invoke()
        outputs = [np.array(interpreter.get_output(i)) for i in range(output_count)]
        tensors = {
            i: np.array(interpreter.GetTensor(i, 0)["tensor_data"]) for i in range(tensor_count) if i not in unreadable
        }
        runs.append(OracleRun(outputs=outputs, tensors=tensors))
    return runs


def litert_run(model: bytes | Path | str, inputs: Sequence[np.ndarray]) -> OracleRun:
    """Run LiteRT with the builtin reference kernels (XNNPACK differs by 1 LSB), keeping all tensors."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_content=_model_bytes(model),
        experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    for detail, array in zip(interpreter.get_input_details(), inputs, strict=True):
        interpreter.set_tensor(detail["index"], array)
    interpreter.invoke()
    outputs = [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]
    tensors = {}
    for detail in interpreter.get_tensor_details():
        try:
            tensors[detail["index"]] = interpreter.get_tensor(detail["index"])
        except ValueError:  # tensors without data (e.g. optional)
            continue
    return OracleRun(outputs=outputs, tensors=tensors)
