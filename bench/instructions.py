"""Instructions per inference of our generated code beside TensorFlow Lite Micro + CMSIS-NN.

    python bench/instructions.py [--targets m4,m55,m7,m33] [--models kws,vww_96,...] [--per-layer]

Per int8 model and emulated core: exact instructions of one inference (QEMU, our counting plugin,
the same input each run), text/rodata/bss bytes of the linked program, MACs per instruction, and
the baseline of issue 5 (TFLite Micro with CMSIS-NN, arm-none-eabi-gcc 12.2 -O2, same QEMU
machines and counter; on M4 also TFLite Micro's reference kernels) with our count over theirs.
Every run is also checked bit for bit against the reference engine. `--per-layer` adds each
layer's instructions (the plugin's per-layer scopes, as `mcudeploy estimate` counts them).
"""

from __future__ import annotations

import argparse

from mcudeploy.analysis.costs import total_macs
from mcudeploy.estimate.model import COMPARISON_PARTS, estimate_model
from mcudeploy.importers import load_model
from mcudeploy.inputs import random_inputs
from mcudeploy.validation.runner import TargetResult, Validator, target_core
from real_models import INT8_MODELS, MODELS

CMSIS_NN = {  # issue 5: TFLM + CMSIS-NN on M4 (an386) and M55 (an547), TFLM reference kernels on M4
    "kws": {"m4": 7_696_910, "m55": 1_812_630, "m4-ref": 43_101_646},
    "vww_96": {"m4": 24_101_870, "m55": 6_558_236, "m4-ref": 100_471_710},
    "ic_resnet8": {"m4": 29_865_991, "m55": 4_912_004, "m4-ref": 107_495_000},
    "ad01": {"m4": 582_952, "m55": 149_971, "m4-ref": 1_953_993},
    "person_detect": {"m4": 22_928_389, "m55": 6_508_017, "m4-ref": 95_887_562},
}
CONV_HEAVY = ("vww_96", "ic_resnet8", "person_detect")
"""Models whose MACs are mostly convolutions: the issue asks >= 0.7 MACs per instruction on M4."""


def measure(name: str, targets: list[str]) -> list[dict]:
    graph = load_model(MODELS / INT8_MODELS[name])
    validator = Validator(graph)
    try:
        inputs = [random_inputs(graph, 0)]
        return [_row(name, target, total_macs(graph), validator.validate_target(target, inputs)) for target in targets]
    finally:
        validator.close()


def _row(name: str, target: str, macs: int, result: TargetResult) -> dict:
    ours = result.instructions_per_inference
    baseline = CMSIS_NN.get(name, {})
    return {
        "model": name,
        "target": target,
        "exact": result.passed,
        "instructions": ours,
        "sections": result.sections,
        "macs_per_instruction": macs / ours if ours else None,
        "cmsis_nn": baseline.get(target),
        "tflm_reference": baseline.get(f"{target}-ref"),
    }


def _ratio(ours: int, theirs: int | None) -> str:
    return f"{ours / theirs:6.2f}x" if theirs else "      -"


def _print(row: dict) -> None:
    sections = row["sections"]
    cmsis = row["cmsis_nn"]
    reference = row["tflm_reference"]
    print(
        f"{row['model']:<14} {row['target']:<4} {'yes' if row['exact'] else 'NO':<5} {row['instructions']:>13,} "
        f"{sections['text']:>7,} {sections['rodata']:>8,} {sections['bss']:>7,} {row['macs_per_instruction']:>6.3f} "
        f"{cmsis or 0:>13,} {_ratio(row['instructions'], cmsis)} {reference or 0:>13,} "
        f"{_ratio(row['instructions'], reference)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="m4,m55", help="comma-separated emulated targets (m4,m55,m7,m33)")
    parser.add_argument("--models", default=",".join(INT8_MODELS), help="comma-separated model names")
    parser.add_argument("--per-layer", action="store_true", help="also print each layer's instructions")
    args = parser.parse_args()
    targets = args.targets.split(",")
    print(
        f"{'model':<14} {'core':<4} {'exact':<5} {'instructions':>13} {'text':>7} {'rodata':>8} {'bss':>7} "
        f"{'MAC/in':>6} {'CMSIS-NN':>13} {'ours/it':>7} {'TFLM ref':>13} {'ours/it':>7}"
    )
    rows = []
    for name in args.models.split(","):
        for row in measure(name, targets):
            _print(row)
            rows.append(row)
    _summary([r for r in rows if r["target"] == "m4"])
    if args.per_layer:
        for name in args.models.split(","):
            for target in targets:
                _print_layers(name, target)


def _print_layers(name: str, target: str) -> None:
    """Instructions per layer on the part `mcudeploy estimate --cores` shows for the target's core."""
    core = target_core(target)
    if core not in COMPARISON_PARTS:
        return
    estimate = estimate_model(load_model(MODELS / INT8_MODELS[name]), COMPARISON_PARTS[core])
    print(f"\n{name} on {target}: instructions per layer")
    for layer in estimate.layers:
        print(f"  #{layer.index:<3} {layer.op:<22} {layer.cycles.instructions:>12,}")


def _summary(m4_rows: list[dict]) -> None:
    """The issue's targets on M4: at most CMSIS-NN's instructions, >= 0.7 MACs/instruction on conv-heavy models."""
    compared = [r for r in m4_rows if r["cmsis_nn"]]
    if not compared:
        return
    beaten = [r["model"] for r in compared if r["instructions"] <= r["cmsis_nn"]]
    dense = [r["model"] for r in m4_rows if r["model"] in CONV_HEAVY and r["macs_per_instruction"] >= 0.7]
    print(f"\nM4: at most CMSIS-NN's instructions on {len(beaten)}/{len(compared)} models {beaten}")
    conv_heavy = [r for r in m4_rows if r["model"] in CONV_HEAVY]
    print(f"M4: >= 0.7 MACs/instruction on {len(dense)}/{len(conv_heavy)} conv-heavy models {dense}")


if __name__ == "__main__":
    main()
