"""Joins, extrema, prod, cumsum, var/std, advanced indexing, comparisons and in-place ops on
CUDA tensors against the CPU path, on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
from test_cuda_sim import check

RNG = np.random.default_rng(1)
A = RNG.uniform(-1.0, 1.0, (3, 4))
B = RNG.uniform(-1.0, 1.0, (2, 4))
C = RNG.uniform(-1.0, 1.0, (4, 2))
S = RNG.uniform(-1.0, 1.0, (5, 4))
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0], [0.0, 0.0, 0.0, 0.0]])


def like(a, x):
    """An index or mask array on x's device (PyTorch wants them there too)."""
    return tg.tensor(a, device=x.device)


JOINS = {
    "cat0": (lambda x, y: tg.cat([x, y], 0), A, B),
    "cat1": (lambda x, y: tg.cat([y[:3], x, y[1:]], 1), A, C),
    "stack": (lambda x, y: tg.stack([x, y * 2.0], 1), A, A[::-1].copy()),
    "split": (lambda x: tg.split(x, [1, 3], 1)[1] * 2.0, A),
    "chunk": (lambda x: tg.chunk(x, 2, 0)[0] * tg.chunk(x, 2, 0)[1][:1], A),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(JOINS))
def test_joins(name, dtype):
    fn, *arrays = JOINS[name]
    check(fn, *arrays, dtype=dtype)


def test_cat_casts_to_the_common_dtype():
    x = tg.tensor(A.astype(np.float32), device="cuda", requires_grad=True)
    y = tg.tensor(B, device="cuda", requires_grad=True)
    z = tg.cat([x, y])
    assert z.dtype == np.float64
    np.testing.assert_allclose(z.cpu().detach().numpy(),
                               np.concatenate([A.astype(np.float32), B]))
    z.sum().backward()
    assert x.grad.dtype == np.float32 and float(x.grad.sum().cpu().item()) == 12.0


