"""Reference engine time per inference on every real model, beside TensorFlow Lite Micro's Python interpreter.

Both run the same seeded input in the same process; each figure is the best of
several repetitions (invoke only, interpreter set-up excluded). Target: ours not
slower than TFLite Micro on any model.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import INT8_MODELS, MODELS  # noqa: E402
from mcudeploy.engine import run  # noqa: E402
from mcudeploy.importers import load_model  # noqa: E402
from mcudeploy.inputs import random_inputs  # noqa: E402

REPEATS = 5


def best_time(fn: Callable[[], object]) -> float:
    fn()  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def tflm_invoke(path: Path, inputs: list[np.ndarray]) -> Callable[[], object]:
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_file(str(path), arena_size=4 << 20)
    for i, array in enumerate(inputs):
        interpreter.set_input(array, i)
    return interpreter.invoke


def main() -> None:
    print(f"{'model':34} {'ours ms':>9} {'TFLM ms':>9} {'ratio':>7}")
    slower = []
    for name in INT8_MODELS:
        graph = load_model(MODELS / name)
        inputs = random_inputs(graph, seed=0)
        ours = best_time(lambda graph=graph, inputs=inputs: run(graph, inputs))
        tflm = best_time(tflm_invoke(MODELS / name, inputs))
        ratio = ours / tflm
        print(f"{Path(name).stem:34} {ours * 1e3:9.2f} {tflm * 1e3:9.2f} {ratio:6.2f}x")
        if ratio > 1.0:
            slower.append(Path(name).stem)
    print("target met: ours is not slower on any model" if not slower else f"slower than TFLM on: {', '.join(slower)}")


if __name__ == "__main__":
    main()
