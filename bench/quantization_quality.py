"""Our post-training quantization against the published int8 MLPerf Tiny models and ai-edge-quantizer.

    PYTHONPATH=src python bench/quantization_quality.py [--models kws,vww,ic,ad] [--per-source 40]

For each float MLPerf Tiny model this quantizes with `mcudeploy.quantization` (min-max, percentile,
MSE and entropy calibration) and with ai-edge-quantizer (static int8, its min-max default) on the same
calibration samples, then runs on the same held-out samples (every fifth) the float model, the
published int8 model, and each quantized model, all through our reference engine (bit-exact with
TFLite Micro), and prints per model: output SQNR against the float model and top-1 agreement with it
(ad01 is an autoencoder: the median relative error of its anomaly score, mean (x - y)², instead).
The float model's ONNX and Keras (.h5) twins in ../shared/models (vww and ic_resnet8: both; ad01:
.h5; kws: none) are imported and quantized by each of our methods on the same samples, and measured
against their own float outputs (ad01.h5 is not its .tflite's exact twin: 1.4% apart).

Inputs: only public files from ../shared/models/testdata, augmented by seeded shifts, gains,
flips and noise (`--per-source` variants of each file), since no data set ships with the models:
- vww: person.bmp and no_person.bmp (96x96 grey, replicated to RGB), pixels / 255 as the published
  model's input scale (1/255) says.
- ic_resnet8: no CIFAR-10 images exist here; 32x32 crops and 3x downscales of the same two photos,
  pixels 0..255 as its input scale (1.0) says. Representative of natural images, not of CIFAR's classes.
- kws: yes/no/silence/noise 1 s clips → `mcudeploy.audio`'s kws-mfcc features (MLPerf Tiny KWS's: 49x10).
- ad01: the same clips → its dcase-logmel features (5 frames of 128 log-mel bands): real audio, but
  speech, not machine sounds.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from mcudeploy.audio import dcase_logmel, kws_mfcc, read_wav
from mcudeploy.engine.interpreter import Engine
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite import read_tflite, write_tflite
from mcudeploy.inputs import quantize as quantize_input
from mcudeploy.ir import Graph
from mcudeploy.quantization import Method, quantize_graph
from mcudeploy.validation.oracles import tflm_run

MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
MLPERF = MODELS / "mlperf_tiny"
TESTDATA = MODELS / "testdata"
CLIPS = ("yes_1000ms.wav", "no_1000ms.wav", "silence_1000ms.wav", "noise_1000ms.wav")


# ---- inputs -------------------------------------------------------------------------------------


def _photos() -> list[np.ndarray]:
    return [
        np.asarray(Image.open(TESTDATA / name).convert("L"), dtype=np.float32)
        for name in ("person.bmp", "no_person.bmp")
    ]


def _augmented_photos(per_source: int, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    images = []
    for photo in _photos():
        for k in range(per_source):
            image = photo[:, ::-1] if k % 2 else photo
            if size != photo.shape[0]:
                if k % 3 == 0:  # the whole scene downscaled
                    factor = photo.shape[0] // size
                    image = image.reshape(size, factor, size, factor).mean(axis=(1, 3))
                else:  # a crop
                    top, left = rng.integers(0, photo.shape[0] - size, 2)
                    image = image[top : top + size, left : left + size]
            else:
                image = np.roll(image, rng.integers(-8, 9, 2), axis=(0, 1))
            image = image * rng.uniform(0.7, 1.3) + rng.normal(0, 4, image.shape)
            images.append(np.repeat(np.clip(image, 0, 255)[None, :, :, None], 3, axis=3).astype(np.float32))
    return images


def _clips() -> list[np.ndarray]:
    return [read_wav(TESTDATA / name) for name in CLIPS]


def _augmented_clips(per_source: int, rng: np.random.Generator) -> list[np.ndarray]:
    clips, noise = _clips(), _clips()[-1]
    out = []
    for clip in clips:
        for _ in range(per_source):
            shift = int(rng.integers(-1600, 1601))  # +-100 ms, zero filled
            moved = np.roll(clip, shift)
            moved[:shift] = 0 if shift > 0 else moved[:shift]
            if shift < 0:
                moved[shift:] = 0
            out.append(np.clip(moved * rng.uniform(0.5, 1.5) + noise * rng.uniform(0, 0.2), -1, 1))
    return out


@dataclass(frozen=True)
class Case:
    key: str
    float_model: str
    int8_model: str
    inputs: Callable[[int, np.random.Generator], list[np.ndarray]]
    classifier: bool = True
    twins: tuple[str, ...] = ()
    """The same float model as ONNX and Keras files, under mlperf_tiny/."""


CASES = [
    Case("kws", "kws_ref_model_float32.tflite", "kws_ref_model_int8.tflite",
         lambda n, rng: [kws_mfcc(c).reshape(1, 49, 10, 1) for c in _augmented_clips(n, rng)]),
    Case("vww", "vww_96_float.tflite", "vww_96_int8.tflite",
         lambda n, rng: [x / np.float32(255) for x in _augmented_photos(n, 96, rng)],
         twins=("onnx/vww_96_float.onnx", "keras/vww_96.h5")),
    Case("ic", "ic_resnet8_float.tflite", "ic_resnet8_int8.tflite",
         lambda n, rng: _augmented_photos(n, 32, rng),
         twins=("onnx/ic_resnet8_float.onnx", "keras/ic_resnet8.h5")),
    Case("ad", "ad01_fp32.tflite", "ad01_int8.tflite",
         lambda n, rng: [f.reshape(1, 640) for c in _augmented_clips(max(1, n // 8), rng) for f in dcase_logmel(c)],
         classifier=False, twins=("keras/ad01.h5",)),
]  # fmt: skip


# ---- quantizers -----------------------------------------------------------------------------------


def ai_edge_quantizer(float_graph: Graph, calibration: list[np.ndarray]) -> Graph:
    from ai_edge_quantizer import quantizer, recipe

    q = quantizer.Quantizer(write_tflite(float_graph, signature="serving_default"))
    q.load_quantization_recipe(recipe.static_wi8_ai8())
    name = float_graph.graph_inputs[0].name
    result = q.quantize(q.calibrate({"serving_default": [{name: x.astype(np.float32)} for x in calibration]}))
    return read_tflite_bytes(result.quantized_model)


def read_tflite_bytes(data: bytes) -> Graph:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.tflite"
        path.write_bytes(bytes(data))
        return read_tflite(path)


# ---- measures -------------------------------------------------------------------------------------


def sqnr_db(signal: float, noise: float) -> float:
    return math.inf if noise == 0 else 10 * math.log10(signal / noise)


def outputs(graph: Graph, samples: list[np.ndarray]) -> list[np.ndarray]:
    """Real-valued outputs: integer models get quantized inputs and dequantized outputs."""
    engine, tensor, out = Engine(graph), graph.graph_inputs[0], graph.graph_outputs[0]
    results = []
    for x in samples:
        value = engine.run([x if tensor.dtype.is_float else quantize_input(x, tensor)]).outputs[0]
        if not out.dtype.is_float:
            q = out.quantization
            value = (value.astype(np.float64) - q.single_zero_point) * q.single_scale
        results.append(value.astype(np.float64))
    return results


def agreement(case: Case, samples: list[np.ndarray], reference: list[np.ndarray], got: list[np.ndarray]) -> str:
    if case.classifier:
        same = [np.argmax(r) == np.argmax(g) for r, g in zip(reference, got, strict=True)]
        return f"top-1 {np.mean(same):6.1%}"
    scores = [
        (float(np.mean((x - r) ** 2)), float(np.mean((x - g) ** 2)))
        for x, r, g in zip(samples, reference, got, strict=True)
    ]
    return f"score {np.median([abs(q - f) / f for f, q in scores]):6.2%}"


def bit_exact_with_tflm(graph: Graph, sample: np.ndarray) -> bool:
    tensor = graph.graph_inputs[0]
    x = sample if tensor.dtype.is_float else quantize_input(sample, tensor)
    theirs = tflm_run(write_tflite(graph), [x], tensor_count=0).outputs[0]
    return bool(np.array_equal(Engine(graph).run([x]).outputs[0], theirs.reshape(graph.graph_outputs[0].shape)))


def bench(case: Case, per_source: int) -> None:
    rng = np.random.default_rng(0)
    samples = case.inputs(per_source, rng)
    held_part = set(range(4, len(samples), 5))  # every fifth sample held out
    calibrate_part = [i for i in range(len(samples)) if i not in held_part]
    # Shuffled: ai-edge-quantizer's calibration keeps a moving average (factor 0.95) of each run's
    # min and max, which favours the first samples; grouped by source file it would clip the rest.
    calibration = [samples[i] for i in rng.permutation(calibrate_part)]
    held = [samples[i] for i in sorted(held_part)]
    print(f"{case.key}: {len(calibration)} calibration samples, {len(held)} held out", flush=True)
    float_graph = read_tflite(MLPERF / case.float_model)
    reference = outputs(float_graph, held)
    candidates: dict[str, Graph] = {"published int8": read_tflite(MLPERF / case.int8_model)}
    for method in Method:
        candidates[f"ours {method}"] = quantize_graph(float_graph, [[x] for x in calibration], method).graph
    try:
        candidates["ai-edge-quantizer"] = ai_edge_quantizer(float_graph, calibration)
    except ImportError:
        print("  (ai-edge-quantizer not installed)")
    for name, graph in candidates.items():
        report(case, name, graph, held, reference, check_tflm=name != "published int8")
    for twin in case.twins:
        twin_graph = load_model(MLPERF / twin)
        twin_reference = outputs(twin_graph, held)
        print(f"  {twin}: float against {case.float_model} {measure(case, held, reference, twin_reference)}")
        for method in Method:
            quantized = quantize_graph(twin_graph, [[x] for x in calibration], method).graph
            report(case, f"{Path(twin).suffix[1:]} ours {method}", quantized, held, twin_reference, check_tflm=True)


def measure(case: Case, held: list[np.ndarray], reference: list[np.ndarray], got: list[np.ndarray]) -> str:
    signal = sum(float(np.sum(r**2)) for r in reference)
    noise = sum(float(np.sum((r - g) ** 2)) for r, g in zip(reference, got, strict=True))
    return f"SQNR {sqnr_db(signal, noise):6.2f} dB  {agreement(case, held, reference, got)}"


def report(case: Case, name: str, graph: Graph, held: list[np.ndarray], reference, check_tflm: bool) -> None:
    exact = f"  TFLM bit-exact {bit_exact_with_tflm(graph, held[0])}" if check_tflm else ""
    print(f"  {name:<22} {measure(case, held, reference, outputs(graph, held))}{exact}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(c.key for c in CASES))
    parser.add_argument("--per-source", type=int, default=40, help="augmented variants of each input file")
    args = parser.parse_args()
    for case in CASES:
        if case.key in args.models.split(","):
            bench(case, args.per_source)


if __name__ == "__main__":
    main()
