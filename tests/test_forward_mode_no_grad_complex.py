"""Complex ops (and the fft, eigvals built on their records) under ``no_grad`` inside forward
mode carry tangents, as the real ops do: their records are forward-only, not skipped."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.func import jvp

X = [1.0, 2.0, 3.0, 4.0]
V = [1.0, 0.5, 0.25, -1.0]


def modulus(lib):
    def f(x):
        with lib.no_grad():
            return (lib.complex(x, x * x) * (1 + 2j)).abs()
    return f


def spectrum(lib):
    def f(x):
        with lib.no_grad():
            return lib.fft.fft(x).real * 1
    return f


def test_complex_modulus_tangent():
    # |(x + i x^2)(1 + 2i)| = sqrt(5) x sqrt(1 + x^2): derivative sqrt(5) (1 + 2x^2) / sqrt(1 + x^2)
    x, v = np.array(X), np.array(V)
    want = np.sqrt(5) * (1 + 2 * x * x) / np.sqrt(1 + x * x) * v
    _, t = jvp(modulus(tg), (tg.tensor(X, dtype=tg.float64),), (tg.tensor(V, dtype=tg.float64),))
    np.testing.assert_allclose(t.numpy(), want)


def test_fft_tangent():
    _, t = jvp(spectrum(tg), (tg.tensor(X, dtype=tg.float64),), (tg.tensor(V, dtype=tg.float64),))
    np.testing.assert_allclose(t.numpy(), np.fft.fft(V).real, atol=1e-12)


@pytest.mark.parametrize("case", [modulus, spectrum])
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    _, want = torch.func.jvp(case(torch), (torch.tensor(X, dtype=torch.float64),),
                             (torch.tensor(V, dtype=torch.float64),))
    _, got = jvp(case(tg), (tg.tensor(X, dtype=tg.float64),), (tg.tensor(V, dtype=tg.float64),))
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)
