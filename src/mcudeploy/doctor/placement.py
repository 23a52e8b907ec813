"""The arena in external or cacheable memory on a core with a data cache (Cortex-M7/M55/M85): the
first inference misses in the cache and later ones depend on what else ran, so latency varies; in
external SDRAM every miss waits for the bus. DTCM has neither."""

from __future__ import annotations

from mcudeploy.devices import DATA_CACHE_CORES, RegionKind
from mcudeploy.doctor.findings import CheckResult, Context, Finding
from mcudeploy.doctor.memory import arena_bytes, arena_symbol, region_at

CHECK = "arena-placement"
UNMEASURED = "cost not measured: QEMU models no caches; the cold/steady-state figures per region are issue 15 point 6"


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
            result.findings.append(
                _finding(
                    f"the arena is in external memory ({region.name})", evidence, f"{wait}; {UNMEASURED}", size, dtcm
                )
            )
        elif device.core in DATA_CACHE_CORES and region.cacheable and region.kind != RegionKind.DTCM:
            result.findings.append(
                _finding(
                    f"the arena is in cacheable {region.name} on a {device.core}", evidence, UNMEASURED, size, dtcm
                )
            )
        return result
    if device.core not in DATA_CACHE_CORES or not dtcm or size <= dtcm:
        if device.core in DATA_CACHE_CORES and dtcm:
            result.notes.append(f"the arena ({size} B, {source}) fits the {dtcm} B of DTCM: put it there")
        return result
    result.findings.append(
        _finding(
            f"the arena ({size} B, {source}) is larger than DTCM ({dtcm} B): it will sit in cacheable SRAM",
            [f"{device.name}: {device.core} with a data cache, DTCM {dtcm} B"],
            UNMEASURED,
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
