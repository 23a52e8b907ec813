"""Which Ethos-U to compile for, and Vela's system configuration for it, derived from the device entry.

A device whose NPU entry records Vela's figures (accelerator, NPU clock, the two AXI ports) compiles
with exactly those; `--npu ACCELERATOR` on a device that records none uses the Arm reference system of
that NPU family from Vela's own configuration file, and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcudeploy.devices import Device, NpuPort
from mcudeploy.errors import McuDeployError

MEMORY_MODE = "Shared_Sram"
"""The NPU's feature maps share the SRAM with the Cortex-M; command stream and weights are read-only."""

MEMORY_MODE_INI = f"""[Memory_Mode.{MEMORY_MODE}]
const_mem_area=Axi1
arena_mem_area=Axi0
cache_mem_area=Axi0
"""

ARM_REFERENCE_SYSTEMS = {
    "ethos-u55": "Ethos_U55_High_End_Embedded",
    "ethos-u65": "Ethos_U65_High_End",
    "ethos-u85": "Ethos_U85_SYS_Flash_High",
}
"""The system configuration of Vela's Arm/vela.ini used for an NPU the device entry does not describe."""


@dataclass(frozen=True)
class NpuTarget:
    accelerator: str
    """Vela's accelerator configuration, e.g. ethos-u55-256."""
    system_config: str
    """The name of the system configuration in `ini`."""
    ini: str
    """The Vela configuration file's text: the system configuration and the memory mode."""
    source: str
    """Where the figures come from."""
    from_device: bool

    @property
    def memory_mode(self) -> str:
        return MEMORY_MODE


def npu_target(device: Device, accelerator: str | None, no_npu: bool) -> NpuTarget | None:
    """The NPU to compile for on `device`, None for the CPU-only answer."""
    if no_npu and accelerator:
        raise McuDeployError("--npu", "cannot be used together with --no-npu")
    if no_npu:
        return None
    npu = device.part.npu
    described = npu is not None and npu.accelerator is not None and npu.arena_port and npu.weights_port
    if accelerator is None:
        return _device_target(device) if described else None
    accelerator = _checked_accelerator(accelerator)
    if described and npu is not None and npu.accelerator == accelerator:
        return _device_target(device)
    return _reference_target(accelerator, device)


def _device_target(device: Device) -> NpuTarget:
    npu = device.part.npu
    assert npu is not None and npu.accelerator and npu.clock_mhz and npu.arena_port and npu.weights_port
    name = re.sub(r"[^0-9A-Za-z_]", "_", device.part.name)
    lines = [
        f"[System_Config.{name}]",
        f"core_clock={npu.clock_mhz * 1e6:.0f}",
        f"axi0_port={npu.arena_port.memory}",
        f"axi1_port={npu.weights_port.memory}",
        *_port_lines(npu.arena_port),
        *_port_lines(npu.weights_port),
    ]
    return NpuTarget(
        accelerator=npu.accelerator,
        system_config=name,
        ini="\n".join(lines) + "\n\n" + MEMORY_MODE_INI,
        source=f"device database ({npu.source})",
        from_device=True,
    )


def _port_lines(port: NpuPort) -> list[str]:
    prefix = port.memory
    return [
        f"{prefix}_clock_scale={port.clock_scale}",
        f"{prefix}_burst_length={port.burst_bytes}",
        f"{prefix}_read_latency={port.read_latency}",
        f"{prefix}_write_latency={port.write_latency}",
    ]


def _reference_target(accelerator: str, device: Device) -> NpuTarget:
    recorded = device.part.npu.type if device.part.npu else "no NPU"
    return reference_target(accelerator, f"{device.name} records {recorded}, not this NPU's figures")


def reference_target(accelerator: str, why: str = "no device named") -> NpuTarget:
    """`accelerator` in the Arm reference system of its family, from Vela's own configuration file."""
    from mcudeploy.npu.vela import arm_reference_ini

    accelerator = _checked_accelerator(accelerator)
    system = ARM_REFERENCE_SYSTEMS[accelerator.rsplit("-", 1)[0]]
    return NpuTarget(
        accelerator=accelerator,
        system_config=system,
        ini=arm_reference_ini(),
        source=f"Vela's Arm/vela.ini, {system} ({why})",
        from_device=False,
    )


def _checked_accelerator(accelerator: str) -> str:
    from mcudeploy.npu.vela import accelerators

    known = accelerators()
    name = accelerator.strip().lower()
    if name not in known:
        raise McuDeployError(f"--npu {accelerator}", f"unknown Ethos-U configuration; Vela knows {', '.join(known)}")
    return name