REDUCTIONS = {
    "amax1": (lambda x: tg.amax(x, 1), TIES), "amin0": (lambda x: tg.amin(x, 0), TIES),
    "amax_all": (lambda x: tg.amax(x), TIES), "amax_keep": (lambda x: x.amax(1, True), A),
    "max_all": (lambda x: tg.max(x), TIES), "min_all": (lambda x: x.min(), TIES),
    "max_dim": (lambda x: tg.max(x, 1).values, TIES),
    "min_dim_keep": (lambda x: tg.min(x, 0, keepdim=True).values, TIES),
    "prod_all": (lambda x: tg.prod(x), A), "prod1_zeros": (lambda x: tg.prod(x, 1), TIES),
    "prod0_keep": (lambda x: tg.prod(x, 0, keepdim=True), TIES),
    "cumsum1": (lambda x: tg.cumsum(x, 1), A), "cumsum0": (lambda x: x.cumsum(0), A),
    "var_all": (lambda x: tg.var(x), A), "var1": (lambda x: tg.var(x, 1), A),
    "var_dims": (lambda x: tg.var(x.reshape(3, 2, 2), (0, 2), correction=0), A),
    "std0_keep": (lambda x: tg.std(x, 0, keepdim=True), A),
    "std_of_a_constant_row": (lambda x: tg.std(x, 1), TIES),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(name, dtype):
    fn, a = REDUCTIONS[name]
    check(fn, a, dtype=dtype)


def test_max_min_indices_are_the_first_extremum_as_on_the_cpu():
    for f in (tg.max, tg.min):
        for dim in (0, 1):
            c = f(tg.tensor(TIES), dim)
            d = f(tg.tensor(TIES, device="cuda"), dim)
            assert d.indices.device == "cuda" and d.indices.dtype == np.int64
            np.testing.assert_array_equal(d.indices.cpu().numpy(), c.indices.numpy())


def test_nan_propagates_through_extrema():
    a = A.copy()
    a[1, 2] = np.nan
    for fn in (lambda x: tg.amax(x, 1), lambda x: tg.max(x, 1).values, lambda x: x.max()):
        c = fn(tg.tensor(a)).numpy()
        d = fn(tg.tensor(a, device="cuda")).cpu().numpy()
        np.testing.assert_array_equal(np.isnan(d), np.isnan(c))
        np.testing.assert_allclose(d[~np.isnan(d)], c[~np.isnan(c)])
    np.testing.assert_array_equal(tg.max(tg.tensor(a, device="cuda"), 1).indices.cpu().numpy(),
                                  np.argmax(a, 1))


INDEXING = {
    "repeated_list": (lambda x: x[[0, 2, 0, 0]], A),
    "device_index": (lambda x: x[like(np.array([2, 2, 1]), x), 1:], A),
    "mask": (lambda x: x[like(A > 0, x)], A),
    "gather": (lambda x: tg.gather(x, 1, like(np.array([[0, 0, 3], [1, 1, 1], [2, 3, 2]]),
                                              x)), A),
    "index_select": (lambda x: tg.index_select(x, 0, like(np.array([2, 0, 2, 2]), x)), A),
    "repeat": (lambda x: x.repeat(2, 1), A),
    "scatter_add": (lambda x, s: tg.scatter_add(x, 0, like(np.array([[0, 2, 2, 1],
                                                                     [1, 1, 0, 2]]), x), s),
                    A, S),
    "index_add": (lambda x, s: tg.index_add(x, 0, like(np.array([0, 2, 0, 0, 1]), x), s), A, S),
}


@pytest.mark.parametrize("name", sorted(INDEXING))
def test_advanced_indexing_forward_and_backward(name):
    fn, *arrays = INDEXING[name]
    check(fn, *arrays)


def test_comparisons_give_bool_cuda_tensors():
    x, y = tg.tensor(A, device="cuda"), tg.tensor(A[::-1].copy(), device="cuda")
    for f, ref in ((lambda a, b: a > b, A > A[::-1]), (lambda a, b: a <= 0.1, A <= 0.1),
                   (lambda a, b: a == b, A == A[::-1]), (lambda a, b: a != 0.5, A != 0.5)):
        r = f(x, y)
        assert r.device == "cuda" and r.dtype == np.bool_
        np.testing.assert_array_equal(r.cpu().numpy(), ref)
    with pytest.raises(RuntimeError, match="same device"):
        x > tg.tensor(A)


def _inplace_program(dev):
    x = tg.tensor(A, device=dev, requires_grad=True)
    y = tg.tensor(A[::-1].copy(), device=dev, requires_grad=True)
    z = x * 1.0
    z.add_(y, alpha=2.0)
    z.mul_(y)
    z[1] = y[0] * 3.0
    z[[0, 2], 1:3] = 7.0
    z2 = z + 1.5
    z2.copy_(z * 2.0)
    w = tg.zeros(3, 4, device=dev)
    w.copy_(tg.tensor(A))  # copy_ from the CPU: allowed across devices, as in PyTorch
    w += z2
    w[0, 0] = 1.0
    w[w > 2.0] = -1.0
    (w * tg.tensor(A, device=dev)).sum().backward()
    return w, x.grad, y.grad, z._version


def test_inplace_ops_match_the_cpu_values_gradients_and_versions():
    c, d = _inplace_program("cpu"), _inplace_program("cuda")
    for tc, td in zip(c[:3], d[:3]):
        assert td.device == "cuda"
        np.testing.assert_allclose(td.detach().cpu().numpy(), tc.detach().numpy(), rtol=1e-12)
    assert d[3] == c[3] > 0


def test_inplace_no_grad_updates_and_fills():
    x = tg.ones(4, device="cuda")
    x.add_(1.0)
    x.mul_(tg.arange(4.0, device="cuda"))
    x[1] = 10
    x[x > 5] = 0.5
    x.clamp_(0.0, 3.0)
    np.testing.assert_array_equal(x.cpu().numpy(), [0.0, 0.5, 3.0, 0.5])
    x.zero_()
    assert float(x.sum().cpu().item()) == 0.0


def test_inplace_bumps_the_version_a_saved_value_checks():
    x = tg.tensor(A, device="cuda", requires_grad=True)
    y = x * 2.0
    s = y.sin()
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()


def test_inplace_on_a_leaf_that_requires_grad_raises_pytorchs_error():
    x = tg.tensor(A, device="cuda", requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.add_(1.0)


# ---- create_graph: the VJPs run as CUDA tensor ops, recorded on the device ----------------

POS = RNG.uniform(0.5, 1.5, (3, 4))
W = RNG.uniform(-1.0, 1.0, (4, 2))
ZEROS = POS.copy()
ZEROS[1, 2] = 0.0

SECOND_ORDER = {
    "mlp": (lambda x: (tg.tanh(x @ tg.tensor(W, device=x.device)) ** 2).sum()
            + (x.exp() * x[:, :1]).mean(), POS),
    "cat": (lambda x: (tg.cat([x, x * x], 0) ** 2).sum(), POS),
    "cumsum": (lambda x: (tg.cumsum(x, 1) ** 3).sum(), POS),
    "var": (lambda x: tg.var(x, 1).pow(2).sum(), POS),
    "std": (lambda x: tg.std(x, 0).pow(3).sum(), POS),
    "prod": (lambda x: (tg.prod(x, 1) ** 2).sum(), POS),
    "prod_with_a_zero": (lambda x: (tg.prod(x, 1) ** 2).sum(), ZEROS),
    "amax": (lambda x: (tg.amax(x, 1) ** 2).sum(), TIES),
    "max_dim": (lambda x: (tg.max(x, 1).values ** 3).sum(), POS),
    "index": (lambda x: (x[[0, 0, 2]] ** 3).sum(), POS),
    "softmax": (lambda x: (tg.softmax(x, 1) * x).sum(), POS),
    "log_softmax": (lambda x: (tg.log_softmax(x, 0) ** 2).sum(), POS),
}


def _hvp(fn, a, v, dev):
    x = tg.tensor(a, device=dev, requires_grad=True)
    (g,) = tg.autograd.grad(fn(x), x, create_graph=True)
    (h,) = tg.autograd.grad((g * tg.tensor(v, device=dev)).sum(), x)
    assert g.device == dev and h.device == dev
    return g.detach().cpu().numpy(), h.cpu().numpy()


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_hessian_vector_product_on_the_device_matches_the_cpu(name):
    fn, a = SECOND_ORDER[name]
    v = RNG.uniform(-1.0, 1.0, a.shape)
    for c, d in zip(_hvp(fn, a, v, "cpu"), _hvp(fn, a, v, "cuda")):
        np.testing.assert_allclose(d, c, rtol=1e-9, atol=1e-12)


def test_gradgradcheck_on_the_device():
    """Finite differences (float64) of functions that run on the device (gradcheck perturbs
    a CPU leaf; the function moves it over and back, recorded)."""
    x = tg.tensor(POS[:2, :3], requires_grad=True)
    fns = (lambda t: tg.softmax(t, 1) * t.exp(), lambda t: tg.cumsum(t, 1) ** 2,
           lambda t: tg.std(t, 0) * tg.amax(t, 0), lambda t: tg.cat([t, t.prod(0, True)]))
    for k, fn in enumerate(fns):
        on_device = (lambda f: lambda t: f(t.cuda()).cpu())(fn)
        assert tg.autograd.gradcheck(on_device, (x,))
        if k % 2:  # second order is slow on the simulator: half of them
            assert tg.autograd.gradgradcheck(on_device, (x,))


def test_second_order_through_a_cpu_to_cuda_transfer():
    def f(x):
        return (x.cuda() ** 3).sum()

    x = tg.tensor(POS, requires_grad=True)
    (g,) = tg.autograd.grad(f(x), x, create_graph=True)
    g.sum().backward()
    assert g.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 6.0 * POS)


def test_logsumexp_and_softmax_of_rows_with_infinities():
    # an all -inf row: logsumexp -inf (its shift is 0, as on the CPU: it was -inf - -inf = nan)
    ninf = -np.inf
    rows = np.array([[ninf, ninf, ninf], [0.0, 1.0, ninf], [np.inf, 0.0, 1.0], [1.0, 2.0, 3.0]])
    out = {}
    for dev in ("cpu", "cuda"):
        x = tg.tensor(rows, device=dev, requires_grad=True)
        lse = tg.logsumexp(x, 1)
        lse[1:2].sum().backward()
        out[dev] = [t.detach().cpu().numpy() for t in (lse, tg.logsumexp(x, 0), tg.softmax(x, 1),
                                                         tg.log_softmax(x, 1), x.grad)]
    for c, d in zip(out["cpu"], out["cuda"]):
        np.testing.assert_allclose(d, c, rtol=1e-12, atol=0)
    assert out["cuda"][0][0] == ninf
