"""Tensors made inside vmap from a batched one (zeros_like(v), v.new_zeros(n), ...) are
batched as in torch.func: writing an example's values into them in place works."""

import numpy as np
import pytest

import tapegrad as tg


def _x():
    return np.random.default_rng(0).standard_normal((3, 4))


def _fill(L):
    def f(v):
        y = L.zeros_like(v)
        y[0] = v[0] * 2
        z = v.new_full((4,), 3.0)
        z[1:] = v[1:]
        e = L.full_like(v, 2.0)
        e.mul_(v)
        o = L.ones_like(v)
        o.add_(v)
        n = v.new_zeros(2)
        n.copy_(v[:2])
        return y.sum() + z * v + e + o + n.sum() + L.empty_like(v).zero_() + v.new_ones(4)
    return f


def _expected(x):
    y0 = x[:, 0] * 2
    z = np.concatenate([np.full((3, 1), 3.0), x[:, 1:]], axis=1)
    return (y0[:, None] + z * x + 2 * x + 1 + x + x[:, :2].sum(1, keepdims=True) + 1)


def test_like_and_new_tensors_of_a_batched_value_take_its_examples():
    x = _x()
    got = tg.vmap(_fill(tg))(tg.tensor(x))
    np.testing.assert_allclose(got.numpy(), _expected(x), rtol=1e-12)


def test_nested_and_under_grad_match_finite_differences():
    x = _x()

    def loss(v):
        return (tg.vmap(_fill(tg))(v[None]) ** 2).sum()

    xs = tg.tensor(x, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.vmap(tg.vmap(_fill(tg)))(t[None]), (xs,))
    got = tg.vmap(tg.func.grad(loss))(tg.tensor(x))
    eps = 1e-6
    want = np.zeros_like(x)
    for i in range(3):
        for j in range(4):
            d = np.zeros_like(x)
            d[i, j] = eps
            want[i, j] = (((_expected(x + d)[i]) ** 2).sum()
                          - ((_expected(x - d)[i]) ** 2).sum()) / (2 * eps)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)


def test_like_of_an_unbatched_tensor_stays_unbatched():
    w = tg.ones(4, dtype=tg.float64)

    def f(v):
        y = tg.zeros_like(w)
        y.add_(1.0)  # (an in-place write of unbatched values: no vmap level on y)
        return y * v

    np.testing.assert_allclose(tg.vmap(f)(tg.tensor(_x())).numpy(), _x())
    with pytest.raises(RuntimeError, match=r"output with shape \[4\] doesn't match the "
                                           r"broadcast shape \[\d+, 4\]"):  # (PyTorch's add_)
        tg.vmap(lambda v: tg.zeros_like(w).add_(v))(tg.tensor(_x()))


def test_same_as_torch_func():
    torch = pytest.importorskip("torch")
    x = _x()
    want = torch.func.vmap(_fill(torch))(torch.tensor(x))
    got = tg.vmap(_fill(tg))(tg.tensor(x))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_like_factories_take_torchs_input_keyword_inside_and_outside_vmap():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert tg.zeros_like(input=x[0]).tolist() == [0.0, 0.0]
    assert tg.full_like(input=x[0], fill_value=3).tolist() == [3.0, 3.0]
    out = tg.vmap(lambda v: tg.zeros_like(input=v).add_(v * 2))(x)
    assert out.tolist() == [[2.0, 4.0], [6.0, 8.0]]
