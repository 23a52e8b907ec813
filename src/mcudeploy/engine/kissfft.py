"""KISS FFT's arithmetic, which TFLM's signal Rfft and Irfft run: a mixed-radix decimation in time
(radix 4 first, then 2) over a complex FFT of half the length, split into the real spectrum.

The fixed-point variants (int16, int32) scale every butterfly down by its radix so that nothing
overflows: each stage multiplies by SAMP_MAX / radix and rounds (KISS FFT's C_FIXDIV), every product
rounds at FRACBITS, and every stored value is truncated to the sample type as C does. The float
variant runs the same steps in float32.

Only power-of-two lengths are implemented (radix 3, 5 and the generic butterfly are not): the
IR's shape rule refuses the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.params.signal import fft_sample_max, fft_twiddles, real_fft_twiddles

Complex = tuple[np.ndarray, np.ndarray]
"""Real and imaginary parts, int64 holding the sample type's values (fixed point) or float32."""


@dataclass(frozen=True)
class Arithmetic:
    """One of KISS FFT's sample types: `bits` 16 or 32 for fixed point, 0 for float32."""

    bits: int

    @property
    def fixed(self) -> bool:
        return self.bits > 0

    @property
    def sample_max(self) -> int:
        return fft_sample_max(self.bits)

    def store(self, x: np.ndarray) -> np.ndarray:
        """A value assigned to a sample: wrapped to the sample type (C's conversion), or float32."""
        if not self.fixed:
            return x.astype(np.float32)
        half = 1 << (self.bits - 1)
        return ((x + half) & ((1 << self.bits) - 1)) - half

    def round_product(self, x: np.ndarray) -> np.ndarray:
        """KISS FFT's sround: a product's fraction bits dropped, rounding half up."""
        fraction = self.bits - 1
        return (x + (1 << (fraction - 1))) >> fraction

    def mul(self, a: Complex, b: Complex) -> Complex:
        ar, ai = a
        br, bi = b
        if not self.fixed:
            return self.store(ar * br - ai * bi), self.store(ar * bi + ai * br)
        if self.bits == 32:  # products of two int32 need more than int64: exact Python integers
            ar, ai, br, bi = (v.astype(object) for v in (ar, ai, br, bi))
            real = self.round_product(ar * br - ai * bi)
            imag = self.round_product(ar * bi + ai * br)
            return self.store(real.astype(np.int64)), self.store(imag.astype(np.int64))
        return self.store(self.round_product(ar * br - ai * bi)), self.store(self.round_product(ar * bi + ai * br))

    def fixdiv(self, a: Complex, radix: int) -> Complex:
        """C_FIXDIV: divided by the radix before a butterfly (fixed point only)."""
        if not self.fixed:
            return a
        factor = self.sample_max // radix
        if self.bits == 32:
            return tuple(self.store(self.round_product(v.astype(object) * factor).astype(np.int64)) for v in a)
        return tuple(self.store(self.round_product(v * factor)) for v in a)

    def add(self, a: Complex, b: Complex) -> Complex:
        return self.store(a[0] + b[0]), self.store(a[1] + b[1])

    def sub(self, a: Complex, b: Complex) -> Complex:
        return self.store(a[0] - b[0]), self.store(a[1] - b[1])

    def half(self, x: np.ndarray) -> np.ndarray:
        """HALF_OF of a sum or difference: C adds the samples as int, so an int32 one at full scale
        wraps (modulo 2^32, as TFLM's builds do) before the arithmetic shift halves it."""
        if not self.fixed:
            return self.store(x * np.float32(0.5))
        return self.store(INT_SUM.store(x) >> 1)


INT16 = Arithmetic(16)
INT32 = Arithmetic(32)
INT_SUM = INT32
"""C's int, in which KISS FFT adds two samples (an int16 sum always fits)."""
FLOAT32 = Arithmetic(0)


def _factors(n: int) -> list[int]:
    """KISS FFT's factorisation: fours first, then twos (power-of-two lengths)."""
    radices = []
    while n > 1:
        radix = 4 if n % 4 == 0 else 2
        radices.append(radix)
        n //= radix
    return radices


def complex_fft(arith: Arithmetic, data: Complex, inverse: bool = False) -> Complex:
    """KISS FFT of each row of `data` (shape [rows, n])."""
    n = data[0].shape[-1]
    return _work(arith, data, _factors(n), 1, fft_twiddles(arith.bits, n, inverse), inverse)


