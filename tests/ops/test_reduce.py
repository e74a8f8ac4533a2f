"""Reductions: op table through check_op, ties and special values as PyTorch, errors."""

import math
import re
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op, check_table_entry, lib_fns, needs_torch

try:
    import torch
except ImportError:  # the table still runs its finite-difference checks
    torch = None


# name, f(lib, *xs), shape cases (one tuple of input shapes per case), domain
OPS = [
    ("prod_all", lambda L, x: x.prod(), [((3, 4),), ((1,),), ((),)], "pos"),
    ("prod_dim", lambda L, x: x.prod(1), [((3, 4),), ((2, 1),)], "pos"),
    ("prod_keepdim", lambda L, x: L.prod(x, -1, keepdim=True), [((2, 3),)], "any"),
    ("max_all", lambda L, x: x.max(), [((3, 4),), ((1,),)], "any"),
    ("min_all", lambda L, x: L.min(x), [((2, 3),)], "any"),
    ("max_dim", lambda L, x: L.max(x, 1), [((3, 4),), ((2, 1),)], "any"),
    ("max_dim_keep", lambda L, x: x.max(0, keepdim=True), [((3, 2),)], "any"),
    ("min_dim", lambda L, x: x.min(dim=-1), [((2, 3),)], "any"),
    ("max_binary", lambda L, a, b: L.max(a, b), [((2, 3), (3,)), ((2, 1), (1, 3))], "any"),
    ("min_binary", lambda L, a, b: L.min(a, b), [((2, 3), (2, 3))], "any"),
    ("amax_tuple", lambda L, x: L.amax(x, (0, 2)), [((2, 3, 2),)], "any"),
    ("amax_keep", lambda L, x: x.amax(1, keepdim=True), [((3, 4),), ((1, 1),)], "any"),
    ("amin_all", lambda L, x: L.amin(x), [((3, 2),)], "any"),
    ("var_all", lambda L, x: x.var(), [((3, 4),), ((2, 1),)], "any"),
    ("var_dim", lambda L, x: L.var(x, 1), [((3, 4),)], "any"),
    ("var_corr0_keep", lambda L, x: L.var(x, (0, 1), keepdim=True, correction=0),
     [((2, 3, 2),)], "any"),
    ("var_unbiased_false", lambda L, x: L.var(x, 0, unbiased=False), [((3, 2),)], "any"),
    ("std_all", lambda L, x: x.std(), [((3, 4),)], "any"),
    ("std_dim", lambda L, x: L.std(x, dim=0, keepdim=True), [((3, 2),), ((2, 1, 2),)], "any"),
    ("norm_all", lambda L, x: x.norm(), [((3, 4),), ((1,),), ((),)], "any"),
    ("norm_dim", lambda L, x: L.norm(x, dim=1), [((3, 4),), ((2, 1),)], "any"),
    ("norm_fro_keep", lambda L, x: L.norm(x, p="fro", dim=(0, 1), keepdim=True),
     [((2, 3),)], "any"),
    ("norm_p1", lambda L, x: x.norm(p=1, dim=0), [((3, 2),)], "any"),
    ("norm_p3", lambda L, x: L.norm(x, p=3), [((2, 3),)], "any"),
    ("norm_p0.5", lambda L, x: L.norm(x, p=0.5, dim=1), [((2, 3),)], "pos"),
    ("norm_inf", lambda L, x: x.norm(p=math.inf, dim=1), [((2, 3),)], "any"),
    ("norm_neginf", lambda L, x: L.norm(x, p=-math.inf), [((2, 3),)], "any"),
    ("logsumexp", lambda L, x: L.logsumexp(x, 1), [((3, 4),), ((2, 1),)], "any"),
    ("logsumexp_tuple", lambda L, x: x.logsumexp((0, 1), keepdim=True), [((2, 3),)], "any"),
    ("logsumexp_big", lambda L, x: L.logsumexp(x + 1000.0, 0), [((3,),)], "any"),
    ("softmax", lambda L, x: L.softmax(x, 1), [((3, 4),), ((2, 1),)], "any"),
    ("softmax_method", lambda L, x: x.softmax(0), [((3, 2),), ((),)], "any"),
    ("softmax_big", lambda L, x: L.softmax(x - 1000.0, -1), [((2, 3),)], "any"),
    ("log_softmax", lambda L, x: L.log_softmax(x, -1), [((3, 4),), ((1,),)], "any"),
    ("log_softmax_method", lambda L, x: x.log_softmax(0), [((3, 2),)], "any"),
    ("cumsum", lambda L, x: L.cumsum(x, 1), [((3, 4),), ((2, 1),)], "any"),
    ("cumsum_method", lambda L, x: x.cumsum(0), [((4,),), ((),)], "any"),
    ("mean_var_chain", lambda L, x: (x - x.mean(1, keepdim=True)) / x.std(1, keepdim=True),
     [((2, 4),)], "any"),
]


