"""RESIZE_BILINEAR: md_resize.h, the interpolation tables of `params.resize` as static arrays."""

from __future__ import annotations

import numpy as np

from mcudeploy.codegen.cformat import float_literal
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType
from mcudeploy.params.resize import InterpolationAxis, prepare


@emits("RESIZE_BILINEAR")
def resize_bilinear(ctx: LayerContext) -> LayerCode:
    if len(ctx.input_tensor(0).shape) != 4 or len(ctx.output_tensor().shape) != 4:
        raise ctx.unsupported("input and output must be NHWC (rank 4)")
    params = ctx.prepared(prepare)
    real = ctx.output_tensor().dtype == DType.FLOAT32
    declarations = [ctx.params("md_resize_params", params)]
    for name, axis in (("rows", params.rows), ("columns", params.columns)):
        declarations += _axis(name, axis, real)
    kernel = "md_resize_bilinear_f32" if real else "md_resize_bilinear_s8"
    call = f"{kernel}(&params, &rows, &columns, {ctx.input_ref(0)}, {ctx.output_ref()})"
    return LayerCode(("md_resize.c",), call, declarations)


def _axis(name: str, axis: InterpolationAxis, real: bool) -> list[str]:
    """The axis's arrays and its md_interpolation_axis."""
    lines = [_array("int32_t", f"{name}_lower", [str(int(v)) for v in axis.lower])]
    lines.append(_array("int32_t", f"{name}_upper", [str(int(v)) for v in axis.upper]))
    if real:
        lines.append(_array("float", f"{name}_position", [float_literal(v) for v in np.asarray(axis.position)]))
        fixed, position = "NULL", f"{name}_position"
    else:
        lines.append(_array("int32_t", f"{name}_fixed", [str(int(v)) for v in axis.position]))
        fixed, position = f"{name}_fixed", "NULL"
    lines.append(
        f"static const md_interpolation_axis {name} = "
        f"{{{name}_lower, {name}_upper, {fixed}, {position}}};"
    )
    return lines


def _array(ctype: str, name: str, values: list[str]) -> str:
    return f"static const {ctype} {name}[{len(values)}] = {{{', '.join(values)}}};"
