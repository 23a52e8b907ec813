"""Arm's Vela compiler, driven as a library: compile a .tflite for an Ethos-U, read back what it decided.

Vela 5.x compiles with its C++ core (`ethosu.regor`); we call it as Vela's own command line does,
with the system configuration derived from the device (`npu.config`), then let Vela's own
statistics writer produce its summary CSV, so every figure here is Vela's. Vela prints its
per-operator fallback warnings from C++ on the process's standard output: we capture that stream
(it carries the failed constraint of every operator left to the CPU) and keep our own output clean.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mcudeploy.errors import McuDeployError
from mcudeploy.npu.config import NpuTarget

INSTALL_HINT = "not installed: pip install 'mcudeploy[npu]' (or --no-npu for the Cortex-M alone)"
PASSTHROUGH = "Passthrough"
"""Vela's name for an operator it leaves to the CPU."""
KIB = 1024
_MISSING_FIELD = "its TFLite reader found a table or vector it requires missing"
"""What Vela's 'Null pointer exception encountered when reading TFLite file' means."""


class VelaCompileError(McuDeployError):
    """Vela refused or failed on the model; the model may still run on the Cortex-M alone."""

    def __init__(self, subject: str, vela_reason: str) -> None:
        super().__init__(subject, f"Vela could not compile it: {vela_reason}")
        self.vela_reason = vela_reason


@dataclass(frozen=True)
class FallbackWarning:
    """One of Vela's 'placing on the CPU' warnings."""

    operator: str
    """The TFLite operator type Vela names (e.g. RELU for a float convolution's fused activation)."""
    ofm: str
    """The name of the operator's output tensor."""
    reason: str
    """What Vela found (e.g. the tensor with an unsupported data type)."""
    constraint: str
    """The constraint that failed, in Vela's words."""


@dataclass(frozen=True)
class VelaOperator:
    """One operator of the input model as Vela placed it."""

    index: int
    """The operator's index in the input .tflite (execution order)."""
    vela_op: str
    on_npu: bool
    cycles: int
    """NPU cycles of the Vela operations it became (0 on the CPU)."""
    macs: int


@dataclass(frozen=True)
class VelaCompilation:
    target: NpuTarget
    vela_version: str
    summary: dict[str, str]
    """Vela's summary CSV, column by column, as Vela wrote it."""
    operators: tuple[VelaOperator, ...]
    warnings: tuple[FallbackWarning, ...]
    model: bytes
    """The compiled .tflite: NPU segments as `ethos-u` custom operators, the rest unchanged."""
    sram_bytes: int
    """Peak SRAM (feature maps, scratch, weight buffers), bytes; the summary's KiB figure exactly."""
    arena_bytes: int
    """The tensor arena Vela planned for the whole compiled model (its offline plan): NPU and CPU feature
    maps and the NPU scratch. Vela's SRAM figure when NPU operators exist; also right when none do."""
    flash_bytes: int
    """Read-only memory: command stream and encoded weights, bytes."""
    npu_cycles: int
    total_cycles: int
    clock_hz: float
    bandwidths: dict[str, float]
    """Design peak bandwidth of each memory the NPU uses, bytes per second."""

    @property
    def inference_seconds(self) -> float:
        return self.total_cycles / self.clock_hz

    @property
    def npu_operator_count(self) -> int:
        return sum(op.on_npu for op in self.operators)


