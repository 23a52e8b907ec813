"""TensorFlow Lite Micro with CMSIS-NN on emulated Cortex-M4 and M55: Invoke() cycles, ms and instructions.

    python bench/tflm_cmsis_nn.py [--root /work/tflm_build] [--models kws,ad01] [--cores m4,m55]
                                  [--build-dir DIR] [--jobs 2] [--no-profile]

Builds TFLM (core, the kernels of the MLPerf Tiny and person-detection models with the CMSIS-NN
variants in place of the reference ones) and CMSIS-NN with arm-none-eabi-gcc -O2 for each core,
links one ELF per model with our start-up code, linker script and semihosting layer and the glue
in bench/tflm_cmsis_nn/ (one Invoke() between two mcu_count_mark calls, 200 KB arena), runs it
under QEMU with our counting plugin, checks the output bit for bit against the reference engine,
and prices Invoke() with `mcudeploy profile` on each core's benchmark part (real_models.BENCH_PARTS:
NUCLEO-L4R5ZI at 120 MHz for M4, the Alif E7's M55 at 400 MHz): the same cycle model and device
memories `mcudeploy estimate` prices our generated code with (bench/instructions.py sets them side
by side). It prints cycles, ms and instructions beside issue 5's instruction baseline, and on M4 the
published latencies (MLPerf Tiny v0.5 on the L4R5; kws on STM32F407VG at 168 MHz).

The sources are third-party and never part of this repository: when they are missing the script
says how to get them and exits 0.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcudeploy.devices import find_device
from mcudeploy.emulation import RUNTIME_DIR, get_target, run_elf
from mcudeploy.emulation.linker import render_linker_script
from mcudeploy.engine import run as run_reference
from mcudeploy.estimate.profile import ElfProfile, profile_elf
from mcudeploy.importers import load_model
from mcudeploy.inputs import random_inputs
from real_models import BENCH_PARTS, INT8_MODELS, MODELS

GLUE_DIR = Path(__file__).resolve().parent / "tflm_cmsis_nn"
DEFAULT_ROOT = Path("/work/tflm_build")
BENCH_MODELS = ("kws", "vww_96", "ic_resnet8", "ad01", "person_detect")
BENCH_CORES = ("m4", "m55")
INPUT_SEED = 0

ISSUE_BASELINE = {  # issue 5: TFLM + CMSIS-NN, arm-none-eabi-gcc 12.2 -O2, same QEMU machines and counter
    "kws": {"m4": 7_696_910, "m55": 1_812_630},
    "vww_96": {"m4": 24_101_870, "m55": 6_558_236},
    "ic_resnet8": {"m4": 29_865_991, "m55": 4_912_004},
    "ad01": {"m4": 582_952, "m55": 149_971},
    "person_detect": {"m4": 22_928_389, "m55": 6_508_017},
}
L4R5_PUBLISHED_MS = {"kws": 181.9, "vww_96": 600.6, "ic_resnet8": 704.2, "ad01": 10.05}
"""MLPerf Tiny v0.5 reference submission, STM32L4R5ZI (NUCLEO-L4R5ZI) at 120 MHz."""
F407_PUBLISHED_MS = {"kws": 35.0}
"""The kws latency the issue quotes for STM32F407VG at 168 MHz."""
M4_DEVICES = (("STM32L4R5ZI", 120.0, L4R5_PUBLISHED_MS), ("STM32F407VG", 168.0, F407_PUBLISHED_MS))

TFLM_KERNELS = ("kernel_util", "micro_tensor_utils")
"""Kernel helpers every operator needs."""
TFLM_OPERATORS = ("add", "conv", "depthwise_conv", "fully_connected", "pooling", "reshape", "softmax")
TFLM_OPERATORS += ("circular_buffer", "detection_postprocess", "decode")
TFLM_OPERATORS += ("if", "while", "call_once", "comparisons", "mul")
"""The operators of the benchmark models and of the arena benchmark's custom-operator and control-flow
models (Register_* in the glue's resolvers)."""
TFLM_OPERATOR_PARTS = {"decode": ("decode_state", "decode_state_lut", "decode_state_prune", "decode_state_huffman")}
"""Further files an operator's kernel is made of."""
CMSIS_NN_OPERATORS = ("add", "conv", "depthwise_conv", "fully_connected", "pooling", "softmax")
"""Those with a CMSIS-NN variant in kernels/cmsis_nn, which replaces the reference file."""
CORE_EXCLUDED = (
    "debug_log.cc",
    "micro_time.cc",
    "fake_micro_context.cc",
    "mock_micro_graph.cc",
    "test_helper_custom_ops.cc",
    "test_helpers.cc",
)
"""Platform files the glue provides instead (platform.cc), and test helpers."""

DEFINES = (
    "-DCMSIS_NN",
    "-DKERNELS_OPTIMIZED_FOR_SPEED",
    "-DTF_LITE_STATIC_MEMORY",
    "-DTF_LITE_DISABLE_X86_NEON",
    "-DTF_LITE_MCU_DEBUG_LOG",
    "-DNDEBUG",
    "-DARM_NN_ENABLE_F16=0",
    "-DARM_NN_ENABLE_F32=0",
)
COMMON_FLAGS = (
    "-O2",
    "-fsigned-char",
    "-fomit-frame-pointer",
    "-fno-unwind-tables",
    "-fno-asynchronous-unwind-tables",
    "-ffunction-sections",
    "-fdata-sections",
    "-Wno-psabi",
)
CXX_FLAGS = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")
C_FLAGS = ("-std=c11",)
COMPILE_TIMEOUT_S = 600


@dataclass(frozen=True)
class Sources:
    """Where the third-party trees live (each an extracted archive, not a git work tree)."""

    tflm: Path
    cmsis_nn: Path
    cmsis: Path
    flatbuffers: Path
    gemmlowp: Path
    ruy: Path

    @classmethod
    def under(cls, root: Path) -> Sources:
        return cls(
            root / "tflite-micro",
            root / "CMSIS-NN",
            root / "CMSIS_6",
            root / "flatbuffers",
            root / "gemmlowp",
            root / "ruy",
        )

    def missing(self) -> list[Path]:
        markers = (
            self.tflm / "tensorflow/lite/micro/micro_interpreter.cc",
            self.cmsis_nn / "Include/arm_nnfunctions.h",
            self.cmsis / "CMSIS/Core/Include/cmsis_compiler.h",
            self.flatbuffers / "include/flatbuffers/flatbuffers.h",
            self.gemmlowp / "fixedpoint/fixedpoint.h",
            self.ruy / "ruy/profiler/instrumentation.h",
        )
        return [marker for marker in markers if not marker.is_file()]

    def include_flags(self) -> list[str]:
        return [f"-I{directory}" for directory in (*self.third_party_directories(), RUNTIME_DIR)]

    def system_include_flags(self) -> list[str]:
        """The third-party headers as system headers: our glue is warning-free, theirs need not be."""
        return [flag for directory in self.third_party_directories() for flag in ("-isystem", str(directory))]

    def third_party_directories(self) -> tuple[Path, ...]:
        return (
            self.tflm,
            self.flatbuffers / "include",
            self.gemmlowp,
            self.ruy,
            self.cmsis_nn,
            self.cmsis_nn / "Include",
            self.cmsis,
            self.cmsis / "CMSIS/Core/Include",
        )


HOW_TO_GET_SOURCES = """\
The TFLM and CMSIS-NN sources are not here ({missing}).
Put these trees under one folder (default /work/tflm_build) and pass it with --root:
  tflite-micro  github.com/tensorflow/tflite-micro (any recent main)
  CMSIS-NN      github.com/ARM-software/CMSIS-NN at the commit in tflite-micro's
                tensorflow/lite/micro/tools/make/ext_libs/cmsis_nn_download.sh
  CMSIS_6       github.com/ARM-software/CMSIS_6 at the commit in .../ext_libs/cmsis_download.sh
  flatbuffers   github.com/google/flatbuffers at the tag in .../tools/make/third_party_downloads.inc,
                with tflite-micro's tools/make/flatbuffers.patch applied (patch -p1)
  gemmlowp, ruy github.com/google/gemmlowp and github.com/google/ruy at the commits in the same file
For example: git clone URL && git -C DIR archive COMMIT | tar -x -C /work/tflm_build/DIR
The C++ build also needs Debian's libstdc++-arm-none-eabi-newlib (apt-get install --no-install-recommends)."""


# --- sources -------------------------------------------------------------------------------------


def _not_test(paths: Iterable[Path]) -> list[Path]:
    return sorted(path for path in paths if not path.stem.endswith("_test"))


def library_sources(sources: Sources, kernels: str = "cmsis-nn") -> list[Path]:
    """TFLM core, the shared TFLite helpers, the benchmark operators (`kernels`: CMSIS-NN's variants or
    TFLM's reference ones) and all of CMSIS-NN's int kernels."""
    micro = sources.tflm / "tensorflow/lite/micro"
    files = [path for path in _not_test(micro.glob("*.cc")) if path.name not in CORE_EXCLUDED]
    for folder in ("arena_allocator", "memory_planner", "tflite_bridge"):
        files += _not_test((micro / folder).glob("*.cc"))
    files += _tflite_shared(sources.tflm)
    files += _kernel_files(micro / "kernels", kernels)
    files += sorted(
        path
        for path in (sources.cmsis_nn / "Source").rglob("*.c")
        if not path.stem.endswith(("_f16", "_f32")) and path.name != "arm_nntables_flt.c"
    )
    return files


def _tflite_shared(tflm: Path) -> list[Path]:
    """The TFLite files outside micro/ that TFLM builds (its sources.inc: all but experimental and array.cc)."""
    found = []
    for path in (tflm / "tensorflow").rglob("*.cc"):
        relative = path.relative_to(tflm).as_posix()
        if relative.startswith(("tensorflow/lite/micro/", "tensorflow/lite/experimental/")):
            continue
        if relative != "tensorflow/lite/array.cc":
            found.append(path)
    return _not_test(found)


def _kernel_files(folder: Path, kernels: str) -> list[Path]:
    files = [folder / f"{name}.cc" for name in TFLM_KERNELS]
    for name in TFLM_OPERATORS:
        common = folder / f"{name}_common.cc"
        if common.is_file():
            files.append(common)
        optimised = kernels == "cmsis-nn" and name in CMSIS_NN_OPERATORS
        files.append(folder / "cmsis_nn" / f"{name}.cc" if optimised else folder / f"{name}.cc")
        files += [folder / f"{part}.cc" for part in TFLM_OPERATOR_PARTS.get(name, ())]
    return files


# --- building ------------------------------------------------------------------------------------


def _compiler(language: str) -> str:
    name = "arm-none-eabi-g++" if language == "c++" else "arm-none-eabi-gcc"
    found = shutil.which(name)
    if found is None:
        sys.exit(f"{name} not found: install gcc-arm-none-eabi and libnewlib-arm-none-eabi")
    return found


def _run(command: Sequence[str], what: str) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{' '.join(command)}\n{completed.stderr}{completed.stdout}")


def _compile_command(
    core: str, source: Path, obj: Path, sources: Sources, extra: Sequence[str] = (), kernels: str = "cmsis-nn"
) -> list[str]:
    target = get_target(core)
    defines = DEFINES if kernels == "cmsis-nn" else tuple(d for d in DEFINES if d != "-DCMSIS_NN")
    language = "c" if source.suffix in (".c", ".S") else "c++"
    dialect = C_FLAGS if source.suffix == ".c" else CXX_FLAGS if language == "c++" else ()
    return [
        _compiler(language),
        *target.cflags,
        *dialect,
        *COMMON_FLAGS,
        *defines,
        *sources.include_flags(),
        *extra,
        "-c",
        str(source),
        "-o",
        str(obj),
    ]


def _object_path(source: Path, directory: Path) -> Path:
    # Several trees have files of the same name (kernels/kernel_util.cc): keep three folders in the name.
    return directory / ("__".join(source.parts[-4:-1]) + f"__{source.stem}.o")


def build_library(core: str, sources: Sources, directory: Path, jobs: int, kernels: str = "cmsis-nn") -> Path:
    """Compiles TFLM and CMSIS-NN for `core` into `directory/libtflm.a`, with `kernels` (cmsis-nn or
    reference) for the benchmark operators; objects already built are kept."""
    archive = directory / "libtflm.a"
    if archive.is_file():
        return archive
    objects_dir = directory / "obj"
    objects_dir.mkdir(parents=True, exist_ok=True)
    pending = []
    for source in library_sources(sources, kernels):
        obj = _object_path(source, objects_dir)
        if not obj.is_file():
            pending.append((source, obj))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda item: _compile_one(core, *item, sources, kernels), pending))
    objects = sorted(str(_object_path(source, objects_dir)) for source in library_sources(sources, kernels))
    _run(["arm-none-eabi-ar", "rcs", str(archive), *objects], f"archiving {archive}")
    return archive


