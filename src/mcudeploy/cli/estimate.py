"""`mcudeploy estimate MODEL --device NAME`: cycles and milliseconds per layer of the generated code."""

from __future__ import annotations

import tempfile
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated

import typer

from mcudeploy.analysis.model import Reserves
from mcudeploy.cli.npu import (
    compare_with_npu,
    estimate_with_npu,
    print_npu_comparison,
    refuse_code_section,
    refuse_cpu_only_outputs,
)
from mcudeploy.cli.options import (
    DEFAULT_DEVICE,
    CalibrationOption,
    CodeSectionOption,
    DeviceOption,
    ForceOption,
    HtmlOption,
    JsonOption,
    NoNpuOption,
    NpuOption,
    OptimizeOption,
    Planner,
    PlannerOption,
    StackOption,
    load_for_command,
)
from mcudeploy.cli.output import console, print_json, print_precision_note
from mcudeploy.devices import find_device
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate import compare_cores, comparison_devices, estimate_model
from mcudeploy.estimate.optimize import Objective, optimize_code_and_variants, stack_reserve
from mcudeploy.estimate.report import (
    code_choice_line,
    code_section_comparison,
    comparison_report,
    comparison_table,
    estimate_report,
    estimate_table,
)
from mcudeploy.examples.mobilenet import INPUT_SHAPE, build_mobilenet_v2
from mcudeploy.files import check_output_file, write_file
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import DType
from mcudeploy.memory.budget import CodeSection, check_code_section
from mcudeploy.npu.report import seed_table_table
from mcudeploy.npu.seed_table import seed_table
from mcudeploy.reports.html import estimate_page
from mcudeploy.reports.precision import precision


