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


def _repeated():
    """A diagonalisable non-symmetric matrix with the eigenvalue 2 twice."""
    P = np.array([[1.0, 2.0, 0.5], [0.0, 1.0, 3.0], [1.0, -1.0, 2.0]])
    return P @ np.diag([2.0, 2.0, 5.0]) @ np.linalg.inv(P)


@pytest.mark.parametrize("a", [np.eye(3), _repeated()])
def test_eigvals_alone_at_repeated_eigenvalue(a):
    # sum(L) = trace(A) and sum(L^2) = trace(A^2) have gradients I and 2 A^T even where
    # eigenvalues repeat; the eigenvectors' 1/(L[j] - L[i]) term must not enter
    x = tg.tensor(a, requires_grad=True)
    w = tg.linalg.eigvals(x)
    g1, = tg.autograd.grad(w.real.sum(), x, retain_graph=True)
    g2, = tg.autograd.grad((w * w).real.sum(), x)
    np.testing.assert_allclose(g1.numpy(), np.eye(3), atol=1e-10)
    np.testing.assert_allclose(g2.numpy(), 2 * a.T, atol=1e-9)
    x.grad = None
    (tg.linalg.eig(x)[0].real * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_eigvals_alone_at_repeated_eigenvalue_matches_torch():
    torch = pytest.importorskip("torch")
    w = np.array([1.0, -2.0, 0.5])
    # (unequal weights on a repeated eigenvalue have no derivative: the result depends on the
    # eigenspace's basis LAPACK returns, the same for both only where it is the identity's)
    for a in (np.eye(3), np.diag([1.0, 1.0, 2.0]), np.diag([3.0, -1.0, 3.0])):
        x = tg.tensor(a, requires_grad=True)
        (tg.linalg.eigvals(x).real * tg.tensor(w)).sum().backward()
        t = torch.tensor(a, requires_grad=True)
        (torch.linalg.eigvals(t).real * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("which", ["eig", "svd", "eigh"])
def test_jvp_of_eigenvectors_matches_torch(which):
    # forward mode seeds the vectors' cotangent with zeros it then differentiates: the rule's
    # shortcut for a loss of the values alone must not drop the vectors' terms there
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    da = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    if which == "eig":
        a, da = a.real, da.real
    if which == "eigh":
        a, da = a + a.conj().T, da + da.conj().T

    def f(m):
        def g(x):
            if which == "svd":
                V = m.linalg.svd(x)[0]
            else:
                V = getattr(m.linalg, which)(x)[1]
            return (V / V[..., :1, :]).abs()  # phase-free
        return g

    want = torch.func.jvp(f(torch), (torch.tensor(a),), (torch.tensor(da),))[1]
    got = tg.func.jvp(f(tg), (tg.tensor(a),), (tg.tensor(da),))[1]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-7, atol=1e-9)