def _work(arith: Arithmetic, data: Complex, radices: list[int], stride: int, tw: Complex, inverse: bool) -> Complex:
    """kf_work: the `radix` sub-transforms of every radix-th sample, then the butterflies joining them."""
    radix, rest = radices[0], radices[1:]
    rows, n = data[0].shape
    m = n // radix
    if rest:
        subsets = tuple(v.reshape(rows, m, radix).transpose(0, 2, 1).reshape(rows * radix, m) for v in data)
        data = tuple(v.reshape(rows, n) for v in _work(arith, subsets, rest, stride * radix, tw, inverse))
    legs = [tuple(v[:, q * m : (q + 1) * m] for v in data) for q in range(radix)]
    k = np.arange(m) * stride

    def twiddle(power: int) -> Complex:
        return tw[0][k * power], tw[1][k * power]

    legs = [arith.fixdiv(leg, radix) for leg in legs]
    if radix == 2:
        t = arith.mul(legs[1], twiddle(1))
        out = [arith.add(legs[0], t), arith.sub(legs[0], t)]
    else:
        s0, s1, s2 = (arith.mul(legs[q], twiddle(q)) for q in (1, 2, 3))
        s5 = arith.sub(legs[0], s1)
        first = arith.add(legs[0], s1)
        s3, s4 = arith.add(s0, s2), arith.sub(s0, s2)
        third = arith.sub(first, s3)
        first = arith.add(first, s3)
        if inverse:
            second = (arith.store(s5[0] - s4[1]), arith.store(s5[1] + s4[0]))
            fourth = (arith.store(s5[0] + s4[1]), arith.store(s5[1] - s4[0]))
        else:
            second = (arith.store(s5[0] + s4[1]), arith.store(s5[1] - s4[0]))
            fourth = (arith.store(s5[0] - s4[1]), arith.store(s5[1] + s4[0]))
        out = [first, second, third, fourth]
    return tuple(np.concatenate([leg[part] for leg in out], axis=1) for part in (0, 1))


def real_fft(arith: Arithmetic, frames: np.ndarray) -> Complex:
    """kiss_fftr: the spectrum (n/2 + 1 bins) of each row of real `frames` [rows, n]."""
    values = frames.astype(np.int64) if arith.fixed else frames.astype(np.float32)
    half = values.shape[1] // 2
    packed = complex_fft(arith, (values[:, 0::2], values[:, 1::2]))
    dc = arith.fixdiv((packed[0][:, :1], packed[1][:, :1]), 2)
    real = np.zeros((values.shape[0], half + 1), dtype=packed[0].dtype)
    imag = np.zeros_like(real)
    real[:, :1] = arith.store(dc[0] + dc[1])
    real[:, half:] = arith.store(dc[0] - dc[1])
    k = np.arange(1, half // 2 + 1)
    fpk = arith.fixdiv((packed[0][:, k], packed[1][:, k]), 2)
    fpnk = arith.fixdiv((packed[0][:, half - k], arith.store(-packed[1][:, half - k])), 2)
    f1k, f2k = arith.add(fpk, fpnk), arith.sub(fpk, fpnk)
    tw = arith.mul(f2k, real_fft_twiddles(arith.bits, half, False))
    real[:, k] = arith.half(f1k[0] + tw[0])
    imag[:, k] = arith.half(f1k[1] + tw[1])
    real[:, half - k] = arith.half(f1k[0] - tw[0])
    imag[:, half - k] = arith.half(tw[1] - f1k[1])
    return real, imag


def inverse_real_fft(arith: Arithmetic, spectrum: Complex) -> np.ndarray:
    """kiss_fftri: the real frames [rows, n] of spectra of n/2 + 1 bins (unnormalised, and in fixed
    point scaled down by each stage as the forward transform is)."""
    real, imag = (v.astype(np.int64) if arith.fixed else v.astype(np.float32) for v in spectrum)
    half = real.shape[1] - 1
    packed_real = np.zeros((real.shape[0], half), dtype=real.dtype)
    packed_imag = np.zeros_like(packed_real)
    dc = arith.fixdiv(
        (arith.store(real[:, :1] + real[:, half:]), arith.store(real[:, :1] - real[:, half:])),
        2,
    )
    packed_real[:, :1], packed_imag[:, :1] = dc
    k = np.arange(1, half // 2 + 1)
    fk = arith.fixdiv((real[:, k], imag[:, k]), 2)
    fnkc = arith.fixdiv((real[:, half - k], arith.store(-imag[:, half - k])), 2)
    fek, difference = arith.add(fk, fnkc), arith.sub(fk, fnkc)
    fok = arith.mul(difference, real_fft_twiddles(arith.bits, half, True))
    low, high = arith.add(fek, fok), arith.sub(fek, fok)
    packed_real[:, k], packed_imag[:, k] = low
    packed_real[:, half - k], packed_imag[:, half - k] = high[0], arith.store(-high[1])
    out_real, out_imag = complex_fft(arith, (packed_real, packed_imag), inverse=True)
    frames = np.empty((real.shape[0], 2 * half), dtype=out_real.dtype)
    frames[:, 0::2], frames[:, 1::2] = out_real, out_imag
    return frames
