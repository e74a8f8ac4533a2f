"""Complex tensors and FFT against PyTorch: CPU time of a backward, min of 5, same process.

Usage: PYTHONPATH=. python tools/bench_complex.py (needs torch).
"""

import time

import numpy as np
import torch

import tapegrad as tg


def chain(L, n=100, k=200):
    """200 complex elementwise ops on 100 elements, then the backward of a real loss."""
    z = L.tensor(np.linspace(0, 1, n) + 1j * np.linspace(1, 0, n), requires_grad=True)
    y = z
    for _ in range(k):
        y = (y * (0.9 + 0.1j)).exp() * 0.01 + y
    (y.abs() ** 2).sum().backward()


def fft_roundtrip(L, n=1024):
    """50 times irfft(2 rfft(x)) of 1024 samples with its backward."""
    x = L.tensor(np.linspace(0, 1, n), requires_grad=True)
    for _ in range(50):
        (L.fft.irfft(L.fft.rfft(x) * 2, n=n) ** 2).sum().backward()


def main():
    for f in (chain, fft_roundtrip):
        for lib in (tg, torch):  # warm up (compiles the sweep once)
            f(lib)
        best = {}
        for _ in range(5):  # alternate the two libraries: the machine is shared
            for lib in (tg, torch):
                t0 = time.process_time()
                f(lib)
                dt = time.process_time() - t0
                best[lib.__name__] = min(best.get(lib.__name__, np.inf), dt)
        print(f"{f.__name__}: tapegrad {best['tapegrad'] * 1e3:.1f} ms, torch "
              f"{best['torch'] * 1e3:.1f} ms, ratio {best['tapegrad'] / best['torch']:.1f}")


if __name__ == "__main__":
    main()
