"""TFLite_Detection_PostProcess: md_detection.c, its working memory the layer's scratch."""

from __future__ import annotations

from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir.shapes import DETECTION_POSTPROCESS
from mcudeploy.params.detection import prepare


@emits(DETECTION_POSTPROCESS)
def detection_postprocess(ctx: LayerContext) -> LayerCode:
    params = ctx.prepared(prepare)
    inputs = ", ".join(ctx.input_ref(position) for position in range(3))
    outputs = ", ".join(ctx.output_ref(position) for position in range(4))
    call = f"md_detection_postprocess_f32(&params, {inputs}, {outputs}, {ctx.required_scratch('float')})"
    return LayerCode(("md_detection.c",), call, [ctx.params("md_detection_params", params)], uses_libm=True)
