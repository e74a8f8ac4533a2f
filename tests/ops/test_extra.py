"""Functions of ops/extra.py: op table through check_table_entry, and values and errors as
PyTorch's where the table cannot reach (integer outputs, nan, booleans)."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F
from tests.op_checks import check_table_entry, needs_torch, torch

_IDX = np.array([[2, 0, 1, 3], [1, 1, 0, 2], [0, 2, 3, 1]])  # gather/scatter index, (3, 4)
_PERM = np.array([[2, 0, 1], [0, 2, 1]])  # distinct along dim 1 (scatter)


def _i(L, a):
    return L.tensor(a) if L is tg else torch.tensor(a)


# name, f(lib, *xs), shape cases, domain
OPS = [
    ("atan", lambda L, x: L.atan(x), [((3, 4),), ((),)], "any"),
    ("asin", lambda L, x: x.asin(), [((3, 4),)], "unit"),
    ("acos", lambda L, x: L.acos(x), [((5,),)], "unit"),
    ("sinh", lambda L, x: L.sinh(x), [((3, 4),), ((),)], "any"),
    ("cosh", lambda L, x: x.cosh(), [((3, 4),)], "any"),
    ("asinh", lambda L, x: L.asinh(x), [((3, 4),)], "any"),
    ("acosh", lambda L, x: L.acosh(x + 2.0), [((3, 4),)], "pos"),
    ("atanh", lambda L, x: x.atanh(), [((2, 3),)], "unit"),
    ("atan2", lambda L, y, x: L.atan2(y, x), [((3, 4), (3, 4)), ((2, 3), (3,))], "any"),
    ("atan2_method", lambda L, y, x: y.atan2(x), [((2, 1), (1, 3))], "any"),
    ("square", lambda L, x: L.square(x), [((3, 4),), ((),)], "any"),
    ("rsqrt", lambda L, x: x.rsqrt(), [((3, 4),)], "pos"),
    ("erf", lambda L, x: L.erf(x), [((3, 4),), ((),)], "any"),
    ("erfc", lambda L, x: x.erfc(), [((3, 4),)], "any"),
    ("xlogy", lambda L, x, y: L.xlogy(x, y), [((3, 4), (3, 4)), ((2, 3), (3,))], "pos"),
    ("masked_fill", lambda L, x: x.masked_fill(x > 0.2, -1.5), [((3, 4),)], "any"),
    ("gather", lambda L, x: L.gather(x, 1, _i(L, _IDX)), [((3, 5),)], "any"),
    ("gather_dim0", lambda L, x: x.gather(0, _i(L, _IDX[:2] % 3)), [((3, 4),)], "any"),
    ("scatter_add", lambda L, x, s: x.scatter_add(1, _i(L, _IDX), s), [((3, 4), (3, 4))],
     "any"),
    ("scatter", lambda L, x, s: L.scatter(x, 1, _i(L, _PERM), s), [((2, 3), (2, 3))], "any"),
    ("scatter_value", lambda L, x: x.scatter(1, _i(L, _PERM), 2.5), [((2, 3),)], "any"),
    ("index_select", lambda L, x: L.index_select(x, 1, _i(L, np.array([2, 0, 2]))),
     [((3, 4),)], "any"),
    ("take_along_dim", lambda L, x: L.take_along_dim(x, _i(L, _IDX[:, :2] % 3), 1),
     [((3, 4),)], "any"),
    ("take_along_dim_bcast", lambda L, x: L.take_along_dim(x, _i(L, np.array([[1], [0]])), 1),
     [((2, 3),)], "any"),
    ("take_along_dim_flat", lambda L, x: L.take_along_dim(x, _i(L, np.array([5, 0, 5]))),
     [((2, 3),)], "any"),
    ("repeat", lambda L, x: x.repeat(2, 1, 3), [((2, 3),), ((),)], "any"),
    ("repeat_interleave", lambda L, x: L.repeat_interleave(x, 2, dim=1), [((2, 3),)], "any"),
    ("repeat_interleave_flat", lambda L, x: x.repeat_interleave(3), [((2, 2),)], "any"),
    ("nan_to_num", lambda L, x: L.nan_to_num(
        x.masked_fill(_i(L, np.array([False, True, False, False])), np.inf).masked_fill(
            _i(L, np.array([False, False, True, False])), np.nan), nan=0.5, posinf=2.0),
     [((4,),)], "pos"),
    ("topk", lambda L, x: L.topk(x, 2, dim=1), [((3, 4),)], "any"),
    ("topk_smallest", lambda L, x: x.topk(3, largest=False).values, [((5,),)], "any"),
    ("sort", lambda L, x: L.sort(x, dim=0), [((3, 4),)], "any"),
    ("sort_descending", lambda L, x: x.sort(descending=True), [((2, 5),)], "any"),
    ("median_all", lambda L, x: L.median(x), [((3, 4),), ((5,),)], "any"),
    ("median_dim", lambda L, x: x.median(1), [((3, 4),), ((2, 5),)], "any"),
    ("median_keepdim", lambda L, x: L.median(x, 0, keepdim=True), [((3, 2),)], "any"),
    ("logcumsumexp", lambda L, x: L.logcumsumexp(x, 1), [((3, 4),), ((2, 1),)], "any"),
    ("logcumsumexp_dim0", lambda L, x: x.logcumsumexp(0), [((4,),), ((3, 2),)], "any"),
]


def _arrays(shapes, domain, rng):
    out = []
    for s in shapes:
        a = rng.standard_normal(s)
        if domain == "pos":
            a = rng.uniform(0.5, 1.5, s)
        elif domain == "unit":
            a = rng.uniform(-0.8, 0.8, s)
        out.append(np.asarray(a, np.float64))
    return out


@pytest.mark.parametrize("name,f,cases,domain", OPS, ids=[o[0] for o in OPS])
def test_op_table(name, f, cases, domain):
    check_table_entry(name, f, cases, lambda shapes, rng: _arrays(shapes, domain, rng))


def test_erf_has_one_definition():
    assert F.erf is tg.erf
    x = tg.tensor([0.3], requires_grad=True)
    assert type(F.gelu(x).grad_fn).__name__ == "GeluBackward0"  # one record, as PyTorch's
    assert type(tg.erf(x).grad_fn).__name__ == "ErfBackward0"




@needs_torch
def test_special_values_like_torch():
    a = np.array([0.0, -0.0, 1.0, -1.0, 2.0, np.inf, -np.inf, np.nan, 1e-300, 50.0, -50.0])
    with np.errstate(all="ignore"):
        for name in ("atan asin acos sinh cosh asinh acosh atanh erf erfc square rsqrt "
                     "isnan isinf isfinite nan_to_num").split():
            got = getattr(tg, name)(tg.tensor(a)).numpy()
            want = getattr(torch, name)(torch.tensor(a)).numpy()
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=0, err_msg=name)
        b = np.array([0.0, 1.0, np.inf, np.nan, 2.0, 0.0, 3.0, -1.0, 0.5, 1.0, 0.0])
        for name in ("atan2", "xlogy"):
            got = getattr(tg, name)(tg.tensor(a), tg.tensor(b)).numpy()
            want = getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy()
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=0, err_msg=name)


@needs_torch
def test_close_and_broadcast_shapes_like_torch():
    a = np.array([1.0, 1.0 + 1e-9, np.nan, np.inf, -np.inf, 2.0])
    b = np.array([1.0, 1.0, np.nan, np.inf, np.inf, 2.1])
    for eq in (False, True):
        np.testing.assert_array_equal(
            tg.isclose(tg.tensor(a), tg.tensor(b), equal_nan=eq).numpy(),
            torch.isclose(torch.tensor(a), torch.tensor(b), equal_nan=eq).numpy())
        assert tg.allclose(tg.tensor(a[:2]), tg.tensor(b[:2]), equal_nan=eq) is True
        assert tg.allclose(tg.tensor(a), tg.tensor(b), equal_nan=eq) is False
    assert tuple(tg.broadcast_shapes((2, 1), (3,), 1)) == tuple(torch.broadcast_shapes(
        (2, 1), (3,), 1))
    with pytest.raises(RuntimeError):
        tg.broadcast_shapes((2,), (3,))


@needs_torch
def test_index_outputs_like_torch():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 6))
    a[1, 2] = a[1, 4]  # a tie
    x, t = tg.tensor(a), torch.tensor(a)
    for f in (lambda L, v: L.sort(v, dim=1, stable=True), lambda L, v: L.topk(v, 3, 0),
              lambda L, v: L.median(v, 1), lambda L, v: L.sort(v, dim=0, descending=True,
                                                              stable=True)):
        got, want = f(tg, x), f(torch, t)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    assert tg.median(x).item() == torch.median(t).item()
    b = np.array([3.0, np.nan, 1.0, 2.0])
    assert np.isnan(tg.median(tg.tensor(b)).item())
    got, want = tg.median(tg.tensor(b), 0), torch.median(torch.tensor(b), 0)
    assert np.isnan(got.values.item()) and got.indices.item() == want.indices.item()
    np.testing.assert_array_equal(tg.sort(tg.tensor(b), descending=True).values.numpy(),
                                  torch.sort(torch.tensor(b), descending=True).values.numpy())


@needs_torch
def test_gather_errors_like_torch():
    x = tg.tensor(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="out of bounds"):
        tg.gather(x, 1, tg.tensor([[3]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        tg.gather(x, 1, tg.tensor([0]))
    with pytest.raises(RuntimeError):
        torch.gather(torch.zeros(2, 3), 1, torch.tensor([[3]]))


def test_logcumsumexp_wide_range_is_stable():
    a = np.array([-1000.0, 0.0, -1000.0, 1000.0])
    x = tg.tensor(a, requires_grad=True)
    y = tg.logcumsumexp(x, 0)
    np.testing.assert_allclose(y.detach().numpy(), [-1000.0, 0.0, 0.0, 1000.0])
    y.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    if torch is not None:
        t = torch.tensor(a, requires_grad=True)
        torch.logcumsumexp(t, 0).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_xlogy_at_zero_has_pytorchs_values_and_derivatives():
    """``xlogy(0, y)`` is +0 (NaN for a NaN y) and its derivative in x is log(y) there (0
    where y <= 0), as PyTorch's; signed zeros elsewhere as ``x * log(y)``."""
    xs = np.array([0.0, -0.0, 2.0, -2.0, 0.5, np.nan])
    ys = np.array([0.0, -1.0, 0.5, 1.0, 2.0, np.nan])
    X, Y = (a.ravel() for a in np.meshgrid(xs, ys))
    x, y = tg.tensor(X, requires_grad=True), tg.tensor(Y, requires_grad=True)
    with np.errstate(all="ignore"):
        v = tg.xlogy(x, y)
        gx, gy = tg.autograd.grad(v.sum(), (x, y))
        zero = (X == 0) & ~np.isnan(Y)
        want_v = np.where(zero, 0.0, X * np.log(Y))
        want_gx = np.where(zero & (Y <= 0), 0.0, np.log(np.where(zero & (Y <= 0), 1.0, Y)))
    got = v.detach().numpy()
    np.testing.assert_array_equal(got, want_v)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want_v))
    np.testing.assert_array_equal(gx.numpy(), want_gx)
    ok = (Y > 0) & ~np.isnan(X)
    np.testing.assert_allclose(gy.numpy()[ok], X[ok] / Y[ok], rtol=1e-15)
    if torch is not None:
        xt, yt = torch.tensor(X, requires_grad=True), torch.tensor(Y, requires_grad=True)
        vt = torch.xlogy(xt, yt)
        gxt, _ = torch.autograd.grad(vt.sum(), (xt, yt))
        np.testing.assert_array_equal(got, vt.detach().numpy())
        np.testing.assert_array_equal(gx.numpy(), gxt.numpy())


