"""Reference engine time per inference on every real model, beside TensorFlow Lite Micro's Python interpreter.

Both are set up once (our `Engine`, TFLM's interpreter) and run the same seeded
input in the same process; each figure is the best of several timed batches of
invocations (the two sides alternating), set-up excluded. BLAS is pinned to one
thread, so that both run on one core. Target: ours not slower than TFLite Micro
on any model. The last column, our time per operator, shows the floor that the
Python and numpy calls of each operator set on the smallest models.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # read once, when numpy loads BLAS: set before importing it

import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import INT8_MODELS, MODELS  # noqa: E402
from mcudeploy.engine import Engine  # noqa: E402
from mcudeploy.importers import load_model  # noqa: E402
from mcudeploy.inputs import random_inputs  # noqa: E402

ROUNDS = 7
BATCH_SECONDS = 0.05


def best_times(ours: Callable[[], object], theirs: Callable[[], object]) -> tuple[float, float]:
    """Seconds per call of each: the best of ROUNDS batches, long enough to time reliably, the two
    sides alternating so that a slow spell of the machine does not favour either."""
    batches = [_calls_per_batch(fn) for fn in (ours, theirs)]
    best = [float("inf")] * 2
    for _ in range(ROUNDS):
        for side, (fn, calls) in enumerate(zip((ours, theirs), batches, strict=True)):
            best[side] = min(best[side], _timed(fn, calls) / calls)
    return best[0], best[1]


def _calls_per_batch(fn: Callable[[], object]) -> int:
    fn()  # warm-up: our kernels prepare their constants on the first run
    calls = 1
    while _timed(fn, calls) < BATCH_SECONDS and calls < 1 << 20:
        calls *= 2
    return calls


def _timed(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - start


def tflm_invoke(path: Path, inputs: list[np.ndarray]) -> Callable[[], object]:
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_file(str(path), arena_size=4 << 20)
    for i, array in enumerate(inputs):
        interpreter.set_input(array, i)
    return interpreter.invoke


def main() -> None:
    print(f"{'model':26} {'ops':>4} {'ours ms':>9} {'TFLM ms':>9} {'ratio':>7} {'ours µs/op':>11}")
    slower = []
    for name in INT8_MODELS:
        graph = load_model(MODELS / name)
        inputs = random_inputs(graph, seed=0)
        engine = Engine(graph)
        ours, tflm = best_times(
            lambda engine=engine, inputs=inputs: engine.run(inputs), tflm_invoke(MODELS / name, inputs)
        )
        ratio = ours / tflm
        ops = len(graph.operators)
        stem = Path(name).stem
        print(f"{stem:26} {ops:4} {ours * 1e3:9.3f} {tflm * 1e3:9.3f} {ratio:6.2f}x {ours / ops * 1e6:11.1f}")
        if ratio > 1.0:
            slower.append(stem)
    print("target met: ours is not slower on any model" if not slower else f"slower than TFLM on: {', '.join(slower)}")


if __name__ == "__main__":
    main()