def _compile_one(core: str, source: Path, obj: Path, sources: Sources, kernels: str) -> None:
    partial = obj.with_suffix(".o.part")
    _run(_compile_command(core, source, partial, sources, kernels=kernels), f"compiling {source.name} for {core}")
    partial.rename(obj)


def link_model(
    core: str,
    model: Path,
    input_bytes: bytes,
    library: Path,
    sources: Sources,
    directory: Path,
    glue_defines: Sequence[str] = (),
    glue_main: Path = GLUE_DIR / "main.cc",
) -> Path:
    """One ELF running `model` once on `input_bytes`, linked with our start-up code and linker script.
    `glue_main` is the program (main.cc: one timed Invoke(); arena.cc: the smallest arena);
    `glue_defines` (e.g. -DBENCH_SKIP_INVOKE: set-up only) go to it."""
    directory.mkdir(parents=True, exist_ok=True)
    input_file = directory / "input.bin"
    input_file.write_bytes(input_bytes)
    blobs = [f'-DBENCH_MODEL_PATH="{model.resolve()}"', f'-DBENCH_INPUT_PATH="{input_file.resolve()}"']
    objects = []
    warnings = ["-Wall", "-Wextra", "-Werror", *sources.system_include_flags()]
    for source, extra in (
        (glue_main, [*warnings, *glue_defines]),
        (GLUE_DIR / "platform.cc", warnings),
        (GLUE_DIR / "blobs.S", blobs),
        (RUNTIME_DIR / "startup.c", ["-std=c99", "-DMCU_HAS_FPU=1"]),
        (RUNTIME_DIR / "semihosting.c", ["-std=c99"]),
    ):
        obj = directory / f"{source.stem}.o"
        _run(_compile_command(core, source, obj, sources, extra), f"compiling {source.name} for {core}")
        objects.append(str(obj))
    elf = directory / "tflm.elf"
    script = directory / "tflm.ld"
    script.write_text(render_linker_script(get_target(core)))
    link = [
        _compiler("c++"),
        *get_target(core).cflags,
        "-nostartfiles",
        "--specs=nosys.specs",
        "-Wl,--gc-sections",
        "-Wl,--no-warn-rwx-segments",
        f"-T{script}",
        f"-Wl,-Map={elf.with_suffix('.map')}",
        *objects,
        str(library),
        "-lm",
        "-o",
        str(elf),
    ]
    _run(link, f"linking {elf}")
    return elf


