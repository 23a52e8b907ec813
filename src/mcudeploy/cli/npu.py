"""The Ethos-U branch of `analyze`, `estimate` and `inspect`: when it applies, and what it prints."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import typer

from mcudeploy.cli.output import console, print_json
from mcudeploy.devices import Device, find_core
from mcudeploy.display import printable
from mcudeploy.errors import McuDeployError
from mcudeploy.ir import Graph
from mcudeploy.npu.budget import Reserve
from mcudeploy.npu.codegen import generate_for_npu
from mcudeploy.npu.compiled import ethos_u_operators
from mcudeploy.npu.config import npu_target, reference_target
from mcudeploy.npu.pipeline import (
    analyze_for_npu,
    analyze_precompiled,
    estimate_for_npu,
    npu_comparison,
    read_model,
)
from mcudeploy.npu.report import (
    budget_table,
    compilation_summary,
    compilation_text,
    ethos_u_rows,
    ethos_u_table,
    npu_comparison_table,
    placement_table,
    timeline_table,
)
from mcudeploy.npu.validate import NOT_EMULATED, validate_cpu_segments
from mcudeploy.npu.vela import VelaCompileError, compile_for_npu


def refuse_code_section(code_section: str | None, graph: Graph, device: Device, npu: str | None, no_npu: bool) -> None:
    """--code-section moves our C's hot code: refused, before any work, where the Ethos-U path would answer."""
    if code_section not in (None, "flash") and (
        ethos_u_operators(graph) or npu_target(device, npu, no_npu) is not None
    ):
        raise McuDeployError(
            f"--code-section {code_section}", "for our C on the core alone (--no-npu): not with an NPU"
        )


def refuse_cpu_only_outputs(
    outputs: dict[str, Path | None], graph: Graph, device: Device, npu: str | None, no_npu: bool
) -> None:
    """--html and --plot cover the CPU-only reports: refused, before any work, where the Ethos-U path would answer."""
    asked = [flag for flag, path in outputs.items() if path is not None]
    if asked and (ethos_u_operators(graph) or npu_target(device, npu, no_npu) is not None):
        raise McuDeployError(asked[0], "not written for Cortex-M + Ethos-U reports yet (--no-npu: the CPU-only output)")


def analyze_with_npu(
    graph: Graph, model: Path, device: Device, npu: str | None, no_npu: bool, reserves: Reserve, json: bool
) -> bool:
    """Analyze for Cortex-M + Ethos-U when the model or the device calls for it; False: the CPU-only path."""
    precompiled = bool(ethos_u_operators(graph))
    target = npu_target(device, npu, no_npu)
    if precompiled:
        report = analyze_precompiled(graph, model, device, target, reserves)
    elif target is not None:
        try:
            report = analyze_for_npu(graph, model, device, target, reserves)
        except VelaCompileError as error:
            print_without_npu(error, f"analyzed for the {find_core(device.core).title} alone", json)
            return False
    else:
        return False
    if json:
        print_json(report)
    else:
        if precompiled:
            console.print(ethos_u_table(report["ethos_u"]))
            console.print(f"arena {report['arena_bytes']:,} B ({report['arena_source']})")
        else:
            console.print(compilation_text(report["npu"]))
            console.print(placement_table(report["placement"], f"{graph.name}: placement on {device.name}"))
        console.print(budget_table(report, device))
    if not report["fits"]:
        raise typer.Exit(1)
    return True


def estimate_with_npu(
    graph: Graph,
    model: Path,
    device: Device,
    npu: str | None,
    no_npu: bool,
    clock: float | None,
    planner: str,
    json: bool,
) -> bool:
    """Estimate the whole Cortex-M + Ethos-U timeline when the device has one (or --npu); False otherwise."""
    if ethos_u_operators(graph):
        raise McuDeployError(
            graph.subject, "already compiled by Vela: estimate the model as it was before Vela compiled it"
        )
    target = npu_target(device, npu, no_npu)
    if target is None:
        return False
    try:
        if json:
            print_json(estimate_for_npu(graph, model, device, target, clock, planner))
            return True
        with console.status(f"compiling with Vela and running the CPU part on {device.core}", spinner="dots"):
            report = estimate_for_npu(graph, model, device, target, clock, planner)
    except VelaCompileError as error:
        print_without_npu(error, f"priced on the {find_core(device.core).title} alone", json)
        return False
    console.print(compilation_text(report["npu"]))
    console.print(placement_table(report["placement"], f"{graph.name}: placement on {device.name}"))
    console.print(timeline_table(report["timeline"]))
    return True


def inspect_ethos_u(graph: Graph) -> list[dict]:
    return ethos_u_rows(ethos_u_operators(graph))


def print_ethos_u(rows: list[dict]) -> None:
    if rows:
        console.print(ethos_u_table(rows))
        console.print("[dim]only an Ethos-U NPU executes these; `run` cannot (mcudeploy does not emulate the NPU)[/]")


