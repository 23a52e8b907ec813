"""`mcudeploy validate MODEL`: the generated C on the host and emulated cores, against the reference engine."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mcudeploy.analysis.model import Reserves
from mcudeploy.cli.generate import hot_code_region
from mcudeploy.cli.npu import validate_with_npu
from mcudeploy.cli.options import (
    CalibrationOption,
    CodeSectionOption,
    ForceOption,
    HtmlOption,
    JsonOption,
    ModelArgument,
    NpuOption,
    OptimizeOption,
    Planner,
    PlannerOption,
    load_for_command,
)
from mcudeploy.cli.output import console, print_json, print_precision_note, waiting_text
from mcudeploy.devices import Device, find_device
from mcudeploy.display import markup_safe, printable, waiting_comparison
from mcudeploy.emulation import EMULATED_TARGET_NAMES, core_target
from mcudeploy.emulation.targets import HOST
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate.optimize import Objective, optimize_code_and_variants, stack_reserve
from mcudeploy.files import check_output_file, write_file
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import load_input_sets, random_inputs
from mcudeploy.ir import Graph
from mcudeploy.memory.budget import CodeSection, check_code_section
from mcudeploy.reports.html import validate_page
from mcudeploy.reports.precision import precision
from mcudeploy.validation.oracles import tflm_run
from mcudeploy.validation.runner import FLOAT_TOLERANCE, InputResult, PlacedCode, TargetResult, Validator

TargetChoice = StrEnum("TargetChoice", {name.upper(): name for name in (HOST, *EMULATED_TARGET_NAMES, "all")})
TARGET_HELP = f"Where to run: {', '.join((HOST, *EMULATED_TARGET_NAMES))} or all."


def validate(
    model: ModelArgument,
    target: Annotated[
        list[TargetChoice], typer.Option("--target", "-t", help=TARGET_HELP)
    ] = [TargetChoice.HOST, TargetChoice.M4],  # noqa: B006 - typer reads list defaults, never mutates them
    inputs: Annotated[
        Path | None, typer.Option("--inputs", help="A folder of input files, a batched .npz, or one input file.")
    ] = None,
    random: Annotated[
        int, typer.Option("--random", min=1, help="Seeded random inputs, when --inputs is not given.")
    ] = 3,
    per_layer: Annotated[
        bool, typer.Option("--per-layer", help="Dump every layer's output and name the first that diverges.")
    ] = False,
    planner: PlannerOption = Planner.MCUDEPLOY,
    device: Annotated[
        str | None,
        typer.Option(
            "--device", "-d", help="Run the kernel variants --optimize chooses for this part (as generate does)."
        ),
    ] = None,
    optimize: OptimizeOption = Objective.BALANCED,
    code_section: CodeSectionOption = None,
    json: JsonOption = False,
    calibration: CalibrationOption = None,
    npu: NpuOption = None,
    html: HtmlOption = None,
    force: ForceOption = False,
) -> None:
    """Generate the C code, build it for each target, run every input and compare bit for bit.

    With --npu: Vela compiles the model for that Ethos-U and the generated Cortex-M + Ethos-U project runs
    on QEMU M55 with a driver stub that supplies each NPU segment's outputs from the reference engine (NPU
    arithmetic is not emulated): the CPU segments and the hand-over are compared bit for bit.

    Without --device, the kernel variants are the planner's (the smallest arena, int8 weights); with it,
    those --optimize chooses for that part, as generate does. --code-section (with --device) links the
    program on the part's core as generate places its hot code (the whole, or only its hottest functions
    in an SRAM's code alias); the host runs the same C without a link of its own. Without it, --optimize
    speed chooses where the hot code runs as generate does, and the part's core's program is linked so
    (any other core's in flash).

    Exit code 0 when every target agrees, 1 on any mismatch, 2 on bad input.
    """
    if html is not None:
        if npu is not None:
            raise McuDeployError("--html", "not written for Cortex-M + Ethos-U reports yet")
        check_output_file(html, force)
    targets = _target_names(target)
    part = None if device is None else find_device(device)
    if code_section not in (None, CodeSection.FLASH):
        _check_code_section(code_section, part, targets, npu)
    graph, model = load_for_command(model, calibration)
    input_sets = load_input_sets(inputs, graph) if inputs else [random_inputs(graph, seed) for seed in range(random)]
    if npu is not None:
        validate_with_npu(graph, model, npu, input_sets, json)
        return
    placed = code_section
    if part is not None and planner == Planner.MCUDEPLOY:
        reserve = Reserves(stack_reserve(graph, part.core, None))
        placed = optimize_code_and_variants(graph, part, reserve, optimize, code_section=code_section).code_section
    validator = Validator(graph, planner=str(planner))
    hot_code = _place_hot_code(validator, part, placed, targets, chosen=code_section is None)
    try:
        results = _run_all(validator, targets, input_sets, per_layer, show_progress=not json)
        tflm = _tflm_agreement(validator, input_sets)
    finally:
        validator.close()
    report = {**_report(graph, str(planner), results, tflm, validator.streaming), "hot_code": hot_code}
    if html is not None:
        write_file(html, validate_page(report).encode(), force)
    if json:
        print_json(report)
    else:
        _print_report(graph, results, tflm, validator.streaming)
        if hot_code is not None:
            _print_hot_code(hot_code, part, targets)
    if not all(r.passed for r in results):
        raise typer.Exit(1)


def _place_hot_code(
    validator: Validator, part: Device | None, placed: CodeSection | None, targets: list[str], chosen: bool
) -> dict[str, Any] | None:
    """Link the part's core's program with its hot code where generate places it (`placed`: named by
    --code-section, or `chosen` by --optimize speed); the report's `hot_code`, None when all runs from flash.
    A chosen place is linked only where the part's core is among the targets; the others link flash."""
    runs_on = None if part is None else core_target(part.core)
    if placed in (None, CodeSection.FLASH) or runs_on is None or runs_on.name not in targets:
        return None
    region, _, fast_functions = hot_code_region(validator.graph, validator.plan, part, placed)
    validator.placed_code = PlacedCode(runs_on.name, str(placed), fast_functions)
    in_flash = [name for name in targets if name not in (HOST, runs_on.name)]
    return {
        "code_section": str(placed),
        "chosen": chosen,
        "target": runs_on.name,
        "runs_from": region,
        "fast_functions": fast_functions,
        "in_flash": in_flash,
    }


def _check_code_section(code_section: CodeSection, part: Device | None, targets: list[str], npu: str | None) -> None:
    """--code-section links the program as it runs on the part's core: refused, before any work, where it cannot."""
    flag = f"--code-section {code_section}"
    if npu is not None:
        raise McuDeployError(flag, "for our C on the core alone: not with --npu")
    if part is None:
        raise McuDeployError(flag, "needs --device: the part's memories say where the hot code runs")
    check_code_section(part, code_section)
    runs_on = core_target(part.core)
    if runs_on is None:
        raise McuDeployError(flag, f"{part.name}'s {part.core} has no QEMU machine to run the program on")
    others = [name for name in targets if name not in (HOST, runs_on.name)]
    if others:
        raise McuDeployError(flag, f"links the program for {part.name}'s {part.core} (--target {runs_on.name}): "
                             f"not for {', '.join(others)}")  # fmt: skip
    if runs_on.name not in targets:
        raise McuDeployError(flag, f"links the program for {part.name}'s {part.core}: needs --target {runs_on.name} "
                             "(the host build has no link to place code in)")  # fmt: skip


def _target_names(choices: list[TargetChoice]) -> list[str]:
    if TargetChoice.ALL in choices:
        return [HOST, *EMULATED_TARGET_NAMES]
    return list(dict.fromkeys(str(c) for c in choices))


def _run_all(
    validator: Validator, targets: list[str], input_sets: list, per_layer: bool, show_progress: bool
) -> list[TargetResult]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not show_progress) as progress:
        task = progress.add_task("validating", total=len(targets) * len(input_sets))
        results = []
        failures: dict[str, McuDeployError] = {}
        for name in targets:
            progress.update(task, description=f"validating on {name}")
            try:
                result = validator.validate_target(
                    name, input_sets, per_layer, on_input_done=lambda: progress.advance(task)
                )
            except McuDeployError as error:  # this target fails; the others still report
                failures[name] = error
                result = TargetResult(target=name, error=str(error))
            results.append(result)
    if len(failures) == len(results) and len({str(e) for e in failures.values()}) == 1:
        raise next(iter(failures.values()))  # the model itself, not a target: one line, exit 2
    return results


