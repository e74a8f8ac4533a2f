"""kthvalue and index_add / index_add_ against PyTorch and finite differences."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape,dim,k,keepdim", [((7,), 0, 3, False), ((4, 6), 1, 1, False),
                                                 ((4, 6), 0, 4, True), ((3, 4, 5), -1, 5, False),
                                                 ((3, 4, 5), 1, 2, True)])
def test_kthvalue_vs_torch(shape, dim, k, keepdim):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape)  # distinct values: indices are unique
    g = rng.standard_normal(torch.from_numpy(a).kthvalue(k, dim, keepdim).values.shape)
    x = tg.tensor(a, requires_grad=True)
    v, i = tg.kthvalue(x, k, dim=dim, keepdim=keepdim)
    tx = torch.tensor(a, requires_grad=True)
    tv, ti = torch.kthvalue(tx, k, dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(v.detach().numpy(), tv.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    assert i.dtype == tg.int64
    (v * tg.tensor(g)).sum().backward()
    (tv * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    # method form and named fields
    m = x.kthvalue(k, dim, keepdim)
    np.testing.assert_array_equal(m.values.detach().numpy(), v.detach().numpy())
    np.testing.assert_array_equal(m.indices.numpy(), i.numpy())


def test_kthvalue_gradcheck_and_errors():
    x = tg.tensor(np.random.default_rng(1).standard_normal((3, 5)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.kthvalue(t, 2, 1).values, (x,))
    assert tg.autograd.gradcheck(lambda t: t.kthvalue(3, 0, keepdim=True)[0], (x,))
    with pytest.raises(RuntimeError):
        tg.kthvalue(x, 0)
    with pytest.raises(RuntimeError):
        tg.kthvalue(x, 6)
    s = tg.kthvalue(tg.tensor(2.5), 1)
    assert s.values.shape == () and s.indices.item() == 0


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("alpha", [1, -2.5])
def test_index_add_vs_torch_repeated_indices(dim, alpha):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 5))
    n = a.shape[dim]
    idx = np.array([0, n - 1, 0, 1, n - 1, 0])  # repeats accumulate
    sshape = list(a.shape)
    sshape[dim] = idx.size
    s = rng.standard_normal(sshape)
    out_shape_g = rng.standard_normal(a.shape)
    x, src = tg.tensor(a, requires_grad=True), tg.tensor(s, requires_grad=True)
    tx, ts = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
    out = x.index_add(dim, tg.tensor(idx), src, alpha=alpha)
    tout = tx.index_add(dim, torch.tensor(idx), ts, alpha=alpha)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-14,
                               atol=1e-14)
    (out * tg.tensor(out_shape_g)).sum().backward()
    (tout * torch.tensor(out_shape_g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(src.grad.numpy(), ts.grad.numpy(), rtol=1e-14)
    f = tg.index_add(x, dim, tg.tensor(idx), src, alpha=alpha)
    np.testing.assert_array_equal(f.detach().numpy(), out.detach().numpy())
    assert tg.autograd.gradcheck(
        lambda u, v: tg.index_add(u, dim, tg.tensor(idx), v, alpha=alpha), (x, src))


def test_index_add_integer_and_float32():
    a = np.arange(12, dtype=np.int64).reshape(3, 4)
    s = np.ones((3, 2), dtype=np.int64) * 5
    idx = np.array([3, 3])
    out = tg.tensor(a).index_add(1, tg.tensor(idx), tg.tensor(s), alpha=2)
    ref = torch.tensor(a).index_add(1, torch.tensor(idx), torch.tensor(s), alpha=2)
    assert out.dtype == tg.int64
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    a32 = np.random.default_rng(3).standard_normal((5, 2)).astype(np.float32)
    s32 = np.ones((3, 2), np.float32)
    out = tg.tensor(a32).index_add(0, tg.tensor([4, 0, 4]), tg.tensor(s32))
    ref = torch.tensor(a32).index_add(0, torch.tensor([4, 0, 4]), torch.tensor(s32))
    assert out.dtype == tg.float32
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_index_add_inplace():
    rng = np.random.default_rng(4)
    a, s = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    idx = [1, 1, 3]
    w = tg.tensor(a, requires_grad=True)
    src = tg.tensor(s, requires_grad=True)
    y = w * 1.0
    r = y.index_add_(0, tg.tensor(idx), src, alpha=3)
    assert r is y
    tw, ts = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
    ty = tw * 1.0
    ty.index_add_(0, torch.tensor(idx), ts, alpha=3)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-14)
    (y ** 2).sum().backward()
    (ty ** 2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(src.grad.numpy(), ts.grad.numpy(), rtol=1e-13)
    z = tg.zeros(3)
    z.index_add_(0, tg.tensor([2, 2]), tg.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(z.numpy(), [0.0, 0.0, 3.0])


def test_index_add_errors():
    x = tg.zeros(3, 4)
    with pytest.raises(RuntimeError):
        x.index_add(0, tg.tensor([0, 1]), tg.ones(3, 4))
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0"):
        x.index_add(0, tg.tensor([5]), tg.ones(1, 4))
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_add(0, tg.tensor([5]), tg.ones(1, 4), alpha=2)
    with pytest.raises(RuntimeError):
        x.index_add(0, tg.tensor([0.5]), tg.ones(1, 4))
