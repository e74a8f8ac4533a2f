"""``softmax`` and ``log_softmax`` of CPU arrays are one op each (``ops/fused_softmax.py``): values
bit for bit those of the composition they replace, PyTorch's gradients, node names, tangents
and batching."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops.fused_softmax import shift_array

# (rows over the last dim of 1 to 128 elements take the compiled row loops: lengths on both
# sides of NumPy's eight running sums and of the loops' limit)
SHAPES = [((6,), 0), ((4, 7), 1), ((4, 7), 0), ((3, 4, 5), 1), ((3, 4, 5), -1),
          ((1000, 25, 10), 1), ((300, 500), 1), ((5, 1), 1), ((3, 8), 1), ((2, 3, 17), 2),
          ((4, 128), 1), ((4, 129), 1), ((64, 1024), 1), ((3, 4097), 1)]


def _composed(x, d, log):
    """The composition the op replaced, in tapegrad ops (its values are the reference)."""
    with tg.no_grad(), np.errstate(divide="ignore"):  # (log(0) of a row of -inf)
        m = tg.tensor(shift_array(x.numpy(), (d % x.ndim,), keep_inf=True))  # (+inf: nan rows)
        e = tg.exp(x - m)
        s = e.sum(d, keepdim=True)
        return (x - m) - tg.log(s) if log else e / s  # (PyTorch's order of subtractions)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,d", SHAPES)
@pytest.mark.parametrize("log", [False, True])
def test_values_are_the_compositions_and_gradients_pytorchs(shape, d, log, dtype):
    r = np.random.default_rng(len(shape) * 10 + d)
    x0 = (r.standard_normal(shape) * 4).astype(dtype)
    w = r.standard_normal(shape).astype(dtype)
    f = tg.log_softmax if log else tg.softmax
    x = tg.tensor(x0, requires_grad=True)
    y = f(x, d)
    assert type(y.grad_fn).__name__ == ("LogSoftmaxBackward0" if log else "SoftmaxBackward0")
    np.testing.assert_array_equal(y.detach().numpy(), _composed(tg.tensor(x0), d, log).numpy())
    (y * tg.tensor(w)).sum().backward()
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x0, requires_grad=True)
    yt = (torch.log_softmax if log else torch.softmax)(xt, d)
    (yt * torch.tensor(w)).sum().backward()
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **tol)


def _both_as_the_composition(x0):
    """softmax and log_softmax of ``x0`` over its rows equal the composition's, bit for bit."""
    for log in (False, True):
        f = tg.log_softmax if log else tg.softmax
        with np.errstate(invalid="ignore"):
            got = f(tg.tensor(x0, requires_grad=True), 1).detach().numpy()
            want = _composed(tg.tensor(x0), 1, log).numpy()
        np.testing.assert_array_equal(got, want)


def test_infinite_and_nan_rows_as_the_composition():
    _both_as_the_composition(np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf],
                                       [np.inf, 0.0, 1.0], [np.nan, 0.0, 1.0]]))


@pytest.mark.parametrize("n", [16, 19, 1000])
def test_long_rows_with_infinities_and_nans_as_the_composition(n):
    """Rows long enough for the four-lane maximum, a NaN or inf anywhere in them (NumPy's
    path for that batch), and masked entries (-inf: zeros of softmax)."""
    r = np.random.default_rng(n)
    for special in (np.nan, np.inf, -np.inf):
        for at in (0, 3, n - 1):
            x0 = r.standard_normal((5, n)) * 3
            x0[:, 1] = -np.inf  # masked everywhere
            x0[2, at] = special
            _both_as_the_composition(x0)


def test_gradient_along_a_direction_matches_finite_differences():
    r = np.random.default_rng(1)
    x0, v, w = r.standard_normal((5, 6)), r.standard_normal((5, 6)), r.standard_normal((5, 6))
    for f in (tg.softmax, tg.log_softmax):
        x = tg.tensor(x0, requires_grad=True)
        (f(x, 1) * tg.tensor(w)).sum().backward()
        h = 1e-6
        fd = (np.sum(f(tg.tensor(x0 + h * v), 1).numpy() * w) -
              np.sum(f(tg.tensor(x0 - h * v), 1).numpy() * w)) / (2 * h)
        assert float(np.sum(x.grad.numpy() * v)) == pytest.approx(fd, rel=1e-7)
        assert tg.autograd.gradgradcheck(lambda t: f(t, 0), (tg.tensor(x0, requires_grad=True),))