def _tflm_agreement(validator: Validator, input_sets: list) -> bool | None:
    """Whether the reference engine agrees with TensorFlow Lite Micro's interpreter on every input;
    None when the interpreter is not installed or the model is not one it runs (float, custom ops)."""
    graph = validator.graph
    custom = any(op.is_custom for subgraph in graph.subgraphs for op in subgraph.operators)
    if custom or any(t.dtype.is_float for t in graph.graph_inputs):
        return None
    # A model read from ONNX or quantized here runs in TFLite Micro as the .tflite of its IR.
    unchanged = graph.metadata.get("format") != "onnx" and "quantized_by" not in graph.metadata
    model_file = graph.source if unchanged else write_tflite(graph)
    for index, inputs in enumerate(input_sets):
        try:
            # outputs only: reading every tensor back would crash on a resource handle (VAR_HANDLE's)
            oracle = tflm_run(model_file, inputs, 0, len(graph.outputs))
        except ImportError:
            return None
        ours = validator.reference(index, inputs).outputs
        if not all(np.array_equal(a, b.reshape(a.shape)) for a, b in zip(ours, oracle.outputs, strict=True)):
            return False
    return True


def _report(
    graph: Graph, planner: str, results: list[TargetResult], tflm: bool | None, streaming: bool
) -> dict[str, Any]:
    return {
        "model": graph.name,
        "planner": planner,
        "streaming": streaming,
        "passed": all(r.passed for r in results),
        "engine_matches_tflm": tflm,
        "precision": precision(graph),
        "targets": {
            r.target: {
                "passed": r.passed,
                "error": r.error,
                "instructions_per_inference": r.instructions_per_inference,
                "sections": r.sections,
                "inputs": [
                    {
                        "agrees": item.agrees,
                        "instructions": item.instructions,
                        "waiting": _waiting(graph, item.waiting_at),
                        "engine_waiting": _waiting(graph, item.engine_waiting_at),
                        "outputs": [m.as_dict() if m is not None else None for m in item.outputs],
                        "first_divergence": item.divergence.__dict__ if item.divergence else None,
                    }
                    for item in r.inputs
                ],
            }
            for r in results
        },
    }


