"""`mcudeploy generate MODEL -o DIR`: the model as self-contained C99 for a Cortex-M device."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from mcudeploy.analysis.code_size import measured_code
from mcudeploy.analysis.model import Reserves
from mcudeploy.cli.npu import generate_with_npu, refuse_code_section
from mcudeploy.cli.options import (
    DEFAULT_DEVICE,
    CalibrationOption,
    CodeSectionOption,
    DeviceOption,
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
    load_for_command,
)
from mcudeploy.cli.output import console, print_json, print_precision_note
from mcudeploy.codegen import generate as generate_code
from mcudeploy.codegen.library import FAST_CODE_SECTION
from mcudeploy.codegen.tflm_project import generate_tflm_project
from mcudeploy.devices import MemoryRegion, find_device
from mcudeploy.display import markup_safe
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate.model import hottest_code
from mcudeploy.estimate.optimize import Objective, optimize_code_and_variants, stack_reserve
from mcudeploy.estimate.report import code_choice_line
from mcudeploy.files import read_regular
from mcudeploy.memory import plan_memory
from mcudeploy.memory.budget import (
    RUN_CODE,
    CodeSection,
    budget_request,
    check_code_section,
    code_estimate,
    constant_layout,
    memory_budget,
)
from mcudeploy.memory.placement import arena_place
from mcudeploy.memory.tflm_arena import tflm_arena
from mcudeploy.reports.precision import precision


def generate(
    model: ModelArgument,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the C project into.")],
    device: DeviceOption = DEFAULT_DEVICE,
    prefix: Annotated[str, typer.Option("--prefix", help="Prefix of the C API (net_init, net_run, ...).")] = "net",
    arena_section: Annotated[
        str | None,
        typer.Option(
            "--arena-section",
            help="Linker section for the arena (default: .dtcm where the part has a DTCM the arena fits in, "
            "else none: .bss).",
        ),
    ] = None,
    planner: PlannerOption = Planner.MCUDEPLOY,
    runtime: RuntimeOption = Runtime.MCUDEPLOY,
    kernels: KernelsOption = Kernels.CMSIS_NN,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output folder even if it holds files mcudeploy did not write.")
    ] = False,
    json: JsonOption = False,
    calibration: CalibrationOption = None,
    optimize: OptimizeOption = Objective.BALANCED,
    reserve_ram: ReserveRamOption = 0,
    reserve_flash: ReserveFlashOption = 0,
    code_section: CodeSectionOption = None,
    npu: NpuOption = None,
    no_npu: NoNpuOption = False,
) -> None:
    """Write network.h, network.c, network_data.h and the kernel library: weights const in flash, one static arena.

    On a device with an Arm Ethos-U (or with --npu): Vela's command streams and weights as const data, our
    C for the fallback operators, and one net_run() handing each NPU segment to md_ethosu_invoke().

    With --runtime tflm: a TensorFlow Lite Micro project instead (model_data.cc, main.cc, README.md): the
    model as a 16-byte-aligned const array, a MicroMutableOpResolver with exactly its operators, and the
    smallest arena TFLM runs it in with --kernels on the device's core.

    The folder is written beside OUTPUT and swapped in whole. An existing OUTPUT is replaced when it is
    empty or holds only what mcudeploy wrote there, unchanged; otherwise only with --force. Never
    replaced: the current folder or one holding it, a folder holding MODEL, a symbolic link, a system folder.
    """
    if output.resolve() in model.resolve().parents:
        raise McuDeployError(str(output), "holds the model file: generate writes a folder of its own")
    part = find_device(device)
    check_code_section(part, code_section)
    graph, model = load_for_command(model, calibration)
    refuse_code_section(code_section, graph, part, npu, no_npu)
    if code_section not in (None, CodeSection.FLASH) and runtime == Runtime.TFLM:
        raise McuDeployError(f"--code-section {code_section}", "for our C: not with --runtime tflm")
    if runtime == Runtime.TFLM:
        _generate_tflm(graph, model, part, kernels, output, force, json)
        return
    options = {"prefix": prefix, "arena_section": arena_section, "force": force}
    if generate_with_npu(graph, model, part, npu, no_npu, output, options, json):
        if not json:
            print_precision_note(graph)
        return
    choice = None
    if planner == Planner.MCUDEPLOY:
        reserve = Reserves(stack_reserve(graph, part.core, None), reserve_ram, reserve_flash)
        choice = optimize_code_and_variants(graph, part, reserve, optimize, code_section=code_section)
        code_section = choice.code_section
    code_section = code_section or CodeSection.FLASH
    plan = plan_memory(graph, planner=str(planner))
    place = None
    if arena_section is None:
        request = budget_request(plan.arena_bytes, constant_layout(graph, plan.alignment), code_estimate(graph))
        place = arena_place(memory_budget(request, part), part, plan.arena_bytes)
        arena_section = place.section if place is not None else None
    code_region, code_alias, fast_functions = hot_code_region(graph, plan, part, code_section)
    linked_region = f"{code_alias.name}_CODE" if code_alias else code_region
    code = generate_code(
        graph,
        plan,
        output,
        prefix=prefix,
        arena_section=arena_section,
        force=force,
        code_region=linked_region,
        code_alias=code_alias,
        fast_functions=fast_functions,
    )
    summary = {
        "model": graph.name,
        "device": part.name,
        "core": part.core,
        "directory": str(code.directory),
        "sources": list(code.sources),
        "arena_bytes": code.arena_bytes,
        "weights_bytes": code.weights_bytes,
        "arena_section": arena_section,
        "arena_placement": None if place is None else {"region": place.region, "why": place.why},
        "code_section": str(code_section),
        "hot_code_region": code_region,
        "fast_functions": None if fast_functions is None else list(fast_functions),
        "variants": asdict(choice) if choice else None,
        "precision": precision(graph),
    }
    if json:
        print_json(summary)
        return
    folder = markup_safe(str(code.directory))
    console.print(f"wrote {folder}/ for {part.name}: {len(code.sources)} C files")
    console.print(f"  arena {code.arena_bytes:,} B ({planner} planner), weights {code.weights_bytes:,} B")
    if place is not None:
        section = f"section {arena_section}" if arena_section else "no section (.bss)"
        console.print(f"  arena: {section}, for {place.region}: {place.why}")
    if choice is not None and choice.chosen is not None:
        chosen = choice.chosen
        timed = f", {chosen.milliseconds:.3f} ms" if chosen.milliseconds is not None else ""
        console.print(
            f"  --optimize {choice.objective}: {chosen.name}{timed} (direct: {len(chosen.direct_layers)} layers, "
            f"int16 weights: {len(chosen.int16_layers)} layers, depthwise planes: {len(chosen.plane_layers)} layers, "
            f"weights in SRAM: {len(chosen.sram_weight_layers)} layers, {chosen.sram_weight_bytes:,} B, "
            f"rolled loops: {len(chosen.rolled_layers)} layers)"
        )
    if choice is not None and (line := code_choice_line(choice)):
        console.print(f"  {line}", markup=False)
    if code_region is not None:
        only = f" ({len(fast_functions)} hottest functions; the rest in flash)" if fast_functions is not None else ""
        console.print(
            f"  hot code: section {FAST_CODE_SECTION}, run from {code_region}{only}; see README.md for the link"
        )
    console.print(f"  API: {prefix}_init(), {prefix}_run(...), {prefix}_invoke(); see {folder}/README.md")
    print_precision_note(graph)


MODEL_FILE_LIMIT = 64 << 20


def hot_code_region(
    graph, plan, part, code_section: CodeSection
) -> tuple[str | None, MemoryRegion | None, tuple[str, ...] | None]:
    """The device memory the hot code runs from (None: flash), where the budget places its run image
    (sized from the linked program where the core has a machine), the SRAM whose code alias it runs
    through, if so ("SRAM2 via 0x10000000"), and when only its hottest functions fit that alias, which
    (`estimate.model.hottest_code`, a run on QEMU; None: all of it); an error when it has no room."""
    if code_section == CodeSection.FLASH:
        return None, None, None
    code = measured_code(graph, plan, part.core, code_section) or code_estimate(graph)
    constants = constant_layout(graph, plan.alignment)
    budget = memory_budget(budget_request(plan.arena_bytes, constants, code, code_section=code_section), part)
    aliased = budget.region_of(RUN_CODE)
    if aliased is not None:
        return aliased.via_code_alias, aliased, None
    fast = hottest_code(graph, plan, part, stack_reserve(graph, part.core, None))
    if fast is not None:
        return fast.region.via_code_alias, fast.region, fast.names
    for short in budget.shortfalls:
        if short.item.name == RUN_CODE:
            room = f"{short.best_region} has {short.room:,} B free" if short.best_region else "no room"
            what = f"the hot code ({short.item.size:,} B) does not fit {part.name}: {room}"
            raise McuDeployError(f"--code-section {code_section}", what)
    return next(use.span.name for use in budget.uses if any(item.name == RUN_CODE for item in use.items)), None, None


def _generate_tflm(graph, model: Path, part, kernels: Kernels, output: Path, force: bool, json: bool) -> None:
    arena = tflm_arena(graph, part.core, kernels.value)
    project = generate_tflm_project(graph, read_regular(model, MODEL_FILE_LIMIT), arena, part.core, output, force)
    summary = {
        "model": graph.name,
        "device": part.name,
        "core": part.core,
        "runtime": "tflm",
        "kernels": kernels.value,
        "directory": str(project.directory),
        "sources": list(project.sources),
        "operators": list(project.operators),
        "arena_bytes": project.arena_bytes,
        "tflm_arena": arena.to_dict(),
    }
    if json:
        print_json(summary)
        return
    folder = markup_safe(str(project.directory))
    console.print(f"wrote {folder}/ for {part.name}: TensorFlow Lite Micro project ({', '.join(project.sources)})")
    console.print(f"  operators: {', '.join(project.operators)}")
    console.print(f"  arena {project.arena_bytes:,} B ({kernels.value} kernels on {part.core}); see {folder}/README.md")
