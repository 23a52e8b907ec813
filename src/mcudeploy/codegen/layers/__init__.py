"""Layer emitters, one module per operator family; importing the package registers them all."""

from mcudeploy.codegen.layers import (  # noqa: F401 - registration
    accumulate,
    activations,
    batch_matmul,
    compare,
    control_flow,
    conv,
    decode,
    detection,
    elementwise,
    ethos_u,
    fully_connected,
    movement,
    normalization,
    quantize,
    rearrange,
    recurrent,
    reduce,
    resize,
    signal,
    softmax,
    transpose_conv,
    unary,
    variables,
)
from mcudeploy.codegen.layers.base import EMITTERS

__all__ = ["EMITTERS"]
