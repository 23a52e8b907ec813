"""The arena in external or cacheable memory on a core with a data cache (Cortex-M7/M55/M85): the
first inference misses in the cache and later ones depend on what else ran, so latency varies; in
external SDRAM every miss waits for the bus. DTCM has neither."""

from __future__ import annotations

from mcudeploy.devices import RegionKind, find_core
from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.doctor.memory import arena_bytes, arena_symbol, region_at
from mcudeploy.errors import McuDeployError
from mcudeploy.estimate import estimate_model
from mcudeploy.estimate.placement import CACHE_CORES
from mcudeploy.memory.budget import DEFAULT_STACK_BYTES

CHECK = "arena-placement"
UNMEASURED = "cost not measured on this core (the cache model covers the Cortex-M7 and M55)"


def placement_cost(context: Context, kind: RegionKind) -> str:
    """The first inference from reset and the steady state with the arena in a region of `kind`, against
    DTCM, from `estimate`'s cache model (Cortex-M7, M55); else why there is no figure."""
    if context.device.core not in CACHE_CORES:
        return UNMEASURED
    try:
        run = estimate_model(context.graph, context.device, stack_bytes=DEFAULT_STACK_BYTES, placements=True)
    except McuDeployError as error:
        return f"cost not measured: {error.reason}"
    places = {p.kind: p for p in run.placements}
    here = places.get(kind.value)
    if here is None:
        return "cost not measured: the arena fits no such region of the part"
    text = (
        f"first inference {here.cold_ms:.3f} ms, steady state {here.steady_ms:.3f} ms "
        f"({100 * here.variation:+.1f}%, {CACHE_MODEL})"
    )
    dtcm = places.get(RegionKind.DTCM.value)
    if dtcm is not None:
        text += f"; in DTCM {dtcm.cold_ms:.3f} ms / {dtcm.steady_ms:.3f} ms"
    return text


CACHE_MODEL = "QEMU has no caches: the L1 data cache simulated over the counted accesses"


def check_placement(context: Context) -> CheckResult:
    result = CheckResult(CHECK)
    device = context.device
    dtcm = sum(r.size for r in device.regions if r.kind == RegionKind.DTCM)
    size, source = arena_bytes(context)
    symbol = arena_symbol(context.elf) if context.elf is not None else None
    if symbol is not None:
        region = region_at(context, symbol.address)
        evidence = [
            f"{symbol.name} at 0x{symbol.address:08x}, {symbol.size} B: "
            + (
                f"{region.name} ({region.kind.value}, {'cacheable' if region.cacheable else 'not cached'})"
                if region
                else f"outside every region {device.name} has"
            )
        ]
        if region is None:
            return result
        if region.kind == RegionKind.EXTERNAL or region.off_chip:
            wait = f"{region.wait_states} wait states per access" if region.wait_states is not None else "off-chip"
            cost = f"{wait}; {placement_cost(context, RegionKind.EXTERNAL)}"
            what = f"the arena is in external memory ({region.name})"
            result.findings.append(_finding(what, evidence, cost, size, dtcm))
        elif find_core(device.core).data_cache and region.cacheable and region.kind != RegionKind.DTCM:
            result.findings.append(
                _finding(
                    f"the arena is in cacheable {region.name} on a {device.core}",
                    evidence,
                    placement_cost(context, region.kind),
                    size,
                    dtcm,
                )
            )
        return result
    if not find_core(device.core).data_cache or not dtcm or size <= dtcm:
        if find_core(device.core).data_cache and dtcm:
            result.notes.append(f"the arena ({size} B, {source}) fits the {dtcm} B of DTCM: put it there")
        return result
    result.findings.append(
        _finding(
            f"the arena ({size} B, {source}) is larger than DTCM ({dtcm} B): it will sit in cacheable SRAM",
            [f"{device.name}: {device.core} with a data cache, DTCM {dtcm} B"],
            placement_cost(context, RegionKind.SRAM),
            size,
            dtcm,
        )
    )
    return result


def _finding(what: str, evidence: list[str], cost: str, size: int, dtcm: int) -> Finding:
    if dtcm and size <= dtcm:
        fix = f'place the arena in DTCM (it fits: {size} of {dtcm} B), e.g. __attribute__((section(".dtcm")))'
    else:
        fix = (
            "shrink the arena to fit DTCM (int8, smaller activations), or keep the SRAM region "
            "write-back cached and time a warm inference; never leave it in external SDRAM"
        )
    return Finding(CHECK, what, tuple(evidence), cost, fix)