def compile_for_npu(model: bytes, name: str, target: NpuTarget) -> VelaCompilation:
    """Compile `model` (.tflite bytes) for `target` with Vela."""
    regor, vela_main, architecture, stats_writer, version = _vela_modules()
    with tempfile.TemporaryDirectory(prefix="mcudeploy-vela-") as folder:
        ini_path = Path(folder) / "system.ini"
        ini_path.write_text(target.ini, encoding="utf-8")
        arch = architecture.ArchitectureFeatures(
            vela_config_files=[str(ini_path)],
            system_config=target.system_config,
            memory_mode=target.memory_mode,
            accelerator_config=target.accelerator,
            max_blockdep=architecture.ArchitectureFeatures.MAX_BLOCKDEP,
            verbose_config=False,
            arena_cache_size=None,
        )
        system = _system_text(arch, target)
        options = _compiler_options(vela_main, arch)
        regor_arch = "".join(part.capitalize() for part in target.accelerator.split("-")[:-1])
        with _captured_stdout() as printed:
            try:
                compiled = regor.compile(regor_arch, model, "TFLITE", system, options=options, verbose=False)
            except Exception as error:  # Vela reports bad models with its own exceptions
                raise VelaCompileError(name, vela_reason(error)) from error
        csv_path = Path(folder) / "summary.csv"
        with _captured_stdout():
            stats_writer.print_regor_performance_metrics(
                arch, compiled.perf_report, name, str(csv_path), compiled.opt_database
            )
        summary = _read_summary(csv_path)
    report = compiled.perf_report
    model_bytes = bytes(compiled.model)
    sram_bytes = round(float(summary["sram_memory_used"]) * KIB)
    return VelaCompilation(
        target=target,
        vela_version=version,
        summary=summary,
        operators=_operators(compiled.opt_database),
        warnings=parse_fallback_warnings(printed.getvalue()),
        model=model_bytes,
        sram_bytes=sram_bytes,
        arena_bytes=_planned_arena(model_bytes, sram_bytes),
        flash_bytes=_read_only_bytes(summary),
        npu_cycles=int(report.npuCycles),
        total_cycles=int(report.totalCycles),
        clock_hz=float(arch.core_clock),
        bandwidths=_bandwidths(arch),
    )


@cache
def accelerators() -> tuple[str, ...]:
    """The accelerator configurations Vela compiles for."""
    _, _, architecture, _, _ = _vela_modules()
    return tuple(architecture.Accelerator.member_list())


def arm_reference_ini() -> str:
    """Vela's own configuration file of Arm reference systems."""
    _, _, architecture, _, _ = _vela_modules()
    return (Path(architecture.CONFIG_FILES_PATH) / "Arm" / "vela.ini").read_text(encoding="utf-8")


def parse_fallback_warnings(text: str) -> tuple[FallbackWarning, ...]:
    """Vela's blocks 'Warning (supported operators) operator: OP, ofm: 'NAME'' / 'Reason: ...' / constraint."""
    warnings: list[FallbackWarning] = []
    lines = text.splitlines()
    marker = "Warning (supported operators) operator: "
    for number, line in enumerate(lines):
        if not line.startswith(marker):
            continue
        operator, _, ofm = line[len(marker) :].partition(", ofm: ")
        body: list[str] = []
        for following in lines[number + 1 :]:
            if not following.strip() or following.startswith(marker):
                break
            body.append(following.strip())
        reasons = [b.removeprefix("Reason: ") for b in body if b.startswith("Reason: ")]
        constraints = [b for b in body if not b.startswith("Reason: ")]
        warnings.append(
            FallbackWarning(operator.strip(), ofm.strip().strip("'"), "; ".join(reasons), " ".join(constraints))
        )
    return tuple(warnings)


def vela_reason(error: Exception) -> str:
    """Vela's multi-line report of a model it could not compile, as one line: its 'Error:' prefixes and
    closing 'Failed to parse TFLite file' dropped, 'OP 'tensor': constraint; detail' kept."""
    parts = []
    for raw in str(error).splitlines():
        line = raw.strip().removeprefix("- ")
        for prefix in ("Compilation failed:", "Error:"):
            line = line.strip().removeprefix(prefix)
        line = line.strip().replace(" Does not have valid TFLite Semantics.", "")
        line = line.replace("Null pointer exception encountered when reading TFLite file", _MISSING_FIELD)
        line = line.rstrip(" ,")
        if line and line.rstrip(".").lower() != "failed to parse tflite file":
            parts.append(line)
    if not parts:
        return type(error).__name__
    head, *details = parts
    return f"{head}: {'; '.join(details)}" if details else head