def _arrays(shapes, domain, rng):
    out = []
    for s in shapes:
        a = rng.standard_normal(s)
        if domain == "pos":
            a = rng.uniform(0.5, 1.5, s)
        out.append(np.asarray(a, np.float64))
    return out


@pytest.mark.parametrize("name,f,cases,domain", OPS, ids=[o[0] for o in OPS])
def test_op_table(name, f, cases, domain):
    check_table_entry(name, f, cases, lambda shapes, rng: _arrays(shapes, domain, rng))


def test_prod_with_zeros():
    # prod is a polynomial: finite differences are exact at zeros, where g*out/x would be nan
    for arr in ([2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [[1.5, 0.0], [0.0, 0.0], [2.0, 3.0]]):
        a = np.array(arr)
        fn, tfn = lib_fns(lambda L, x: x.prod())
        check_op(fn, [a], torch_fn=tfn)
        if a.ndim == 2:
            fn, tfn = lib_fns(lambda L, x: x.prod(0))
            check_op(fn, [a], torch_fn=tfn)
            fn, tfn = lib_fns(lambda L, x: x.prod(1, keepdim=True))
            check_op(fn, [a], torch_fn=tfn)
    x = tg.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]


def test_full_reduction_ties_split_evenly():
    for f, data, want in [
        (tg.max, [1.0, 3.0, 3.0], [0, 0.5, 0.5]),
        (tg.max, [3.0, 3.0, 3.0], [1 / 3] * 3),
        (tg.amax, [1.0, 3.0, 3.0], [0, 0.5, 0.5]),
        (tg.min, [1.0, 1.0, 3.0], [0.5, 0.5, 0]),
        (tg.amin, [1.0, 1.0, 3.0], [0.5, 0.5, 0]),
    ]:
        x = tg.tensor(data, requires_grad=True)
        f(x).backward()
        np.testing.assert_allclose(x.grad.numpy(), want)
    x = tg.tensor([[1.0, 2.0, 2.0], [4.0, 4.0, 0.0]], requires_grad=True)
    tg.amax(x, 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0.5, 0]])


def test_dim_reduction_ties_pick_first_index():
    x = tg.tensor([1.0, 3.0, 3.0], requires_grad=True)
    r = x.max(dim=0)
    assert r.values.item() == 3.0 and r.indices.item() == 1
    r.values.backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]
    x = tg.tensor([[3.0, 1.0, 3.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert indices.tolist() == [0] and r.indices is r[1] and r.values is r[0]
    values.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 0.0]]
    y = tg.tensor([[2.0, 1.0, 1.0]], requires_grad=True)
    v, i = y.min(1, keepdim=True)
    assert v.shape == (1, 1) and i.tolist() == [[1]]
    v.sum().backward()
    assert y.grad.tolist() == [[0.0, 1.0, 0.0]]
    assert "values=" in repr(r) and "indices=" in repr(r)


def test_max_dim_matches_torch(torch):
    a = np.array([[1.0, 5.0, 5.0], [7.0, 7.0, 2.0], [0.0, -1.0, 0.0]])
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            for name in ("max", "min"):
                x = tg.tensor(a, requires_grad=True)
                t = torch.tensor(a, requires_grad=True)
                r, tr = getattr(x, name)(dim, keepdim), getattr(t, name)(dim, keepdim)
                np.testing.assert_array_equal(r.indices.numpy(), tr.indices.numpy())
                np.testing.assert_array_equal(r.values.detach().numpy(), tr.values.detach().numpy())
                r.values.sum().backward()
                tr.values.sum().backward()
                np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_max_nan_and_integers():
    x = tg.tensor([1.0, float("nan"), 3.0])
    assert math.isnan(x.max().item())
    r = x.max(0)
    assert math.isnan(r.values.item()) and r.indices.item() == 1
    i = tg.tensor([1, 5, 2])
    assert i.max().item() == 5 and i.max(0).indices.item() == 1 and i.prod().item() == 10
    assert i.prod().dtype == np.int64 and i.cumsum(0).tolist() == [1, 6, 8]


def test_scalar_inputs():
    x = tg.tensor(2.0, requires_grad=True)
    for f in (lambda t: t.max(), lambda t: t.max(0).values, lambda t: t.amax(), lambda t: t.prod(),
              lambda t: t.prod(0), lambda t: t.norm(), lambda t: t.logsumexp(0),
              lambda t: t.cumsum(0), lambda t: t.softmax(0)):
        y = f(x)
        assert y.shape == ()
        (g,) = tg.autograd.grad(y, x)
        assert g.shape == ()


def test_norm_at_zero_has_zero_grad():
    for p, dim in ((2, None), ("fro", None), (3, None), (2, 1), (1, None), (0.5, None)):
        x = tg.zeros(2, 2, requires_grad=True)
        tg.norm(x, p=p, dim=dim).sum().backward()
        assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]], p
    x = tg.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    n = x.norm(dim=1)
    assert n.tolist() == [0.0, 5.0]
    n.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0], [0.6, 0.8]])
    # the same function written out gives nan (inf * 0), as in torch
    y = tg.zeros(2, requires_grad=True)
    tg.sqrt((y * y).sum()).backward()
    assert np.isnan(y.grad.numpy()).all()


