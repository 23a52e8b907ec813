"""Model inputs from audio (.wav) with a stated feature spec, for calibration.

Two specs, those of the MLPerf Tiny audio models:
- `kws-mfcc`: the KWS training script's features (tf.signal): 1 s at 16 kHz (cropped or zero padded),
  30 ms periodic-Hann frames every 20 ms, |512-point FFT|, 40 HTK-mel bands over 20–4000 Hz,
  log(mel + 1e-6), DCT-II scaled by 1/sqrt(2·40), the first 10 coefficients: 49x10 per clip.
- `dcase-logmel`: the DCASE 2020 anomaly-detection baseline's: 1024-point frames every 512 samples,
  power spectrum, 128 mel bands over 0–8 kHz, 10·log10(mel + machine epsilon), every run of 5
  consecutive frames one 640-value input. The baseline uses librosa's Slaney-normalised filters;
  these are HTK-style triangles, so values differ from the baseline's by a per-band offset.
"""

from __future__ import annotations

import math
import wave
from enum import StrEnum
from pathlib import Path

import numpy as np

from mcudeploy.errors import McuDeployError
from mcudeploy.files import open_regular
from mcudeploy.inputs import MAX_INPUT_BYTES
from mcudeploy.ir import Graph

SAMPLE_RATE = 16_000


class Features(StrEnum):
    KWS_MFCC = "kws-mfcc"
    DCASE_LOGMEL = "dcase-logmel"

    def of(self, clip: np.ndarray) -> list[np.ndarray]:
        """The feature arrays of a clip of samples in [-1, 1] at 16 kHz."""
        return [kws_mfcc(clip)] if self is Features.KWS_MFCC else dcase_logmel(clip)


def mel_matrix(bands: int, fft_length: int, low_hz: float, high_hz: float) -> np.ndarray:
    """HTK-mel triangles over the rfft bins, bin 0 left out (tf.signal.linear_to_mel_weight_matrix)."""

    def mel(hz):
        return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)

    bins = mel(np.linspace(0, SAMPLE_RATE / 2, fft_length // 2 + 1))[1:]
    edges = np.linspace(mel(low_hz), mel(high_hz), bands + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins[:, None] - lower) / (center - lower)
    falling = (upper - bins[:, None]) / (upper - center)
    return np.vstack([np.zeros((1, bands)), np.maximum(0, np.minimum(rising, falling))])


def spectrum(clip: np.ndarray, length: int, hop: int, fft_length: int) -> np.ndarray:
    """Complex rfft of periodic-Hann frames (no padding at the ends, as tf.signal.stft)."""
    count = 1 + (clip.size - length) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)
    frames = np.stack([clip[i * hop : i * hop + length] * window for i in range(count)])
    return np.fft.rfft(frames, n=fft_length)


def kws_mfcc(clip: np.ndarray) -> np.ndarray:
    clip = np.pad(clip[:SAMPLE_RATE], (0, max(0, SAMPLE_RATE - clip.size)))
    log_mel = np.log(np.abs(spectrum(clip, 480, 320, 512)) @ mel_matrix(40, 512, 20.0, 4000.0) + 1e-6)
    n = log_mel.shape[1]
    dct = np.cos(np.pi / n * (np.arange(n)[:, None] + 0.5) * np.arange(n)[None, :])
    return (2 * log_mel @ dct / math.sqrt(2 * n))[:, :10].astype(np.float32)


def dcase_logmel(clip: np.ndarray) -> list[np.ndarray]:
    power = np.abs(spectrum(clip, 1024, 512, 1024)) ** 2
    log_mel = 10 * np.log10(power @ mel_matrix(128, 1024, 0.0, SAMPLE_RATE / 2) + np.finfo(np.float64).eps)
    return [log_mel[i : i + 5].astype(np.float32) for i in range(log_mel.shape[0] - 4)]


def read_wav(path: str | Path) -> np.ndarray:
    """A 16 kHz mono 16-bit PCM .wav as samples in [-1, 1)."""
    with open_regular(path, MAX_INPUT_BYTES) as stream:
        try:
            with wave.open(stream) as w:
                if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (SAMPLE_RATE, 1, 2):
                    raise McuDeployError(
                        str(path),
                        f"{w.getframerate()} Hz, {w.getnchannels()} channels, {8 * w.getsampwidth()}-bit: "
                        "the feature specs take 16 kHz mono 16-bit PCM",
                    )
                frames = w.readframes(w.getnframes())
        except (wave.Error, EOFError) as error:
            raise McuDeployError(str(path), f"cannot read the .wav: {error}") from None
    return np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768


def wav_files(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".wav")
    return [path] if path.suffix.lower() == ".wav" else []


def load_audio_sets(path: str | Path, graph: Graph, features: Features | None) -> list[list[np.ndarray]]:
    """One input set per feature array of each .wav of `path`."""
    files = wav_files(path)
    if not files:
        raise McuDeployError(str(path), "holds no .wav files")
    if features is None:
        choices = ", ".join(f.value for f in Features)
        raise McuDeployError(str(path), f"audio needs a stated feature spec: --features ({choices})")
    if len(graph.inputs) != 1:
        raise McuDeployError(str(path), f"the model takes {len(graph.inputs)} inputs; audio features feed one")
    tensor = graph.graph_inputs[0]
    sets = []
    for file in files:
        for array in features.of(read_wav(file)):
            if array.size != tensor.size:
                raise McuDeployError(
                    str(file), f"{features} gives {list(array.shape)}, input '{tensor.name}' is {list(tensor.shape)}"
                )
            sets.append([array.reshape(tensor.shape)])
    return sets