def estimate(
    model: Annotated[
        Path | None,
        typer.Argument(
            metavar="MODEL", help="Model file (.tflite or .onnx); optional with --seed-table.", show_default=False
        ),
    ] = None,
    device: DeviceOption = DEFAULT_DEVICE,
    clock: Annotated[
        float | None, typer.Option("--clock", help="Core clock, MHz (default: the part's maximum).")
    ] = None,
    cores: Annotated[
        bool, typer.Option("--cores", help="Compare Cortex-M4, M7, M33 and M55 parts side by side.")
    ] = False,
    seed_table: Annotated[
        bool,
        typer.Option(
            "--seed-table",
            help="The seed's table: MobileNetV2 0.35 96x96 int8 (built when no MODEL is given) on an M4 @ 168, "
            "an M7 @ 480, an M55 @ 250 and an M55 + Ethos-U55-256 @ 250 MHz, beside the seed's figures.",
        ),
    ] = False,
    planner: PlannerOption = Planner.MCUDEPLOY,
    stack: StackOption = None,
    optimize: OptimizeOption = Objective.BALANCED,
    code_section: CodeSectionOption = None,
    json: JsonOption = False,
    calibration: CalibrationOption = None,
    npu: NpuOption = None,
    no_npu: NoNpuOption = False,
    html: HtmlOption = None,
    force: ForceOption = False,
) -> None:
    """Run the generated code in QEMU on the device's core, count every instruction per layer and
    price it with the core's instruction timings and the device's memory wait states. The kernel
    variants are those --optimize chooses (as analyze and generate do; not with --cores).

    On a device with an Arm Ethos-U (or with --npu): the whole timeline, NPU segments at Vela's
    cycles and the CPU fallback at ours, and the fallback's share of the wall-clock.

    With --code-section itcm or ram the hot code is built to run from there and priced where it runs,
    beside the same model with its code in flash. Without it, --optimize speed places the hot code where
    the model it optimized for each place runs fastest, and says the others' latencies.

    Exit code 0 on success, 2 on bad input.
    """
    if seed_table:
        if cores or clock is not None or npu or no_npu or html is not None:
            raise McuDeployError("--seed-table", "its rows fix the parts, clocks and NPU: not with "
                                 "--cores, --clock, --npu, --no-npu or --html")  # fmt: skip
        _print_seed_table(model, calibration, str(planner), json)
        return
    if model is None:
        raise McuDeployError("MODEL", "missing: give a model file (only --seed-table builds its own)")
    target = find_device(device)
    check_code_section(target, code_section)
    if code_section not in (None, CodeSection.FLASH) and cores:
        raise McuDeployError(f"--code-section {code_section}", "one device's estimate: not with --cores")
    if html is not None:
        if cores:
            raise McuDeployError("--html", "one device's estimate per page: not with --cores")
        check_output_file(html, force)
    graph, model = load_for_command(model, calibration)
    refuse_cpu_only_outputs({"--html": html}, graph, target, npu, no_npu)
    refuse_code_section(code_section, graph, target, npu, no_npu)
    if cores:
        with _working("building and running on each core", json):
            estimates = compare_cores(graph, comparison_devices(target), planner=str(planner))
            npu_rows = compare_with_npu(graph, model, estimates, no_npu, json)
        if json:
            print_json({**comparison_report(estimates), "with_npu": npu_rows, "precision": precision(graph)})
        else:
            console.print(comparison_table(estimates))
            print_npu_comparison(npu_rows, graph.name)
            print_precision_note(graph)
        return
    if estimate_with_npu(graph, model, target, npu, no_npu, clock, str(planner), json):
        if not json:
            print_precision_note(graph)
        return
    timed_by = None
    with _working(f"building and running on {target.core}", json):
        choice = None
        if planner == Planner.MCUDEPLOY:
            reserve = Reserves(stack_reserve(graph, target.core, stack))
            choice = optimize_code_and_variants(
                graph, target, reserve, optimize, clock_mhz=clock, code_section=code_section
            )
            code_section = choice.code_section
            timed = choice.chosen is not None and choice.chosen.milliseconds is not None
            timed_by = choice.objective if timed else None
        code_section = code_section or CodeSection.FLASH
        result = estimate_model(
            graph,
            target,
            clock,
            planner=str(planner),
            stack_bytes=stack,
            placements=True,
            paint_stack=True,
            code_section=code_section,
        )
        in_flash = None
        if code_section != CodeSection.FLASH and not (choice and choice.code_sections):  # chosen: flash's ms said
            in_flash = estimate_model(graph, target, clock, planner=str(planner), stack_bytes=result.stack.bytes)
    comparison = code_section_comparison(result, in_flash, timed_by) if in_flash is not None else None
    if html is not None:
        write_file(html, estimate_page(estimate_report(result), result.notes).encode(), force)
    chosen_code = None if choice is None else code_choice_line(choice)
    if json:
        tried = None if choice is None or not choice.code_sections else choice.code_sections
        print_json({**estimate_report(result), "code_section_comparison": comparison, "code_sections_tried": tried,
                    "precision": precision(graph)})  # fmt: skip
    else:
        console.print(estimate_table(result))
        for line in (chosen_code, comparison and comparison["line"]):
            if line:
                console.print(line, markup=False)
        print_precision_note(graph)


def _print_seed_table(model: Path | None, calibration: Path | None, planner: str, json: bool) -> None:
    """The seed's table for MODEL (a MobileNetV2 0.35 at 96x96 of the user's), or for ours built here."""
    with tempfile.TemporaryDirectory(prefix="mcudeploy-seed-") as folder:
        if model is None:
            graph = build_mobilenet_v2()
            path = Path(folder) / f"{graph.name}.tflite"
            path.write_bytes(write_tflite(graph))
        else:
            graph, path = load_for_command(model, calibration)
            first = graph.graph_inputs[0]
            if len(graph.graph_inputs) != 1 or tuple(first.shape) != INPUT_SHAPE or first.dtype != DType.INT8:
                shape = "x".join(map(str, first.shape))
                raise McuDeployError(graph.subject, f"the seed's table is for MobileNetV2 0.35 with one int8 "
                                     f"1x96x96x3 input: this model's is {first.dtype.value} {shape}")  # fmt: skip
        with _working("building and running on each core, compiling with Vela", json):
            rows = seed_table(graph, path, planner)
    if json:
        print_json({"model": graph.name, "rows": rows})
    else:
        console.print(seed_table_table(rows, graph.name))


def _working(message: str, quiet: bool) -> AbstractContextManager[object]:
    """A spinner on the terminal while QEMU runs; nothing when the output is JSON."""
    return nullcontext() if quiet else console.status(message, spinner="dots")