def test_norm_p0_counts_nonzeros():
    x = tg.tensor([0.0, 2.0, -1.0], requires_grad=True)
    n = x.norm(p=0)
    assert n.item() == 2.0
    n.backward()
    assert x.grad is None  # (no gradient, as PyTorch's: tests/test_norm_zero_no_gradient.py)


def test_std_of_constant_has_zero_grad(torch):
    x = tg.tensor([1.0, 1.0, 1.0], requires_grad=True)
    x.std().backward()
    t = torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64, requires_grad=True)
    t.std().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_var_degrees_of_freedom_warning():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        v = tg.tensor([1.0]).var()
    assert math.isnan(v.item())
    assert tg.tensor([1.0, 3.0]).var(False).item() == 1.0  # the legacy unbiased overload
    assert tg.tensor([1.0, 3.0]).var().item() == 2.0


def test_logsumexp_softmax_special_values():
    x = tg.tensor([0.0, 0.0], requires_grad=True)
    tg.logsumexp(x, 0).backward()
    assert x.grad.tolist() == [0.5, 0.5]
    x = tg.tensor([0.0, 0.0], requires_grad=True)
    tg.softmax(x, 0)[0].backward()
    assert x.grad.tolist() == [0.25, -0.25]
    big = tg.tensor([1000.0, 1000.0], requires_grad=True)
    y = tg.logsumexp(big, 0)
    assert abs(y.item() - (1000.0 + math.log(2.0))) < 1e-9
    y.backward()
    # PyTorch's rule, exp(x - result): the rounding of the result shows (0.5000000000000275,
    # PyTorch's value too), where the composition's exp(x - max) / sum gave 0.5
    assert big.grad.tolist() == [math.exp(1000.0 - y.item())] * 2
    assert big.grad.tolist() == pytest.approx([0.5, 0.5], rel=1e-13)
    s = tg.softmax(tg.tensor([1000.0, 0.0, -1000.0]), 0)
    assert s.tolist() == [1.0, 0.0, 0.0]
    ninf = float("-inf")
    assert tg.logsumexp(tg.tensor([ninf, ninf]), 0).item() == ninf
    assert tg.logsumexp(tg.zeros(2, 0), 1).tolist() == [ninf, ninf]
    ls = tg.log_softmax(tg.tensor([1000.0, 0.0]), 0)
    np.testing.assert_allclose(ls.numpy(), [0.0, -1000.0])


def test_softmax_second_order_against_torch(torch):
    a = np.array([[0.3, -1.2, 2.0], [0.5, 0.5, -0.1]])
    x = tg.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    w = np.arange(6.0).reshape(2, 3)
    (g,) = tg.autograd.grad((tg.softmax(x, 1) * tg.tensor(w)).sum(), x, create_graph=True)
    (tgr,) = torch.autograd.grad((torch.softmax(t, 1) * torch.tensor(w)).sum(), t,
                                 create_graph=True)
    (g * g).sum().backward()
    (tgr * tgr).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_float32_keeps_dtype():
    x = tg.tensor(np.array([[1.0, 2.0], [3.0, 5.0]], np.float32), requires_grad=True)
    for y in (x.prod(), x.amax(0), x.var(1), x.norm(), x.logsumexp(1), x.softmax(0),
              x.cumsum(1), x.max(1).values, x.std()):
        assert y.dtype == np.float32
    (x.prod() + x.norm()).backward()
    assert x.grad.dtype == np.float32


