"""A create_graph backward of a small graph reads its records without flushing them: the
numeric backward of what it recorded (a Hessian-vector product) then makes its tables in one
block. The flags and checks that read the flushed records still hold."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _hvp(lib, A, xv, vv, f):
    x = lib.tensor(xv, requires_grad=True)
    (g,) = lib.autograd.grad(f(lib, lib.tensor(A) @ x).sum(), x, create_graph=True)
    pending = getattr(g, "_seg", None)
    pending = None if pending is None else pending.nbuf
    (h,) = lib.autograd.grad(g, x, lib.tensor(vv))
    return g.detach().numpy(), h.numpy(), pending


@pytest.mark.parametrize("f", [
    lambda lib, y: lib.tanh(y) ** 2,
    lambda lib, y: lib.sin(y) * lib.exp(y * 0.5),
    lambda lib, y: y ** 3 - lib.sigmoid(y),
])
@pytest.mark.parametrize("n", [1, 7])
def test_hvp_of_pending_records(f, n):
    r = np.random.default_rng(n)
    A, xv, vv = r.standard_normal((n, n)), r.standard_normal(n), r.standard_normal(n)
    g, h, pending = _hvp(tg, A, xv, vv, f)
    gt, ht, _ = _hvp(torch, A, xv, vv, f)
    if n > 1:  # (one element: the gradient's reshape to (1,) reads its record's row)
        assert pending == 0  # the first backward left the records pending
    np.testing.assert_allclose(g, gt, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h, ht, rtol=1e-12, atol=1e-12)


def _freed_twice(lib):
    x = lib.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    y = (lib.tanh(x) ** 2).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError) as e:
        lib.autograd.grad(y, x)
    return g.detach().numpy(), str(e.value).split("\n")[0]


def test_create_graph_without_retain_frees():
    g, msg = _freed_twice(tg)
    gt, msgt = _freed_twice(torch)
    np.testing.assert_allclose(g, gt, rtol=1e-14)
    assert msg == msgt


def _modified(lib):
    x = lib.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    t = x * 1.0
    y = (t * t).sum()
    t.mul_(2.0)
    with pytest.raises(RuntimeError) as e:
        lib.autograd.grad(y, x, create_graph=True)
    return str(e.value).split(":")[0]


def test_create_graph_sees_in_place_change():
    assert _modified(tg) == _modified(torch)


def _hooked(lib):
    x = lib.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    t = lib.sin(x)
    t.register_hook(lambda g: g * 3.0)
    (g,) = lib.autograd.grad((t * t).sum(), x, create_graph=True)
    (h,) = lib.autograd.grad(g.sum(), x)
    return g.detach().numpy(), h.numpy()


def test_create_graph_runs_hooks():
    for a, b in zip(_hooked(tg), _hooked(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
