"""TFLM_DECODE: md_decode.c, one call per (encoded, ancillary) pair, each writing its output; the
pairs are decoded once here (params.decode), which refuses what would read outside them."""

from __future__ import annotations

from mcudeploy.codegen.cformat import array_values
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType
from mcudeploy.ir.shapes import DECODE
from mcudeploy.params.decode import prepare


@emits(DECODE)
def decode(ctx: LayerContext) -> LayerCode:
    declarations, calls = [], []
    for position, record in enumerate(ctx.prepared(prepare)):
        declarations.append(ctx.params("md_decode_params", record, name=f"params_{position}"))
        zero_points = "NULL"
        if record.zero_points is not None:
            zero_points = f"zero_points_{position}"
            values = array_values(record.zero_points, DType.INT8, indent="")
            declarations.append(f"static const int8_t {zero_points}[] = {{{values}}};")
        encoded, ancillary = (ctx.input_ref(2 * position + i, DType.UINT8) for i in (0, 1))
        output = ctx.output_ref(position)
        calls.append(f"md_decode(&params_{position}, {encoded}, {ancillary}, {zero_points}, {output})")
    for call in calls[:-1]:  # every pair but the last, whose status the layer returns
        declarations.append(f"{{ const md_status status = {call}; if (status != MD_OK) {{ return status; }} }}")
    return LayerCode(("md_decode.c",), calls[-1], declarations)
