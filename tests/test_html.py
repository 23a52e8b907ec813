"""--html: one self-contained page per report, rendered in a real headless browser (Debian's chromium,
installed by scripts/install-toolchain.sh): the screenshot is not blank and the key figures are in the page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
from matplotlib.image import imread

from conftest import MODELS, run_cli

HELLO = str(MODELS / "tflm" / "hello_world_int8.tflite")
HELLO_FLOAT = str(MODELS / "tflm" / "hello_world_float.tflite")
BROWSER_TIMEOUT_S = 120


def render(page: Path, folder: Path) -> tuple[np.ndarray, str]:
    """The page's screenshot (RGB floats) and its DOM as the browser built it, offline."""
    browser = shutil.which("chromium")
    assert browser, "chromium is not installed (scripts/install-toolchain.sh installs it)"
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={folder / 'profile'}",
        "--window-size=1000,1400",
    ]  # fmt: skip
    shot = folder / "page.png"
    dom = subprocess.run([browser, *flags, f"--screenshot={shot}", "--dump-dom", page.as_uri()], check=True,
                         capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S).stdout  # fmt: skip
    return imread(shot)[..., :3], dom


def page_text(dom: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def assert_drawn(pixels: np.ndarray) -> None:
    """Not blank: a good share of the pixels are not the white background, in several colours."""
    inked = np.any(pixels < 0.95, axis=-1)
    assert inked.mean() > 0.02
    colours = np.unique((pixels[inked] * 255).astype(np.uint8), axis=0)
    assert len(colours) > 20


def write_page(monkeypatch, capsys, tmp_path: Path, *args: str) -> tuple[int, dict, Path]:
    page = tmp_path / "report.html"
    code, out, _ = run_cli(monkeypatch, capsys, *args, "--json", "--html", str(page))
    assert page.is_file() and not list(tmp_path.glob(".*.part"))
    html = page.read_text()
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    return code, json.loads(out), page


def test_analyze_page(monkeypatch, capsys, tmp_path):
    code, report, page = write_page(monkeypatch, capsys, tmp_path, "analyze", HELLO, "-d", "STM32F446RE")
    pixels, dom = render(page, tmp_path)
    assert_drawn(pixels)
    text = page_text(dom)
    assert code == 0 and f"fits {report['device']['name']}" in text
    for figure in ("arena_bytes", "weights_bytes", "code_bytes", "stack_bytes", "flash_bytes", "ram_bytes"):
        assert f"{report[figure]:,}" in text
    assert dom.count("<rect") > len(report["layers"])  # the arena's buffers and the budget's bars
    assert all(layer["op"] in text for layer in report["layers"])


def test_estimate_page(monkeypatch, capsys, tmp_path):
    _, report, page = write_page(monkeypatch, capsys, tmp_path, "estimate", HELLO, "-d", "STM32F446RE")
    pixels, dom = render(page, tmp_path)
    assert_drawn(pixels)
    text = page_text(dom)
    assert f"{report['total']['ms']} ms per inference" in text
    assert all(f"{layer['ms']:,.4g} ms" in text for layer in report["layers"])  # the latency bars


def test_validate_page(monkeypatch, capsys, tmp_path):
    code, report, page = write_page(monkeypatch, capsys, tmp_path, "validate", HELLO, "-t", "host", "--random", "2")
    pixels, dom = render(page, tmp_path)
    assert_drawn(pixels)
    text = page_text(dom)
    assert code == 0 and "every target agrees bit for bit" in text and text.count("host") >= 2
    assert f"{report['targets']['host']['inputs'][0]['outputs'][0]['cosine']:,.4g}" in text


def test_doctor_page(monkeypatch, capsys, tmp_path):
    code, report, page = write_page(monkeypatch, capsys, tmp_path, "doctor", HELLO_FLOAT, "-d", "STM32F103C8")
    pixels, dom = render(page, tmp_path)
    assert_drawn(pixels)
    text = page_text(dom)
    finding = report["findings"][0]
    assert code == 1 and "1 finding" in text and finding["what"] in text
    assert re.search(r"[0-9.]+x slower", text)


def test_existing_page_is_replaced_only_with_force(monkeypatch, capsys, tmp_path):
    page = tmp_path / "old.html"
    page.write_text("old")
    code, _, err = run_cli(monkeypatch, capsys, "analyze", HELLO, "--html", str(page))
    assert code == 2 and "mcudeploy: error:" in err and page.read_text() == "old"


def test_ethos_u_reports_refuse_html_before_the_work(monkeypatch, capsys, tmp_path):
    page = tmp_path / "npu.html"
    code, out, err = run_cli(monkeypatch, capsys, "analyze", HELLO, "-d", "Alif Ensemble E7", "--html", str(page))
    assert code == 2 and not out and err.startswith("mcudeploy: error: --html: not written for Cortex-M + Ethos-U")
    assert not page.exists()
    code, _, _ = run_cli(monkeypatch, capsys, "estimate", HELLO, "--cores", "--html", str(page))
    assert code == 2 and not page.exists()
    plot = tmp_path / "arena.png"
    code, out, err = run_cli(monkeypatch, capsys, "analyze", HELLO, "-d", "Alif Ensemble E7", "--plot", str(plot))
    assert code == 2 and not out and err.startswith("mcudeploy: error: --plot: not written for Cortex-M + Ethos-U")
    assert not plot.exists()
