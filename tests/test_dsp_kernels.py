"""The branch-free requantization of `mdnn/Include/md_nn_support.h` (`md_mbqm`, built on
`md_srdhm_fast` and `md_rdbpot_fast`) computes exactly what the reference pair `md_srdhm` then
`md_rdbpot` computes, on edge cases (INT32_MIN * INT32_MIN, ties, every shift) and random values.
The header is compiled on the host; the DSP cores' QADD path is covered by the bit-exact model
runs of tests/test_validate.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

RUNTIME = Path(__file__).resolve().parents[1] / "src" / "mcudeploy" / "mdnn" / "Include"

PROGRAM = r"""
#include <stdio.h>
#include "md_nn_support.h"

/* Reads "x multiplier shift" lines, prints the fast and the reference result of each. */
int main(void)
{
    long long x;
    long long multiplier;
    int shift;
    while (scanf("%lld %lld %d", &x, &multiplier, &shift) == 3) {
        const int32_t left = shift > 0 ? shift : 0;
        const int32_t right = shift > 0 ? 0 : -shift;
        const int32_t reference = md_rdbpot(md_srdhm((int32_t)((uint32_t)x << left), (int32_t)multiplier), right);
        printf("%d %d\n", md_mbqm((int32_t)x, (int32_t)multiplier, shift), reference);
    }
    return 0;
}
"""

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
EDGES = sorted(
    {INT32_MIN, INT32_MIN + 1, -(2**30), -(2**30) - 1, -3, -2, -1, 0, 1, 2, 3, 2**30 - 1, 2**30, 2**30 + 1}
    | {INT32_MAX - 1, INT32_MAX}
)


@pytest.fixture(scope="module")
def mbqm_program(tmp_path_factory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    directory = tmp_path_factory.mktemp("mbqm")
    (directory / "mbqm.c").write_text(PROGRAM)
    binary = directory / "mbqm"
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-fsanitize=undefined", "-fno-sanitize-recover=all"]
    subprocess.run(["gcc", *flags, f"-I{RUNTIME}", "mbqm.c", "-o", str(binary)], cwd=directory, check=True)
    return binary


def _fast_and_reference(program: Path, cases: np.ndarray) -> np.ndarray:
    text = "\n".join(f"{x} {m} {s}" for x, m, s in cases.tolist())
    output = subprocess.run([str(program)], input=text, capture_output=True, text=True, check=True).stdout
    return np.array([line.split() for line in output.splitlines()], dtype=np.int64)


def _edge_cases() -> np.ndarray:
    # Every shift TFLite can produce, with ties of each rounding: x * m near a multiple of 2^(30 + r).
    shifts = np.arange(-31, 31)
    grid = np.array(np.meshgrid(EDGES, EDGES, shifts, indexing="ij")).reshape(3, -1).T
    ties = [(2**k, 2**30, -r) for r in range(1, 32) for k in range(0, 31)]
    ties += [(-(2**k), 2**30, -r) for r in range(1, 32) for k in range(0, 31)]
    ties += [(3 * 2**k, 2**30, -r) for r in range(1, 32) for k in range(0, 29)]
    ties += [(-3 * 2**k, 2**30, -r) for r in range(1, 32) for k in range(0, 29)]
    return np.concatenate([grid, np.array(ties, dtype=np.int64)])


def _random_cases(count: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    x = rng.integers(INT32_MIN, INT32_MAX, count, endpoint=True)
    small = rng.integers(-(2**16), 2**16, count)
    x[: count // 2] = small[: count // 2]  # accumulators are usually small
    multiplier = rng.integers(INT32_MIN, INT32_MAX, count, endpoint=True)
    multiplier[: count // 2] = rng.integers(2**30, INT32_MAX, count // 2, endpoint=True)  # QuantizeMultiplier range
    shift = rng.integers(-31, 31, count)
    return np.stack([x, multiplier, shift], axis=1)


def test_fast_mbqm_equals_reference_on_edge_cases(mbqm_program):
    results = _fast_and_reference(mbqm_program, _edge_cases())
    np.testing.assert_array_equal(results[:, 0], results[:, 1])


def test_fast_mbqm_equals_reference_on_random_values(mbqm_program):
    results = _fast_and_reference(mbqm_program, _random_cases(200_000))
    np.testing.assert_array_equal(results[:, 0], results[:, 1])


def test_saturating_case_gives_int32_max(mbqm_program):
    results = _fast_and_reference(mbqm_program, np.array([[INT32_MIN, INT32_MIN, 0], [INT32_MIN, INT32_MIN, -1]]))
    assert results.tolist() == [[INT32_MAX, INT32_MAX], [2**30, 2**30]]
