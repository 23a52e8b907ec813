"""One record per Cortex-M core: every fact about a core that another stage needs, in one place.

Devices name their core; the code generator picks the kernel variants the core runs; the
emulation layer compiles with its flags and runs the result on its QEMU machine; estimate
prices what ran with the core's timing table (`mcudeploy.estimate.timings`, which points at
the record).
The features are those of the configuration we compile for and emulate: a Cortex-M33 with its
optional FPU and DSP extension, a Cortex-M55 with MVE for integers and floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Fpu(StrEnum):
    NONE = "none"
    SINGLE = "single"
    DOUBLE = "double"


class Mve(StrEnum):
    """M-profile Vector Extension (Helium): none, integer only, or integer and float."""

    NONE = "none"
    INTEGER = "integer"
    FLOAT = "float"


@dataclass(frozen=True)
class Core:
    name: str
    """Device-database name, e.g. "cortex-m4"."""
    title: str
    architecture: str
    cflags: tuple[str, ...] | None
    """arm-none-eabi-gcc flags for code that runs on the core; None where GCC 12 cannot target it."""
    fpu: Fpu
    dsp: bool
    """The DSP extension (SXTB16, SMLAD, saturating arithmetic)."""
    mve: Mve
    data_cache: bool
    """An L1 data cache: a buffer in DTCM avoids its wait states and jitter."""
    machine: str | None
    """The QEMU machine (a `[[machine]]` of the device database) that runs the core's code."""
    target: str | None
    """Name of the emulation target built for the core (`validate --target`, `profile --machine`)."""
    proxy: bool = False
    """The machine's own core is another one, which runs this core's instruction set unchanged."""
    reference_part: str | None = None
    """The part that stands for the core where one is shown per core (`estimate --cores`)."""

    @property
    def kernel_variants(self) -> tuple[str, ...]:
        """The C kernel library's variants the core runs, best first (none: portable C only)."""
        return (*(("mve",) if self.mve != Mve.NONE else ()), *(("dsp",) if self.dsp else ()))

    @property
    def mcpu(self) -> str | None:
        """The value of -mcpu, e.g. "cortex-m0plus"."""
        return next((f.removeprefix("-mcpu=") for f in self.cflags or () if f.startswith("-mcpu=")), None)


_THUMB = "-mthumb"

CORES: tuple[Core, ...] = (
    Core(
        "cortex-m0+", "Cortex-M0+", "Armv6-M", ("-mcpu=cortex-m0plus", _THUMB),
        Fpu.NONE, dsp=False, mve=Mve.NONE, data_cache=False,
        # No QEMU machine has an M0+: the M3's runs Armv6-M code unchanged (its unaligned
        # accesses would not fault there).
        machine="mps2-an385", target="m0plus", proxy=True,
    ),
    Core(
        "cortex-m3", "Cortex-M3", "Armv7-M", ("-mcpu=cortex-m3", _THUMB),
        Fpu.NONE, dsp=False, mve=Mve.NONE, data_cache=False, machine="mps2-an385", target="m3",
    ),
    Core(
        "cortex-m4", "Cortex-M4", "Armv7E-M", ("-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", _THUMB),
        Fpu.SINGLE, dsp=True, mve=Mve.NONE, data_cache=False, machine="mps2-an386", target="m4",
        reference_part="STM32F446RE",
    ),
    Core(
        "cortex-m7", "Cortex-M7", "Armv7E-M", ("-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard", _THUMB),
        Fpu.DOUBLE, dsp=True, mve=Mve.NONE, data_cache=True, machine="mps2-an500", target="m7",
        reference_part="STM32H743ZI",
    ),
    Core(
        # mps2-an505 rather than an521: QEMU's an521 core has neither FPU nor DSP extension.
        "cortex-m33", "Cortex-M33", "Armv8-M Mainline", ("-mcpu=cortex-m33", "-mfloat-abi=hard", _THUMB),
        Fpu.SINGLE, dsp=True, mve=Mve.NONE, data_cache=False, machine="mps2-an505", target="m33",
        reference_part="STM32U575ZI",
    ),
    Core(
        "cortex-m55", "Cortex-M55", "Armv8.1-M Mainline", ("-mcpu=cortex-m55", "-mfloat-abi=hard", _THUMB),
        Fpu.DOUBLE, dsp=True, mve=Mve.FLOAT, data_cache=True, machine="mps3-an547", target="m55",
        reference_part="AE722F80F55D5",
    ),
    Core(
        "cortex-m85", "Cortex-M85", "Armv8.1-M Mainline", None,
        Fpu.DOUBLE, dsp=True, mve=Mve.FLOAT, data_cache=True, machine=None, target=None,
    ),
)  # fmt: skip

CORE_NAMES: tuple[str, ...] = tuple(core.name for core in CORES)
CORES_BY_NAME: dict[str, Core] = {core.name: core for core in CORES}
