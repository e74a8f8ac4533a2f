"""index_add of CPU float tensors as one recorded op (ops/index_add_op.py): values, gradients
of every order, forward mode, in place, the tensors that keep the composition (complex, 0-d,
integer, vmap, tg.compile), and PyTorch's argument checks and messages (ops/index_add_checks.py),
against PyTorch and finite differences."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import tape
from tapegrad.registry import Op
from tests.conftest import torch_float64_default

from tests.op_checks import needs_torch, torch

# (x shape, dim, index): repeated indices, negative dims, the last dim, a 1-d x
CASES = [
    ((6, 4), 0, [0, 5, 0, 2, 5, 0]),
    ((6, 4), 1, [3, 3, 0]),
    ((6, 4), -1, [1, 2, 1, 1, 0]),
    ((3, 5, 4), 1, [4, 0, 4, 2]),
    ((3, 5, 4), -3, [2, 2]),
    ((3, 5, 4), 2, [0, 3, 3, 3, 1, 2]),
    ((7,), 0, [6, 1, 6, 6]),
    ((4, 3), 0, []),
]
ALPHAS = [1, -2.5, 0.5]


def _data(shape, dim, index, dtype, seed=0):
    r = np.random.default_rng(seed)
    s_shape = list(shape)
    s_shape[dim] = len(index)
    return (r.standard_normal(shape).astype(dtype), r.standard_normal(s_shape).astype(dtype),
            r.standard_normal(shape).astype(dtype))


def _codes(t):
    return {int(c) & tape.CODE_MASK for c in t._seg.records()[:, tape.OP]}


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("shape,dim,index", CASES)
def test_values_and_gradients_match_pytorch(shape, dim, index, alpha, dtype):
    a, s, g = _data(shape, dim, index, dtype)
    x, src = tg.tensor(a, requires_grad=True), tg.tensor(s, requires_grad=True)
    tx, ts = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
    out = x.index_add(dim, tg.tensor(index, dtype=tg.int64), src, alpha=alpha)
    tout = tx.index_add(dim, torch.tensor(index, dtype=torch.int64), ts, alpha=alpha)
    assert type(out.grad_fn).__name__ == "IndexAddBackward0"
    assert Op.INDEX_ADD in _codes(out) and Op.SCATTER_INDEX not in _codes(out)  # one record
    assert out.dtype == x.dtype and out.shape == x.shape
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), **tol)
    (out * tg.tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    assert x.grad.dtype == x.dtype and src.grad.dtype == src.dtype
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **tol)
    np.testing.assert_allclose(src.grad.numpy(), ts.grad.numpy(), **tol)
    # the functional form: the same numbers
    f = tg.index_add(x, dim, tg.tensor(index, dtype=tg.int64), src, alpha=alpha)
    np.testing.assert_array_equal(f.detach().numpy(), out.detach().numpy())


@pytest.mark.parametrize("shape,dim,index", CASES[:7])
def test_finite_differences_to_second_order(shape, dim, index):
    a, s, _ = _data(shape, dim, index, np.float64, seed=1)
    i = tg.tensor(index)

    def f(u, v):
        return tg.index_add(u * u, dim, i, tg.sin(v), alpha=-1.5) ** 2

    x, src = tg.tensor(a, requires_grad=True), tg.tensor(s, requires_grad=True)
    assert tg.autograd.gradcheck(f, (x, src))
    assert tg.autograd.gradgradcheck(f, (x, src))
    # one input requiring grad at a time
    assert tg.autograd.gradgradcheck(lambda u: f(u, tg.tensor(s)), (x,))
    assert tg.autograd.gradgradcheck(lambda v: f(tg.tensor(a), v), (src,))


@needs_torch
def test_second_order_matches_pytorch():
    a, s, _ = _data((5, 4), 1, [3, 0, 3], np.float64, seed=2)

    def run(L, x, src, i):
        out = L.index_add(x * x, 1, i, src * src, alpha=2.0)
        gx, gs = L.autograd.grad((out ** 3).sum(), (x, src), create_graph=True)
        return L.autograd.grad((gx * gx).sum() + (gs ** 3).sum(), (x, src))

    x, src = tg.tensor(a, requires_grad=True), tg.tensor(s, requires_grad=True)
    tx, ts = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
    for mine, ref in zip(run(tg, x, src, tg.tensor([3, 0, 3])),
                         run(torch, tx, ts, torch.tensor([3, 0, 3]))):
        np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("shape,dim,index", [CASES[0], CASES[3], CASES[6]])
def test_forward_mode_matches_torch_func_jvp(shape, dim, index):
    a, s, _ = _data(shape, dim, index, np.float64, seed=3)
    r = np.random.default_rng(4)
    ta_, ts_ = r.standard_normal(a.shape), r.standard_normal(s.shape)

    def make(L):
        i = L.tensor(index)
        return lambda u, v: L.index_add(L.sin(u), dim, i, v * v, alpha=-0.75)

    out, tan = tg.func.jvp(make(tg), (tg.tensor(a), tg.tensor(s)),
                           (tg.tensor(ta_), tg.tensor(ts_)))
    tout, ttan = torch.func.jvp(make(torch), (torch.tensor(a), torch.tensor(s)),
                                (torch.tensor(ta_), torch.tensor(ts_)))
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-14)
    np.testing.assert_allclose(tan.numpy(), ttan.numpy(), rtol=1e-13, atol=1e-14)
    # one tangent only, and all directions at once
    f = make(tg)
    _, t_src = tg.func.jvp(lambda v: f(tg.tensor(a), v), (tg.tensor(s),), (tg.tensor(ts_),))
    _, tt_src = torch.func.jvp(lambda v: make(torch)(torch.tensor(a), v), (torch.tensor(s),),
                               (torch.tensor(ts_),))
    np.testing.assert_allclose(t_src.numpy(), tt_src.numpy(), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(tg.func.jacfwd(f, argnums=(0, 1))(tg.tensor(a), tg.tensor(s))[1]
                               .numpy(),
                               tg.func.jacrev(f, argnums=(0, 1))(tg.tensor(a), tg.tensor(s))[1]
                               .numpy(), rtol=1e-14)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_in_place_with_version_counters(dtype):
    a, s, _ = _data((5, 3), 0, [1, 1, 4], dtype, seed=5)
    w, src = tg.tensor(a, requires_grad=True), tg.tensor(s, requires_grad=True)
    tw, ts = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
    y, ty = w * 1.0, tw * 1.0
    v = y._version
    r = y.index_add_(0, tg.tensor([1, 1, 4]), src, alpha=3)
    ty.index_add_(0, torch.tensor([1, 1, 4]), ts, alpha=3)
    assert r is y and y._version == v + 1 and y.dtype == w.dtype
    tol = dict(rtol=1e-6) if dtype == np.float32 else dict(rtol=1e-14)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
    (y ** 2).sum().backward()
    (ty ** 2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), **tol)
    np.testing.assert_allclose(src.grad.numpy(), ts.grad.numpy(), **tol)
    # a tensor saved for backward and then changed in place: PyTorch's error
    z = w * 1.0
    p = z * z
    z.index_add_(0, tg.tensor([0]), src[:1])
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        p.sum().backward()
    # in place into a leaf that requires grad: refused, as PyTorch
    with pytest.raises(RuntimeError):
        w.index_add_(0, tg.tensor([0]), src[:1])
    # in place on a view writes through to its base
    base = tg.tensor(a.copy())
    base[1:].index_add_(0, tg.tensor([0, 0]), tg.tensor(s[:2]))
    tbase = torch.tensor(a.copy())
    tbase[1:].index_add_(0, torch.tensor([0, 0]), torch.tensor(s[:2]))
    np.testing.assert_allclose(base.numpy(), tbase.numpy(), **tol)


@needs_torch
def test_views_index_forms_and_non_contiguous_inputs():
    r = np.random.default_rng(6)
    a, s = r.standard_normal((4, 6)), r.standard_normal((2, 6))
    x, src = tg.tensor(a, requires_grad=True), tg.tensor(s, requires_grad=True)
    tx, ts = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
    # a transposed x, a transposed source, a 0-d index
    out = x.t().index_add(1, tg.tensor([3, 0]), src.t()) * x.t()
    tout = tx.t().index_add(1, torch.tensor([3, 0]), ts.t()) * tx.t()
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-14)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(src.grad.numpy(), ts.grad.numpy(), rtol=1e-14)
    v = tg.tensor(a[0], requires_grad=True)
    o = v.index_add(0, tg.tensor(2), tg.tensor([5.0], requires_grad=True))
    to = torch.tensor(a[0]).index_add(0, torch.tensor(2), torch.tensor([5.0], dtype=torch.float64))
    np.testing.assert_array_equal(o.detach().numpy(), to.numpy())
    m = tg.tensor(a, requires_grad=True)
    o = m.index_add(0, tg.tensor(1), tg.tensor(s[:1]))
    to = torch.tensor(a).index_add(0, torch.tensor(1), torch.tensor(s[:1]))
    np.testing.assert_array_equal(o.detach().numpy(), to.numpy())
    o.sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), np.ones_like(a))
    # no grad: the same values, nothing recorded
    with tg.no_grad():
        n = x.index_add(0, tg.tensor([1, 1]), tg.tensor(a[:2]))
    assert n.grad_fn is None and not n.requires_grad


@needs_torch
def test_other_dtypes_keep_their_rules():
    r = np.random.default_rng(7)
    a = r.standard_normal((4, 3))
    # integers: exact, int64
    ai, si = np.arange(12).reshape(4, 3), np.arange(6).reshape(2, 3)
    out = tg.tensor(ai).index_add(0, tg.tensor([3, 3]), tg.tensor(si), alpha=2)
    ref = torch.tensor(ai).index_add(0, torch.tensor([3, 3]), torch.tensor(si), alpha=2)
    assert out.dtype == tg.int64
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    # a float alpha on integers: converted to self's type first (truncated), as PyTorch
    for alpha in (1.5, -2.7):
        out = tg.tensor(ai).index_add(0, tg.tensor([3, 3]), tg.tensor(si), alpha=alpha)
        ref = torch.tensor(ai).index_add(0, torch.tensor([3, 3]), torch.tensor(si), alpha=alpha)
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    # complex: the composition (now with gradients), PyTorch's values and gradients
    c = r.standard_normal((3, 4))
    ac, sc = a + 1j * a[::-1], c - 0.5j * c[::-1]
    x, src = tg.tensor(ac, requires_grad=True), tg.tensor(sc, requires_grad=True)
    tx, ts = torch.tensor(ac, requires_grad=True), torch.tensor(sc, requires_grad=True)
    out = x.index_add(1, tg.tensor([2, 2, 0]), src.t(), alpha=-0.5)
    tout = tx.index_add(1, torch.tensor([2, 2, 0]), ts.t(), alpha=-0.5)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-14)
    (out.abs() ** 2).sum().backward()
    (tout.abs() ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(src.grad.numpy(), ts.grad.numpy(), rtol=1e-13)


def _outcome(call, lib):
    try:
        with torch_float64_default(torch):  # (tapegrad's default dtype for both)
            out = call(lib)
        return "ok", out.detach().numpy().tolist(), str(out.dtype).replace("torch.", "")
    except Exception as e:  # (the comparison is of the exception's class and words)
        return type(e).__name__, str(e)


def _i(L, index, dtype="int64"):
    return L.tensor(index, dtype=getattr(L, dtype))


# calls that PyTorch refuses (or takes), each with its own words: the argument types, the
# index's rank and dtype, mixed dtypes (also in place), integer self with a float source, the
# source's rank and shape, 0-d tensors, negative and out-of-range indices (PyTorch wraps
# neither; with alpha 1 the first and last dim of a tensor of 2 dims go through its scatter_add,
# whose message names the index), alpha beyond self's type
ERROR_CALLS = [
    lambda L: L.zeros(3, 4).index_add(0, _i(L, [[0]]), L.ones(1, 4)),
    lambda L: L.zeros(3, 4).index_add(0, L.tensor([0.5]), L.ones(1, 4)),
    lambda L: L.zeros(3, 4).index_add(0, _i(L, [0], "int16"), L.ones(1, 4)),
    lambda L: L.zeros(3, 4).index_add(2, _i(L, [0]), L.ones(1, 4)),
    lambda L: L.zeros(3, 4).index_add(0, _i(L, [0, 1]), L.ones(3, 4)),
    lambda L: L.zeros(3, 4).index_add(0, _i(L, [0]), L.ones(1, 5)),
    lambda L: L.zeros(3, 4).index_add(1, _i(L, [0]), L.ones(3)),
    lambda L: L.zeros(3, 4).index_add(0, _i(L, [0]), L.ones(4)),
    lambda L: L.zeros(3, 4).index_add(0, [0], L.ones(1, 4)),
    lambda L: L.index_add(L.zeros(3, 4), 0, _i(L, [0]), 1.0),
    lambda L: L.zeros(3, dtype=L.float32).index_add(0, _i(L, [1]), L.ones(1, dtype=L.float64)),
    lambda L: L.zeros(3, dtype=L.float64).index_add(0, _i(L, [1]), L.ones(1, dtype=L.float32)),
    lambda L: L.zeros(3, dtype=L.float32).index_add_(0, _i(L, [1]), L.ones(1, dtype=L.float64)),
    lambda L: L.zeros(3, dtype=L.int64).index_add(0, _i(L, [1]), L.ones(1, dtype=L.float32)),
    lambda L: L.zeros(3, dtype=L.int32).index_add(0, _i(L, [1]), L.ones(1, dtype=L.int64)),
    lambda L: L.zeros(3).index_add(0, _i(L, [1]), L.tensor(2.0)),
    lambda L: L.zeros(3).index_add(0, _i(L, [1, 2]), L.tensor(2.0)),
    lambda L: L.zeros(()).index_add(0, _i(L, [0]), L.ones(1)),
    lambda L: L.zeros(()).index_add(0, _i(L, 1), L.tensor(2.0)),
    lambda L: L.zeros(3).index_add(0, _i(L, [-1]), L.ones(1)),
    lambda L: L.zeros(3).index_add(0, _i(L, [3]), L.ones(1)),
    lambda L: L.zeros(3, 4).index_add(0, _i(L, [0, -1]), L.ones(2, 4)),
    lambda L: L.zeros(3, 4).index_add(-1, _i(L, [0, 4, 9]), L.ones(3, 3)),
    lambda L: L.zeros(3, 4).index_add(0, _i(L, [3]), L.ones(1, 4), alpha=2),
    lambda L: L.zeros(3, 4).index_add(0, _i(L, [3], "int32"), L.ones(1, 4)),
    lambda L: L.zeros(2, 3, 4).index_add(1, _i(L, [3]), L.ones(2, 1, 4)),
    lambda L: L.zeros(2, 3, 4).index_add(2, _i(L, [-1]), L.ones(2, 3, 1)),
    lambda L: L.zeros(2, dtype=L.int8).index_add(0, _i(L, [0]), L.ones(1, dtype=L.int8),
                                                 alpha=300),
    lambda L: L.zeros(2, dtype=L.float32).index_add(0, _i(L, [0]),
                                                    L.ones(1, dtype=L.float32), alpha=1j),
]


@needs_torch
@pytest.mark.parametrize("k", range(len(ERROR_CALLS)))
def test_errors_as_pytorch(k):
    mine, ref = _outcome(ERROR_CALLS[k], tg), _outcome(ERROR_CALLS[k], torch)
    assert ref[0] != "ok" and mine == ref


# what PyTorch takes: negative dims, a 0-d index for one row, 0-d self and source together,
# nothing to add to an empty tensor (no range check then), integer and bool self with their
# alpha conversions
ACCEPTED_CALLS = [
    lambda L: L.arange(6.0).reshape(2, 3).index_add(-1, _i(L, [2, 0, 2]), L.ones(2, 3)),
    lambda L: L.arange(6.0).reshape(2, 3).index_add(-2, _i(L, [1]), L.ones(1, 3), alpha=-2),
    lambda L: L.arange(3.0).index_add(0, _i(L, 1), L.ones(1)),
    lambda L: L.arange(6.0).reshape(2, 3).index_add(0, _i(L, 1), L.ones(1, 3)),
    lambda L: L.tensor(2.0).index_add(0, _i(L, 0), L.tensor(3.0), alpha=2),
    lambda L: L.tensor(2.0).index_add(-1, _i(L, [0]), L.tensor(3.0)),
    lambda L: L.zeros(2, 0).index_add(0, _i(L, [7]), L.ones(1, 0)),
    lambda L: L.arange(3).index_add(0, _i(L, [0, 0], "int32"), L.tensor([5, 7]), alpha=-1.5),
    lambda L: L.tensor([100, 0], dtype=L.int8).index_add(0, _i(L, [0, 0]),
                                                       L.tensor([100, 100], dtype=L.int8)),
    lambda L: L.tensor([False, False]).index_add(0, _i(L, [1]), L.tensor([True]), alpha=2),
    lambda L: L.zeros(2, dtype=L.float64).index_add(0, _i(L, [1]),
                                                    L.ones(1, dtype=L.float64), alpha=2 + 0j),
]


@needs_torch
@pytest.mark.parametrize("k", range(len(ACCEPTED_CALLS)))
def test_accepted_calls_as_pytorch(k):
    mine, ref = _outcome(ACCEPTED_CALLS[k], tg), _outcome(ACCEPTED_CALLS[k], torch)
    assert ref[0] == "ok" and mine == ref  # (values and dtype)


@needs_torch
@pytest.mark.parametrize("xs,dim,index", [((), 0, 0), ((), -1, [0]), ((4,), -1, 2),
                                          ((3, 4), -2, [2, 2]), ((3, 4), -1, 1)])
def test_zero_d_and_negative_dim_gradients(xs, dim, index):
    """Gradients of every order w.r.t. self and source for 0-d tensors and indices and
    negative dims, against PyTorch and by finite differences."""
    r = np.random.default_rng(9)
    n = 1 if np.ndim(index) == 0 else len(index)
    ss = list(xs)
    if ss:
        ss[dim] = n
    a, s = r.standard_normal(xs), r.standard_normal(ss)

    def run(L, x, src):
        out = L.index_add(x * x, dim, L.tensor(index), L.sin(src), alpha=1.5)
        gx, gs = L.autograd.grad((out ** 3).sum(), (x, src), create_graph=True)
        return (out, gx, gs) + L.autograd.grad((gx * gx).sum() + (gs ** 3).sum(), (x, src))

    x, src = tg.tensor(a, requires_grad=True), tg.tensor(s, requires_grad=True)
    tx, ts = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
    for mine, ref in zip(run(tg, x, src), run(torch, tx, ts)):
        assert mine.shape == tuple(ref.shape)
        np.testing.assert_allclose(mine.detach().numpy(), ref.detach().numpy(), rtol=1e-12)

    def f(u, v):
        return tg.index_add(u * u, dim, tg.tensor(index), tg.sin(v), alpha=-0.5) ** 2

    assert tg.autograd.gradcheck(f, (x, src))
    assert tg.autograd.gradgradcheck(f, (x, src))


@needs_torch
def test_vmap_and_compile_take_the_composition():
    r = np.random.default_rng(8)
    a, s = r.standard_normal((5, 4, 3)), r.standard_normal((5, 2, 3))
    idx = [3, 3]

    def make(L):
        i = L.tensor(idx)
        return lambda u, v: L.index_add(u, 0, i, v, alpha=1.5)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # batched as the composition: no loop per example
        rows = tg.func.vmap(make(tg))(tg.tensor(a), tg.tensor(s))
    ref = torch.func.vmap(make(torch))(torch.tensor(a), torch.tensor(s))
    np.testing.assert_allclose(rows.numpy(), ref.numpy(), rtol=1e-14)
    f = make(tg)

    def step(u, v):
        return (f(u, v) ** 2).sum()

    grads = []
    compiled = tg.compile(step)
    for run in (compiled, compiled, step):
        x, src = tg.tensor(a[0], requires_grad=True), tg.tensor(s[0], requires_grad=True)
        run(x, src).backward()
        grads.append((x.grad.numpy(), src.grad.numpy()))
    for k in range(2):
        for mine, ref in zip(grads[k], grads[2]):
            np.testing.assert_allclose(mine, ref, rtol=1e-13)


def test_numba_is_imported_lazily():
    out = subprocess.run([sys.executable, "-c", "import tapegrad, sys; "
                          "print('numba' in sys.modules)"], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
