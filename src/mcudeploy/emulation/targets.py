"""What a program is built for and run on: a core's code on its QEMU machine, or the host.

Every fact comes from the core's record (`mcudeploy.devices.cores`: compiler flags, FPU, the
machine) and the machine's board in the device database (its memory map).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from mcudeploy.devices import CORES, Core, Fpu, Machine, find_core, find_machine
from mcudeploy.errors import McuDeployError

HOST = "host"
HOST_SANITIZED = "host-sanitized"
SANITIZER_FLAGS = (
    "-g",
    "-fsanitize=address,undefined,float-cast-overflow",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
)
"""AddressSanitizer and UndefinedBehaviorSanitizer (with float-to-integer overflow, which gcc leaves out
of "undefined"); any finding ends the program with a report on stderr."""
RAM_DATA_HEADROOM = 64 * 1024
"""Room kept in the RAM region beside the arena and the stack for the program's .data and .bss."""


@dataclass(frozen=True)
class RamPlacement:
    """The machine regions (by name, or the role "ram") of a program's arena and of its constants read from SRAM."""

    arena: str = "ram"
    sram_weights: str = "ram"


@dataclass(frozen=True)
class Target:
    """One place we build for. `core` and `machine` are None for the host targets."""

    name: str
    core: Core | None
    machine: Machine | None
    host_flags: tuple[str, ...] = ()
    """Compiler flags of a host target (the sanitizers)."""

    @property
    def is_host(self) -> bool:
        return self.machine is None

    @property
    def cflags(self) -> tuple[str, ...]:
        return (self.core.cflags or ()) if self.core else self.host_flags

    @property
    def has_fpu(self) -> bool:
        return self.core is not None and self.core.fpu != Fpu.NONE

    def ram_placement(self, arena_bytes: int, sram_weights_bytes: int, stack_size: int) -> RamPlacement:
        """Where the arena, then the constants read from SRAM go, each in the first region with room left:
        RAM (the fastest: DTCM on the M55) beside the stack and the program's data, then the machine's
        larger RAM regions in order. An optimizer fits them to the part's memory, which can be larger
        than the emulated machine's RAM region (the Alif E7's 1 MB DTCM, the an547's 512 KB)."""
        machine = self.machine
        if machine is None:
            return RamPlacement()
        room = {machine.ram.name: machine.ram.size - stack_size - RAM_DATA_HEADROOM}
        room.update((region.name, region.size) for region in machine.extra_ram)
        chosen = []
        for what, size in (("the arena", arena_bytes), ("the weights read from SRAM", sram_weights_bytes)):
            name = next((name for name, free in room.items() if size <= free), None)
            if name is None:
                beside = f"beside a {stack_size:,} B stack and what is placed before it"
                raise McuDeployError(self.name, f"no RAM region of {machine.name} holds {what} ({size:,} B) {beside}")
            room[name] -= size
            chosen.append(name)
        return RamPlacement(*chosen)


@cache
def targets() -> dict[str, Target]:
    """The hosts (plain, and with the sanitizers), then one target per core that has a QEMU machine
    (by proxy for the Cortex-M0+)."""
    found = {HOST: Target(HOST, None, None), HOST_SANITIZED: Target(HOST_SANITIZED, None, None, SANITIZER_FLAGS)}
    for core in CORES:
        if core.target is not None and core.machine is not None:
            found[core.target] = Target(core.target, core, find_machine(core.machine))
    return found


EMULATED_TARGET_NAMES: tuple[str, ...] = tuple(core.target for core in CORES if core.target and not core.proxy)
"""The cores emulated on a machine of their own: what `validate --target` and `profile --machine` offer."""


def get_target(name: str) -> Target:
    """The target called `name` (host, host-sanitized, m0plus, m3, m4, m7, m33, m55)."""
    try:
        return targets()[name]
    except KeyError:
        choices = ", ".join(name for name, target in targets().items() if not (target.core and target.core.proxy))
        raise McuDeployError(name, f"unknown target (choose from: {choices})") from None


def core_target(core: str) -> Target | None:
    """The target that runs `core`'s code; None when no QEMU machine can."""
    record = find_core(core)
    return get_target(record.target) if record.target and record.machine else None
