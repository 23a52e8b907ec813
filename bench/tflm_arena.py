"""TensorFlow Lite Micro's whole arena measured on emulated Cortex-M4 and M55, against `analyze --runtime tflm`.

    python bench/tflm_arena.py [--root /work/tflm_build] [--build-dir DIR] [--models kws,ad01]
                               [--cores m4,m55] [--kernels reference,cmsis-nn] [--jobs 2]
                               [--write tests/data/tflm_arena_measured.json]

For each core and kernel set, builds TFLM (reference kernels, or CMSIS-NN's in their place) and
CMSIS-NN the way bench/tflm_cmsis_nn.py does, links every int8 model of ../shared/models and the
custom-operator and control-flow models of tests/tflm_arena_models.py (CIRCULAR_BUFFER,
TFLite_Detection_PostProcess, TFLM_DECODE; IF, WHILE, CALL_ONCE; written to the build folder) with
bench/tflm_cmsis_nn/arena.cc and runs it under QEMU. On the target the program reads
arena_used_bytes() after AllocateTensors() with a 256 KB arena, binary-searches the smallest arena
for which AllocateTensors() succeeds (16-byte steps; 16 bytes fewer must fail), runs Invoke() with
it and prints the output, which must equal the reference engine's bit for bit; it also prints
sizeof/alignof of the runtime's structures on that core. The table compares both figures with
ours; --write stores the measurements as the fixture tests/test_tflm_arena.py checks our model
against in CI (which cannot build TFLM).

The sources are third-party and never part of this repository: when they are missing the script
says how to get them and exits 0.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mcudeploy.emulation import run_elf
from mcudeploy.emulation.qemu import ProgramRun
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite.writer import write_tflite
from real_models import INT8_MODELS, MODELS
from tflm_cmsis_nn import (
    BENCH_CORES,
    GLUE_DIR,
    HOW_TO_GET_SOURCES,
    Sources,
    build_library,
    link_model,
    model_input,
    printed_output,
)

KERNELS = ("reference", "cmsis-nn")
PROBE_FILE = "arena_probe.bin"
"""arena.cc tries only the arena size this file holds (uint32): the host-driven search's probe."""
MCU_HOST_EXIT_FAULT = 113  # mcu_host.h: the core took a fault
TESTS = Path(__file__).resolve().parents[1] / "tests"
FIXTURE = TESTS / "data" / "tflm_arena_measured.json"
sys.path.insert(0, str(TESTS))
from tflm_arena_models import ARENA_MODEL_GRAPHS  # noqa: E402  (a helper of the tests)

MODEL_NAMES = (*INT8_MODELS, *ARENA_MODEL_GRAPHS)


@dataclass
class ArenaMeasurement:
    model: str
    core: str
    kernels: str
    arena_used_bytes: int
    smallest_arena: int
    """The smallest multiple of 16 bytes (the arena 16-byte aligned) with which AllocateTensors() and
    Invoke() succeed: 16 bytes fewer fail."""
    bit_exact: bool
    faults_when_short: bool = False
    """Some arena below the smallest hard-faulted instead of failing AllocateTensors() (the search then
    ran from the host, one size per run)."""


def _numbers(stdout: str) -> dict[str, int]:
    found = {}
    for line in stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and words[-1].isdigit():
            found[" ".join(words[:-1])] = int(words[-1])
    return found


def measure(name: str, core: str, kernels: str, elf: Path, reference: list[np.ndarray]) -> tuple:
    run = run_elf(core, elf, elf.parent, 900.0)
    numbers = _numbers(run.stdout)
    faulted = run.exit_code == MCU_HOST_EXIT_FAULT and "arena_used_bytes" in numbers
    if faulted:  # a too-small arena hard-faulted during the on-target search
        numbers["smallest_arena_16"], run = host_search(core, elf, numbers["arena_used_bytes"])
    elif run.exit_code != 0:
        raise RuntimeError(f"{elf} on {core}: exit {run.exit_code}\n{run.stdout}")
    expected = b"".join(np.ascontiguousarray(array).tobytes() for array in reference)
    row = ArenaMeasurement(
        name,
        core,
        kernels,
        numbers["arena_used_bytes"],
        numbers["smallest_arena_16"],
        printed_output(run.stdout) == expected,
        faulted,
    )
    layouts = {key: value for key, value in numbers.items() if key.startswith(("sizeof ", "alignof "))}
    return row, layouts


