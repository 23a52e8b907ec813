"""The device database: coverage, consistency of every part's figures, look-up by part, alias and board."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from mcudeploy.devices import CORES, RegionKind, find_core, find_device, find_machine, load_database, normalize_core
from mcudeploy.devices.cores import CORE_NAMES
from mcudeploy.devices.database import KIB, MemoryRegion, check_regions, parse_database
from mcudeploy.errors import McuDeployError

MIB = 1024 * KIB
DATABASE = load_database()

REQUIRED = [
    "STM32F446RE", "STM32F407VG", "nRF52840", "STM32L476RG", "STM32H743ZI", "STM32F767ZI", "i.MX RT1060",
    "STM32H750VB", "STM32L552", "nRF5340", "RP2040", "RP2350", "STM32U575", "STM32H7A3", "STM32L4R5",
    "Alif Ensemble E3", "Alif Ensemble E7", "MCX N947", "RA8D1",
]  # fmt: skip


def test_at_least_thirty_parts_over_every_core_family():
    assert len(DATABASE.parts) >= 30
    assert {part.core for part in DATABASE.parts} == set(CORE_NAMES)


@pytest.mark.parametrize("name", REQUIRED)
def test_the_parts_the_issue_names_are_there(name):
    assert find_device(name).board is None


@pytest.mark.parametrize("part", DATABASE.parts, ids=lambda p: p.name)
def test_every_part_is_consistent(part):
    regions = part.regions
    assert part.sources and all(source.strip() for source in part.sources)
    assert any(r.kind == RegionKind.FLASH for r in regions)
    assert any(r.kind in (RegionKind.SRAM, RegionKind.DTCM) for r in regions)
    for before, after in itertools.pairwise(sorted(regions, key=lambda r: r.base)):
        assert after.base >= before.end, f"{before.name} overlaps {after.name}"
    for region in regions:
        assert region.base % 1024 == 0 and region.end <= 2**32
        assert region.kind != RegionKind.EXTERNAL, "a part's regions are on the part; boards add external memory"
        if region.wait_states is not None:
            assert 0 <= region.wait_states <= 15
    flash = sum(r.size for r in regions if r.kind == RegionKind.FLASH)
    ram = sum(r.size for r in regions if r.kind in (RegionKind.SRAM, RegionKind.DTCM))
    assert 16 * KIB <= flash <= 256 * MIB
    assert 8 * KIB <= ram <= 16 * MIB
    assert 16 <= part.max_clock_mhz <= 1000


@pytest.mark.parametrize("part", DATABASE.parts, ids=lambda p: p.name)
def test_core_features_match_the_core(part):
    if part.core in ("cortex-m0+", "cortex-m3"):
        assert part.fpu == "none" and not part.dsp
    if part.core in ("cortex-m4", "cortex-m7", "cortex-m55", "cortex-m85"):
        assert part.dsp
    assert (part.mve != "none") == (part.core in ("cortex-m55", "cortex-m85"))
    assert find_core(part.core).data_cache or not any(r.kind == RegionKind.DTCM for r in part.regions)
    if part.npu is not None and "Ethos-U55" in part.npu.type:
        assert part.npu.macs_per_cycle in (32, 64, 128, 256)


@pytest.mark.parametrize("part", DATABASE.parts, ids=lambda p: p.name)
def test_a_part_has_no_feature_its_core_record_lacks(part):
    """The record is the configuration we compile for: a part may leave out an optional feature, never add one."""
    core = find_core(part.core)
    assert part.dsp <= core.dsp
    assert part.fpu == "none" or core.fpu != "none"
    assert part.mve == "none" or core.mve != "none"


@pytest.mark.parametrize("core", CORES, ids=lambda c: c.name)
def test_every_core_record_runs_on_a_machine_of_the_database(core):
    assert normalize_core(core.title) == core.name
    assert core.kernel_variants == tuple(v for v in ("mve", "dsp") if getattr(core, v) not in (False, "none"))
    if core.machine is None:
        assert core.target is None and not core.proxy
        return
    machine = find_machine(core.machine)
    assert core.cflags and core.target and f"-mcpu={core.mcpu}" in core.cflags
    assert (machine.core == core.name) != core.proxy
    if core.reference_part is not None:
        assert find_device(core.reference_part).core == core.name


def test_machines_are_boards_with_the_one_memory_region_type():
    m55 = find_machine("mps3-an547")
    assert isinstance(m55.ram, MemoryRegion)
    assert (m55.code.name, m55.rodata.name, m55.ram.name) == ("itcm", "qspi", "dtcm")
    assert [r.name for r in m55.extra_ram] == ["sram", "ddr"] and m55.region("ram") == m55.ram
    assert "mps2-an386" not in DATABASE.names(), "machines are where code runs, not devices to deploy to"
    with pytest.raises(McuDeployError, match="no such memory region"):
        m55.region("flash")


def test_figures_of_well_known_parts():
    f446 = find_device("STM32F446RE")
    assert f446.flash_bytes() == 512 * KIB and f446.internal_ram_bytes() == 128 * KIB
    assert [(s.name, s.size) for s in f446.spans()] == [("FLASH", 512 * KIB), ("SRAM1+SRAM2", 128 * KIB)]
    h743 = find_device("STM32H743ZI")
    assert h743.flash_bytes() == 2 * MIB
    assert h743.internal_ram_bytes() == 992 * KIB  # DTCM + AXI + SRAM1-4 (ITCM holds code)
    assert find_device("nRF52840").internal_ram_bytes() == 256 * KIB
    assert find_device("RP2040").internal_ram_bytes() == 264 * KIB
    e7 = find_device("Alif Ensemble E7").part
    assert e7.npu is not None and e7.npu.macs_per_cycle == 256 and e7.mve == "float"


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("Arduino Nano 33 BLE", "nRF52840"),
        ("arduino nano 33 ble sense", "nRF52840"),
        ("NUCLEO-F446RE", "STM32F446RE"),
        ("nucleo_f446re", "STM32F446RE"),
        ("NUCLEO-H743ZI2", "STM32H743ZI"),
        ("DISCO-F746NG", "STM32F746NG"),
        ("Raspberry Pi Pico", "RP2040"),
        ("Raspberry Pi Pico 2", "RP2350"),
        ("Teensy 4.1", "MIMXRT1062"),
        ("stm32f446re", "STM32F446RE"),
        ("Stm32H7a3", "STM32H7A3ZI"),
    ],
)
def test_boards_and_aliases_resolve_to_their_part(name, part):
    assert find_device(name).part.name == part


def test_boards_change_the_parts_memories():
    nano = find_device("Arduino Nano 33 BLE")
    flash = next(r for r in nano.regions if r.kind == RegionKind.FLASH)
    assert (flash.base, flash.size) == (0x10000, 960 * KIB)  # the bootloader keeps 64 KiB
    teensy = find_device("Teensy 4.1")
    assert "ITCM" not in {r.name for r in teensy.regions}
    assert teensy.internal_ram_bytes() == 1 * MIB
    disco = find_device("DISCO-F746NG")
    assert [r.name for r in disco.regions if r.kind == RegionKind.EXTERNAL] == ["SDRAM"]


def test_a_misspelled_device_gets_the_closest_names():
    with pytest.raises(McuDeployError, match="did you mean STM32F446RE"):
        find_device("STM32F44RE")
    with pytest.raises(McuDeployError, match="mcudeploy devices"):
        find_device("no such thing at all")


def test_cores_are_named_loosely():
    assert normalize_core("M7") == "cortex-m7"
    assert normalize_core("Cortex-M0plus") == "cortex-m0+"
    assert {p.core for p in DATABASE.parts_with_core("m55")} == {"cortex-m55"}
    with pytest.raises(McuDeployError, match="cortex-m7"):
        normalize_core("cortex-m77")


def _region(name, base, size_kib, kind="sram", group=None):
    return MemoryRegion(name, RegionKind(kind), base, size_kib * KIB, cacheable=False, group=group)


def test_the_checker_refuses_overlaps_and_broken_groups():
    with pytest.raises(ValueError, match="overlap"):
        check_regions("x", (_region("A", 0x2000_0000, 64), _region("B", 0x2000_8000, 64)))
    with pytest.raises(ValueError, match="does not follow"):
        check_regions("x", (_region("A", 0x2000_0000, 32, group="G"), _region("B", 0x2001_0000, 32, group="G")))
    with pytest.raises(ValueError, match="mixes kinds"):
        check_regions("x", (_region("A", 0, 32, "dtcm", "G"), _region("B", 0x8000, 32, "sram", "G")))


def test_sram_code_aliases_come_from_the_database_and_are_checked():
    aliased = {
        part.name: (region.name, region.code_alias)
        for part in DATABASE.parts
        for region in part.regions
        if region.code_alias is not None
    }
    assert aliased == {
        "STM32L476RG": ("SRAM2", 0x1000_0000),
        "STM32L4R5ZI": ("SRAM2", 0x1000_0000),
        "STM32G474RE": ("CCM_SRAM", 0x1000_0000),
    }
    sram2 = replace(_region("SRAM2", 0x2003_0000, 64), code_alias=0x1000_0000, code_alias_source="RM")
    check_regions("x", (sram2,))
    with pytest.raises(ValueError, match="without its source"):
        check_regions("x", (replace(sram2, code_alias_source=""),))
    with pytest.raises(ValueError, match="only an on-chip SRAM"):
        check_regions("x", (replace(sram2, kind=RegionKind.FLASH),))
    with pytest.raises(ValueError, match="below 0x20000000"):
        check_regions("x", (replace(sram2, code_alias=0x1FFF_8000),))
    with pytest.raises(ValueError, match="SRAM2's code alias and XIP overlap"):
        check_regions("x", (sram2, _region("XIP", 0x1000_8000, 64, "flash")))


def test_a_part_without_flash_is_refused():
    part = {
        "name": "X", "vendor": "v", "core": "cortex-m4", "max_clock_mhz": 64, "fpu": "single", "dsp": True,
        "sources": ["s"], "regions": [{"name": "RAM", "kind": "sram", "base": 0x2000_0000, "size_kib": 64}],
        "flash": {"prefetch": False, "cache": "", "cache_on_at_reset": False, "enabled_by": "", "source": "s"},
    }  # fmt: skip
    with pytest.raises(ValueError, match="no flash"):
        parse_database({"part": [part]})


def test_a_fetch_geometry_that_does_not_divide_the_instruction_cache_is_refused():
    part = {
        "name": "X", "vendor": "v", "core": "cortex-m4", "max_clock_mhz": 64, "fpu": "single", "dsp": True,
        "sources": ["s"], "icache_bytes": 1024,
        "regions": [
            {"name": "FLASH", "kind": "flash", "base": 0x0800_0000, "size_kib": 256, "wait_states": 2},
            {"name": "RAM", "kind": "sram", "base": 0x2000_0000, "size_kib": 64},
        ],
        "flash": {"prefetch": True, "cache": "ART", "cache_on_at_reset": True, "enabled_by": "", "source": "s",
                  "fetch_line_bytes": 16, "fetch_ways": 0, "read_bytes": 16},
    }  # fmt: skip
    assert parse_database({"part": [part]}).parts[0].flash.fetch_line_bytes == 16
    for change, message in (
        ({"read_bytes": 0}, "needs its cache"),
        ({"read_bytes": 32}, "does not divide"),
        ({"fetch_line_bytes": 48, "read_bytes": 16}, "does not divide"),
        ({"fetch_ways": 3}, "does not divide"),
        ({"fetch_line_bytes": 0, "serves_data_reads": True}, "need the cache's fetch_line_bytes"),
        ({"fetch_line_bytes": 0, "read_cycles": 56}, "need the cache's fetch_line_bytes"),
        ({"bus_clock_divider": 0}, "bus_clock_divider must be at least 1"),
        ({"bus_clock_divider": 2, "read_cycles": 56}, "and 1 with read_cycles"),
    ):
        broken = {**part, "flash": {**part["flash"], **change}}
        with pytest.raises(ValueError, match=message):
            parse_database({"part": [broken]})
