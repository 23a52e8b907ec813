"""One module per ONNX operator family; importing them registers their converters."""

from mcudeploy.importers.onnx.ops import (  # noqa: F401
    activations,
    conv,
    dense,
    elementwise,
    pointwise,
    pooling,
    quantize,
    recurrent,
    resize,
    shape,
    softmax,
)
