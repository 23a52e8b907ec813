"""SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM: layers with state kept across invocations (variable
tensors, static arrays)."""

from __future__ import annotations

from mcudeploy.codegen.cformat import c_type, float_literal
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType
from mcudeploy.params import lstm
from mcudeploy.params.svdf import STATE_INPUT, prepare


@emits("SVDF")
def svdf(ctx: LayerContext) -> LayerCode:
    params = ctx.prepared(prepare)
    ctx.require_constants(1, 2, 3)
    weights = f"{ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, {ctx.input_ref(3)}"
    state = ctx.input_ref(STATE_INPUT)
    declarations = [ctx.params("md_svdf_params", params)]
    if ctx.input_tensor(0).dtype == DType.FLOAT32:
        low, high = (float_literal(bound) for bound in params.float_range)
        call = f"md_svdf_f32(&params, {low}, {high}, {weights}, {state}, {ctx.output_ref()})"
        return LayerCode(("md_svdf_f32.c",), call, declarations)
    state_is16 = int(ctx.input_tensor(STATE_INPUT).dtype == DType.INT16)
    call = f"md_svdf_s8(&params, {weights}, {state}, {state_is16}, {ctx.output_ref()})"
    return LayerCode(("md_svdf.c",), call, declarations)


@emits("UNIDIRECTIONAL_SEQUENCE_LSTM")
def unidirectional_sequence_lstm(ctx: LayerContext) -> LayerCode:
    params = ctx.prepared(lstm.prepare)
    integer = params.input_zero_point is not None
    weights = ", ".join(ctx.input_ref(i) for i in (*lstm.INPUT_WEIGHTS, *lstm.RECURRENT_WEIGHTS))
    biases = ", ".join(ctx.input_ref(i) for i in lstm.BIASES)
    weight_type, bias_type = (c_type(ctx.input_tensor(i).dtype) for i in (lstm.INPUT_WEIGHTS[0], lstm.BIASES[0]))
    declarations = [
        ctx.params("md_lstm_params", params),
        f"static const {weight_type} *const weights[8] = {{{weights}}};",
        f"static const {bias_type} *const biases[4] = {{{biases}}};",
    ]
    states = f"{ctx.input_ref(lstm.HIDDEN_STATE)}, {ctx.input_ref(lstm.CELL_STATE)}"
    if integer:
        suffix = "s16" if ctx.input_tensor(0).dtype == DType.INT16 else "s8"
        call = (
            f"md_lstm_{suffix}(&params, {ctx.input_ref(0)}, weights, biases, {states}, "
            f"{ctx.required_scratch('int16_t')}, {ctx.output_ref()})"
        )
        return LayerCode(("md_lstm.c",), call, declarations)
    call = (
        f"md_lstm_f32(&params, {float_literal(params.cell_clip)}, {ctx.input_ref(0)}, weights, biases, {states}, "
        f"{ctx.required_scratch('float')}, {ctx.output_ref()})"
    )
    return LayerCode(("md_lstm_f32.c",), call, declarations)