# --- running -------------------------------------------------------------------------------------


@dataclass
class Measurement:
    model: str
    core: str
    instructions: int
    cycles: float
    """Invoke() on the core's benchmark part at its benchmark clock."""
    bit_exact: bool
    device_ms: dict[str, float]


def model_input(model: Path) -> tuple[bytes, list[np.ndarray]]:
    """The seeded input the benchmark feeds, as the ELF's raw bytes, and the reference engine's outputs."""
    graph = load_model(model)
    inputs = random_inputs(graph, INPUT_SEED)
    outputs = run_reference(graph, inputs).outputs
    return b"".join(np.ascontiguousarray(array).tobytes() for array in inputs), outputs


def printed_output(stdout: str) -> bytes:
    """The output bytes the glue prints as hex between its two marker lines."""
    lines = stdout.splitlines()
    if "bench-output:" not in lines or "bench-end" not in lines:
        raise RuntimeError(f"no output in the program's console:\n{stdout}")
    start = lines.index("bench-output:") + 1
    return bytes.fromhex("".join(lines[start : lines.index("bench-end")]))


def invoke_interval(profile: ElfProfile) -> tuple[int, float]:
    """Instructions and modelled cycles between the two marks, i.e. of Invoke()."""
    if not profile.succeeded or len(profile.mark_intervals) != 1:
        raise RuntimeError(f"{profile.elf} failed: exit {profile.run.exit_code}\n{profile.run.stdout}")
    interval = profile.mark_intervals[0]
    return interval.instructions, interval.total