def generate_with_npu(
    graph: Graph,
    model: Path,
    device: Device,
    npu: str | None,
    no_npu: bool,
    output: Path,
    options: dict,
    json: bool,
) -> bool:
    """Generate the Cortex-M + Ethos-U project when the device has one (or --npu); False otherwise."""
    if ethos_u_operators(graph):
        raise McuDeployError(graph.subject, "already compiled by Vela: generate from the model before Vela compiled it")
    target = npu_target(device, npu, no_npu)
    if target is None:
        return False
    try:
        compilation = compile_for_npu(read_model(model), graph.name, target)
    except VelaCompileError as error:
        hint = f"--no-npu generates for the {find_core(device.core).title} alone"
        raise McuDeployError(error.subject, f"{error.reason} ({hint})") from None
    code, compiled = generate_for_npu(compilation.model, output, **options)
    streams = ethos_u_operators(compiled)
    summary = {
        "model": graph.name,
        "device": device.name,
        "core": device.core,
        "npu": compilation_summary(compilation),
        "directory": str(code.directory),
        "sources": list(code.sources),
        "arena_bytes": code.arena_bytes,
        "weights_bytes": code.weights_bytes,
        "npu_segments": len(streams),
        "npu_interface": "mdnn/Include/md_nn.h: md_ethosu_invoke(), provided by the application",
        "arena_section": options["arena_section"],
    }
    if json:
        print_json(summary)
        return True
    console.print(compilation_text(summary["npu"]))
    console.print(
        f"wrote {code.directory}/ for {device.name}: {len(code.sources)} C files, {len(streams)} NPU segments"
    )
    console.print(f"  arena {code.arena_bytes:,} B (Vela's plan), weights and command streams {code.weights_bytes:,} B")
    console.print(
        "  each NPU segment calls md_ethosu_invoke() (mdnn/Include/md_nn.h): provide it around your Ethos-U driver"
    )
    return True


def compare_with_npu(graph: Graph, model: Path, estimates: list, no_npu: bool, json: bool) -> list[dict]:
    """`estimate --cores`: rows for the compared parts that have an Ethos-U (none with --no-npu, nor when
    Vela cannot compile the model: the cores alone are compared then, with a note)."""
    if no_npu:
        return []
    try:
        return npu_comparison(graph, model, estimates)
    except VelaCompileError as error:
        print_without_npu(error, "compared on the Cortex-M cores alone", json)
        return []


def print_without_npu(error: VelaCompileError, outcome: str, json: bool) -> None:
    """The note of a model Vela could not compile, answered without the NPU: stderr under --json."""
    note = f"note: Vela could not compile {error.subject} ({error.vela_reason}): {outcome}"
    if json:
        sys.stderr.write(f"mcudeploy: {printable(note)}\n")
    else:
        console.print(note, markup=False, style="yellow")


def print_npu_comparison(rows: list[dict], model: str) -> None:
    if rows:
        console.print(npu_comparison_table(rows, model))


def validate_with_npu(graph: Graph, model: Path, accelerator: str, input_sets: list, json: bool) -> None:
    """`validate --npu`: the generated Cortex-M + Ethos-U project's CPU segments on QEMU M55, input by input."""
    if ethos_u_operators(graph):
        raise McuDeployError(graph.subject, "already compiled by Vela: validate the model before Vela compiled it")
    compilation = compile_for_npu(read_model(model), graph.name, reference_target(accelerator))
    with tempfile.TemporaryDirectory(prefix="mcudeploy-npu-validate-") as folder:
        results = [
            validate_cpu_segments(graph, compilation.model, inputs, Path(folder) / f"input-{number}")
            for number, inputs in enumerate(input_sets)
        ]
    report = {
        "model": graph.name,
        "npu": compilation_summary(compilation),
        "target": "m55",
        "passed": all(r.bit_exact and r.feature_maps_where_vela_put_them for r in results),
        "note": NOT_EMULATED,
        "inputs": [
            {
                "bit_exact": r.bit_exact,
                "feature_maps_where_vela_put_them": r.feature_maps_where_vela_put_them,
                "npu_jobs": len(r.jobs),
                "handed_over": {c.tensor: c.equal for c in r.handed_over},
                "outputs": {c.tensor: c.equal for c in r.outputs},
            }
            for r in results
        ],
    }
    if json:
        print_json(report)
    else:
        console.print(compilation_text(report["npu"]))
        for number, item in enumerate(report["inputs"]):
            verdict = "[green]✔ bit-exact[/]" if item["bit_exact"] else "[red]✘ differs[/]"
            placed = "as Vela planned" if item["feature_maps_where_vela_put_them"] else "[red]NOT as Vela planned[/]"
            console.print(
                f"input {number}: {verdict} on m55: {len(item['handed_over'])} tensors handed to "
                f"{item['npu_jobs']} NPU segments, {len(item['outputs'])} outputs; base addresses {placed}"
            )
        console.print(f"[yellow]note: {NOT_EMULATED}[/]")
    if not report["passed"]:
        raise typer.Exit(1)