@needs_torch
def test_xlogy_derivative_in_y_at_both_zero_is_nan_as_pytorchs():
    # d/dy (x log y) = x / y: 0 / 0 where x == y == 0 (an entropy written xlogy(p, p) with a
    # zero probability has a NaN gradient in PyTorch, not 0)
    xs = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 2.0])
    ys = np.array([0.0, 1.0, -1.0, 0.0, 0.5, 3.0])
    grads = []
    for L in (tg, torch):
        x = L.tensor(xs, requires_grad=True)
        y = L.tensor(ys, requires_grad=True)
        with np.errstate(all="ignore"):
            grads.append([g.numpy() for g in L.autograd.grad(L.xlogy(x, y).sum(), (x, y))])
        p = L.tensor([0.0, 0.5], dtype=L.float64, requires_grad=True)
        grads.append(L.autograd.grad(L.special.xlogy(p, p).sum(), p)[0].numpy())
    np.testing.assert_array_equal(grads[0][0], grads[2][0])
    np.testing.assert_array_equal(grads[0][1], grads[2][1])
    np.testing.assert_array_equal(grads[1], grads[3])

@needs_torch
def test_scatter_repeated_indices_and_integer_dtypes_like_torch():
    # a repeated index writes once (the last write, PyTorch's CPU order), not a sum; integer
    # and bool tensors stay in their dtype, in place too; mixed dtypes raise PyTorch's error
    cases = [((1, 4), 1, [[3, 3, 1]], [[1.0, 2.0, 3.0]]),
             ((2, 3), 1, [[0, 2], [1, 1]], [[5, 6], [7, 8]]),
             ((2, 3), 0, [[0, 1, 1], [1, 0, 0]], [[0, 1, 2], [3, 4, 5]]),
             ((3,), 0, [0, 2, 0], [True, True, False])]
    for shape, dim, idx, src in cases:
        for L in (torch, tg):
            s = L.tensor(src, dtype=L.float64) if np.asarray(src).dtype.kind == "f" else L.tensor(src)
            x = L.zeros(shape, dtype=s.dtype)
            outs = [x.scatter(dim, L.tensor(idx), s), x.clone().scatter_(dim, L.tensor(idx), s)]
            if s.dtype != L.bool:
                outs.append(x.scatter_add(dim, L.tensor(idx), s))
            if L is torch:
                expect = [(str(o.dtype).split(".")[1], o.tolist()) for o in outs]
            else:
                assert [(str(o.dtype), o.tolist()) for o in outs] == expect
    for L in (torch, tg):
        with pytest.raises(RuntimeError, match=r"scatter\(\): Expected self.dtype to be equal"):
            L.zeros(2, 3, dtype=L.int64).scatter(1, L.tensor([[0]]), L.tensor([[5.0]]))


