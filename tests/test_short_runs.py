"""vecmath.short_runs: sums and broadcast arithmetic with short contiguous runs by compiled
loops, bit for bit NumPy's results (values, dtypes, shapes, warnings; float32 sums of many
rows: accumulated in float64, more accurate), and the strided maps' merged dims
(ops/shapes.strided_ints) the sweep reads."""

import itertools
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops.movement import _strided_indices
from tapegrad.ops.shapes import strided_ints
from tapegrad.vecmath import short_run_kernels as K
from tapegrad.vecmath import short_runs as S
from tapegrad.vecmath import wide_sums as W

SUM_SHAPES = [(1000, 25, 10), (25000, 10), (300, 7, 9), (64, 64, 5), (2, 10000, 2),
              (5, 3, 4000), (4100, 4), (17, 1000, 3), (128, 130), (200, 3, 3, 10)]


def _data(shape, dtype, rng):
    # magnitudes over six decades: a different summation order would show in the last bits
    return (rng.standard_normal(shape) * 10 ** rng.uniform(-3, 3, shape)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sums_are_numpys_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    for shape in SUM_SHAPES:
        x = _data(shape, dtype, rng)
        for k in range(1, len(shape)):
            for dims in itertools.combinations(range(len(shape)), k):
                for keepdims in (False, True):
                    got = S.sum_axes(x, dims, keepdims)
                    want = x.sum(axis=dims, keepdims=keepdims)
                    assert got.dtype == want.dtype and got.shape == want.shape
                    if _wide(x, dims):
                        _assert_rounded_float64_sum(got, x, dims, keepdims)
                        continue
                    np.testing.assert_array_equal(got, want, err_msg=f"{shape} {dims}")


def _wide(x, dims):
    """Whether float32 ``x`` summed over ``dims`` adds more than ``wide_sums.LONG`` rows that
    are not the innermost: then accumulated in float64 (more accurate than NumPy's sum)."""
    if x.dtype != np.float32 or x.size < S.THRESHOLD or dims[-1] - dims[0] != len(dims) - 1:
        return False
    n = int(np.prod([x.shape[d] for d in dims]))
    return n > W.LONG and int(np.prod(x.shape[dims[-1] + 1:])) > 1


def _assert_rounded_float64_sum(got, x, dims, keepdims):
    """``got`` within float32 rounding of the float64 sum (NumPy's float32 sum is not)."""
    exact = x.astype(np.float64).sum(axis=dims, keepdims=keepdims)
    scale = np.abs(x).astype(np.float64).sum(axis=dims, keepdims=keepdims)
    err = np.abs(got - exact)
    assert (err <= np.abs(exact) * 2.0 ** -24 + scale * 1e-13).all()


def test_float32_sums_over_many_rows_beat_numpys():
    x = (np.random.default_rng(3).standard_normal((500000, 4)) + 1).astype(np.float32)
    exact = x.astype(np.float64).sum(0)
    got = S.sum_axes(x, (0,), False)
    _assert_rounded_float64_sum(got, x, (0,), False)
    assert np.abs(got - exact).max() < np.abs(x.sum(0) - exact).max() / 10
    torch = pytest.importorskip("torch")
    ref = np.abs(torch.from_numpy(x).sum(0).numpy() - exact).max()
    assert np.abs(got - exact).max() <= ref


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_loops_themselves_match_numpy(dtype):
    rng = np.random.default_rng(1)
    for n in range(1, 129):  # every row length of NumPy's pairwise block, incl. < 8
        x = _data((300, n), dtype, rng)
        out = np.empty(300, dtype)
        assert K.sum_rows(x, out)
        np.testing.assert_array_equal(out, x.sum(1), err_msg=str(n))
    x = _data((40, 33, 7), dtype, rng)
    out = np.empty((40, 7), dtype)
    assert K.sum_middle(x, out)
    np.testing.assert_array_equal(out, x.sum(1))


def test_signed_zeros_and_special_values_as_numpy():
    for n in (3, 9, 20):  # NumPy's sums start from +0.0: a row of -0.0 sums to +0.0
        x = np.full((2000, n), -0.0)
        np.testing.assert_array_equal(np.signbit(S.sum_axes(x, (1,), False)),
                                      np.signbit(x.sum(1)))
    x = np.ones((3000, 10))
    x[5, 3] = np.nan
    x[7, 2] = np.inf
    got = S.sum_axes(x, (1,), False)
    np.testing.assert_array_equal(got, x.sum(1))  # (NaN compares equal here)
    with warnings.catch_warnings(record=True) as caught:  # NumPy recomputes: its inf, and
        warnings.simplefilter("always")  # its warning is not shown from tapegrad's code
        got = S.sum_axes(np.full((1000, 25, 10), 1e308), (2,), False)
    assert np.isposinf(got).all() and not caught
    a, b = np.zeros((1000, 1, 10)), np.zeros((1, 25, 10))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = S.binary(np.true_divide, a, b)
    assert np.isnan(r).all() and not caught
    with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        S.binary(np.true_divide, a, b)
    assert not caught


BROADCASTS = [((1000, 1, 10), (1, 25, 10)), ((1000, 25, 10), (25, 10)), ((1000, 25), (1000, 1)),
              ((4000, 10), (10,)), ((30, 1, 40, 7), (1, 50, 1, 7)), ((2000, 1, 3), (1, 30, 1)),
              ((20000, 3), (1, 3)), ((50, 40, 30, 3), (40, 1, 3)), ((3, 2, 1000, 5), (2, 1, 5))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_broadcast_arithmetic_is_numpys_bit_for_bit(dtype):
    rng = np.random.default_rng(2)
    for xs, ys in BROADCASTS:
        x, y = rng.standard_normal(xs).astype(dtype), (rng.standard_normal(ys) + 3).astype(dtype)
        for f in (np.add, np.subtract, np.multiply, np.true_divide):
            for a, b in ((x, y), (y, x)):
                got, want = S.binary(f, a, b), f(a, b)
                assert got.dtype == want.dtype and got.shape == want.shape
                np.testing.assert_array_equal(got, want, err_msg=f"{f.__name__} {xs} {ys}")


def test_broadcast_of_views_and_the_kernel_is_taken_where_runs_are_short():
    rng = np.random.default_rng(3)
    base = rng.standard_normal((60, 50, 8))
    for v in (base[::-1], base[:, ::2], base.transpose(1, 0, 2), base[..., ::-1], base[:, :, 1:7]):
        for other in (rng.standard_normal(v.shape[-1]), rng.standard_normal((1,) + v.shape[1:])):
            for a, b in ((v, other), (other, v)):
                np.testing.assert_array_equal(S.binary(np.subtract, a, b), a - b)
    gmm = S._broadcast_dims(np.empty((1000, 1, 10)), np.empty((1, 25, 10)))
    assert gmm is not None and gmm[1][-2:] == [(25, 0, 80), (10, 8, 8)]
    assert S._broadcast_dims(np.empty((1000, 256)), np.empty(256)) is None  # long runs: NumPy's
    assert S._broadcast_dims(np.empty((10, 10)), np.empty(10)) is None  # small: NumPy's
    with pytest.raises(ValueError):  # shapes that do not broadcast: NumPy's own error
        S.binary(np.add, np.empty((5000, 3)), np.empty((5000, 4)))


UNIT_RUNS = [((1000, 1, 10), (1, 25, 10)),  # contiguous runs in both operands
             ((1000, 25, 10), (1000, 25, 1)),  # one broadcast along the run
             ((30, 40, 1, 20), (1, 40, 20, 1)), ((4000, 1, 4), (1, 8, 4)), ((300, 1, 7), (300, 9, 7))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_contiguous_runs_take_the_row_loops_bit_for_bit(dtype, monkeypatch):
    rng = np.random.default_rng(12)
    U = S._load_unit()
    calls = []
    loop = U.broadcast_rows
    monkeypatch.setattr(U, "broadcast_rows", lambda *a: calls.append(a[1]) or loop(*a))
    for xs, ys in UNIT_RUNS:
        x, y = _data(xs, dtype, rng), (rng.standard_normal(ys) + 3).astype(dtype)
        for f in (np.add, np.subtract, np.multiply, np.true_divide):
            for a, b in ((x, y), (y, x)):
                n = len(calls)
                got, want = S.binary(f, a, b), f(a, b)
                assert len(calls) == n + 1, (xs, ys)
                assert got.dtype == want.dtype and got.shape == want.shape
                np.testing.assert_array_equal(got, want, err_msg=f"{f.__name__} {xs} {ys}")
        saved = S.broadcast_value(y, np.broadcast_shapes(xs, ys))
        np.testing.assert_array_equal(saved, np.broadcast_to(y, saved.shape))
    assert set(calls) == {0, 1, 2}  # both runs contiguous; the left one; the right one
    # strides that are no whole number of runs, negative ones: the 4-D loop, the same values
    n = len(calls)
    base = rng.standard_normal((1000, 12)).astype(dtype)
    y = rng.standard_normal((1, 25, 10)).astype(dtype)
    for v in (base[:, 1:11][:, None], base[::-1, :10][:, None]):
        np.testing.assert_array_equal(S.binary(np.subtract, v, y), v - y)
    assert len(calls) == n
    # a non-finite result: NumPy's evaluation (its warning is not shown from tapegrad's code)
    big = np.full((1000, 1, 10), np.finfo(dtype).max, dtype)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert np.isinf(S.binary(np.add, big, np.full((1, 25, 10), np.finfo(dtype).max,
                                                      dtype))).all()
    assert not caught


def test_tensor_ops_take_the_loops_with_numpys_values_and_right_gradients():
    torch = None
    try:
        import torch
    except ImportError:
        pass
    rng = np.random.default_rng(4)
    xv, mv, qv = rng.standard_normal((1000, 10)), rng.standard_normal((25, 10)), \
        rng.standard_normal((25, 10))
    x, m, q = tg.tensor(xv), tg.tensor(mv, requires_grad=True), tg.tensor(qv, requires_grad=True)
    xc = x[:, None, :] - m[None, :, :]
    np.testing.assert_array_equal(xc.detach().numpy(), xv[:, None, :] - mv[None])
    s = (q[None] * xc).sum(2)
    np.testing.assert_array_equal(s.detach().numpy(), (qv[None] * (xv[:, None] - mv)).sum(2))
    (s * s).sum().backward()
    sv = (qv[None] * (xv[:, None] - mv)).sum(2)  # d/dq, d/dm of sum(s^2), s = sum_d q (x - m)
    np.testing.assert_allclose(q.grad.numpy(), (2 * sv[:, :, None] * (xv[:, None] - mv)).sum(0),
                               rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(m.grad.numpy(), (-2 * sv[:, :, None] * qv[None]).sum(0),
                               rtol=1e-12, atol=1e-9)
    if torch is not None:
        tq, tm = torch.tensor(qv, requires_grad=True), torch.tensor(mv, requires_grad=True)
        ts = (tq[None] * (torch.tensor(xv)[:, None, :] - tm[None])).sum(2)
        (ts * ts).sum().backward()
        np.testing.assert_allclose(q.grad.numpy(), tq.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(m.grad.numpy(), tm.grad.numpy(), rtol=1e-10)


def test_gradcheck_through_merged_strided_maps():
    rng = np.random.default_rng(5)
    x = tg.tensor(rng.standard_normal((4, 3, 5)), requires_grad=True)
    b = tg.tensor(rng.standard_normal((3, 1)), requires_grad=True)
    f = lambda x, b: ((x * b + b) ** 2).sum(1)  # noqa: E731
    assert tg.autograd.gradcheck(f, (x, b))
    assert tg.autograd.gradgradcheck(f, (x, b))


def test_strided_ints_keep_the_index_map():
    rng = np.random.default_rng(6)
    for _ in range(200):
        nd = int(rng.integers(1, 5))
        shape = tuple(int(n) for n in rng.integers(1, 5, nd))
        kind = rng.integers(0, 3, nd)  # broadcast, C order of a (maybe smaller) operand, other
        cs = [int(np.prod(shape[k + 1:])) for k in range(nd)]
        strides = tuple(0 if k == 0 else c if k == 1 else int(rng.integers(1, 7))
                        for k, c in zip(kind, cs))
        ints = strided_ints(shape, strides, 3)
        m = ints[0]
        merged = _strided_indices(ints[1:1 + m], ints[1 + m:1 + 2 * m], ints[-1]).reshape(-1)
        np.testing.assert_array_equal(merged, _strided_indices(shape, strides, 3).reshape(-1))
        assert m <= max(1, sum(n > 1 for n in shape))


def test_broadcast_values_saved_for_the_backward():
    rng = np.random.default_rng(7)
    for xs, shape in (((1000, 1, 10), (1000, 25, 10)), ((25, 10), (1000, 25, 10)),
                      ((3000, 1), (3000, 7)), ((10,), (3, 10))):
        for dtype in (np.float64, np.float32):
            x = rng.standard_normal(xs).astype(dtype)
            v = S.broadcast_value(x, shape)
            np.testing.assert_array_equal(v, np.broadcast_to(x, shape))
            assert v.dtype == dtype and v.shape == shape
    assert S.broadcast_value(x, (3, 10)).base is not None  # small: NumPy's view, copied later
    assert S.broadcast_value(rng.standard_normal((1000, 1, 10)), (1000, 25, 10)).flags.c_contiguous
    # through an op that saves both broadcast operands: q_n . k_k for every pair
    qv, kv = rng.standard_normal((1000, 10)), rng.standard_normal((25, 10))
    q, k = tg.tensor(qv, requires_grad=True), tg.tensor(kv, requires_grad=True)
    s = (q[:, None, :] * k[None]).sum(-1)
    (s * s).sum().backward()
    sv = qv @ kv.T
    np.testing.assert_allclose(q.grad.numpy(), 2 * sv @ kv, rtol=1e-10)
    np.testing.assert_allclose(k.grad.numpy(), 2 * sv.T @ qv, rtol=1e-10)


def test_shift_max_is_numpys_maximum_up_to_the_sign_of_zero():
    rng = np.random.default_rng(8)
    for dtype in (np.float64, np.float32):
        for shape, dims in (((1000, 25), (1,)), ((200, 10, 9), (2,)), ((100, 20, 9), (1, 2)),
                            ((5000, 4), (1,))):
            x = rng.standard_normal(shape).astype(dtype)
            x[3, ...] = 0.0
            x[4, ...] = -0.0
            x[5, ...] = -np.inf
            x.reshape(len(x), -1)[6, 1] = np.nan
            x.reshape(len(x), -1)[7, 0] = np.nan  # NaN first in its row
            x.reshape(len(x), -1)[8, -1] = np.inf
            got, want = S.shift_max(x, dims), np.amax(x, axis=dims, keepdims=True)
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)  # (-0.0 == 0.0; NaN where NumPy's is)
    x = rng.standard_normal((1000, 25))
    for dims in ((0,), (0, 1)):  # leading or all dims: NumPy's own
        np.testing.assert_array_equal(S.shift_max(x, dims), np.amax(x, axis=dims, keepdims=True))


def test_logsumexp_and_softmax_over_large_short_rows():
    rng = np.random.default_rng(9)
    xv = rng.standard_normal((2000, 25)) * 30
    xv[0] = 0.0
    xv[1] = -0.0
    xv[2, 3] = np.inf
    xv[3] = -np.inf
    x = tg.tensor(xv, requires_grad=True)
    m = np.amax(xv, axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(all="ignore"):
        want = (np.log(np.exp(xv - m).sum(1, keepdims=True)) + m)[:, 0]
    got = tg.logsumexp(x, 1)
    np.testing.assert_array_equal(got.detach().numpy(), want)
    with np.errstate(all="ignore"):  # softmax shifts by a +inf maximum too (PyTorch's: nan row)
        top = np.amax(xv, axis=1, keepdims=True)
        e = np.exp(xv - np.where(top == np.inf, top, m))
        np.testing.assert_array_equal(tg.softmax(x, 1).detach().numpy(), e / e.sum(1, keepdims=True))
    rows = slice(4, None)  # finite rows: the gradient of the sum of logsumexps is the softmax
    tg.logsumexp(x[rows], 1).sum().backward()
    sm = np.exp(xv[rows] - want[rows, None])
    np.testing.assert_allclose(x.grad.numpy()[rows], sm, rtol=1e-12, atol=1e-300)


def _directional(f, arrays, wrt, rng, eps=1e-6):
    """The gradient of the scalar ``f`` along a random direction, against a central finite
    difference (float64): a check of the large-array paths independent of their formulas."""
    ts = [tg.tensor(a, requires_grad=(k == wrt)) for k, a in enumerate(arrays)]
    f(*ts).backward()
    v = rng.standard_normal(arrays[wrt].shape)
    moved = [[a + s * eps * v if k == wrt else a for k, a in enumerate(arrays)] for s in (1, -1)]
    up, down = (f(*[tg.tensor(a) for a in m]).item() for m in moved)
    fd = (up - down) / (2 * eps)
    np.testing.assert_allclose((ts[wrt].grad.numpy() * v).sum(), fd, rtol=2e-6, atol=1e-6)


def test_large_paths_against_finite_differences():
    rng = np.random.default_rng(10)
    xv, mv, qv = rng.standard_normal((1000, 10)), rng.standard_normal((25, 10)), \
        rng.standard_normal((25, 10))

    def gmm_like(x, m, q):  # broadcast subtraction and product, sums over the last dim
        s = (q[None] * (x[:, None, :] - m[None])).sum(2)
        return (tg.logsumexp(s, 1) + (s * s).sum(1) * 1e-3).sum()

    for wrt in (0, 1, 2):
        _directional(gmm_like, [xv, mv, qv], wrt, rng)
    zv = rng.standard_normal((40, 1000))

    def selects_and_powers(z):  # where (leaky_relu, hardtanh), x ** 3, x ** -2, sigmoid
        F = tg.nn.functional
        return (F.leaky_relu(z, 0.1) * 0.3 + F.hardtanh(z) + z ** 3 * 0.01 +
                (z * z + 1.0) ** -2 + tg.sigmoid(z)).sum()

    _directional(selects_and_powers, [zv], 0, rng)
