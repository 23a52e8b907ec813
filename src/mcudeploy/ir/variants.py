"""How the C library computes an operator where it has more than one way: the results are the same,
the time, arena and flash differ. Chosen per layer (`mcudeploy.memory.variants`), held on the
operator, and read from there by its kernel contract: planner, code generator, flash measurement
and estimate all follow that one record."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Columns(Enum):
    """CONV_2D: with the 2-column im2col scratch (the fast DSP/MVE paths) or straight from the input."""

    IM2COL = "im2col"
    DIRECT = "direct"


class Schedule(Enum):
    """DEPTHWISE_CONV_2D: each channel's input plane copied to scratch first (depth multiplier 1;
    the DSP kernel takes 2x2 output blocks from it at strides 1 and 2, 3x3): one plane at a time (the
    least memory) or `grouped`, several at once (int8 on DSP cores: a group of 4 channels at stride 1
    over a depth of 4k, two wide int16 planes under 3x3 windows at stride 2; faster, more scratch);
    or pixel by pixel, no scratch."""

    PLANES = "planes"
    GROUPED = "grouped planes"
    STREAMING = "streaming"


class WeightLayout(Enum):
    """CONV_2D and FULLY_CONNECTED filters in flash: as the model has them, or widened to int16 (twice
    the bytes; the DSP kernels then unpack nothing): a convolution's two output channels interleaved,
    each weight read once for 4 output pixels from a 4-column scratch; a fully connected layer's rows
    in blocks of 4 (`params.constant_inputs.stored_values`, md_nn.h). A DEPTHWISE_CONV_2D of one input
    channel with int16 pairs is computed as the convolution it is (the same sums and requantization:
    output channel m from filter column m), by the int16-weight CONV_2D kernel and its contract."""

    INT8 = "int8"
    INT16_PAIRS = "int16 pairs"


class WeightMemory(Enum):
    """Where a layer's constants (filter, bias, multipliers, shifts) are read from at run time: in
    place from flash, or from a copy in SRAM (initialised data: its load image stays in flash, the C
    start-up copies it) that the kernels read without flash wait states (`memory.budget.constant_layout`)."""

    FLASH = "flash"
    SRAM = "sram"


class Loops(Enum):
    """A kernel's hot loop where the library has it both ways (`kernels.loops.has_rolled_loops`):
    unrolled (fewer instructions a MAC; the fastest where the code is cached or fetched without wait
    states) or rolled (the same arithmetic in a loop of under 1 KB: the fastest behind a flash cache too
    small for the unrolled one, as ST's 1 KB ART is on the STM32L4 and G4)."""

    UNROLLED = "unrolled"
    ROLLED = "rolled"


@dataclass(frozen=True)
class KernelVariant:
    columns: Columns = Columns.IM2COL
    weights: WeightLayout = WeightLayout.INT8
    schedule: Schedule | None = None
    """DEPTHWISE_CONV_2D only (None elsewhere, or until chosen)."""
    weights_in: WeightMemory = WeightMemory.FLASH
    """Any layer with constants; read by the constant layout only, so the kernel is the same either way."""
    loops: Loops = Loops.UNROLLED
    """Read by the code generator of the layers that have both (the same results either way)."""

    def __post_init__(self) -> None:
        # The int16-weight kernel always fills its 4-column scratch: a direct schedule would be
        # planned without scratch that md_conv_s8_w16 then writes.
        if self.weights == WeightLayout.INT16_PAIRS and self.columns == Columns.DIRECT:
            raise ValueError("int16 pair weights are read through the im2col columns only")

    @property
    def label(self) -> str:
        label = self.columns.value + ("" if self.weights == WeightLayout.INT8 else f", {self.weights.value} weights")
        label += ", weights in SRAM" if self.weights_in == WeightMemory.SRAM else ""
        return label + (", rolled loops" if self.loops == Loops.ROLLED else "")