def measure(name: str, core: str, elf: Path, reference: list[np.ndarray], with_devices: bool) -> Measurement:
    run = run_elf(core, elf, elf.parent, 600.0)
    if run.exit_code != 0:
        raise RuntimeError(f"{elf} on {core}: exit {run.exit_code}\n{run.stdout}")
    expected = b"".join(np.ascontiguousarray(array).tobytes() for array in reference)
    bit_exact = printed_output(run.stdout) == expected
    part, clock = BENCH_PARTS[core]
    instructions, cycles = invoke_interval(
        profile_elf(elf, core, workdir=elf.parent, device=find_device(part), clock_mhz=clock)
    )
    device_ms = {}
    if with_devices and core == "m4":
        for device, device_clock, published in M4_DEVICES:
            if name not in published:
                continue
            if (device, device_clock) != (find_device(part).part.name, clock):
                found = find_device(device)
                profile = profile_elf(elf, core, workdir=elf.parent, device=found, clock_mhz=device_clock)
                device_ms[device] = invoke_interval(profile)[1] / (device_clock * 1e3)
            else:
                device_ms[device] = cycles / (clock * 1e3)
    return Measurement(name, core, instructions, cycles, bit_exact, device_ms)


# --- report --------------------------------------------------------------------------------------


def print_cycles(rows: list[Measurement]) -> None:
    print(
        f"{'model':<14} {'core':<4} {'part @ MHz':<22} {'cycles':>13} {'ms':>9} {'instructions':>13} "
        f"{'issue 5 instr':>13} {'difference':>10}  bit-exact"
    )
    for row in rows:
        part, clock = BENCH_PARTS[row.core]
        baseline = ISSUE_BASELINE[row.model][row.core]
        difference = 100.0 * (row.instructions - baseline) / baseline
        print(
            f"{row.model:<14} {row.core:<4} {f'{part} @ {clock:g}':<22} {row.cycles:>13,.0f} "
            f"{row.cycles / (clock * 1e3):>9.2f} {row.instructions:>13,} {baseline:>13,} {difference:>+9.3f}%  "
            f"{'yes' if row.bit_exact else 'NO'}"
        )