def host_search(core: str, elf: Path, used: int) -> tuple[int, ProgramRun]:
    """The smallest arena found from the host (one size per run; a fault counts as a failure) and the run
    that invoked the model with it. Same steps as arena.cc's own search."""
    probe = elf.parent / PROBE_FILE

    def attempt(size: int) -> ProgramRun | None:
        probe.write_bytes(struct.pack("<I", size))
        run = run_elf(core, elf, elf.parent, 900.0)
        return run if run.exit_code == 0 and f"probe_ok {size}" in run.stdout else None

    try:
        failing = -(-used // 16) * 16 - 16
        step = 16
        while attempt(failing + step) is None:
            failing, step = failing + step, 2 * step
        working = failing + step
        while working - failing > 16:
            middle = failing + (working - failing) // 32 * 16
            if attempt(middle) is None:
                failing = middle
            else:
                working = middle
        final = attempt(working)
        if final is None or attempt(working - 16) is not None:
            raise RuntimeError(f"{elf} on {core}: the host search bounds do not hold at {working} B")
        return working, final
    finally:
        probe.unlink(missing_ok=True)


def ours(path: Path, core: str, kernels: str) -> tuple[int, int]:
    from mcudeploy.memory.tflm_arena import tflm_arena

    arena = tflm_arena(load_model(path), core=core, kernels=kernels)
    return arena.used_bytes, arena.smallest_arena


def model_paths(names: list[str], folder: Path) -> dict[str, Path]:
    """Each model's file: the models of tests/tflm_arena_models.py are written into `folder`."""
    paths = {}
    for name in names:
        if name in INT8_MODELS:
            paths[name] = MODELS / INT8_MODELS[name]
        else:
            folder.mkdir(parents=True, exist_ok=True)
            paths[name] = folder / f"{name}.tflite"
            paths[name].write_bytes(bytes(write_tflite(ARENA_MODEL_GRAPHS[name]())))
    return paths


def print_table(rows: list[ArenaMeasurement], paths: dict[str, Path]) -> None:
    print(
        f"{'model':<14} {'core':<4} {'kernels':<9} {'used (TFLM)':>11} {'used (ours)':>11} "
        f"{'min (TFLM)':>10} {'min (ours)':>10} {'off':>5}  Invoke bit-exact"
    )
    for row in rows:
        used, smallest = ours(paths[row.model], row.core, row.kernels)
        off = max(abs(used - row.arena_used_bytes), abs(smallest - row.smallest_arena))
        print(
            f"{row.model:<14} {row.core:<4} {row.kernels:<9} {row.arena_used_bytes:>11,} {used:>11,} "
            f"{row.smallest_arena:>10,} {smallest:>10,} {off:>5}  {'yes' if row.bit_exact else 'NO'}"
        )


def run_benchmark(
    args: argparse.Namespace, sources: Sources, build_dir: Path, paths: dict[str, Path]
) -> tuple[list, dict]:
    rows, layouts = [], {}
    prepared = {name: model_input(paths[name]) for name in args.models}
    for core in args.cores:
        for kernels in args.kernels:
            directory = build_dir / core / kernels
            library = build_library(core, sources, directory, args.jobs, kernels)
            for name in args.models:
                input_bytes, reference = prepared[name]
                elf = link_model(
                    core, paths[name], input_bytes, library, sources, directory / name, glue_main=GLUE_DIR / "arena.cc"
                )
                row, core_layouts = measure(name, core, kernels, elf, reference)
                rows.append(row)
                layouts[core] = core_layouts
                print(f"  measured {name} on {core} with {kernels} kernels", file=sys.stderr)
    return rows, layouts


def _names(text: str, allowed) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/work/tflm_build"), help="folder of the source trees")
    parser.add_argument("--build-dir", type=Path, help="keep objects and ELFs here (default: a temporary folder)")
    parser.add_argument("--models", type=lambda t: _names(t, MODEL_NAMES), default=list(MODEL_NAMES))
    parser.add_argument("--cores", type=lambda t: _names(t, BENCH_CORES), default=list(BENCH_CORES))
    parser.add_argument("--kernels", type=lambda t: _names(t, KERNELS), default=list(KERNELS))
    parser.add_argument("--jobs", type=int, default=2, help="parallel compiler processes")
    parser.add_argument("--tflm-commit", help="the tflite-micro commit of the sources, for the record")
    parser.add_argument("--write", type=Path, nargs="?", const=FIXTURE, help="store the measurements as JSON")
    args = parser.parse_args()
    sources = Sources.under(args.root)
    missing = sources.missing()
    if missing:
        print(HOW_TO_GET_SOURCES.format(missing=", ".join(str(path) for path in missing)))
        return 0
    with tempfile.TemporaryDirectory(prefix="tflm-arena-") as scratch:
        build_dir = args.build_dir or Path(scratch)
        paths = model_paths(args.models, build_dir / "models")
        rows, layouts = run_benchmark(args, sources, build_dir, paths)
        if args.write is not None:
            write_fixture(args.write, sources, rows, layouts, args.tflm_commit)
        print_table(rows, paths)
    return 0 if all(row.bit_exact for row in rows) else 1


def write_fixture(
    path: Path, sources: Sources, rows: list[ArenaMeasurement], layouts: dict, tflm_commit: str | None = None
) -> None:
    """Stores the rows, merged into what `path` holds (rows of other cores or kernels are kept)."""
    old = json.loads(path.read_text()) if path.is_file() else {"layouts": {}, "measurements": []}
    keys = {(row.model, row.core, row.kernels) for row in rows}
    kept = [row for row in old["measurements"] if (row["model"], row["core"], row["kernels"]) not in keys]
    fixture = {
        "produced_by": "python bench/tflm_arena.py --write (TFLM + CMSIS-NN built with arm-none-eabi-gcc "
        "12.2 -O2, run on QEMU 7.2: mps2-an386 for m4, mps3-an547 for m55)",
        "tflite_micro": tflm_commit or _tree_commit(sources.tflm),
        "cmsis_nn": _cmsis_nn_commit(sources),
        "layouts": {**old["layouts"], **layouts},
        "measurements": kept + [asdict(row) for row in rows],
    }
    path.write_text(json.dumps(fixture, indent=1) + "\n")


def _tree_commit(tree: Path) -> str:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else "unrecorded"


def _cmsis_nn_commit(sources: Sources) -> str:
    """The CMSIS-NN tree's commit; for an extracted archive, the one TFLM pins (HOW_TO_GET_SOURCES fetches it)."""
    if _tree_commit(sources.cmsis_nn) != "unrecorded":
        return _tree_commit(sources.cmsis_nn)
    script = sources.tflm / "tensorflow/lite/micro/tools/make/ext_libs/cmsis_nn_download.sh"
    found = re.search(r'ZIP_PREFIX_NN="([0-9a-f]{40})"', script.read_text()) if script.is_file() else None
    return f"{found.group(1)} (pinned by tflite-micro)" if found else "unrecorded"


if __name__ == "__main__":
    sys.exit(main())
