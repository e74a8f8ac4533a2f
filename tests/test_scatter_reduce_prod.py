"""scatter_reduce(reduce='prod'): PyTorch's values, and its gradients of self and src where
zeros are scattered (none, one, two in one slot), first and second order."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _case(rng, zeros):
    nd = int(rng.integers(1, 4))
    shape = tuple(int(n) for n in rng.integers(1, 5, nd))
    d = int(rng.integers(nd))
    along = int(rng.integers(2 if zeros == 2 else 1, 8))  # (room for two zeros in a slot)
    ishape = tuple(int(rng.integers(1, n + 1)) if k != d else along for k, n in enumerate(shape))
    sshape = ishape  # (PyTorch's prod backward fails for a src larger than the index)
    idx = rng.integers(0, shape[d], ishape)
    x, src = rng.uniform(0.5, 2.0, shape), rng.uniform(0.5, 2.0, sshape)
    x *= rng.choice([-1.0, 1.0], shape)
    if zeros:
        x.reshape(-1)[rng.random(x.size) < 0.2] = 0.0
        src[rng.random(sshape) < 0.3] = 0.0
        if zeros == 2:  # two zeros into one slot of self
            first = (0,) * nd
            at = [k for k in np.ndindex(*ishape) if idx[k] == idx[first]]
            if len(at) < 2:
                idx[tuple(1 if k == d and ishape[d] > 1 else 0 for k in range(nd))] = idx[first]
                at = [k for k in np.ndindex(*ishape) if idx[k] == idx[first]]
            for k in at[:2]:
                src[k] = 0.0
    return x, d, idx, src


def _both(x, d, idx, src, include_self, dtype, inplace):
    outs = []
    for L in (torch, tg):
        a = L.tensor(x.astype(dtype), requires_grad=True)
        s = L.tensor(src.astype(dtype), requires_grad=True)
        i = L.tensor(idx)
        if inplace:
            y = (a * 1).scatter_reduce_(d, i, s, "prod", include_self=include_self)
        else:
            y = L.scatter_reduce(a, d, i, s, "prod", include_self=include_self)
        outs.append((a, s, y))
    return outs


@pytest.mark.parametrize("zeros", [0, 1, 2])
@pytest.mark.parametrize("include_self", [True, False])
def test_values_and_gradients_match_pytorch(zeros, include_self):
    rng = np.random.default_rng(10 * zeros + include_self)
    for trial in range(40):
        x, d, idx, src = _case(rng, zeros)
        dtype = (np.float64, np.float32)[trial % 2]
        (ta, ts, ty), (ga, gs, gy) = _both(x, d, idx, src, include_self, dtype, trial % 3 == 0)
        np.testing.assert_array_equal(gy.detach().numpy(), ty.detach().numpy())
        assert gy.dtype == tg.float64 if dtype == np.float64 else tg.float32
        g = rng.standard_normal(x.shape).astype(dtype)
        want = torch.autograd.grad(ty, (ta, ts), torch.tensor(g))
        got = tg.autograd.grad(gy, (ga, gs), tg.tensor(g))
        tol = dict(rtol=1e-13, atol=1e-13) if dtype == np.float64 else dict(rtol=3e-6, atol=3e-6)
        for w, h in zip(want, got):
            np.testing.assert_allclose(h.numpy(), w.numpy(), **tol)


@pytest.mark.parametrize("include_self", [True, False])
def test_second_order_matches_pytorch(include_self):
    rng = np.random.default_rng(7)
    for trial in range(30):
        x, d, idx, src = _case(rng, trial % 2)  # (at most one zero per slot from src here
        n_zero = np.zeros(x.shape)                 # or PyTorch refuses the double backward)
        np.add.at(n_zero, tuple(np.indices(idx.shape)[k] if k != d else idx
                                for k in range(x.ndim)), src == 0)
        if n_zero.max() > 1:
            continue
        (ta, ts, ty), (ga, gs, gy) = _both(x, d, idx, src, include_self, np.float64, False)
        g = rng.standard_normal(x.shape)
        tw = torch.autograd.grad(ty, (ta, ts), torch.tensor(g), create_graph=True)
        gw = tg.autograd.grad(gy, (ga, gs), tg.tensor(g), create_graph=True)
        for k in range(2):
            want = torch.autograd.grad(tw[k].square().sum(), (ta, ts), allow_unused=True,
                                       retain_graph=True, materialize_grads=True)
            if not gw[k].requires_grad:  # (a gradient constant in self and src: without
                assert not include_self     # self, self's is g or 0, a lone src's is g)
                for w in want:
                    np.testing.assert_allclose(w.numpy(), 0.0, atol=1e-12)
                continue
            got = tg.autograd.grad(gw[k].square().sum(), (ga, gs), allow_unused=True,
                                   retain_graph=True, materialize_grads=True)
            for w, h in zip(want, got):
                np.testing.assert_allclose(h.numpy(), w.numpy(), rtol=1e-12, atol=1e-12)


def test_integer_and_empty_index():
    x = tg.tensor([[2, 3], [4, 5]])
    y = x.scatter_reduce(0, tg.tensor([[1, 1], [1, 0]]), tg.tensor([[6, 7], [8, 9]]), "prod")
    t = torch.tensor([[2, 3], [4, 5]]).scatter_reduce(
        0, torch.tensor([[1, 1], [1, 0]]), torch.tensor([[6, 7], [8, 9]]), "prod")
    np.testing.assert_array_equal(y.numpy(), t.numpy())
    assert y.dtype == tg.int64
    a = tg.tensor([1.5, -2.0], requires_grad=True)
    e = a.scatter_reduce(0, tg.tensor([], dtype=tg.int64), tg.ones(0), "prod",
                         include_self=False)
    e.backward(tg.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(e.detach().numpy(), [1.5, -2.0])
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("xs,ss", [
    ([1.5, -2.0, 0.7, 3.0], [0.5, 0.0, -1.2, 0.0, 1.1, -0.3]),  # two src zeros in slot 1
    ([1.5, 0.0, 0.7, 3.0], [0.5, 0.0, -1.2, 0.0, 1.1, -0.3]),   # and self's zero there
    ([0.0, -2.0, 0.7, 3.0], [0.0, 2.0, 0.0, 0.8, 1.1, 0.0]),    # three in slot 0
    ([1.5, -2.0, 0.7, 3.0], [0.5, 2.0, 0.0, 0.8, 1.1, -0.3])])  # one (PyTorch's case too)
def test_second_order_with_several_zeros_in_a_slot_by_finite_differences(include_self, xs, ss):
    """Where PyTorch's double backward refuses ("Double backward is unsupported for src when
    >1 zeros in src are scattered to the same position"), the product is a polynomial and its
    second derivatives exist: tapegrad's are checked against finite differences."""
    idx = tg.tensor([0, 1, 0, 1, 2, 0])
    x = tg.tensor(xs, dtype=tg.float64, requires_grad=True)
    s = tg.tensor(ss, dtype=tg.float64, requires_grad=True)

    def f(x, s):
        return x.scatter_reduce(0, idx, s, reduce="prod", include_self=include_self)

    assert tg.autograd.gradcheck(f, (x, s))
    assert tg.autograd.gradgradcheck(f, (x, s))