def test_bad_dims():
    x = tg.ones(2, 3)
    msg = r"Dimension out of range \(expected to be in range of \[-2, 1\], but got {}\)"
    for d, f in ((2, lambda: x.max(2)), (2, lambda: x.amax(2)), (2, lambda: x.prod(2)),
                 (2, lambda: x.var(2)), (2, lambda: x.norm(dim=2)), (2, lambda: x.logsumexp(2)),
                 (2, lambda: x.softmax(2)), (2, lambda: x.cumsum(2)), (-3, lambda: x.min(-3)),
                 (5, lambda: x.log_softmax(5)), (2, lambda: x.std((0, 2)))):
        with pytest.raises(IndexError, match=msg.format(d)):
            f()
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        x.amax((0, 0))


def test_reduction_errors():
    with pytest.raises(RuntimeError, match=r"max\(\): Expected reduction dim to be specified"):
        tg.zeros(0).max()
    with pytest.raises(IndexError, match=r"max\(\): Expected reduction dim 0 to have non-zero"):
        tg.zeros(0, 3).max(0)
    assert tg.zeros(0, 3).max(1).values.shape == (0,)
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        tg.tensor([1, 2, 3]).var()
    with pytest.raises(RuntimeError, match="norm"):
        tg.tensor([1, 2]).norm()
    with pytest.raises(RuntimeError, match="matrix_norm: Order nuk not supported"):
        tg.ones(2, 2).norm(p="nuk")  # (p="nuc" is the nuclear norm, as torch.norm's)
    with pytest.raises(TypeError):
        tg.softmax(tg.ones(3))  # dim is required, as in torch.softmax


