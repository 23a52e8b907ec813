"""Element-wise activations: RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH, and PRELU
(its alpha broadcast)."""

from __future__ import annotations

from mcudeploy.codegen.cformat import float_literal
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.codegen.layers.elementwise import broadcast_fields
from mcudeploy.ir import DType
from mcudeploy.ir.options import LeakyReluOptions
from mcudeploy.params.activations import FLOAT_RELU_BOUNDS, prepare
from mcudeploy.params.prelu import prepare as prepare_prelu
from mcudeploy.params.quantization import checked_log2, single_scale, zero_point

FLOAT_FUNCTIONS = {
    "RELU": "MD_RELU_F32",
    "RELU6": "MD_RELU_F32",
    "RELU_N1_TO_1": "MD_RELU_F32",
    "LEAKY_RELU": "MD_LEAKY_RELU_F32",
    "HARD_SWISH": "MD_HARD_SWISH_F32",
    "LOGISTIC": "MD_LOGISTIC_F32",
    "TANH": "MD_TANH_F32",
}
INTEGER_KERNELS = {
    "RELU": "md_relu_int",
    "RELU_N1_TO_1": "md_relu_int",
    "RELU6": "md_relu6_int",
    "LEAKY_RELU": "md_leaky_relu_int",
    "HARD_SWISH": "md_hard_swish_s8",
}


def _integer_code(ctx: LayerContext, kernel: str, source: str = "md_activations.c") -> LayerCode:
    call = f"{kernel}(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
    declarations = [ctx.params("md_activation_params", ctx.prepared(prepare))]
    return LayerCode((source,), call, declarations)


def _float_code(ctx: LayerContext) -> LayerCode:
    fields: dict[str, object] = {"count": ctx.input_tensor(0).size, "function": FLOAT_FUNCTIONS[ctx.op.op_type]}
    if ctx.op.op_type in FLOAT_RELU_BOUNDS:
        low, high = FLOAT_RELU_BOUNDS[ctx.op.op_type]
        fields.update(low=float_literal(low), high=float_literal(high))
    if ctx.op.op_type == "LEAKY_RELU":
        fields["alpha"] = float_literal((ctx.options or LeakyReluOptions()).alpha)
    call = f"md_activation_f32_run(&params, {ctx.input_ref(0)}, {ctx.output_ref()})"
    declarations = [ctx.params("md_activation_f32_params", fields)]
    return LayerCode(("md_activations_f32.c",), call, declarations, uses_libm=True)


def _check_types(ctx: LayerContext, integer_types: tuple[DType, ...]) -> DType:
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    if input_t.dtype != output_t.dtype or input_t.dtype not in (DType.FLOAT32, *integer_types):
        raise ctx.unsupported(f"{input_t.dtype} input with {output_t.dtype} output")
    return input_t.dtype


@emits("RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU")
def relu_like(ctx: LayerContext) -> LayerCode:
    if _check_types(ctx, (DType.INT8, DType.INT16)) == DType.FLOAT32:
        return _float_code(ctx)
    return _integer_code(ctx, INTEGER_KERNELS[ctx.op.op_type])


@emits("HARD_SWISH")
def hard_swish(ctx: LayerContext) -> LayerCode:
    if _check_types(ctx, (DType.INT8,)) == DType.FLOAT32:
        return _float_code(ctx)
    return _integer_code(ctx, INTEGER_KERNELS["HARD_SWISH"])


@emits("LOGISTIC", "TANH")
def sigmoid_like(ctx: LayerContext) -> LayerCode:
    dtype = _check_types(ctx, (DType.INT8, DType.INT16))
    if dtype == DType.FLOAT32:
        return _float_code(ctx)
    name = "logistic" if ctx.op.op_type == "LOGISTIC" else "tanh"
    if dtype == DType.INT8:
        return _integer_code(ctx, f"md_{name}_s8")
    input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
    if zero_point(input_t) or zero_point(output_t) or checked_log2(single_scale(output_t)) != (True, -15):
        raise ctx.unsupported(f"int16 {ctx.op.op_type} needs zero points of 0 and an output scale of 2^-15")
    return _integer_code(ctx, f"md_{name}_s16", "md_activations_s16.c")


@emits("PRELU")
def prelu(ctx: LayerContext) -> LayerCode:
    x, alpha, output = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    shape = broadcast_fields(ctx, [x.shape, alpha.shape], output.shape)
    declarations = [
        ctx.params("md_prelu_params", ctx.prepared(prepare_prelu)),
        ctx.params("md_broadcast", shape, "shape"),
    ]
    call = f"md_prelu(&params, &shape, {ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.output_ref()})"
    return LayerCode(("md_prelu.c",), call, declarations)
