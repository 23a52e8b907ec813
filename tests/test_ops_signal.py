"""TFLM's signal operators (the audio front end's custom operators) against TFLite Micro, which
registers them all: every tensor bit for bit, over several invocations for those with history."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mcudeploy.engine.interpreter import Engine
from mcudeploy.errors import McuDeployError
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import CustomOptions
from mcudeploy.validation.oracles import tflm_runs
from single_op import assert_matches_tflm

INT16, INT32, FLOAT32 = 7, 2, 0
"""TFLite TensorType codes, as the attribute T of Rfft, Irfft and OverlapAdd holds them."""


def signal_op(builder, op_type, inputs, outputs, **attributes) -> None:
    builder.op(op_type, inputs, outputs, CustomOptions.from_map(attributes))


def one_op(op_type, inputs, outputs, constants=(), **attributes):
    """A graph of one signal operator: `inputs` and `outputs` as (shape, dtype); `constants` as
    (position, array) placed among the inputs."""
    b = GraphBuilder(op_type)
    variables = [b.tensor(shape, dtype, name=f"in{i}") for i, (shape, dtype) in enumerate(inputs)]
    tensors = list(variables)
    for position, array in constants:
        tensors.insert(position, b.tensor(array.shape, str(array.dtype), data=array))
    results = [b.tensor(shape, dtype, name=f"out{i}") for i, (shape, dtype) in enumerate(outputs)]
    signal_op(b, op_type, tensors, results, **attributes)
    return b.build(variables, results)


RNG = np.random.default_rng(11)


@pytest.mark.parametrize("shift", [0, 12, 15])
def test_window(shift: int) -> None:
    weights = RNG.integers(-32768, 32768, 16).astype(np.int16)
    graph = one_op("SignalWindow", [((3, 16), "int16")], [((3, 16), "int16")], [(1, weights)], shift=shift)
    assert_matches_tflm(graph)


def test_fft_auto_scale_on_quiet_loud_and_extreme_frames() -> None:
    graph = one_op("SignalFftAutoScale", [((32,), "int16")], [((32,), "int16"), ((), "int32")])
    frames = [np.zeros(32), np.arange(32) - 16, RNG.integers(-300, 300, 32), np.full(32, -32768)]
    mixed = RNG.integers(-100, 100, 32)
    mixed[5] = -32768  # MaxAbs16's wrapped magnitude, then a later sample replaces it
    for frame in [*frames, mixed]:
        assert_matches_tflm(graph, inputs=[np.asarray(frame, dtype=np.int16)])


@pytest.mark.parametrize(
    ("dtype", "code", "fft_length", "frame"),
    [
        ("int16", INT16, 512, 480),
        ("int16", INT16, 256, 256),
        ("int16", INT16, 32, 20),
        ("int16", INT16, 8, 8),
        ("int32", INT32, 64, 50),
        ("float32", FLOAT32, 128, 100),
    ],
)
def test_rfft(dtype: str, code: int, fft_length: int, frame: int) -> None:
    bins = 2 * (fft_length // 2 + 1)
    graph = one_op("SignalRfft", [((2, frame), dtype)], [((2, bins), dtype)], T=code, fft_length=fft_length)
    assert_matches_tflm(graph, float_exact=True)  # float32 too: the same KISS FFT steps in float32
    quiet = (RNG.integers(-2000, 2000, (2, frame)) * (1 << 16 if dtype == "int32" else 1)).astype(dtype)
    assert_matches_tflm(graph, inputs=[quiet])


@pytest.mark.parametrize(
    ("dtype", "code", "fft_length"),
    [("int16", INT16, 512), ("int16", INT16, 32), ("int32", INT32, 64), ("float32", FLOAT32, 128)],
)
def test_irfft(dtype: str, code: int, fft_length: int) -> None:
    bins = 2 * (fft_length // 2 + 1)
    graph = one_op("SignalIrfft", [((2, bins), dtype)], [((2, fft_length), dtype)], T=code, fft_length=fft_length)
    assert_matches_tflm(graph, float_exact=True)


def test_energy_of_every_bin_and_of_a_band() -> None:
    full = one_op("SignalEnergy", [((66,), "int16")], [((33,), "uint32")], start_index=0, end_index=33)
    assert_matches_tflm(full)
    assert_matches_tflm(full, inputs=[np.full(66, -32768, dtype=np.int16)])  # 2^31: wraps in int32
    band = one_op("SignalEnergy", [((66,), "int16")], [((33,), "uint32")], start_index=4, end_index=20)
    spectrum = RNG.integers(-32768, 32768, 66).astype(np.int16)
    ours = Engine(band).run([spectrum]).outputs[0]
    theirs = tflm_runs(write_tflite(band), [[spectrum]], len(band.tensors))[0].outputs[0]
    assert np.array_equal(ours[4:20], theirs[4:20])  # TFLM leaves the other bins as the arena held them
    assert not ours[:4].any() and not ours[20:].any()


def mel_like_filter_bank(channels: int, bins: int, rng: np.random.Generator):
    """Channel starts, weight starts and widths of triangular channels over `bins` (the last one
    reaching the spectrum's end), with weights and unweights below 4096 as TFLM's generator makes."""
    edges = np.linspace(1, bins - 1, channels + 2).astype(np.int64)
    starts = edges[:-1]
    widths = np.diff(edges)
    weight_starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    total = int(widths.sum())
    weights = rng.integers(0, 4096, total)
    return [a.astype(np.int16) for a in (weights, 4096 - weights, starts, weight_starts, widths)]


def test_filter_bank() -> None:
    arrays = mel_like_filter_bank(8, 33, RNG)
    graph = one_op(
        "SignalFilterBank",
        [((33,), "uint32")],
        [((8,), "uint64")],
        [(i + 1, a) for i, a in enumerate(arrays)],
        num_channels=8,
    )
    assert_matches_tflm(graph)


@pytest.mark.parametrize("shift", [0, 3])
def test_filter_bank_square_root(shift: int) -> None:
    b = GraphBuilder("sqrt")
    x = b.tensor((12,), "uint64", name="energies")
    bits = b.tensor((), "int32", data=np.array(shift, dtype=np.int32))
    y = b.tensor((12,), "uint32")
    signal_op(b, "SignalFilterBankSquareRoot", [x, bits], [y])
    graph = b.build([x], [y])
    values = np.array([0, 1, 2, 3, 0xFFFF_FFFF, 0xFFFE_0001, 1 << 32, (1 << 64) - 1, 10**18, 99, 4, 5], np.uint64)
    assert_matches_tflm(graph, inputs=[values])
    assert_matches_tflm(graph)


@pytest.mark.parametrize("clamping", [False, True])
def test_spectral_subtraction_keeps_its_noise_estimate(clamping: bool) -> None:
    graph = one_op(
        "SignalFilterBankSpectralSubtraction",
        [((10,), "uint32")],
        [((10,), "uint32"), ((10,), "uint32")],
        num_channels=10,
        smoothing=655,
        one_minus_smoothing=15729,
        alternate_smoothing=655,
        alternate_one_minus_smoothing=15729,
        smoothing_bits=10,
        min_signal_remaining=819,
        spectral_subtraction_bits=14,
        clamping=clamping,
    )
    loud = [RNG.integers(0, 1 << 22, 10).astype(np.uint32) for _ in range(4)]
    for frame in loud:
        assert_matches_tflm(graph, inputs=[frame])
    assert_matches_tflm(graph, invocations=5)


@pytest.mark.parametrize(("correction", "scale"), [(3, 1600), (0, 1 << 16), (7, 32768)])
def test_filter_bank_log(correction: int, scale: int) -> None:
    graph = one_op(
        "SignalFilterBankLog",
        [((40,), "uint32")],
        [((40,), "int16")],
        input_correction_bits=correction,
        output_scale=scale,
    )
    small = np.concatenate([np.arange(20), RNG.integers(0, 1 << 16, 20)]).astype(np.uint32)
    assert_matches_tflm(graph, inputs=[small])
    assert_matches_tflm(graph)


def test_pcan() -> None:
    lut = RNG.integers(-200, 2000, 125).astype(np.int16)
    graph = one_op("SignalPCAN", [((16,), "uint32"), ((16,), "uint32")], [((16,), "uint32")], [(2, lut)], snr_shift=6)
    fb = RNG.integers(0, 1 << 20, 16).astype(np.uint32)
    noise = np.concatenate([[0, 1, 2, 3], RNG.integers(0, 1 << 24, 12)]).astype(np.uint32)
    assert_matches_tflm(graph, inputs=[fb, noise])
    assert_matches_tflm(graph)


@pytest.mark.parametrize(("size", "step"), [(6, 2), (4, 4), (5, 2)])
def test_framer_keeps_its_history(size: int, step: int) -> None:
    graph = one_op(
        "SignalFramer",
        [((2, 8), "int16")],
        [((2, 8 // step, size), "int16"), ((), "bool")],
        frame_size=size,
        frame_step=step,
        prefill=True,
    )
    assert_matches_tflm(graph, invocations=4)


def test_stacker_repeats_the_first_frame_as_left_context() -> None:
    graph = one_op(
        "SignalStacker",
        [((4,), "int16")],
        [((4 * 4,), "int16"), ((), "bool")],
        num_channels=4,
        stacker_left_context=3,
        stacker_right_context=0,
        stacker_step=1,
    )
    assert_matches_tflm(graph, invocations=5)


def test_delay() -> None:
    graph = one_op("SignalDelay", [((3, 5), "int16")], [((3, 5), "int16")], delay_length=7)
    assert_matches_tflm(graph, invocations=4)


@pytest.mark.parametrize(("dtype", "code"), [("int16", INT16), ("float32", FLOAT32)])
def test_overlap_add(dtype: str, code: int) -> None:
    graph = one_op(
        "SignalOverlapAdd",
        [((2, 3, 8), dtype)],
        [
            (
                (
                    2,
                    3 * 4,
                ),
                dtype,
            )
        ],
        T=code,
        frame_step=4,
    )
    assert_matches_tflm(graph, invocations=3, float_exact=True)


def circular_buffer(cycles_max: int, zero_point: int = -5, slots: int = 4, batch: int = 1):
    """One CIRCULAR_BUFFER of frames [batch, 1, 2, 3] into a history of `slots` frames, a variable
    tensor as in TFLM's streaming models (so that TFLM resets it to the zero point)."""
    b = GraphBuilder("circular_buffer")
    frame = b.tensor((batch, 1, 2, 3), "int8", name="frame", scale=0.5, zero_point=zero_point)
    shape = (batch, slots, 2, 3)
    history = b.tensor(shape, "int8", name="history", scale=0.5, zero_point=zero_point, is_variable=True)
    signal_op(b, "CIRCULAR_BUFFER", [frame], [history], cycles_max=cycles_max)
    return b.build([frame], [history])


@pytest.mark.parametrize("cycles_max", [1, 2, 3])
def test_circular_buffer_shifts_in_frames_and_aborts_as_tflm_does(cycles_max: int) -> None:
    """The history after each frame equals TFLM's, and the engine reports an aborted run exactly
    when TFLM's Invoke returns kTfLiteAbort (15): until cycles_max frames came since the last run."""
    from tflite_micro.python.tflite_micro import runtime

    graph = circular_buffer(cycles_max)
    assert_matches_tflm(graph, invocations=7)
    frames = [RNG.integers(-128, 128, (1, 1, 2, 3), dtype=np.int8) for _ in range(7)]
    interpreter = runtime.Interpreter.from_bytes(bytes(write_tflite(graph)))
    engine = Engine(graph)
    for frame in frames:
        interpreter.set_input(frame, 0)
        assert (interpreter.invoke() == 15) == engine.run([frame]).aborted


def test_circular_buffer_abort_skips_the_layers_after_it_and_reset_restarts_the_count() -> None:
    b = GraphBuilder("streaming")
    frame = b.tensor((1, 1, 1, 2), "int8", name="frame", scale=0.5, zero_point=-3)
    history = b.tensor((1, 3, 1, 2), "int8", name="history", scale=0.5, zero_point=-3)
    doubled = b.tensor((1, 3, 1, 2), "int8", name="doubled", scale=1.0, zero_point=-3)
    signal_op(b, "CIRCULAR_BUFFER", [frame], [history], cycles_max=2)
    b.op("RELU", [history], [doubled])
    engine = Engine(b.build([frame], [doubled]))
    ones = np.ones((1, 1, 1, 2), dtype=np.int8)
    first = engine.run([ones])
    assert first.aborted and not first.outputs[0].any()  # RELU did not run: its output is unwritten
    assert np.array_equal(first.tensors[history].ravel(), [-3] * 4 + [1] * 2)
    assert not engine.run([ones]).aborted
    engine.reset()
    assert engine.run([ones]).aborted


@pytest.mark.parametrize(
    ("graph", "reason"),
    [
        (circular_buffer(0), "cycles_max is less than 1"),
        (circular_buffer(2, batch=2), r"needs one new frame \[1, 1"),
    ],
)
def test_circular_buffer_refuses_what_tflm_guesses_or_mishandles(graph, reason: str) -> None:
    with pytest.raises(McuDeployError, match=reason):
        Engine(graph)


def test_engine_reset_forgets_the_history() -> None:
    graph = one_op("SignalDelay", [((4,), "int16")], [((4,), "int16")], delay_length=2)
    engine = Engine(graph)
    first = engine.run([np.arange(1, 5, dtype=np.int16)]).outputs[0]
    engine.reset()
    assert np.array_equal(engine.run([np.arange(1, 5, dtype=np.int16)]).outputs[0], first)


def test_missing_attributes_are_one_line() -> None:
    with pytest.raises(McuDeployError, match="lack the integer attribute 'shift'"):
        Engine(one_op("SignalWindow", [((8,), "int16")], [((8,), "int16")], [(1, np.ones(8, np.int16))]))


def audio_front_end(frame: int = 480, fft_length: int = 512, channels: int = 40, seed: int = 0):
    """An audio_preprocessor-style graph as TFLM's micro_speech example builds it: window, auto
    scale, FFT, energy, mel filter bank, square root (undoing the auto scale), noise reduction,
    PCAN gain control, log. Output: one int16 log-mel feature per channel."""
    rng = np.random.default_rng(seed)
    bins = fft_length // 2 + 1
    b = GraphBuilder("audio_front_end")
    samples = b.tensor((frame,), "int16", name="audio")
    hann = (np.hanning(frame) * 4096).astype(np.int16)
    windowed = b.tensor((frame,), "int16", name="windowed")
    signal_op(b, "SignalWindow", [samples, b.tensor((frame,), "int16", data=hann)], [windowed], shift=12)
    scaled, shift = b.tensor((frame,), "int16", name="scaled"), b.tensor((), "int32", name="scale_bits")
    signal_op(b, "SignalFftAutoScale", [windowed], [scaled, shift])
    spectrum = b.tensor((2 * bins,), "int16", name="spectrum")
    signal_op(b, "SignalRfft", [scaled], [spectrum], T=INT16, fft_length=fft_length)
    power = b.tensor((bins,), "uint32", name="power")
    signal_op(b, "SignalEnergy", [spectrum], [power], start_index=0, end_index=bins)
    bank = [b.tensor(a.shape, "int16", data=a) for a in mel_like_filter_bank(channels, bins, rng)]
    energies = b.tensor((channels,), "uint64", name="mel_energies")
    signal_op(b, "SignalFilterBank", [power, *bank], [energies], num_channels=channels)
    magnitudes = b.tensor((channels,), "uint32", name="mel_magnitudes")
    signal_op(b, "SignalFilterBankSquareRoot", [energies, shift], [magnitudes])
    cleaned, noise = b.tensor((channels,), "uint32", name="cleaned"), b.tensor((channels,), "uint32", name="noise")
    signal_op(
        b,
        "SignalFilterBankSpectralSubtraction",
        [magnitudes],
        [cleaned, noise],
        num_channels=channels,
        smoothing=655,
        one_minus_smoothing=15729,
        alternate_smoothing=655,
        alternate_one_minus_smoothing=15729,
        smoothing_bits=10,
        min_signal_remaining=819,
        spectral_subtraction_bits=14,
        clamping=False,
    )
    gains = b.tensor((125,), "int16", data=rng.integers(0, 4096, 125).astype(np.int16))
    controlled = b.tensor((channels,), "uint32", name="pcan")
    signal_op(b, "SignalPCAN", [cleaned, noise, gains], [controlled], snr_shift=6)
    features = b.tensor((channels,), "int16", name="log_mel")
    signal_op(b, "SignalFilterBankLog", [controlled], [features], input_correction_bits=3, output_scale=1600)
    return b.build([samples], [features])


def speech_frames(count: int, frame: int = 480, step: int = 320) -> list[np.ndarray]:
    """Consecutive overlapping frames of a chirp with noise: a signal whose spectrum moves."""
    t = np.arange(frame + step * count) / 16000
    rng = np.random.default_rng(1)
    audio = 8000 * np.sin(2 * np.pi * (200 + 3000 * t) * t) + rng.normal(0, 300, t.size)
    return [audio[k * step : k * step + frame].astype(np.int16) for k in range(count)]


def test_audio_front_end_matches_tflm_frame_after_frame() -> None:
    graph = audio_front_end()
    frames = speech_frames(6)
    model = write_tflite(graph)
    theirs = tflm_runs(model, [[f] for f in frames], len(graph.tensors))
    engine = Engine(graph)
    for frame, their_run in zip(frames, theirs, strict=True):
        ours = engine.run([frame])
        for index, value in ours.tensors.items():
            assert np.array_equal(value.reshape(-1), their_run.tensors[index].reshape(-1)), graph.tensors[index].name


def test_audio_front_end_runs_through_the_cli(tmp_path) -> None:
    from typer.testing import CliRunner

    from mcudeploy.cli.app import app

    (tmp_path / "front_end.tflite").write_bytes(write_tflite(audio_front_end()))
    np.save(tmp_path / "frame.npy", speech_frames(1)[0])
    result = CliRunner().invoke(
        app, ["run", str(tmp_path / "front_end.tflite"), "--input", str(tmp_path / "frame.npy"), "--json"]
    )
    assert result.exit_code == 0, result.output
    expected = Engine(audio_front_end()).run([speech_frames(1)[0]]).outputs[0]
    assert json.loads(result.output)["outputs"][0]["values"] == expected.tolist()


def test_filter_bank_log_every_segment_of_its_table() -> None:
    """One input in each of the 128 segments of the log correction table (params.signal derives
    it from its formula; TFLM stores it), at two positions within the segment."""
    graph = one_op(
        "SignalFilterBankLog", [((256,), "uint32")], [((256,), "int16")], input_correction_bits=0, output_scale=1 << 16
    )
    segments = (1 << 16) + np.arange(128) * 512
    assert_matches_tflm(graph, inputs=[np.concatenate([segments, segments + 300]).astype(np.uint32)])


def test_corrupt_options_are_one_line_or_run() -> None:
    """Options bytes mutated at random (and a hostile length): each model runs or is refused with
    a McuDeployError, never a traceback or a hang (the FlexBuffer is read lazily)."""
    valid = one_op("SignalEnergy", [((66,), "int16")], [((33,), "uint32")], start_index=2, end_index=30)
    op = valid.operators[0]
    data = bytearray(op.options.data)
    rng = np.random.default_rng(5)
    blobs = [b"", b"\xff" * 8, bytes(data[:-3]) + b"\x7f\xff\xff"]
    for _ in range(150):
        mutated = bytearray(data)
        for position in rng.integers(0, len(mutated), 2):
            mutated[position] = int(rng.integers(0, 256))
        blobs.append(bytes(mutated))
    refused = 0
    for blob in blobs:
        op.options = CustomOptions(blob)
        try:
            Engine(valid).run([np.ones(66, dtype=np.int16)])
        except McuDeployError:
            refused += 1
    assert 3 <= refused < len(blobs)  # the three crafted ones at least; some mutations still read


def test_every_signal_operator_names_its_attributes_in_tflm_order() -> None:
    from mcudeploy.ir.shapes import SIGNAL_ATTRIBUTES, SIGNAL_OPERATORS

    assert set(SIGNAL_ATTRIBUTES) == SIGNAL_OPERATORS
    assert all(list(names) == sorted(names) for names in SIGNAL_ATTRIBUTES.values())  # FlexBuffer key order


def test_an_extra_attribute_moves_the_others_and_is_refused() -> None:
    """TFLM reads attributes by position: with an extra key before it, 'shift' is not where TFLM
    reads it, and mcudeploy says so instead of running what TFLM would not."""
    weights = np.ones(8, np.int16)
    graph = one_op("SignalWindow", [((8,), "int16")], [((8,), "int16")], [(1, weights)], shift=3, extra=1)
    with pytest.raises(McuDeployError, match="TFLite Micro reads entry 0: finds 'extra'"):
        Engine(graph)


def test_int32_and_float32_ffts_are_bit_exact_in_c(tmp_path: Path) -> None:
    """The C library's int32 and float32 Rfft and Irfft (sanitized host build) equal the engine bit
    for bit, floats included (test_codegen's comparison allows float rounding), on random inputs
    and on alternating extremes (int32 overflow paths; float32 at 1e18, far from both ends)."""
    from test_codegen import Family, build, wide_ffts

    family = Family("wide_ffts", 3)
    wide_ffts(family)
    graph = family.graph()
    program = build(graph, tmp_path)
    extremes = [_alternating_extremes(x) for x in random_inputs(graph, 0)]
    for inputs in (random_inputs(graph, 1), extremes):
        run = program.run([inputs])
        assert run.program.exit_code == 0, run.program.stderr[-3000:]
        expected = Engine(graph).run(inputs)
        for i, got in enumerate(run.steps[0].outputs):
            assert got.tobytes() == expected.outputs[i].tobytes(), f"output {i} ({got.dtype})"


def _alternating_extremes(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "f":
        return np.where(np.arange(x.size) % 2, np.float32(-1e18), np.float32(1e18)).astype(x.dtype).reshape(x.shape)
    info = np.iinfo(x.dtype)
    return np.where(np.arange(x.size) % 2, info.min, info.max).astype(x.dtype).reshape(x.shape)


FULL_SCALE = 2**31 - 1


def _int32_extreme_frames(frame: int, fft_length: int) -> np.ndarray:
    """Frames at the ends of int32: constants ±(2^31 - 1) and -2^31 (all in the DC bin), full-scale
    sines and cosines (one bin, the Nyquist one too), alternating extremes, a full-scale square."""
    n = np.arange(frame)
    rows = [
        np.full(frame, FULL_SCALE),
        np.full(frame, -FULL_SCALE),
        np.full(frame, -(2**31)),
        FULL_SCALE * np.sin(2 * np.pi * 3 * n / fft_length),
        FULL_SCALE * np.cos(2 * np.pi * (fft_length // 4) * n / fft_length),
        FULL_SCALE * np.cos(np.pi * n),
        np.where(n % 2, -(2**31), FULL_SCALE),
        np.where(n % 8 < 4, FULL_SCALE, -(2**31)),
    ]
    return np.clip(np.round(rows), -(2**31), FULL_SCALE).astype(np.int32)


@pytest.mark.parametrize(("fft_length", "frame"), [(8, 8), (512, 400)])
def test_int32_rfft_and_irfft_at_the_ends_of_int32_match_tflm_and_the_c(fft_length: int, frame: int, tmp_path) -> None:
    """KISS FFT's Q31 steps halve every stage, yet the real FFT's split adds two halves at full
    scale: HALF_OF(f1k + tw) sums two int32 as C's int, which wraps before the shift halves it (a
    full-scale square wave's first bin: 2^31 apart from the exact half). The engine equals TFLM's
    kernel bit for bit at the ends of int32, and the C library (sanitized host build, so no signed
    overflow goes unseen) equals the engine; the inverse, fed extreme spectra, too."""
    from test_codegen import build

    bins = 2 * (fft_length // 2 + 1)
    frames = _int32_extreme_frames(frame, fft_length)
    spectra = _int32_extreme_frames(bins, fft_length)
    b = GraphBuilder("int32_fft_extremes")
    x = b.tensor(frames.shape, "int32", name="frames")
    spectrum = b.tensor((len(frames), bins), "int32", name="spectrum")
    wide = b.tensor(spectra.shape, "int32", name="wide")
    samples = b.tensor((len(spectra), fft_length), "int32", name="samples")
    signal_op(b, "SignalRfft", [x], [spectrum], T=INT32, fft_length=fft_length)
    signal_op(b, "SignalIrfft", [wide], [samples], T=INT32, fft_length=fft_length)
    graph = b.build([x, wide], [spectrum, samples])
    assert_matches_tflm(graph, inputs=[frames, spectra])
    program = build(graph, tmp_path)
    run = program.run([[frames, spectra]])
    assert run.program.exit_code == 0, run.program.stderr[-3000:]
    expected = Engine(graph).run([frames, spectra]).outputs
    for got, reference in zip(run.outputs, expected, strict=True):
        assert np.array_equal(got, reference)
