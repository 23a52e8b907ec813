"""The real int8 models the benchmarks measure, by short name (files in ../shared/models)."""

from pathlib import Path

from mcudeploy.analysis.model import Reserves
from mcudeploy.devices import find_device
from mcudeploy.estimate.optimize import Objective, optimize_code_and_variants, stack_reserve
from mcudeploy.ir import Graph
from mcudeploy.memory.budget import CodeSection

MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
INT8_MODELS = {
    "kws": "mlperf_tiny/kws_ref_model_int8.tflite",
    "vww_96": "mlperf_tiny/vww_96_int8.tflite",
    "ic_resnet8": "mlperf_tiny/ic_resnet8_int8.tflite",
    "ad01": "mlperf_tiny/ad01_int8.tflite",
    "str_ww": "mlperf_tiny/str_ww_ref_model.tflite",
    "person_detect": "tflm/person_detect.tflite",
    "micro_speech": "tflm/micro_speech_quantized.tflite",
    "hello_world": "tflm/hello_world_int8.tflite",
    "simple_add": "tflm/simple_add_model.tflite",
}

BENCH_PARTS = {
    "m4": ("NUCLEO-L4R5ZI", 120.0),
    "m55": ("AE722F80F55D5", 400.0),
    "m7": ("NUCLEO-H7A3ZI-Q", 280.0),
    "m33": ("NUCLEO-U575ZI-Q", 160.0),
}
"""The part (and clock, MHz) whose memories price each emulated core's cycles in the benchmarks:
the MLPerf Tiny boards for M4, M7 and M33 (ST's v1.2 results), the Alif Ensemble E7's HP core for M55."""


OPTIMIZE_CHOICES = tuple(objective.value for objective in Objective)


def choose_variants(
    graph: Graph,
    part: str,
    clock_mhz: float,
    objective: str | None,
    weights_in_flash: bool = False,
    code_section: CodeSection | None = None,
) -> CodeSection:
    """Each layer's kernel variant as `mcudeploy estimate --optimize <objective> --code-section <code_section>`
    chooses it on `part` at `clock_mhz` (no `code_section`: where estimate places the hot code without one),
    and where the hot code runs; None leaves the defaults (im2col, int8 weights, in flash) the tables
    were made with. `weights_in_flash`: every layer keeps its constants in flash even with speed (which may
    copy some to SRAM), to compare like with like against a runtime whose weights stay in flash (TFLM +
    CMSIS-NN)."""
    if objective is None:
        return code_section or CodeSection.FLASH
    device = find_device(part)
    reserve = Reserves(stack_reserve(graph, device.core, None))
    options = {"clock_mhz": clock_mhz, "weights_to_sram": not weights_in_flash, "code_section": code_section}
    return optimize_code_and_variants(graph, device, reserve, Objective(objective), **options).code_section
