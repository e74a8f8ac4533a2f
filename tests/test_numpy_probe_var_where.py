"""np.var/np.std (and nanvar/nanstd) with where= on tensors that require grad: NumPy's spread of
the selected entries (their mean, their count less ddof); the entries left out get no gradient.
They raised TypeError."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

A = np.random.default_rng(0).standard_normal((4, 5))
M = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [1, 0, 1, 0, 1], [1, 1, 0, 1, 1]], bool)
NAN_COL = np.where(np.arange(5) == 1, np.nan, 0.0)

CASES = {
    "var": lambda a: np.var(a, where=M),
    "std axis=1": lambda a: np.std(a, axis=1, where=M),
    "var ddof=1 axis=0 keepdims": lambda a: np.var(a, axis=0, ddof=1, where=M, keepdims=True),
    "std correction=1": lambda a: np.std(a, axis=0, correction=1, where=M),
    "std broadcast row mask": lambda a: np.std(a, axis=1, where=M[2]),
    "var axis tuple": lambda a: np.var(a, axis=(0, 1), where=M),
    "nanvar": lambda a: np.nanvar(a + NAN_COL, axis=1, where=M),
    "nanstd": lambda a: np.nanstd(a + NAN_COL, axis=1, ddof=1, where=M),
    "std complex": lambda a: np.std(a * (1 + 2j), axis=1, where=M),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradcheck(name):
    f = CASES[name]
    t = tg.tensor(A, requires_grad=True)
    r, ref = f(t), f(A)
    assert r.dtype == ref.dtype and r.shape == ref.shape
    np.testing.assert_allclose(r.detach().numpy(), ref, rtol=1e-13)
    assert tg.autograd.gradcheck(f, (t,))


def test_against_torch_and_left_out_entries():
    torch = pytest.importorskip("torch")
    t = tg.tensor(A, requires_grad=True)
    w = np.array([1.0, -2.0, 0.5, 3.0])
    (np.std(t, axis=1, ddof=1, where=M) * tg.tensor(w)).sum().backward()
    u = torch.tensor(A, requires_grad=True)
    rows = [u[i][torch.tensor(M[i])].std(correction=1) for i in range(4)]
    (torch.stack(rows) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), u.grad.numpy(), rtol=1e-13)
    np.testing.assert_array_equal(t.grad.numpy()[~M], 0.0)


def test_empty_selection_is_nan_as_numpy():
    t = tg.tensor(A, requires_grad=True)
    m = M.copy()
    m[0] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = np.var(A, axis=1, where=m)
        r = np.var(t, axis=1, where=m)
    np.testing.assert_allclose(r.detach().numpy(), ref, rtol=1e-13)
    assert np.isnan(r.detach().numpy()[0])
    (g,) = tg.autograd.grad(r[1:].sum(), [t])
    np.testing.assert_array_equal(g.numpy()[0], 0.0)
