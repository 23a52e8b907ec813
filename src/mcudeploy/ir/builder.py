"""Build a graph in code: tests, examples and importers describe models with it.

    b = GraphBuilder("tiny")
    x = b.tensor((1, 8, 8, 3), DType.INT8, scale=0.02, zero_point=-3, name="input")
    w = b.tensor((4, 3, 3, 3), DType.INT8, scale=[0.01, 0.02, 0.03, 0.04], axis=0, data=weights)
    y = b.tensor((1, 8, 8, 4), DType.INT8, scale=0.05, zero_point=1)
    b.op("CONV_2D", [x, w, NO_TENSOR], [y], Conv2DOptions(padding=Padding.SAME))
    graph = b.build(inputs=[x], outputs=[y])

Tensors are referred to by the index `tensor()` returns, as operators do in the IR.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from mcudeploy.ir.graph import NO_TENSOR, Graph, Operator
from mcudeploy.ir.options import CustomOptions, OperatorOptions
from mcudeploy.ir.tensor import DType, Quantization, Tensor


class GraphBuilder:
    """Collects tensors and operators (in execution order), then makes a `Graph`."""

    def __init__(self, name: str, description: str = "") -> None:
        self.name = name
        self.description = description
        self.tensors: list[Tensor] = []
        self.operators: list[Operator] = []
        self._produced: set[int] = set()

    def tensor(
        self,
        shape: Sequence[int],
        dtype: DType | str,
        *,
        scale: float | Sequence[float] | None = None,
        zero_point: int | Sequence[int] = 0,
        axis: int | None = None,
        data: ArrayLike | None = None,
        name: str | None = None,
        is_variable: bool = False,
    ) -> int:
        """Add a tensor and return its index. A tensor given `data` is a constant.

        `scale` as one number is per-tensor quantization; as a sequence with `axis`,
        per-channel (one scale per slice along `axis`, `zero_point` one or one per slice).
        """
        index = len(self.tensors)
        shape = tuple(int(d) for d in shape)
        if any(d < 0 for d in shape):
            raise ValueError(f"tensor {index}: negative dimension in shape {list(shape)}")
        dtype = DType(dtype)
        tensor = Tensor(
            index=index,
            name=name if name is not None else f"tensor_{index}",
            shape=shape,
            dtype=dtype,
            quantization=_quantization(scale, zero_point, axis, shape, index),
            is_variable=is_variable,
        )
        if data is not None:
            tensor.data = _constant_data(data, tensor)
        self.tensors.append(tensor)
        return index

    def op(
        self,
        op_type: str,
        inputs: Sequence[int],
        outputs: Sequence[int],
        options: OperatorOptions | None = None,
        *,
        custom: bool = False,
        version: int = 1,
    ) -> int:
        """Append an operator (after those already added) and return its index.

        `NO_TENSOR` (-1) marks an absent optional input. A custom operator takes
        `custom=True` (implied by `CustomOptions`) and its custom code as `op_type`.
        """
        index = len(self.operators)
        label = f"operator {index} {op_type}"
        inputs, outputs = tuple(int(i) for i in inputs), tuple(int(i) for i in outputs)
        for i in inputs:
            self._check_index(i, label, allow_absent=True)
        for i in outputs:
            self._check_index(i, label, allow_absent=False)
            if self.tensors[i].is_constant:
                raise ValueError(f"{label} writes constant tensor {i} '{self.tensors[i].name}'")
            if i in self._produced:
                raise ValueError(f"{label} writes tensor {i} '{self.tensors[i].name}', already written by another")
        self._produced.update(outputs)
        self.operators.append(
            Operator(
                index=index,
                op_type=op_type,
                inputs=inputs,
                outputs=outputs,
                options=options,
                is_custom=custom or isinstance(options, CustomOptions),
                version=version,
            )
        )
        return index

    def build(self, inputs: Sequence[int], outputs: Sequence[int], other_subgraphs: Sequence[Graph] = ()) -> Graph:
        """The graph with these input and output tensors (and, for a main graph, the subgraphs 1, 2, ...
        its IF, WHILE and CALL_ONCE operators call). The builder can keep going afterwards."""
        inputs, outputs = tuple(int(i) for i in inputs), tuple(int(i) for i in outputs)
        for i in inputs + outputs:
            self._check_index(i, "graph input/output", allow_absent=False)
        for i in inputs:
            if self.tensors[i].is_constant:
                raise ValueError(f"graph input {i} '{self.tensors[i].name}' is a constant")
        return Graph(
            name=self.name,
            tensors=list(self.tensors),
            operators=list(self.operators),
            inputs=inputs,
            outputs=outputs,
            description=self.description,
            other_subgraphs=tuple(other_subgraphs),
        )

    def _check_index(self, index: int, where: str, *, allow_absent: bool) -> None:
        if allow_absent and index == NO_TENSOR:
            return
        if not 0 <= index < len(self.tensors):
            raise ValueError(f"{where}: tensor {index} does not exist (the builder has {len(self.tensors)} tensors)")


def _quantization(
    scale: float | Sequence[float] | None,
    zero_point: int | Sequence[int],
    axis: int | None,
    shape: tuple[int, ...],
    index: int,
) -> Quantization | None:
    if scale is None:
        return None
    if axis is None:
        if np.ndim(scale) or np.ndim(zero_point):
            raise ValueError(f"tensor {index}: per-channel scales or zero points need an axis")
        return Quantization.per_tensor(float(scale), int(zero_point))
    scales = np.atleast_1d(np.asarray(scale, dtype=np.float64))
    if not 0 <= axis < len(shape) or shape[axis] != len(scales):
        raise ValueError(f"tensor {index}: {len(scales)} scales do not match axis {axis} of shape {list(shape)}")
    zero_points = np.broadcast_to(np.asarray(zero_point, dtype=np.int64), scales.shape)
    return Quantization.per_axis(scales, zero_points, axis)


def _constant_data(data: ArrayLike, tensor: Tensor) -> np.ndarray:
    """A read-only copy of `data` in the tensor's dtype; integer values must fit it exactly."""
    given = np.asarray(data)
    if given.shape != tensor.shape:
        raise ValueError(
            f"tensor {tensor.index} '{tensor.name}': data of shape {list(given.shape)}, declared {list(tensor.shape)}"
        )
    array = np.array(given, dtype=tensor.dtype.numpy, order="C")  # always a copy the graph owns
    out_of_int4 = tensor.dtype == DType.INT4 and ((array < -8) | (array > 7)).any()
    if not tensor.dtype.is_float and (out_of_int4 or not np.array_equal(array, given)):
        raise ValueError(f"tensor {tensor.index} '{tensor.name}': data values do not fit {tensor.dtype}")
    array.flags.writeable = False
    return array
