"""TFLite Micro's signal operators (the audio front end) that C kernels run: SignalWindow,
SignalFftAutoScale, SignalRfft and SignalIrfft (int16, int32, float32), SignalEnergy,
SignalFilterBank, SignalFilterBankSquareRoot, SignalFilterBankSpectralSubtraction,
SignalFilterBankLog, SignalPCAN, and the operators with sample history (SignalDelay, SignalFramer,
SignalStacker, SignalOverlapAdd, and TFLM's CIRCULAR_BUFFER). What a kernel keeps between
inferences is the layer's state array (`KernelContract.state_bytes`). The tables (FFT twiddles,
the log correction) are derived once in params.signal and emitted as constants, so the two cannot
disagree."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from mcudeploy.codegen.cformat import array_values, c_type
from mcudeploy.codegen.layers.base import LayerCode, LayerContext, emits
from mcudeploy.ir import DType
from mcudeploy.ir.shapes import signal_attributes
from mcudeploy.params.signal import fft_twiddles, log_table, real_fft_twiddles


def _table(ctype: str, name: str, values: Iterable[int]) -> str:
    values = [int(v) for v in values]
    return f"static const {ctype} {name}[{len(values)}] = {{{', '.join(map(str, values))}}};"


def _attributes(ctx: LayerContext, *names: str) -> dict[str, int]:
    return signal_attributes(ctx.op, *names)


def _rows(ctx: LayerContext) -> tuple[int, int]:
    """Rows and row length of input 0 (signal operators run along its last axis)."""
    source = ctx.input_tensor(0)
    return source.size // source.shape[-1], source.shape[-1]


@emits("SignalWindow")
def window(ctx: LayerContext) -> LayerCode:
    shift = _attributes(ctx, "shift")["shift"]
    weights = ctx.input_tensor(1)
    call = (
        f"md_signal_window({ctx.input_ref(0)}, {ctx.input_ref(1)}, {weights.size}, "
        f"{ctx.output_tensor().size}, {shift}, {ctx.output_ref()})"
    )
    return LayerCode(("md_signal.c",), call)


@emits("SignalFftAutoScale")
def fft_auto_scale(ctx: LayerContext) -> LayerCode:
    call = (
        f"md_signal_fft_auto_scale({ctx.input_ref(0)}, {ctx.input_tensor(0).size}, "
        f"{ctx.output_ref(0)}, {ctx.output_ref(1)})"
    )
    return LayerCode(("md_signal.c",), call)


def _interleaved(parts: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return np.stack([parts[0], parts[1]], axis=-1).reshape(-1)


FFT_KINDS = {DType.INT16: ("s16", 16), DType.INT32: ("s32", 32), DType.FLOAT32: ("f32", 0)}
"""The C suffix of each sample type's FFT and the twiddles' width in params.signal (0: float)."""


def _fft_tables(ctx: LayerContext, inverse: bool) -> tuple[int, str, str, list[str]]:
    """fft_length, the kernel's suffix, the sample's C type and the twiddle tables of the KISS FFT
    of the input's type (the engine's own derivation)."""
    source = ctx.input_tensor(0)
    if source.dtype not in FFT_KINDS:
        raise ctx.dtype_error(source)
    kind, bits = FFT_KINDS[source.dtype]
    fft_length = _attributes(ctx, "fft_length")["fft_length"]
    if fft_length < 4:
        raise ctx.unsupported(f"fft_length {fft_length}: the C kernel needs at least 4")
    half = fft_length // 2
    ctype = c_type(source.dtype)
    tables = {"twiddles": fft_twiddles(bits, half, inverse), "super_twiddles": real_fft_twiddles(bits, half, inverse)}
    declarations = []
    for name, parts in tables.items():
        values = array_values(_interleaved(parts), source.dtype)
        declarations.append(f"static const {ctype} {name}[{2 * len(parts[0])}] = {{\n{values}\n}};")
    return fft_length, kind, ctype, declarations


@emits("SignalRfft")
def rfft(ctx: LayerContext) -> LayerCode:
    fft_length, kind, ctype, declarations = _fft_tables(ctx, inverse=False)
    frames, frame = _rows(ctx)
    call = (
        f"md_signal_rfft_{kind}(twiddles, super_twiddles, {fft_length}, {ctx.input_ref(0)}, {frames}, {frame}, "
        f"{ctx.required_scratch(ctype)}, {ctx.output_ref()})"
    )
    return LayerCode(("md_signal_fft.c",), call, declarations)


@emits("SignalIrfft")
def irfft(ctx: LayerContext) -> LayerCode:
    fft_length, kind, ctype, declarations = _fft_tables(ctx, inverse=True)
    frames, _ = _rows(ctx)
    call = (
        f"md_signal_irfft_{kind}(twiddles, super_twiddles, {fft_length}, {ctx.input_ref(0)}, {frames}, "
        f"{ctx.required_scratch(ctype)}, {ctx.output_ref()})"
    )
    return LayerCode(("md_signal_fft.c",), call, declarations)


@emits("SignalEnergy")
def energy(ctx: LayerContext) -> LayerCode:
    span = _attributes(ctx, "start_index", "end_index")
    call = (
        f"md_signal_energy({ctx.input_ref(0)}, {ctx.output_tensor().size}, {span['start_index']}, "
        f"{span['end_index']}, {ctx.output_ref()})"
    )
    return LayerCode(("md_signal.c",), call)


@emits("SignalFilterBank")
def filter_bank(ctx: LayerContext) -> LayerCode:
    channels = _attributes(ctx, "num_channels")["num_channels"]
    ctx.require_constants(1, 2, 3, 4, 5)
    tables = ", ".join(ctx.input_ref(i) for i in range(1, 6))
    call = f"md_signal_filter_bank({channels}, {ctx.input_ref(0)}, {tables}, {ctx.output_ref()})"
    return LayerCode(("md_signal.c",), call)


@emits("SignalFilterBankSquareRoot")
def filter_bank_square_root(ctx: LayerContext) -> LayerCode:
    call = (
        f"md_signal_filter_bank_sqrt({ctx.input_ref(0)}, {ctx.input_tensor(0).size}, {ctx.input_ref(1)}, "
        f"{ctx.output_ref()})"
    )
    return LayerCode(("md_signal.c",), call)


@emits("SignalFilterBankSpectralSubtraction")
def spectral_subtraction(ctx: LayerContext) -> LayerCode:
    names = ("num_channels", "smoothing", "one_minus_smoothing", "alternate_smoothing")
    names += ("alternate_one_minus_smoothing", "smoothing_bits", "min_signal_remaining", "spectral_subtraction_bits")
    a = _attributes(ctx, *names, "clamping")
    fields = {name: a[name] & 0xFFFFFFFF if name != "num_channels" else a[name] for name in names}
    fields["clamping"] = int(bool(a["clamping"]))
    declarations = [ctx.params("md_signal_spectral_subtraction_params", fields)]
    call = (
        f"md_signal_spectral_subtraction(&params, {ctx.input_ref(0)}, {ctx.state_ref('uint32_t')}, "
        f"{ctx.output_ref(0)}, {ctx.output_ref(1)})"
    )
    return LayerCode(("md_signal.c",), call, declarations)


@emits("SignalFilterBankLog")
def filter_bank_log(ctx: LayerContext) -> LayerCode:
    a = _attributes(ctx, "input_correction_bits", "output_scale")
    declarations = [_table("uint16_t", "log_table", log_table())]
    call = (
        f"md_signal_filter_bank_log({ctx.input_ref(0)}, {ctx.input_tensor(0).size}, "
        f"{a['output_scale'] & 0xFFFFFFFF}u, {a['input_correction_bits']}, log_table, {ctx.output_ref()})"
    )
    return LayerCode(("md_signal.c",), call, declarations)


@emits("SignalPCAN")
def pcan(ctx: LayerContext) -> LayerCode:
    snr_shift = _attributes(ctx, "snr_shift")["snr_shift"]
    call = (
        f"md_signal_pcan({ctx.input_ref(0)}, {ctx.input_ref(1)}, {ctx.input_ref(2)}, {ctx.input_tensor(0).size}, "
        f"{snr_shift}, {ctx.output_ref()})"
    )
    return LayerCode(("md_signal.c",), call)


@emits("SignalDelay")
def delay(ctx: LayerContext) -> LayerCode:
    length = _attributes(ctx, "delay_length")["delay_length"]
    rows, frame = _rows(ctx)
    call = (
        f"md_signal_delay({ctx.input_ref(0)}, {rows}, {frame}, {length}, {ctx.state_ref('int16_t')}, "
        f"{ctx.output_ref()})"
    )
    return LayerCode(("md_signal_stream.c",), call)


@emits("SignalFramer")
def framer(ctx: LayerContext) -> LayerCode:
    a = _attributes(ctx, "frame_size", "frame_step", "prefill")
    rows, length = _rows(ctx)
    call = (
        f"md_signal_framer({ctx.input_ref(0)}, {rows}, {length}, {a['frame_size']}, {a['frame_step']}, "
        f"{int(bool(a['prefill']))}, {ctx.state_ref('uint8_t')}, {ctx.output_ref(0)}, {ctx.output_ref(1, DType.UINT8)})"
    )
    return LayerCode(("md_signal_stream.c",), call)


@emits("SignalStacker")
def stacker(ctx: LayerContext) -> LayerCode:
    names = ("num_channels", "stacker_left_context", "stacker_right_context", "stacker_step")
    a = _attributes(ctx, *names)
    values = ", ".join(str(a[name]) for name in names)
    call = (
        f"md_signal_stacker({ctx.input_ref(0)}, {values}, {ctx.state_ref('uint8_t')}, {ctx.output_ref(0)}, "
        f"{ctx.output_ref(1, DType.UINT8)})"
    )
    return LayerCode(("md_signal_stream.c",), call)


@emits("SignalOverlapAdd")
def overlap_add(ctx: LayerContext) -> LayerCode:
    step = _attributes(ctx, "frame_step")["frame_step"]
    frames = ctx.input_tensor(0)
    size, count = frames.shape[-1], frames.shape[-2]
    kind, ctype = ("s16", "int16_t") if frames.dtype == DType.INT16 else ("f32", "float")
    call = (
        f"md_signal_overlap_add_{kind}({ctx.input_ref(0)}, {frames.size // size // count}, {count}, {size}, {step}, "
        f"{ctx.state_ref(ctype)}, {ctx.output_ref()})"
    )
    return LayerCode(("md_signal_stream.c",), call)


@emits("CIRCULAR_BUFFER")
def circular_buffer(ctx: LayerContext) -> LayerCode:
    cycles_max = _attributes(ctx, "cycles_max")["cycles_max"]
    history = ctx.output_tensor()
    zero_point = history.reset_value
    call = (
        f"md_circular_buffer_s8({ctx.input_ref(0)}, {history.shape[1]}, {history.size // history.shape[1]}, "
        f"{cycles_max}, {zero_point}, {ctx.state_ref('uint8_t')}, {ctx.output_ref()})"
    )
    return LayerCode(("md_signal_stream.c",), call)
