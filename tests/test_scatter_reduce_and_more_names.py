"""scatter_reduce, cholesky_solve/cholesky_inverse, block_diag, isposinf/isneginf, histc,
fill_diagonal_, Tensor.polygamma and the generator state: PyTorch's values and gradients,
finite differences where differentiable."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op

LAYOUTS = [((5,), 0, (8,)), ((4, 3), 0, (6, 3)), ((4, 3), 1, (4, 5)), ((3, 4, 2), 1, (2, 6, 2))]


def _layout(shape, dim, ishape, seed):
    rng = np.random.default_rng(seed)
    return (rng.integers(-3, 3, shape).astype(float), rng.integers(0, shape[dim], ishape),
            rng.integers(-3, 3, ishape).astype(float))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_finite_differences(reduce, include_self):
    rng = np.random.default_rng(1)
    for shape, dim, ishape in LAYOUTS:
        x, idx = rng.standard_normal(shape), rng.integers(0, shape[dim], ishape)
        src = rng.standard_normal(ishape)  # (no ties: amax/amin smooth at the sample)
        check_op(lambda x, s: tg.scatter_reduce(x, dim, tg.tensor(idx), s, reduce,
                                                include_self=include_self), [x, src], order=2)


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin"])
def test_scatter_reduce_matches_pytorch(reduce):
    torch = pytest.importorskip("torch")
    for seed, (shape, dim, ishape) in enumerate(LAYOUTS * 3):
        x, idx, src = _layout(shape, dim, ishape, seed)  # small integers: many ties
        for include_self in (True, False):
            xt, st = torch.tensor(x, requires_grad=True), torch.tensor(src, requires_grad=True)
            xg, sg = tg.tensor(x, requires_grad=True), tg.tensor(src, requires_grad=True)
            a = torch.scatter_reduce(xt, dim, torch.tensor(idx), st, reduce,
                                     include_self=include_self)
            b = xg.scatter_reduce(dim, tg.tensor(idx), sg, reduce, include_self=include_self)
            np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy())
            a.sum().backward()
            b.sum().backward()
            np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-14)
            if include_self or reduce in ("sum", "mean"):
                # (amax/amin without self: PyTorch also counts an excluded self value equal to
                # the result among the ties; tapegrad shares only among the values taking part)
                np.testing.assert_allclose(sg.grad.numpy(), st.grad.numpy(), rtol=1e-14)
    with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean"):
        tg.scatter_reduce(tg.zeros(3), 0, tg.tensor([0]), tg.ones(1), "add")


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(upper):
    rng = np.random.default_rng(2)
    A = rng.standard_normal((3, 3))
    A = A @ A.T + 3 * np.eye(3)
    L = np.linalg.cholesky(A)
    F = L.T.copy() if upper else L
    B = rng.standard_normal((3, 2))
    np.testing.assert_allclose(tg.cholesky_solve(tg.tensor(B), tg.tensor(F), upper).numpy(),
                               np.linalg.solve(A, B), rtol=1e-12)
    np.testing.assert_allclose(tg.cholesky_inverse(tg.tensor(F), upper).numpy(),
                               np.linalg.inv(A), rtol=1e-12)
    check_op(lambda b, f: tg.cholesky_solve(b, f, upper), [B, F], order=2)


def test_small_names():
    x = tg.tensor([1.0, np.inf, -np.inf, np.nan])
    assert tg.isposinf(x).tolist() == [False, True, False, False]
    assert x.isneginf().tolist() == [False, False, True, False]
    v = np.random.default_rng(3).standard_normal(100)
    counts = tg.histc(tg.tensor(v), bins=5, min=-1, max=1).numpy()
    np.testing.assert_array_equal(counts, np.histogram(v[abs(v) <= 1], 5, (-1, 1))[0])
    blocks = tg.block_diag(tg.ones((2, 3)), tg.tensor([4.0, 5.0]), tg.tensor(6.0))
    assert blocks.shape == (4, 6) and blocks.numpy()[2, 3:5].tolist() == [4.0, 5.0]
    a = tg.tensor(np.ones((2, 2)), requires_grad=True)
    (tg.block_diag(a, tg.ones((1, 1))) * 3.0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), 3.0)
    m = tg.zeros((5, 3))
    m.fill_diagonal_(2.0, wrap=True)
    assert m.numpy().sum() == 2.0 * 4
    assert tg.tensor([1.5]).polygamma(1).item() == pytest.approx(0.9348022005446793)
    state = tg.get_rng_state()
    first = tg.randn(3).tolist()
    tg.set_rng_state(state)
    assert tg.randn(3).tolist() == first and state.dtype == np.uint8
    torch = pytest.importorskip("torch")
    for kw in ({}, {"bins": 7}):
        np.testing.assert_array_equal(tg.histc(tg.tensor(v), **kw).numpy(),
                                      torch.histc(torch.tensor(v), **kw).numpy())
    tm = torch.zeros(5, 3)
    tm.fill_diagonal_(2.0, wrap=True)
    np.testing.assert_array_equal(m.numpy(), tm.numpy())


def test_windows_ex_solvers_and_init():
    A = tg.tensor([[1.0, 2.0], [2.0, 1.0]])  # not positive-definite: its order-2 minor
    result = tg.linalg.cholesky_ex(A)
    # LAPACK's partial factor, as PyTorch's: the failing pivot holds 1 - 2 * 2
    assert int(result.info) == 2 and result.L.tolist() == [[1.0, 0.0], [2.0, -3.0]]
    with pytest.raises(tg.linalg.LinAlgError):
        tg.linalg.cholesky_ex(A, check_errors=True)
    B = tg.tensor([[4.0, 2.0], [2.0, 3.0]])
    assert int(tg.linalg.cholesky_ex(B).info) == 0
    assert int(tg.linalg.inv_ex(tg.zeros((2, 2))).info) > 0
    np.testing.assert_allclose(tg.linalg.solve_ex(B, tg.ones((2, 1))).result.numpy(),
                               [[0.125], [0.25]])
    w = tg.zeros((4, 6))
    tg.nn.init.orthogonal_(w, gain=2.0)
    np.testing.assert_allclose(w.numpy() @ w.numpy().T, 4 * np.eye(4), atol=1e-12)
    assert np.isnan(tg.special.xlog1py(tg.tensor([0.0]), tg.tensor([np.nan])).numpy()).all()
    with pytest.raises(RuntimeError, match="cdist only supports non-negative p values"):
        tg.cdist(tg.zeros((2, 2)), tg.zeros((2, 2)), p=-1)
    torch = pytest.importorskip("torch")
    for n in (0, 1, 5, 6):
        for periodic in (True, False):
            for name in ("hann", "hamming", "blackman", "bartlett", "kaiser"):
                ours = getattr(tg, name + "_window")(n, periodic=periodic).numpy()
                theirs = getattr(torch, name + "_window")(n, periodic=periodic,
                                                          dtype=torch.float64).numpy()
                np.testing.assert_allclose(ours, theirs, atol=1e-12)
    c, t = tg.zeros((4, 2, 3, 3)), torch.zeros(4, 2, 3, 3)
    tg.nn.init.dirac_(c, groups=2)
    torch.nn.init.dirac_(t, groups=2)
    np.testing.assert_array_equal(c.numpy(), t.numpy())
