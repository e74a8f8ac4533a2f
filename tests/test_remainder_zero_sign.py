"""fmod, remainder and % give PyTorch's values to the sign of a zero (a zero result of
remainder keeps the dividend's sign, as fmod's), with or without gradients; the gradients
are unchanged (PyTorch's, and finite differences)."""

import itertools

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

_V = [-0.0, 0.0, -np.inf, np.inf, np.nan, -5.0, 5.0, 2.5, -2.5, 1.0, -1.0, 0.3, -0.3, 7.0, 1e-30]
_A, _B = (np.array(c) for c in zip(*itertools.product(_V, _V)))


def _same(u, v):
    u, v = np.asarray(u), np.asarray(v)
    assert u.dtype == v.dtype
    ok = (np.isnan(u) & np.isnan(v)) | ((u == v) & (np.signbit(u) == np.signbit(v)))
    assert ok.all(), [(a, b) for a, b, o in zip(u.ravel(), v.ravel(), ok.ravel()) if not o]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("how, name", [("function", "fmod"), ("method", "fmod"),
                                       ("function", "remainder"), ("method", "remainder"),
                                       ("operator", "remainder")])
@pytest.mark.parametrize("grad", [False, True])
def test_tensor_divisor_grid(dtype, how, name, grad):
    a, b = _A.astype(dtype), _B.astype(dtype)

    def run(lib):
        x, y = lib.tensor(a, requires_grad=grad), lib.tensor(b)
        if how == "function":
            return getattr(lib, name)(x, y)
        return getattr(x, name)(y) if how == "method" else x % y

    _same(run(tg).detach().numpy(), run(torch).detach().numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["fmod", "remainder"])
@pytest.mark.parametrize("d", [2.5, -2.5, 1, -1, 0.0, -0.0, float("inf"), -float("inf")])
def test_number_divisor(dtype, name, d):
    a = _A.astype(dtype)
    for grad in (False, True):
        ours = getattr(tg.tensor(a, requires_grad=grad), name)(d).detach().numpy()
        _same(ours, getattr(torch.tensor(a, requires_grad=grad), name)(d).detach().numpy())
    if name == "remainder":
        _same((tg.tensor(a) % d).numpy(), (torch.tensor(a) % d).numpy())
        _same((d % tg.tensor(a)).numpy(), (d % torch.tensor(a)).numpy())


def test_reported_cases():
    _same(tg.tensor([-5.]).fmod(2.5).numpy(), tg.tensor([-0.]).numpy())
    _same(tg.tensor([-0.]).remainder(1).numpy(), tg.tensor([-0.]).numpy())


def test_numpy_remainder_keeps_numpy_signs():
    a = np.array([-0.0, 0.0, -5.0, 5.0])
    _same(np.remainder(tg.tensor(a), -2.5).numpy(), np.remainder(a, -2.5))


@pytest.mark.parametrize("name", ["fmod", "remainder"])
def test_gradients_as_torch(name):
    a = np.array([-5.0, -0.0, 0.0, 3.7, -3.7, 1.3])
    b = np.array([2.5, 1.0, -1.0, -1.1, 0.9, 0.4])
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    getattr(tg, name)(x, y).sum().backward()
    getattr(torch, name)(tx, ty).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(y.grad.numpy(), ty.grad.numpy())
    xs = tg.tensor([-4.3, 3.7, 1.3], dtype=tg.float64, requires_grad=True)
    ys = tg.tensor([2.5, -1.1, 0.4], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(getattr(tg, name), (xs, ys))