def test_prod_second_backward_through_freed_graph_raises():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.prod()
    y.backward(retain_graph=False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_higher_order_prod_amax_cumsum():
    # third derivative of prod: d^3/dx0 dx1 dx2 (x0 x1 x2 x3) = x3
    x = tg.tensor([1.5, 2.0, 0.0, 3.0], requires_grad=True)
    (g,) = tg.autograd.grad(x.prod(), x, create_graph=True)
    (h,) = tg.autograd.grad(g[0], x, create_graph=True)
    (k,) = tg.autograd.grad(h[1], x)
    np.testing.assert_allclose(k.numpy(), [0.0, 0.0, 3.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = tg.autograd.grad(x.amax() * x.sum(), x, create_graph=True)
        (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [1, 1, 1, 5])


@pytest.mark.parametrize("dim", [(), []])
def test_empty_dim_list_reduces_every_dim(dim):
    torch = pytest.importorskip("torch")
    a = np.arange(6.0).reshape(2, 3)
    for name in ("sum", "mean"):
        x = tg.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        y, ty = getattr(x, name)(dim=dim), getattr(t, name)(dim=dim)
        assert y.shape == tuple(ty.shape) == ()
        np.testing.assert_allclose(y.item(), ty.item())
        y.backward()
        ty.backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


# 0-d arrays (float32 scalars, from_numpy's 0-d arrays): dims 0 and -1 are the tensor itself
_ZERO_D_DIM_REDUCTIONS = [
    ("sum", lambda L, x, d, k: x.sum(d, keepdim=k)),
    ("mean", lambda L, x, d, k: x.mean(d, keepdim=k)),
    ("nansum", lambda L, x, d, k: L.nansum(x, d, keepdim=k)),
    ("nanmean", lambda L, x, d, k: L.nanmean(x, d, keepdim=k)),
    ("var_mean", lambda L, x, d, k: L.var_mean(x, d, keepdim=k, correction=0)),
    ("std_mean", lambda L, x, d, k: L.std_mean(x, d, keepdim=k, correction=0)[1]),
    ("count_nonzero", lambda L, x, d, k: L.count_nonzero(x, d)),
]


@pytest.mark.parametrize("name,f", _ZERO_D_DIM_REDUCTIONS)
@pytest.mark.parametrize("dim", [0, -1, (0,), (-1,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_d_array_reduces_over_dim_0_and_minus_1(name, f, dim, dtype):
    x = tg.from_numpy(np.array(1.5, dtype)).requires_grad_()
    for keepdim in (False, True):
        outs = f(tg, x, dim, keepdim)
        for y in outs if isinstance(outs, tuple) else (outs,):
            assert y.shape == ()
        if name == "count_nonzero":
            assert outs.item() == 1
            continue
        y = outs[1] if isinstance(outs, tuple) else outs
        assert y.item() == 1.5
        (g,) = tg.autograd.grad(y, x)
        assert g.shape == () and g.item() == 1.0
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
        f(tg, x, 1, False)


@needs_torch
@pytest.mark.parametrize("name,f", _ZERO_D_DIM_REDUCTIONS)
@pytest.mark.parametrize("dim", [0, -1, (0,)])
def test_zero_d_array_reductions_over_a_dim_match_torch(name, f, dim):
    a = np.array(-0.75, np.float32)
    for keepdim in (False, True):
        x = tg.from_numpy(a.copy()).requires_grad_()
        t = torch.from_numpy(a.copy()).requires_grad_()
        ys, ts = f(tg, x, dim, keepdim), f(torch, t, dim, keepdim)
        ys = ys if isinstance(ys, tuple) else (ys,)
        ts = ts if isinstance(ts, tuple) else (ts,)
        for y, ty in zip(ys, ts):
            assert y.shape == tuple(ty.shape) and str(y.dtype) == str(ty.dtype).split(".")[1]
            np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), equal_nan=True)
        if name != "count_nonzero":
            tg.autograd.backward([ys[-1]])
            torch.autograd.backward([ts[-1]])
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


# reductions along a dim of no elements: PyTorch's IndexError naming the dim (amax/amin as
# written, the others normalised); a dim with elements reduces to an empty result
_EMPTY_DIM_ERRORS = [
    ("median", lambda L, x, d: x.median(d), "median():", False),
    ("nanmedian", lambda L, x, d: x.nanmedian(d), "median():", False),
    ("kthvalue", lambda L, x, d: x.kthvalue(1, d), "kthvalue():", False),
    ("mode", lambda L, x, d: x.mode(d), "mode():", False),
    ("aminmax", lambda L, x, d: L.aminmax(x, dim=d), "aminmax:", False),
    ("amax", lambda L, x, d: x.amax(d), "amax():", True),
    ("amin", lambda L, x, d: x.amin((0, d)), "amin():", True),
]


@pytest.mark.parametrize("name,f,prefix,as_written", _EMPTY_DIM_ERRORS)
def test_reductions_along_a_dim_of_no_elements(name, f, prefix, as_written):
    x = tg.zeros(2, 0, 3)
    for d in (1, -2):
        shown = d if as_written else 1
        with pytest.raises(IndexError, match=re.escape(
                f"{prefix} Expected reduction dim {shown} to have non-zero size.")):
            f(tg, x, d)
    if name != "amin":
        outs = f(tg, tg.zeros(3, 0, requires_grad=True), 0)
        for y in outs if isinstance(outs, tuple) else (outs,):
            assert y.shape == (0,)


@needs_torch
@pytest.mark.parametrize("name,f,prefix,as_written", _EMPTY_DIM_ERRORS)
def test_reductions_along_a_dim_of_no_elements_match_torch(name, f, prefix, as_written):
    messages = []
    for lib in (tg, torch):
        with pytest.raises(IndexError) as e:
            f(lib, lib.zeros(2, 0, 3), -2)
        messages.append(str(e.value))
        outs = f(lib, lib.zeros(3, 0), 0) if name != "amin" else ()
        messages.append([tuple(y.shape) for y in (outs if isinstance(outs, tuple) else (outs,))])
    assert messages[:2] == messages[2:]


def test_quantile_of_no_elements_and_of_a_zero_d_tensor():
    for f in (lambda x: tg.quantile(x, 0.5), lambda x: tg.nanquantile(x, 0.5, dim=-1),
              lambda x: tg.quantile(x, 0.5, dim=0)):
        for shape in ((0,), (0, 4), (3, 0)):
            with pytest.raises(RuntimeError, match=re.escape(
                    "quantile() input tensor must be non-empty")):
                f(tg.zeros(shape))
    x = tg.tensor(1.5, requires_grad=True)
    y = tg.quantile(x, tg.tensor([0.25, 0.75]), dim=0, keepdim=True)
    assert y.shape == (2,)
    (g,) = tg.autograd.grad(y.sum(), x)
    assert g.item() == 2.0


@needs_torch
def test_quantile_of_no_elements_and_of_a_zero_d_tensor_match_torch():
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match=re.escape(
                "quantile() input tensor must be non-empty")):
            lib.quantile(lib.zeros(0, 4), 0.5, dim=1)
        q = lib.tensor([0.25, 0.75], dtype=lib.float64)
        assert tuple(lib.quantile(lib.tensor(1.5, dtype=lib.float64), q, dim=0,
                                  keepdim=True).shape) == (2,)