def test_scatter_repeated_index_gradient_reaches_the_last_write_only():
    idx = tg.tensor([[1, 1, 0], [2, 0, 2]])
    x = tg.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    src = tg.tensor(np.random.default_rng(1).standard_normal((2, 3)), requires_grad=True)
    out = x.scatter(1, idx, src)
    np.testing.assert_array_equal(out.detach().numpy(), np.stack([
        [src.detach().numpy()[0, 2], src.detach().numpy()[0, 1], x.detach().numpy()[0, 2]],
        [src.detach().numpy()[1, 1], x.detach().numpy()[1, 1], src.detach().numpy()[1, 2]]]))
    assert tg.autograd.gradcheck(lambda x, s: x.scatter(1, idx, s), (x, src))
    gs, = tg.autograd.grad(out.sum(), src)
    np.testing.assert_array_equal(gs.numpy(), [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]])


@pytest.mark.parametrize("k", [0, 1])
def test_topk_of_a_zero_d_tensor_is_the_tensor(k):
    x = tg.tensor(1.5, dtype=tg.float32, requires_grad=True)
    r = x.topk(k)
    assert r.values.shape == r.indices.shape == ()
    assert r.values.item() == 1.5 and r.indices.item() == 0
    (g,) = tg.autograd.grad(r.values * 2, x)
    assert g.item() == 2.0
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(2)