def print_latencies(rows: list[Measurement]) -> None:
    timed = [row for row in rows if row.device_ms]
    if not timed:
        return
    print(f"\n{'model':<14} {'device':<12} {'MHz':>4} {'modelled ms':>12} {'published ms':>13} {'ratio':>6}")
    for row in timed:
        for device, clock, published in M4_DEVICES:
            if device in row.device_ms:
                modelled = row.device_ms[device]
                print(
                    f"{row.model:<14} {device:<12} {clock:>4.0f} {modelled:>12.2f} "
                    f"{published[row.model]:>13.2f} {modelled / published[row.model]:>6.3f}"
                )


def run_benchmark(args: argparse.Namespace, sources: Sources, build_dir: Path) -> list[Measurement]:
    rows = []
    prepared = {name: model_input(MODELS / INT8_MODELS[name]) for name in args.models}
    for core in args.cores:
        library = build_library(core, sources, build_dir / core, args.jobs)
        for name in args.models:
            input_bytes, reference = prepared[name]
            model = MODELS / INT8_MODELS[name]
            elf = link_model(core, model, input_bytes, library, sources, build_dir / core / name)
            rows.append(measure(name, core, elf, reference, not args.no_profile))
            print(f"  built and ran {name} on {core}", file=sys.stderr)
    return rows


def _names(text: str, allowed: Sequence[str]) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return names


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="folder holding the source trees")
    parser.add_argument("--models", type=lambda text: _names(text, BENCH_MODELS), default=list(BENCH_MODELS))
    parser.add_argument("--cores", type=lambda text: _names(text, BENCH_CORES), default=list(BENCH_CORES))
    parser.add_argument("--build-dir", type=Path, help="keep objects and ELFs here (default: a temporary folder)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel compiler processes")
    parser.add_argument("--no-profile", action="store_true", help="skip the published-latency comparison on M4")
    for name, default in (("tflm", "tflite-micro"), ("cmsis-nn", "CMSIS-NN"), ("cmsis", "CMSIS_6")):
        parser.add_argument(f"--{name}", type=Path, help=f"override ROOT/{default}")
    return parser.parse_args()


def sources_from(args: argparse.Namespace) -> Sources:
    default = Sources.under(args.root)
    return Sources(
        args.tflm or default.tflm,
        args.cmsis_nn or default.cmsis_nn,
        args.cmsis or default.cmsis,
        default.flatbuffers,
        default.gemmlowp,
        default.ruy,
    )


def main() -> int:
    args = parse_arguments()
    sources = sources_from(args)
    missing = sources.missing()
    if missing:
        print(HOW_TO_GET_SOURCES.format(missing=", ".join(str(path) for path in missing)))
        return 0
    if args.build_dir is not None:
        rows = run_benchmark(args, sources, args.build_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="tflm-cmsis-nn-") as scratch:
            rows = run_benchmark(args, sources, Path(scratch))
    print_cycles(rows)
    print_latencies(rows)
    return 0 if all(row.bit_exact for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
