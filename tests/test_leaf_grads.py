"""A plain ``loss.backward()`` of one segment adds its leaves' gradients into ``.grad`` as it
reads them from the arena (``autograd.leaf_grads``): the same ``.grad`` values, aliasing,
versions and hooks as PyTorch's accumulation."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import driver

torch = pytest.importorskip("torch")


def _pair(dtype=np.float64, n=64):
    rng = np.random.default_rng(3)
    av, bv = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    return (tg.tensor(av, requires_grad=True), tg.tensor(bv, requires_grad=True),
            torch.tensor(av, requires_grad=True), torch.tensor(bv, requires_grad=True))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_repeated_backward_accumulates_as_torch(dtype):
    a, b, ta, tb = _pair(dtype)
    for _ in range(3):
        (a * b).sum().backward()
        (ta * tb).sum().backward()
    for t, tt in ((a, ta), (b, tb)):
        assert t.grad.dtype == t.dtype
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-6)
    # each .grad owns its memory: not a view of the other's (one arena for both)
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())


def test_grad_is_added_in_place_and_its_version_moves():
    a, b, ta, tb = _pair()
    (a * b).sum().backward()
    (ta * tb).sum().backward()
    g, tg_ = a.grad, ta.grad
    v, tv = g._version, tg_._version
    (a * b).sum().backward()
    (ta * tb).sum().backward()
    assert a.grad is g and ta.grad is tg_  # (PyTorch adds into the existing .grad in place)
    assert g._version - v == tg_._version - tv == 1
    np.testing.assert_allclose(g.numpy(), tg_.detach().numpy())


def test_leaves_without_hooks_skip_the_second_pass(monkeypatch):
    a, b, *_ = _pair()
    calls = []
    real = driver._add_into_grads
    monkeypatch.setattr(driver, "_add_into_grads", lambda t: calls.append(1) or real(t))
    (a * b).sum().backward()
    (a * b).sum().backward()
    assert calls == []
    np.testing.assert_allclose(a.grad.numpy(), 2 * b.detach().numpy())


def test_hooks_retained_and_unusual_grads_keep_their_path():
    a, b, ta, tb = _pair()
    seen, tseen = [], []
    a.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 2)
    ta.register_hook(lambda g: tseen.append(g.numpy().copy()) or g * 2)
    b.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    tb.register_post_accumulate_grad_hook(lambda t: tseen.append(t.grad.numpy().copy()))
    b.grad = tg.zeros(64).requires_grad_()  # a .grad that requires grad: replaced, not added
    tb.grad = torch.zeros(64, dtype=torch.float64).requires_grad_()
    for _ in range(2):
        (a * b).sum().backward()
        (ta * tb).sum().backward()
    assert len(seen) == len(tseen) == 4
    for s, ts in zip(seen, tseen):
        np.testing.assert_allclose(s, ts)
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_allclose(b.grad.detach().numpy(), tb.grad.detach().numpy())
    assert b.grad.requires_grad == tb.grad.requires_grad

