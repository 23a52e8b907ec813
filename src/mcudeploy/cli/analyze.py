"""`mcudeploy analyze MODEL --device NAME`: will the model fit, and where does its memory go."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated

import typer

from mcudeploy.analysis.code_size import measured_code
from mcudeploy.analysis.model import DOES_NOT_FIT, FITS, Reserves, analyze_model
from mcudeploy.cli.npu import analyze_with_npu, refuse_code_section, refuse_cpu_only_outputs
from mcudeploy.cli.options import (
    DEFAULT_DEVICE,
    CalibrationOption,
    CodeSectionOption,
    DeviceOption,
    ForceOption,
    HtmlOption,
    JsonOption,
    Kernels,
    KernelsOption,
    ModelArgument,
    NoNpuOption,
    NpuOption,
    OptimizeOption,
    Planner,
    PlannerOption,
    ReserveFlashOption,
    ReserveRamOption,
    Runtime,
    RuntimeOption,
    StackOption,
    load_for_command,
)
from mcudeploy.cli.output import console, print_json, print_precision_note
from mcudeploy.devices import Device, find_device
from mcudeploy.display import markup_safe
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate.hot_code import FastCode
from mcudeploy.estimate.memory import splits_hot_code
from mcudeploy.estimate.model import hottest_code
from mcudeploy.estimate.optimize import Objective, optimize_code_and_variants, stack_reserve
from mcudeploy.estimate.report import code_choice_line
from mcudeploy.estimate.stack import ASSUMED, RESERVED, static_need
from mcudeploy.files import check_output_file, write_file
from mcudeploy.ir import Graph
from mcudeploy.memory import MemoryPlan, plan_memory
from mcudeploy.memory.budget import DEFAULT_ALIGNMENT, DEFAULT_STACK_BYTES, CodeSection, check_code_section
from mcudeploy.memory.tflm_arena import tflm_arena
from mcudeploy.reports.analyze import budget_tree, layer_table, tflm_arena_table, variant_table, verdict
from mcudeploy.reports.arena_plot import check_plot_path, plot_arena
from mcudeploy.reports.html import analyze_page
from mcudeploy.reports.precision import precision

CANNOT_VERIFY_EXIT = 3
TFLM_BUDGET_NOTE = (
    "the budget holds TFLite Micro's smallest arena; its code and stack figures are those of mcudeploy's "
    "generated code, not of a TFLM build"
)


def analyze(
    model: ModelArgument,
    device: DeviceOption = DEFAULT_DEVICE,
    planner: PlannerOption = Planner.MCUDEPLOY,
    runtime: RuntimeOption = Runtime.MCUDEPLOY,
    kernels: KernelsOption = Kernels.CMSIS_NN,
    alignment: Annotated[
        int, typer.Option("--alignment", help="Alignment of arena buffers, bytes (a power of two).")
    ] = DEFAULT_ALIGNMENT,
    stack: StackOption = None,
    reserve_ram: ReserveRamOption = 0,
    reserve_flash: ReserveFlashOption = 0,
    json: JsonOption = False,
    calibration: CalibrationOption = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Draw the arena over time to a .png or .svg file.")
    ] = None,
    optimize: OptimizeOption = Objective.BALANCED,
    code_section: CodeSectionOption = None,
    npu: NpuOption = None,
    no_npu: NoNpuOption = False,
    html: HtmlOption = None,
    force: ForceOption = False,
) -> None:
    """Plan the tensor arena, place everything in the device's memories and say whether it fits.

    With our planner, each layer's kernel variant is chosen for --optimize (im2col or direct
    convolution, int8 or pre-expanded int16 weights; int8 or int16 fully connected weights; depthwise
    channel planes or streaming; with speed, which layers' weights are copied to SRAM at start-up,
    counted in RAM and in flash) and the Pareto points considered are shown.

    With --code-section ram where the hot code does not fit an SRAM's code alias whole, the bytes of its
    hottest functions are placed there, the rest in flash: the choice estimate and generate make (runs on
    QEMU, cached by content); without the cross toolchain or QEMU it says the split was not counted.

    On a device with an Arm Ethos-U (or with --npu), Vela compiles the model: each operator's
    placement with the reason for every CPU one, and the whole budget of NPU and CPU parts.

    With --runtime tflm the arena is TensorFlow Lite Micro's whole arena on the device's core
    (--kernels: its reference kernels or CMSIS-NN's): the planned head with the kernels' scratch,
    the persistent tail itemised, and the smallest arena with which Invoke() succeeds (--planner is
    then TFLM's).

    Exit code 0 when it fits, 1 when it does not, 3 when it cannot tell (the model has
    operators whose memory mcudeploy cannot count: they are named), 2 on bad input. An existing
    --plot file is replaced only with --force.
    """
    target = find_device(device)
    check_code_section(target, code_section)
    if alignment < 1 or alignment & (alignment - 1):
        raise McuDeployError(f"--alignment {alignment}", "must be a power of two")
    if plot is not None:
        check_plot_path(plot)
        check_output_file(plot, force)
    if html is not None:
        check_output_file(html, force)
    graph, model = load_for_command(model, calibration)
    refuse_cpu_only_outputs({"--html": html, "--plot": plot}, graph, target, npu, no_npu)
    refuse_code_section(code_section, graph, target, npu, no_npu)
    if code_section not in (None, CodeSection.FLASH) and runtime == Runtime.TFLM:
        raise McuDeployError(f"--code-section {code_section}", "for our C: not with --runtime tflm")
    reserved = stack is not None
    reserves = Reserves(stack if reserved else DEFAULT_STACK_BYTES, reserve_ram, reserve_flash,
                        RESERVED if reserved else ASSUMED)  # fmt: skip
    if analyze_with_npu(graph, model, target, npu, no_npu, reserves, json):
        if not json:
            print_precision_note(graph)
        return
    arena = None
    choice = None
    if runtime == Runtime.TFLM:
        arena = tflm_arena(graph, target.core, kernels.value)
        plan = replace(arena.plan, arena_bytes=arena.smallest_arena)  # the budget holds TFLM's whole arena
    else:
        if planner == Planner.MCUDEPLOY:
            reserve = Reserves(stack_reserve(graph, target.core, stack), reserve_ram, reserve_flash)
            choice = optimize_code_and_variants(graph, target, reserve, optimize, alignment, code_section=code_section)
            code_section = choice.code_section
        plan = plan_memory(graph, planner=planner.value, alignment=alignment)
    code_section = code_section or CodeSection.FLASH
    need = static_need(graph, plan, target.core, stack)
    reserves = Reserves(need.bytes, reserve_ram, reserve_flash, need.source)
    fast, unsplit = _hot_code_split(graph, plan, target, need.bytes, code_section)
    result = analyze_model(
        graph,
        plan,
        target,
        reserves,
        code_section=code_section,
        state_in_arena=arena is not None,
        fast_code_bytes=None if fast is None else fast.placed_bytes,
    )
    report = {
        **asdict(result),
        "variants": asdict(choice) if choice else None,
        "fast_code": None if fast is None else fast.report(),
        "hot_code_not_split": unsplit,
        "precision": precision(graph),
    }
    if arena is not None:
        report["tflm_arena"] = {**arena.to_dict(), "budget_note": TFLM_BUDGET_NOTE}
    if plot is not None:
        write_file(plot, lambda stream: plot_arena(graph, plan, stream, plot.suffix.lower()[1:]), force)
    if html is not None:
        write_file(html, analyze_page(report, plan).encode(), force)
    if json:
        print_json(report)
    else:
        console.print(layer_table(result))
        if arena is not None:
            console.print(tflm_arena_table(arena, target.core))
            console.print(f"[dim]{TFLM_BUDGET_NOTE}[/dim]")
        if choice is not None and choice.points:
            console.print(variant_table(choice))
        if choice is not None and (line := code_choice_line(choice)):
            console.print(line, markup=False)
        console.print(budget_tree(result))
        if fast is not None or unsplit is not None:
            console.print(f"hot code: {fast.note() if fast is not None else unsplit}", markup=False)
        console.print(verdict(result))
        print_precision_note(graph)
        for written in (plot, html):
            if written is not None:
                console.print(f"wrote {markup_safe(str(written))}")
    if result.verdict != FITS:
        raise typer.Exit(1 if result.verdict == DOES_NOT_FIT else CANNOT_VERIFY_EXIT)


def _hot_code_split(
    graph: Graph, plan: MemoryPlan, device: Device, stack_bytes: int, code_section: CodeSection
) -> tuple[FastCode | None, str | None]:
    """With `--code-section ram`, the hottest functions of the hot code run through the SRAM's code alias where
    the whole does not fit it (the choice estimate and generate make, `estimate.model.hottest_code`); else None,
    and why the split could not be counted where it may apply (no cross toolchain, or its run on QEMU failed)."""
    if code_section != CodeSection.RAM or not splits_hot_code(device):
        return None, None
    try:
        fast = hottest_code(graph, plan, device, stack_bytes)
    except McuDeployError as error:
        return None, f"which of its functions run through the code alias is not counted (a run on QEMU): {error}"
    if fast is None and measured_code(graph, plan, device.core, CodeSection.RAM) is None:
        return None, (
            "not measured (no arm-none-eabi-gcc for the core): the estimate is counted whole, not split between "
            "the code alias and flash as a run on QEMU would choose"
        )
    return fast, None
