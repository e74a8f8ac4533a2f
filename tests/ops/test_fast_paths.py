"""The array fast paths of the forward (same-shape and broadcast elementwise ops, constant
operands, full and single-dim sums, matmul on CPU arrays): the gradients, saved values,
in-place checks and inference-mode rules they share with the general path."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

SAVE_MSG = "Inference tensors cannot be saved for backward"


def _t(shape, seed, dtype=np.float64):
    return tg.tensor(np.random.default_rng(seed).uniform(0.5, 2.0, shape).astype(dtype),
                     requires_grad=True)


@pytest.mark.parametrize("sa, sb", [((4, 3), (4, 3)), ((4, 3), (3,)), ((4, 1), (1, 3)),
                                    ((3,), (2, 4, 3)), ((1,), (1,))])
@pytest.mark.parametrize("op", ["mul", "div", "pow", "sub", "maximum"])
def test_binary_fast_paths_first_and_second_order(sa, sb, op):
    f = {"mul": lambda a, b: a * b, "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
         "sub": lambda a, b: a - b, "maximum": tg.maximum}[op]
    a, b = _t(sa, 1), _t(sb, 2)
    assert tg.autograd.gradcheck(f, (a, b))
    assert tg.autograd.gradgradcheck(f, (a, b))


def test_binary_fast_path_matches_torch():
    torch = pytest.importorskip("torch")
    a, b = _t((4, 3), 3), _t((3,), 4)
    ta, tb = (torch.tensor(t.detach().numpy(), requires_grad=True) for t in (a, b))
    ((a * b) / (a + b) - tg.tanh(a) ** 2).mean().backward()
    ((ta * tb) / (ta + tb) - torch.tanh(ta) ** 2).mean().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (-1, False), (1, True),
                                          ((0, 1), False)])
def test_sum_and_mean_fast_paths(dim, keepdim):
    x = _t((3, 4), 5)
    for f in (lambda t: t.sum(dim, keepdim=keepdim) if dim is not None else t.sum(),
              lambda t: t.mean(dim, keepdim=keepdim) if dim is not None else t.mean()):
        assert tg.autograd.gradcheck(f, (x,))
        assert tg.autograd.gradgradcheck(f, (x,))


def test_sum_dim_out_of_range_is_pytorchs_error():
    with pytest.raises(IndexError, match="Dimension out of range"):
        _t((3, 4), 6).sum(2)


@pytest.mark.parametrize("sa, sb", [((3, 4), (4, 2)), ((3, 4), (4,)), ((4,), (4, 2)),
                                    ((4,), (4,)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5))])
def test_matmul_fast_path(sa, sb):
    a, b = _t(sa, 7), _t(sb, 8)
    assert tg.autograd.gradcheck(tg.matmul, (a, b))
    assert tg.autograd.gradgradcheck(tg.matmul, (a, b))
    c = tg.tensor(b.detach().numpy())  # a constant operand: only a's gradient
    (a @ c).sum().backward()
    assert a.grad is not None and a.grad.shape == a.shape


def test_matmul_of_views_time_steps_and_a_base_changed_in_place():
    """Views (a time step ``xs[t]``, a transposed weight) take the fast path while their base
    is unchanged: PyTorch's gradients; a view of a base changed in place since is regathered
    first (its new values), and a saved view changed afterwards is caught."""
    r = np.random.default_rng(3)
    xs0, w0 = r.standard_normal((4, 3, 2)), r.standard_normal((5, 2))
    xs, w = tg.tensor(xs0), tg.tensor(w0, requires_grad=True)
    loss = sum(((xs[t] @ w.T) ** 2).sum() for t in range(4))
    loss.backward()
    want = sum(2 * (xs0[t] @ w0.T).T @ xs0[t] for t in range(4))
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-13)
    base = tg.tensor(xs0.copy(), requires_grad=True) * 1.0
    view = base[1]
    base[1] = base[1] * 2.0  # in place on the base, after the view was made
    y = view @ w.T
    np.testing.assert_allclose(y.detach().numpy(), 2 * xs0[1] @ w0.T, rtol=1e-14)
    c = tg.tensor(xs0.copy())
    y = (c[0] @ w.T).sum()
    with tg.no_grad():
        c.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    torch = pytest.importorskip("torch")
    wt = torch.tensor(w0, requires_grad=True)
    sum(((torch.tensor(xs0)[t] @ wt.T) ** 2).sum() for t in range(4)).backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-13)


def test_matmul_shape_mismatch_is_pytorchs_error():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(3x4 "
                                           r"and 5x2\)"):
        _t((3, 4), 1) @ _t((5, 2), 2)
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        _t((3,), 1) @ _t((4,), 2)


def test_broadcast_mismatch_is_pytorchs_error():
    with pytest.raises(RuntimeError, match="The size of tensor a \\(3\\) must match the size "
                                           "of tensor b \\(4\\) at non-singleton dimension 1"):
        _t((2, 3), 1) * _t((4,), 2)


@pytest.mark.parametrize("sb", [(3,), (2, 3)])
def test_saved_input_modified_in_place_is_caught(sb):
    a, b = _t((2, 3), 1), tg.tensor(np.ones(sb))
    b.requires_grad_(False)
    y = (a * b).sum()
    with tg.no_grad():
        b.add_(1.0)  # b was saved (broadcast or not) for a's gradient
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inference_tensors_are_refused_by_the_fast_paths():
    x = _t((2, 3), 1)
    with tg.inference_mode():
        y, v, w = tg.ones(2, 3), tg.ones(3), tg.ones(3, 2)
    for f in (lambda: y * x, lambda: x * v, lambda: x @ w):
        with pytest.raises(RuntimeError, match=SAVE_MSG):
            f()
    (x + v).sum().backward()  # add saves nothing: allowed, as in PyTorch
    assert x.grad.tolist() == [[1.0] * 3] * 2


def test_float32_stays_float32():
    a, b = _t((4, 3), 1, np.float32), _t((3,), 2, np.float32)
    y = (tg.tanh(a * b + b) ** 2).mean()
    assert y.dtype == np.float32
    y.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32
    a64, b64 = (tg.tensor(t.detach().numpy().astype(np.float64), requires_grad=True)
                for t in (a, b))
    (tg.tanh(a64 * b64 + b64) ** 2).mean().backward()
    np.testing.assert_allclose(a.grad.numpy(), a64.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), b64.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_no_grad_and_constants_record_nothing():
    a, c = _t((2, 3), 1), tg.tensor(np.ones((2, 3)))
    with tg.no_grad():
        assert not (a * c).requires_grad and not (a @ tg.ones(3, 2)).requires_grad
    assert not (c * c).requires_grad and (c * a).requires_grad


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("c", [2, 2.0])
def test_square_is_numpys_power_bit_for_bit(dtype, c):
    x = np.array([0.0, -0.0, 1.5, -3.25, 1e300, -1e-310, np.inf, -np.inf, np.nan, 7.0])
    t = tg.tensor(x.astype(dtype))
    with np.errstate(all="ignore"):
        want = np.power(x.astype(dtype), c)
    got = (t ** c).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))
    # the recorded path: the same value, its gradient 2x, and float64 finite differences
    a = _t((4, 3), 5, dtype)
    r = a ** c
    assert r.dtype == dtype
    np.testing.assert_array_equal(r.detach().numpy(), np.power(a.detach().numpy(), c))
    r.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * a.detach().numpy(), rtol=1e-3)
    assert tg.autograd.gradgradcheck(lambda v: v ** c, (_t((3,), 6),))
    assert (2.0 ** _t((2,), 7)).detach().numpy().tolist() == \
        np.power(2.0, _t((2,), 7).detach().numpy()).tolist()  # the reflected power unchanged


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_array_and_number_operators_record_like_the_generic_ops(shape, dtype):
    # ``x + c``, ``x - c``, ``x * c``, ``x / c`` on an array that requires grad take the
    # operators' own path; it must give the generic op's value, record and gradients
    from tapegrad.ops import elementwise as E

    pairs = [(lambda x, c: x + c, E.add), (lambda x, c: x - c, E.sub),
             (lambda x, c: x * c, E.mul), (lambda x, c: x / c, E.div)]
    base = np.random.default_rng(9).uniform(0.5, 2.0, shape).astype(dtype)
    for c in (2.5, -3, 0.0, 7):
        for fast, generic in pairs:
            x1, x2 = (tg.tensor(base.copy(), requires_grad=True) for _ in range(2))
            with np.errstate(divide="ignore"):
                r1, r2 = fast(x1 * 1.0, c), generic(x2 * 1.0, c)
            assert r1.dtype == r2.dtype == dtype
            np.testing.assert_array_equal(r1.detach().numpy(), r2.detach().numpy())
            assert r1.grad_fn.name() == r2.grad_fn.name()
            (g1,) = tg.autograd.grad(r1.sum(), x1, create_graph=True)
            (g2,) = tg.autograd.grad(r2.sum(), x2, create_graph=True)
            assert g1.dtype == g2.dtype == dtype
            np.testing.assert_array_equal(g1.detach().numpy(), g2.detach().numpy())
            (h1,) = tg.autograd.grad((g1 * x1).sum(), x1)
            (h2,) = tg.autograd.grad((g2 * x2).sum(), x2)
            np.testing.assert_array_equal(h1.numpy(), h2.numpy())


def test_array_and_number_operators_on_views_and_leaves():
    x = _t((3, 4), 10)
    for f in (lambda t: t[1:] * 3.0, lambda t: t.T / 2, lambda t: t - 1.5, lambda t: t + 4):
        assert tg.autograd.gradcheck(lambda t: f(t) ** 2, (x,))
        assert tg.autograd.gradgradcheck(lambda t: f(t) ** 2, (x,))


def test_float32_mean_loss_matches_torch():
    torch = pytest.importorskip("torch")
    v = np.random.default_rng(11).standard_normal((32, 10)).astype(np.float32)
    x, tx = tg.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    loss, tloss = (x ** 2).mean() / 3 - 0.5, (tx ** 2).mean() / 3 - 0.5
    assert loss.dtype == np.float32 and loss.item() == tloss.item()
    loss.backward()
    tloss.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


_CONSTANTS = [0.9999, -2.5, 0.1, 3.0, 1e-45, 1e-300, 1e38, -0.0, 0.0, float("inf"),
              -float("inf"), float("nan"), 2, -7, 16777217]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.float16])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv"])
def test_no_grad_number_operands_are_numpys_weak_scalars(dtype, op):
    """Under no_grad a float operand meets the array as a kept 0-d array of its dtype: the
    results (values, signs of zeros, NaN, dtype) are NumPy's for the Python number, also the
    second time a constant is used and after the kept constants were dropped."""
    import operator

    from tapegrad.ops import scalar_fast

    f = getattr(operator, op)
    v = np.array([1.5, -0.0, 0.0, 3.0, -1e-3, 7.25, np.inf, np.nan])
    v = (v if np.dtype(dtype).kind == "f" else v[:6]).astype(dtype)
    x = tg.tensor(v)
    with tg.no_grad(), np.errstate(all="ignore"):
        for _ in range(2):
            for c in _CONSTANTS:
                got = f(x, c).numpy()
                want = f(v, c)
                assert got.dtype == want.dtype
                np.testing.assert_array_equal(got, want)
                assert np.array_equal(np.signbit(got), np.signbit(want))
        scalar_fast._consts64.clear()
        scalar_fast._consts32.clear()
        np.testing.assert_array_equal(f(x, 0.75).numpy(), f(v, 0.75))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv"])
def test_recorded_number_operands_are_numpys_weak_scalars(dtype, op):
    """Recorded, ``x <op> c`` meets the constant kept converted too: NumPy's values for the
    Python number (signs of zeros, NaN, float32 underflow and overflow), and the gradient
    the generic op records (1, -1... the constant's derivative in the array's dtype)."""
    import operator

    f = getattr(operator, op)
    v = np.array([1.5, -0.0, 0.0, 3.0, -1e-3, 7.25, np.inf, np.nan]).astype(dtype)
    with np.errstate(all="ignore"):
        for _ in range(2):
            for c in _CONSTANTS:
                x = tg.tensor(v, requires_grad=True)
                y = f(x, c)
                want = f(v, c)
                got = y.detach().numpy()
                assert got.dtype == want.dtype
                np.testing.assert_array_equal(got, want)
                assert np.array_equal(np.signbit(got), np.signbit(want))
                y.sum().backward()
                d = {"add": 1.0, "sub": 1.0, "mul": c, "truediv": 1.0 / c if c else np.inf}[op]
                assert x.grad.dtype == dtype
                np.testing.assert_array_equal(x.grad.numpy(), np.full(v.shape, d, dtype))


def test_no_grad_float32_overflowing_constant_is_inf_silently_each_time():
    """float32 * 1e300 is inf every time (the conversion overflows), silently as PyTorch's,
    even under a filter that shows every warning."""
    x = tg.tensor(np.ones(3, np.float32))
    with tg.no_grad():
        for _ in range(2):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                r = x * 1e300
            assert not caught
            assert r.dtype == np.float32 and np.isinf(r.numpy()).all()


def test_no_grad_kept_constants_stay_bounded():
    from tapegrad.ops import scalar_fast

    x = tg.tensor(np.arange(4.0))
    with tg.no_grad():
        for k in range(3 * scalar_fast._MAX_CONSTS):
            c = 1.0 + k / 7.0
            np.testing.assert_array_equal((x * c).numpy(), np.arange(4.0) * c)
    assert 0 < len(scalar_fast._consts64) <= scalar_fast._MAX_CONSTS


_POW_BASES = np.concatenate([
    [0.0, -0.0, 1.5, -3.25, 1e200, -1e-310, np.inf, -np.inf, np.nan, 7.0, 0.1, -2.0 / 3.0],
    np.random.default_rng(12).uniform(-3.0, 3.0, 500)])  # (x * x * x and pow() differ often)


@pytest.mark.parametrize("c", [2.0, 3.0, 4.0, -1.0, 1.5, 0.5])
def test_power_gradient_compiled_equals_numpy_sweep_and_torch(c):
    """``x ** c``'s gradient ``g * (c * x ** (c - 1))``: the compiled sweep (a few elements)
    computes ``x ** 1`` as x and ``x ** 2``, ``x ** 3``, ``x ** -2`` as products, as the NumPy
    sweep of a large record does and as PyTorch's pow does: the same values all three ways
    (signs of zero aside: the compiled sweep adds into a zeroed adjoint)."""
    from tapegrad.engine.numpy_records import BIG

    reps = -(-BIG // len(_POW_BASES))
    big = np.tile(_POW_BASES, reps)
    grads = []
    for values in (_POW_BASES, big):  # compiled loop; NumPy formulas
        x = tg.tensor(values, requires_grad=True)
        with np.errstate(all="ignore"):
            (x ** c).backward(tg.tensor(np.full(len(values), 0.75)))
        grads.append(x.grad.numpy()[: len(_POW_BASES)])
    small, large = grads
    np.testing.assert_array_equal(small, large)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(_POW_BASES, requires_grad=True)
    (tx ** c).backward(torch.full((len(_POW_BASES),), 0.75, dtype=torch.float64))
    if c == int(c):  # PyTorch's products; its sqrt of x ** 1.5 differs in the last bit
        np.testing.assert_array_equal(small, tx.grad.numpy())
    else:
        np.testing.assert_allclose(small, tx.grad.numpy(), rtol=5e-16)
