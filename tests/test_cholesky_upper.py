"""``cholesky(A, upper=True)`` factors A's upper triangle (LAPACK's ``uplo='U'``), as PyTorch."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

# not symmetric: the two triangles give different factors
A = np.array([[4.0, 1.0, 0.5], [2.0, 5.0, 0.3], [0.7, 0.1, 6.0]])


def _factor(name, x):
    if name == "cholesky_ex":
        return tg.linalg.cholesky_ex(x, upper=True).L
    if name == "cholesky":
        return tg.cholesky(x, upper=True)
    return tg.linalg.cholesky(x, upper=True)


@pytest.mark.parametrize("name", ["linalg.cholesky", "cholesky_ex", "cholesky"])
def test_upper_reads_the_upper_triangle(name):
    u = np.triu(A)
    sym = u + np.triu(u, 1).T
    got = _factor(name, tg.tensor(A)).numpy()
    np.testing.assert_allclose(got, np.linalg.cholesky(sym).T, rtol=1e-12)


@pytest.mark.parametrize("name", ["linalg.cholesky", "cholesky_ex", "cholesky"])
def test_upper_values_and_gradient_match_torch(name):
    torch = pytest.importorskip("torch")
    x = tg.tensor(A, requires_grad=True)
    (_factor(name, x) * tg.tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
    t = torch.tensor(A, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.cholesky's deprecation
        ft = {"cholesky_ex": lambda: torch.linalg.cholesky_ex(t, upper=True).L,
              "cholesky": lambda: torch.cholesky(t, upper=True),
              "linalg.cholesky": lambda: torch.linalg.cholesky(t, upper=True)}[name]()
    (ft * torch.arange(9.0, dtype=torch.float64).reshape(3, 3)).sum().backward()
    np.testing.assert_allclose(_factor(name, tg.tensor(A)).numpy(), ft.detach().numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_upper_complex_matches_torch():
    torch = pytest.importorskip("torch")
    z = np.array([[4.0, 1 + 1j], [2 - 3j, 5.0]])
    np.testing.assert_allclose(tg.linalg.cholesky(tg.tensor(z), upper=True).numpy(),
                               torch.linalg.cholesky(torch.tensor(z), upper=True).numpy(),
                               rtol=1e-12)


def test_upper_gradient_is_the_symmetric_one_of_the_upper_triangle():
    # The symmetric gradient G (PyTorch's convention) folds onto the triangle read:
    # finite differences in the upper entry (i, j) give G[i, j] + G[j, i], in the lower ones 0.
    w = np.arange(1.0, 10.0).reshape(3, 3)

    def f(a):
        return float((tg.linalg.cholesky(tg.tensor(a), upper=True).numpy() * w).sum())

    x = tg.tensor(A, requires_grad=True)
    (tg.linalg.cholesky(x, upper=True) * tg.tensor(w)).sum().backward()
    g = x.grad.numpy()
    np.testing.assert_allclose(g, g.T, rtol=1e-12)
    h = 1e-6
    for i in range(3):
        for j in range(3):
            e = np.zeros((3, 3))
            e[i, j] = h
            fd = (f(A + e) - f(A - e)) / (2 * h)
            want = 0.0 if i > j else (g[i, j] if i == j else g[i, j] + g[j, i])
            assert fd == pytest.approx(want, abs=1e-7)


@pytest.mark.parametrize("fn", [tg.linalg.cholesky,
                                lambda a, upper: tg.linalg.cholesky_ex(a, upper=upper)])
def test_upper_shape_errors_as_torch(fn):
    with pytest.raises(RuntimeError, match="must have at least 2 dimensions"):
        fn(tg.tensor([1.0, 2.0]), upper=True)
    with pytest.raises(RuntimeError, match="they are 2 by 3 matrices"):
        fn(tg.zeros(2, 3), upper=True)


def test_upper_gradcheck():
    b = tg.tensor(np.random.default_rng(0).standard_normal((2, 3, 3)), requires_grad=True)

    def f(b):
        return tg.linalg.cholesky(b @ b.mT + 3 * tg.eye(3, dtype=tg.float64), upper=True)

    assert tg.autograd.gradcheck(f, (b,))
    assert tg.autograd.gradgradcheck(f, (b,))


def test_upper_complex_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    a = a @ a.conj().T + 3 * np.eye(3) + 0.3 * np.tril(rng.standard_normal((3, 3)), -1)
    w = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    x = tg.tensor(a, requires_grad=True)
    tg.linalg.cholesky(x, upper=True).backward(tg.tensor(w))
    t = torch.tensor(a, requires_grad=True)
    torch.linalg.cholesky(t, upper=True).backward(torch.tensor(w))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_upper_ex_batch_with_failures_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[[4.0, 1.0], [2.0, 5.0]], [[1.0, 3.0], [0.0, 1.0]], [[1.0, -3.0], [7.0, -1.0]]])
    for upper in (False, True):
        got = tg.linalg.cholesky_ex(tg.tensor(a), upper=upper)
        want = torch.linalg.cholesky_ex(torch.tensor(a), upper=upper)
        np.testing.assert_array_equal(got.info.numpy(), want.info.numpy())
        np.testing.assert_allclose(got.L.numpy(), want.L.numpy(), rtol=1e-12)