@needs_torch
@pytest.mark.parametrize("k", [0, 1])
def test_topk_of_a_zero_d_tensor_matches_torch(k):
    r, t = tg.tensor(1.5).topk(k, largest=False), torch.tensor(1.5).topk(k, largest=False)
    assert tuple(t.values.shape) == r.values.shape and t.values.item() == r.values.item()
    assert t.indices.item() == r.indices.item()


# gather, scatter (add, reduce, a value) and index_copy take no index from the end: PyTorch's
# out-of-bounds errors; take_along_dim's may count from the end
_NO_NEGATIVE_INDEX = [
    ("gather", lambda L, x, i: x.gather(0, i), RuntimeError),
    ("scatter", lambda L, x, i: x.scatter(0, i, x[:1]), RuntimeError),
    ("scatter_value", lambda L, x, i: x.scatter(0, i, 1.0), RuntimeError),
    ("scatter_add", lambda L, x, i: x.scatter_add(0, i, x[:1]), RuntimeError),
    ("scatter_reduce", lambda L, x, i: x.scatter_reduce(0, i, x[:1], "amax"), RuntimeError),
    ("index_copy", lambda L, x, i: x.index_copy(0, i[0, 1:2], x[:1]), IndexError),
]


@pytest.mark.parametrize("name,f,error", _NO_NEGATIVE_INDEX)
def test_index_from_the_end_is_out_of_bounds(name, f, error):
    x = tg.arange(12.0).reshape(3, 4).requires_grad_()
    with pytest.raises(error, match="index -1 is out of bounds for dimension 0 with size 3"):
        f(tg, x, tg.tensor([[0, -1, 1, 2]]))
    y = tg.take_along_dim(x, tg.tensor([[0, -1, 1, 2]]), 0)
    np.testing.assert_array_equal(y.detach().numpy(), [[0.0, 9.0, 6.0, 11.0]])