def test_tangents_and_batching():
    r = np.random.default_rng(2)
    x0, t0 = r.standard_normal((4, 5)), r.standard_normal((4, 5))
    for f in (tg.softmax, tg.log_softmax):
        _, tangent = tg.func.jvp(lambda a: f(a, 1), (tg.tensor(x0),), (tg.tensor(t0),))
        h = 1e-6
        fd = (f(tg.tensor(x0 + h * t0), 1).numpy() - f(tg.tensor(x0 - h * t0), 1).numpy()) / (2 * h)
        np.testing.assert_allclose(tangent.numpy(), fd, rtol=1e-6, atol=1e-8)
        batched = tg.func.vmap(lambda row: f(row, 0))(tg.tensor(x0))
        np.testing.assert_allclose(batched.numpy(), f(tg.tensor(x0), 1).numpy(), rtol=1e-15)


def test_a_transposed_input_and_rows_at_the_loops_edges():
    """A non-contiguous input (NumPy's path) and rows of -inf, inf, huge and tiny values next
    to ordinary rows (the loops' rows, then NumPy's for the non-finite ones): the
    composition's values."""
    r = np.random.default_rng(4)
    x0 = r.standard_normal((7, 4)) * 3
    for f, log in ((tg.softmax, False), (tg.log_softmax, True)):
        xt = tg.tensor(x0).T
        np.testing.assert_array_equal(f(xt, 1).numpy(), _composed(xt, 1, log).numpy())
        rows = np.array([[1e300, -1e300, 0.0], [-np.inf, 0.0, 5e-324], [-np.inf] * 3,
                         [np.inf, 1.0, 2.0], [700.0, 710.0, -745.0]])
        with np.errstate(invalid="ignore"):
            got = f(tg.tensor(rows), 1).numpy()
            want = _composed(tg.tensor(rows), 1, log).numpy()
        np.testing.assert_array_equal(got, want)



@pytest.mark.parametrize("dtype,big", [(np.float64, 1e300), (np.float64, 1e17),
                                       (np.float32, 1e8), (np.float32, 3e38)])
def test_log_softmax_keeps_the_log_beside_a_large_shift(dtype, big):
    """``(x - m) - log(s)``: ``x - (log(s) + m)`` rounded ``log(s)`` away beside a shift of
    1e17 (1e8 in float32), giving 0 for two equal logits instead of ``-log(2)``; on the row
    loops, NumPy's path (a non-last dim) and through cross_entropy."""
    x0 = np.array([[big, big, 0.0], [-big, -big, -big]], dtype)
    want = np.array([[-np.log(2), -np.log(2), -big], [-np.log(3)] * 3])
    x = tg.tensor(x0, requires_grad=True)
    for got in (tg.log_softmax(x, 1), tg.log_softmax(x.T, 0).T,
                tg.nn.functional.log_softmax(x.detach(), -1)):
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-6)
    loss = tg.nn.functional.cross_entropy(x, tg.tensor([0, 2]))
    np.testing.assert_allclose(loss.item(), (np.log(2) + np.log(3)) / 2, rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-0.25, 0.25, 0.0], [1 / 6, 1 / 6, -1 / 3]],
                               rtol=1e-6, atol=1e-7)

@pytest.mark.parametrize("enabled", [False, True])
def test_row_loops_call_the_compositions_exp_and_log(monkeypatch, enabled):
    """Large short-row inputs with vecmath's exp and log kernels on and off (a CPU without
    AVX-512 uses them, one with it NumPy's): the row loops' values are still the
    composition's bit for bit."""
    from tapegrad import vecmath

    monkeypatch.setitem(vecmath.ENABLED, "exp", enabled)
    monkeypatch.setitem(vecmath.ENABLED, "log", enabled)
    x0 = np.random.default_rng(9).standard_normal((64, 100)) * 5  # 6400 >= vecmath.THRESHOLD
    for f, log in ((tg.softmax, False), (tg.log_softmax, True)):
        got = f(tg.tensor(x0, requires_grad=True), 1).detach().numpy()
        np.testing.assert_array_equal(got, _composed(tg.tensor(x0), 1, log).numpy())
