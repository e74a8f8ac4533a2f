"""linalg.eig/eigvals (PyTorch's linalg_eig_backward) and the complex solve it uses, against
finite differences and PyTorch to second order."""

import numpy as np
import pytest

import tapegrad as tg
from complex_checks import check_complex, rand

A = rand((4, 4), cplx=False, seed=3)


def _phase_free(L, A):
    """A loss of the eigendecomposition that does not depend on the eigenvectors' phases."""
    w, v = L.linalg.eig(A)
    return (w * w).real.sum() + (v.abs() ** 2 * L.tensor(np.arange(4.0))).sum() + w.imag.abs().sum()


@pytest.mark.parametrize("cplx", [False, True])
def test_eig_against_torch_and_fd(cplx):
    a = rand((4, 4), cplx=cplx, seed=3)
    check_complex(_phase_free, [a], rtol=1e-6, atol=1e-8)
    check_complex(lambda L, A: L.linalg.eigvals(A), [a], rtol=1e-6, atol=1e-8)


def test_eig_batched():
    a = rand((2, 3, 3), seed=5)
    check_complex(lambda L, A: (L.linalg.eig(A)[0] ** 2).sum(-1), [a], rtol=1e-6, atol=1e-8)
    check_complex(lambda L, A: L.linalg.eig(A)[1].abs(), [a], rtol=1e-6, atol=1e-8)


def test_solve_complex():
    check_complex(lambda L, A, B: L.linalg.solve(A, B) if L is not tg else
                  tg.ops.linalg_eig.solve(A, B), [rand((3, 3)), rand((3, 2), seed=1)])
    check_complex(lambda L, A, B: L.linalg.solve(A, B) if L is not tg else
                  tg.ops.linalg_eig.solve(A, B), [rand((3, 3)), rand((3,), seed=1)])
    check_complex(lambda L, A, B: L.linalg.solve(A, B) if L is not tg else
                  tg.ops.linalg_eig.solve(A, B), [rand((2, 3, 3)), rand((2, 3, 2), seed=1)])


def test_eig_phase_dependent_loss_raises_as_pytorch():
    a = tg.tensor(A, requires_grad=True)
    w, v = tg.linalg.eig(a)
    with pytest.raises(RuntimeError, match="specified up to multiplication by e"):
        v[1, 1].real.backward()  # PyTorch raises here too


def test_numpy_eig_follows_numpy_dtypes():
    sym = A + A.T
    w, v = np.linalg.eig(tg.tensor(sym, requires_grad=True))  # real spectrum: real arrays
    assert w.dtype == np.float64 and v.dtype == np.float64
    w.sum().backward()
    rot = tg.tensor([[0.0, -1.0], [1.0, 0.0]], requires_grad=True)
    w = np.linalg.eigvals(rot)
    assert w.dtype == np.complex128 and np.allclose(sorted(w.detach().numpy().imag), [-1, 1])
    (w * w).real.sum().backward()
    assert np.allclose(rot.grad.numpy(), 2 * rot.detach().numpy().T)  # d tr(A^2) = 2 A^T
