"""A small sweep's seed, its records read without a refresh, and its freeing, against PyTorch
and finite differences: the scalar seed written as one element (float64 and float32 arenas),
a size-1 seed of another shape, seeds added onto one another, and what freeing leaves."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import sweep as S

torch = pytest.importorskip("torch")


def _pair(dtype, n=64, seed=5):
    r = np.random.default_rng(seed)
    av, bv = r.standard_normal(n).astype(dtype), r.standard_normal(n).astype(dtype)
    return (tg.tensor(av, requires_grad=True), tg.tensor(bv, requires_grad=True),
            torch.tensor(av, requires_grad=True), torch.tensor(bv, requires_grad=True))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scalar_seed_matches_pytorch(dtype):
    a, b, ta, tb = _pair(dtype)
    for _ in range(3):  # fresh .grad, then added into it
        (a * b).sum().backward()
        (ta * tb).sum().backward()
        assert a.grad.dtype == dtype
        np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
        np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_given_seed_rounds_as_pytorch(dtype):
    a, b, ta, tb = _pair(dtype)
    g = 0.1  # not a float32 number: rounded into a float32 arena as an array copy would
    ((a * b).sum() * 1.0).backward(tg.tensor(g, dtype=dtype))
    ((ta * tb).sum() * 1.0).backward(torch.tensor(g, dtype=getattr(torch, np.dtype(dtype).name)))
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())


def test_size_one_seed_of_other_shapes():
    a, b, ta, tb = _pair(np.float64, n=1)
    y, ty = a * b, ta * tb  # shape (1,): the seed is an array of one element
    y.backward(tg.tensor([2.5]))
    ty.backward(torch.tensor([2.5]))
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    a2, b2, ta2, tb2 = _pair(np.float64, n=4)
    z, tz = (a2 * b2).sum(0, keepdim=True), (ta2 * tb2).sum(0, keepdim=True)
    z.backward(tg.tensor([3.0]))
    tz.backward(torch.tensor([3.0]))
    np.testing.assert_array_equal(a2.grad.numpy(), ta2.grad.numpy())


def test_two_seeds_into_one_record_add_up():
    a, b, ta, tb = _pair(np.float64)
    s, ts = (a * b).sum(), (ta * tb).sum()
    tg.autograd.backward([s, s], [tg.tensor(1.5), tg.tensor(-0.25)])
    torch.autograd.backward([ts, ts], [torch.tensor(1.5), torch.tensor(-0.25)])
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-15, atol=0)


def test_gradcheck_small_product_sum():
    r = np.random.default_rng(1)
    a = tg.tensor(r.standard_normal(8), requires_grad=True)
    b = tg.tensor(r.standard_normal(8), requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, y: (x * y).sum(), (a, b))


def test_freeing_then_second_backward():
    a, b, ta, tb = _pair(np.float64)
    s, ts = (a * b).sum(), (ta * tb).sum()
    s.backward(retain_graph=True)
    ts.backward(retain_graph=True)
    s.backward()
    ts.backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        s.backward()
    # records that saved nothing still work after freeing (PyTorch's sum of a sum)
    c, tc = a.sum(), ta.sum()
    d, td = c + 2.0, tc + 2.0
    d.backward()
    td.backward()
    d.backward()
    td.backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())


def test_records_read_after_a_flush_moved_them():
    """A sweep whose segment's buffer moved between set-up and run reads the moved records."""
    a, b, ta, tb = _pair(np.float64)
    s = (a * b).sum()
    seg = s._seg
    sw = S.Sweep(seg, s._rec)
    old = seg.buf
    seg.buf = old.copy()  # (as a flush on another thread would: the same records elsewhere)
    sw.seed(s._rec, np.ones(1))
    from tapegrad.autograd.driver import PAUSES

    sw.run(s._rec, 0, PAUSES, free=False)
    assert sw.recs.base is seg.buf or sw.recs.base is seg.buf.base
    for r, src in seg.imports.items():  # d(a*b)/da = b and d/db = a
        want = tb if src is a else ta
        np.testing.assert_array_equal(sw.grad_of(r), want.detach().numpy())