def _print_hot_code(hot_code: dict[str, Any], part: Device, targets: list[str]) -> None:
    """Where the emulated program ran its hot code: where generate places it on the part."""
    fast = hot_code["fast_functions"]
    section = f"--code-section {hot_code['code_section']}"
    runs = "from flash" if hot_code["runs_from"] is None else f"from {hot_code['runs_from']}"
    only = "" if fast is None else f" ({len(fast)} hottest functions; the rest in flash)"
    host = "; the host build runs the same C, unlinked" if HOST in targets else ""
    others = f"; {', '.join(hot_code['in_flash'])} linked all in flash" if hot_code["in_flash"] else ""
    console.print(
        f"{'--optimize speed chose ' if hot_code['chosen'] else ''}{section}: the {hot_code['target']} program "
        f"linked as generate places the hot code on {part.name}, run {runs}{only}, QEMU's RAM standing in for it"
        f"{host}{others}",
        markup=False,
    )


def _waiting(graph: Graph, layer: int | None) -> dict | None:
    """The layer a run ended at waiting for frames (its outputs not produced), for --json."""
    return None if layer is None else {"layer": layer, "op": graph.operators[layer].op_type}


def _run_label(number: int, count: int, streaming: bool) -> str:
    """How the report names one input set's inference: a run of the stream, or an input from reset."""
    return f"run {number + 1} of {count}" if streaming else f"input {number}"


def _print_waiting(graph: Graph, where: str, item: InputResult) -> None:
    """A run the generated code or the engine ended waiting for frames: said, as its outputs were not compared."""
    ours, engine = (None if at is None else waiting_text(graph, at) for at in (item.waiting_at, item.engine_waiting_at))
    console.print(f"{where}: {waiting_comparison(ours, engine)}", markup=False)


def _verdict(passed: bool, differing: int) -> str:
    """Bit-exact only when no element differs; float outputs may pass within the stated tolerance."""
    if not passed:
        return "[red]✘ differs[/]"
    return "[green]✔ bit-exact[/]" if differing == 0 else f"[green]✔ within {FLOAT_TOLERANCE:g} of scale[/]"


def _print_report(graph: Graph, results: list[TargetResult], tflm: bool | None, streaming: bool) -> None:
    table = Table(title=f"{markup_safe(graph.name)}: generated C against the reference engine", title_justify="left")
    for column in ("target", "inputs", "max |diff|", "differing", "min cosine", "top-1", "instructions/inference"):
        table.add_column(column, justify="left" if column == "target" else "right")
    table.add_column("")
    for r in results:
        if r.error is not None:
            table.add_row(r.target, "0", "-", "-", "-", "-", "-", "[red]✘ error[/]")
            continue
        metrics = [m for item in r.inputs for m in item.outputs if m is not None]
        top1 = [m.top1_agree for m in metrics if m.top1_agree is not None]
        table.add_row(
            r.target,
            str(len(r.inputs)),
            f"{max(m.max_abs_diff for m in metrics):g}" if metrics else "-",
            str(sum(m.differing for m in metrics)),
            f"{min(m.cosine for m in metrics):.6f}" if metrics else "-",
            f"{sum(top1)}/{len(top1)}" if top1 else "-",
            f"{r.instructions_per_inference:,}" if r.instructions_per_inference is not None else "-",
            _verdict(r.passed, sum(m.differing for m in metrics)),
        )
    console.print(table)
    for r in results:
        if r.error is not None:
            console.print(f"{r.target}: {printable(r.error)}", markup=False)
        for number, item in enumerate(r.inputs):
            run = f"{r.target}, {_run_label(number, len(r.inputs), streaming)}"
            if item.waiting_at is not None or item.engine_waiting_at is not None:
                _print_waiting(graph, run, item)
            d = item.divergence
            if d is not None:
                where = f"layer #{d.layer} {markup_safe(d.op)} ('{markup_safe(d.tensor)}')"
                console.print(
                    f"{run}: first divergence at {where}: "
                    f"{d.differing} elements differ, first at index {d.flat_index} (C {d.got}, engine {d.expected})"
                )
    if tflm is not None:
        console.print(f"reference engine {'agrees' if tflm else 'DISAGREES'} with TensorFlow Lite Micro on every input")
    print_precision_note(graph)
