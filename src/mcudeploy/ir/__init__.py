"""The graph IR: the one contract between pipeline stages."""

from mcudeploy.ir.builder import GraphBuilder
from mcudeploy.ir.graph import ETHOS_U, NO_TENSOR, Graph, Operator
from mcudeploy.ir.options import Activation, Padding
from mcudeploy.ir.tensor import DType, Quantization, Tensor, pack_int4, unpack_int4
from mcudeploy.ir.variants import Columns, KernelVariant, Loops, Schedule, WeightLayout, WeightMemory

__all__ = [
    "ETHOS_U",
    "NO_TENSOR",
    "Activation",
    "Columns",
    "DType",
    "Graph",
    "GraphBuilder",
    "KernelVariant",
    "Loops",
    "Operator",
    "Padding",
    "Quantization",
    "Schedule",
    "Tensor",
    "WeightLayout",
    "WeightMemory",
    "pack_int4",
    "unpack_int4",
]
