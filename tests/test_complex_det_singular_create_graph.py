"""Complex det at a singular matrix (n >= 2) under create_graph: its first gradient is
PyTorch's (the adjugate, adj(A)^H g), and differentiable again: the second derivative equals
central differences of the first (PyTorch's SVD route is off or NaN at some of these)."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = {
    "rank1_2x2": np.array([[1 + 1j, 2], [2 + 2j, 4]]),
    "zero_2x2": np.zeros((2, 2)),
    "rank1_3x3": np.outer([1, 2j, 3], [1, 1 - 1j, 2]),
    "rank2_3x3": np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]]) * (1 + 1j),
    "zero_3x3": np.zeros((3, 3)),
    "rank2_4x4": np.outer([1, 2, 0, 1j], [1, 1j, 2, 3]) + np.outer([0, 1, 1, 1], [2, 0, 1, 1j]),
    "batch": np.stack([np.outer([1, 2j], [1, 1]), np.array([[2, 1j], [1, 3]])]),
}


def _first(L, A, create_graph):
    x = L.tensor(A, requires_grad=True)
    d = L.linalg.det(x)
    g, = L.autograd.grad((d.real + 0.7 * d.imag).sum(), x, create_graph=create_graph)
    return x, g


def _second(A):
    x, g = _first(tg, A, True)
    assert g.requires_grad
    h, = tg.autograd.grad((g.abs() ** 2).sum(), x)
    return h.numpy()


def _central(A, eps=1e-6):
    """d/dRe + i d/dIm of sum |g(A)|^2, g PyTorch's first gradient without a graph (its LU
    route, accurate next to a singular A)."""
    def f(M):
        return float((_first(torch, M, False)[1].abs() ** 2).sum())
    out = np.zeros_like(A)
    for idx in np.ndindex(A.shape):
        for unit in (1, 1j):
            up, down = A.copy(), A.copy()
            up[idx] += eps * unit
            down[idx] -= eps * unit
            out[idx] += unit * (f(up) - f(down)) / (2 * eps)
    return out


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_complex_singular_det_first_gradient_as_pytorch(name, dtype):
    A = CASES[name].astype(dtype)
    got, want = _first(tg, A, True)[1], _first(torch, A, True)[1]
    assert got.requires_grad and want.requires_grad
    assert got.detach().numpy().dtype == want.detach().numpy().dtype
    tol = 1e-12 if dtype is np.complex128 else 1e-5
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_singular_det_second_derivative(name):
    A = CASES[name].astype(np.complex128)
    want = _central(A)  # (its rounding next to a singular A: ~1e-5 absolute)
    np.testing.assert_allclose(_second(A), want, rtol=1e-6, atol=1e-4 * max(np.abs(want).max(), 1.0))