def _vela_modules() -> tuple[Any, Any, Any, Any, str]:
    try:
        from ethosu import regor
        from ethosu.vela import architecture_features, stats_writer, vela
        from ethosu.vela._version import __version__
    except ImportError as error:
        raise McuDeployError("Arm's Vela compiler (ethos-u-vela)", INSTALL_HINT) from error
    return regor, vela, architecture_features, stats_writer, __version__


def _system_text(arch: Any, target: NpuTarget) -> str:
    """What Vela's command line hands its C++ core: the NPU's shape, the names, then the .ini text."""
    return (
        f"[architecture]\nmacs={arch.num_macs_per_cycle}\ncores={arch.ncores}\n"
        f"[vela]\nsystem_config_name={target.system_config}\nmemory_mode_name={target.memory_mode}\n" + target.ini
    )


def _compiler_options(vela_main: Any, arch: Any) -> str:
    """Vela's defaults (performance, hill-climb allocator, 16-byte CPU tensors), with its database on."""
    return vela_main.get_compiler_config(
        enable_debug_db=False,
        verbose_all=False,
        verbose_high_level_command_stream=False,
        verbose_register_command_stream=False,
        optimize="Performance",
        arena_cache_size=arch.arena_cache_size,
        verbose_schedule=False,
        verbose_allocation=False,
        verbose_graph=False,
        verbose_quantization=False,
        verbose_packing=False,
        verbose_performance=True,
        show_cpu_operations=True,
        output_format="tflite",
        disable_chaining=False,
        disable_fwd=False,
        disable_cascading=False,
        disable_buffering=False,
        disable_ifm_reuse=False,
        cop_format="COP1",
        separate_io_regions=False,
        cpu_tensor_alignment=16,
        tensor_allocator="HillClimb",
        softmax_int16_neg_exp_range=10.0,
    )


@contextlib.contextmanager
def _captured_stdout() -> Iterator[io.StringIO]:
    """Everything written to standard output, by Python or by C++, goes to the yielded buffer."""
    captured = io.StringIO()
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 1)
        try:
            with contextlib.redirect_stdout(captured):
                yield captured
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            captured.write(sink.read().decode("utf-8", errors="replace"))


def _read_summary(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.DictReader(handle))


def _read_only_bytes(summary: dict[str, str]) -> int:
    """Command stream and weights live in the memory Vela reports as flash (or DRAM on U65/U85 systems)."""
    kib = sum(float(summary[f"{area}_memory_used"]) for area in ("off_chip_flash", "on_chip_flash", "dram"))
    return round(kib * KIB)


def _planned_arena(model: bytes, sram_bytes: int) -> int:
    from mcudeploy.importers.tflite.reader import read_tflite
    from mcudeploy.npu.compiled import offline_arena_bytes

    planned = offline_arena_bytes(model, read_tflite(model))
    return sram_bytes if planned is None else planned


def _bandwidths(arch: Any) -> dict[str, float]:
    from ethosu.vela.tensor import MemArea

    used = {arch.feature_map_storage_mem_area, arch.permanent_storage_mem_area, arch.fast_storage_mem_area}
    return {area.name: float(arch.memory_bandwidths_per_second[area]) for area in MemArea if area in used}


def _operators(database: Any) -> tuple[VelaOperator, ...]:
    """Each source operator: on the NPU when any of the Vela operations it became is one."""
    source = _rows(database, "source")
    perf = _rows(database, "perf")
    operators = []
    for entry in source:
        rows = [row for row in perf if row["source_id"] == entry["id"]]
        on_npu = any(row["operator"] != PASSTHROUGH for row in rows)
        operators.append(
            VelaOperator(
                index=int(entry["ext_key"]),
                vela_op=entry["operator"],
                on_npu=on_npu,
                cycles=sum(int(row["op_cycles"] or 0) for row in rows) if on_npu else 0,
                macs=sum(int(row["mac_count"] or 0) for row in rows),
            )
        )
    return tuple(sorted(operators, key=lambda op: op.index))


def _rows(database: Any, table: str) -> list[dict[str, str]]:
    if table not in database.tables:
        return []
    data = database.tables[table]
    return [dict(zip(data.header, row, strict=True)) for row in data.data]