@needs_torch
@pytest.mark.parametrize("name,f,error", _NO_NEGATIVE_INDEX)
def test_index_from_the_end_is_out_of_bounds_as_torch(name, f, error):
    messages = []
    for lib in (tg, torch):
        with pytest.raises(error) as e:
            f(lib, lib.arange(12.0).reshape(3, 4), lib.tensor([[0, -1, 1, 2]]))
        messages.append(str(e.value).split("\n")[0])
    assert messages[0] == messages[1]


_FIRST_BAD = [([[0, 5, -3, 1]], 5), ([[-3, 5, 0, 1]], -3), ([[0, 1, 2, 1], [7, 0, 0, -9]], 7)]
_ALONG = [lambda L, x, i: x.gather(0, i), lambda L, x, i: x.scatter(0, i, 1.0),
          lambda L, x, i: x.scatter_reduce(0, i, L.ones(tuple(i.shape)), "sum")]


@pytest.mark.parametrize("lib", ["tapegrad", pytest.param("torch", marks=needs_torch)])
@pytest.mark.parametrize("index,bad", _FIRST_BAD)
@pytest.mark.parametrize("f", _ALONG)
def test_out_of_bounds_error_names_the_first_bad_index(lib, index, bad, f):
    L = tg if lib == "tapegrad" else torch  # (the same words in both)
    with pytest.raises(RuntimeError, match=f"^index {bad} is out of bounds for dimension 0 "
                                           "with size 3$"):
        f(L, L.zeros(3, 4), L.tensor(index))
