"""Our post-training quantization next to the published int8 model, on the public inputs found here.

vww_96 only: the float model (vww_96_float.tflite) quantized by mcudeploy, calibrated on the two public
images beside the models (../shared/models/testdata/person.bmp and no_person.bmp: 96x96 grayscale,
replicated to RGB, pixels / 255 as the published int8 input's scale 1/255 and zero point -128 imply),
then evaluated on the same two images: SQNR of each int8 output against the float model's and top-1
agreement, beside the published vww_96_int8.tflite on the same inputs. Two images are far too few to
calibrate or judge a quantization: the figures only show the pipeline end to end. The other models
(kws, ic_resnet8, ad01) need inputs not found here (MFCC features, CIFAR-10 images, spectrograms).

    PYTHONPATH=src python bench/quantization_vs_published.py
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from mcudeploy.engine.interpreter import Engine
from mcudeploy.importers import load_model
from mcudeploy.quantization import Method, quantize_graph

MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
BMP_PIXELS_OFFSET = 1078


def grayscale_bmp_as_rgb(path: Path) -> np.ndarray:
    """The 96x96 8-bit BMP, rows top-down, replicated to three channels, in [0, 1]."""
    pixels = np.frombuffer(path.read_bytes()[BMP_PIXELS_OFFSET:], dtype=np.uint8).reshape(96, 96)[::-1]
    return np.repeat((pixels.astype(np.float32) / 255)[None, :, :, None], 3, axis=3)


def sqnr_db(reference: list[np.ndarray], other: list[np.ndarray]) -> float:
    signal = sum(float(np.sum(r.astype(np.float64) ** 2)) for r in reference)
    noise = sum(float(np.sum((r.astype(np.float64) - o) ** 2)) for r, o in zip(reference, other, strict=True))
    return math.inf if noise == 0 else 10 * math.log10(signal / noise)


def main() -> int:
    images = [grayscale_bmp_as_rgb(MODELS / "testdata" / f"{name}.bmp") for name in ("person", "no_person")]
    float_graph = load_model(MODELS / "mlperf_tiny/vww_96_float.tflite")
    published = load_model(MODELS / "mlperf_tiny/vww_96_int8.tflite")
    reference = [Engine(float_graph).run([x]).outputs[0] for x in images]

    input_q, output_q = published.graph_inputs[0].quantization, published.graph_outputs[0].quantization
    published_engine = Engine(published)
    published_out = []
    for x in images:
        q = np.clip(np.round(x / input_q.single_scale) + input_q.single_zero_point, -128, 127).astype(np.int8)
        raw = published_engine.run([q]).outputs[0].astype(np.float64)
        published_out.append((raw - output_q.single_zero_point) * output_q.single_scale)
    rows = [("published vww_96_int8.tflite", published_out)]
    for method in (Method.MINMAX, Method.PERCENTILE):
        ours = Engine(quantize_graph(float_graph, [[x] for x in images], method).graph)
        rows.append((f"mcudeploy quantize --method {method}", [ours.run([x]).outputs[0] for x in images]))

    print("vww_96 on person.bmp and no_person.bmp (calibration and evaluation inputs alike)")
    print(f"{'model':<40} {'SQNR vs float (dB)':>18} {'top-1 agreement':>16}")
    for name, outputs in rows:
        agree = sum(int(np.argmax(r) == np.argmax(o)) for r, o in zip(reference, outputs, strict=True))
        print(f"{name:<40} {sqnr_db(reference, outputs):>18.1f} {agree:>13}/{len(images)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
