"""`mcudeploy estimate MODEL --device NAME`: cycles and milliseconds per layer of the generated code."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Annotated

import typer

from mcudeploy.cli.npu import compare_with_npu, estimate_with_npu, print_npu_comparison, refuse_cpu_only_outputs
from mcudeploy.cli.options import (
    DEFAULT_DEVICE,
    CalibrationOption,
    DeviceOption,
    ForceOption,
    HtmlOption,
    JsonOption,
    ModelArgument,
    NoNpuOption,
    NpuOption,
    Planner,
    PlannerOption,
    StackOption,
    load_for_command,
)
from mcudeploy.cli.output import console, print_json, print_precision_note
from mcudeploy.devices import find_device
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate import compare_cores, comparison_devices, estimate_model
from mcudeploy.estimate.report import comparison_report, comparison_table, estimate_report, estimate_table
from mcudeploy.files import check_output_file, write_file
from mcudeploy.reports.html import estimate_page
from mcudeploy.reports.precision import precision


def estimate(
    model: ModelArgument,
    device: DeviceOption = DEFAULT_DEVICE,
    clock: Annotated[
        float | None, typer.Option("--clock", help="Core clock, MHz (default: the part's maximum).")
    ] = None,
    cores: Annotated[
        bool, typer.Option("--cores", help="Compare Cortex-M4, M7, M33 and M55 parts side by side.")
    ] = False,
    planner: PlannerOption = Planner.MCUDEPLOY,
    stack: StackOption = None,
    json: JsonOption = False,
    calibration: CalibrationOption = None,
    npu: NpuOption = None,
    no_npu: NoNpuOption = False,
    html: HtmlOption = None,
    force: ForceOption = False,
) -> None:
    """Run the generated code in QEMU on the device's core, count every instruction per layer and
    price it with the core's instruction timings and the device's memory wait states.

    On a device with an Arm Ethos-U (or with --npu): the whole timeline, NPU segments at Vela's
    cycles and the CPU fallback at ours, and the fallback's share of the wall-clock.

    Exit code 0 on success, 2 on bad input.
    """
    target = find_device(device)
    if html is not None:
        if cores:
            raise McuDeployError("--html", "one device's estimate per page: not with --cores")
        check_output_file(html, force)
    graph, model = load_for_command(model, calibration)
    refuse_cpu_only_outputs({"--html": html}, graph, target, npu, no_npu)
    if cores:
        with _working("building and running on each core", json):
            estimates = compare_cores(graph, comparison_devices(target), planner=str(planner))
            npu_rows = compare_with_npu(graph, model, estimates, no_npu)
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
    with _working(f"building and running on {target.core}", json):
        result = estimate_model(
            graph, target, clock, planner=str(planner), stack_bytes=stack, placements=True, paint_stack=True
        )
    if html is not None:
        write_file(html, estimate_page(estimate_report(result), result.notes).encode(), force)
    if json:
        print_json({**estimate_report(result), "precision": precision(graph)})
    else:
        console.print(estimate_table(result))
        print_precision_note(graph)


def _working(message: str, quiet: bool) -> AbstractContextManager[object]:
    """A spinner on the terminal while QEMU runs; nothing when the output is JSON."""
    return nullcontext() if quiet else console.status(message, spinner="dots")
