"""tapegrad.vecmath: SIMD exp/log/sin/cos kernels within 1 ulp of the correctly rounded value
(mpmath), special values bit for bit as NumPy's, dispatch and lazy compilation.

The big sampling run (millions of arguments) is ``tests/vecmath_accuracy.py``."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import vecmath

NAMES = ("exp", "log", "sin", "cos")
N_PER_FUNCTION = 50_000  # mpmath arguments per function, over all its ranges (~2 s)


@pytest.mark.parametrize("name", NAMES)
def test_within_one_ulp_of_mpmath(name):
    pytest.importorskip("mpmath", reason="mpmath (the reference) is a test dependency: "
                                         "pip install tapegrad[test]")
    import vecmath_accuracy as acc

    rng = np.random.default_rng(sum(map(ord, name)))
    ranges = acc.samples(name, rng, 1)
    n = N_PER_FUNCTION // len(ranges)
    worst = {}
    for label, x in acc.samples(name, rng, n).items():
        kernel, numpy = acc.measure(name, x)
        worst[label] = kernel
        assert kernel <= 1.0, (name, label, kernel)
        assert numpy <= 1.0, (name, label, numpy)  # the reference itself is sound
    # the kernels are not trivially NumPy's: the ranges they own are covered and not exact
    assert max(v for k, v in worst.items() if not k.startswith("NumPy")) > 0.5


# NumPy's values exactly (nan, inf, zeros, subnormals, overflow, log of x <= 0, arguments
# beyond the kernels' ranges); EDGES: ordinary arguments at the kernels' range ends (1 ulp).
SPECIALS = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -5e-324, 1e-310,
                     -1e-310, np.nextafter(2.0 ** 20, np.inf), 1e6, 1e22,
                     1.7976931348623157e308, -1.7976931348623157e308, 709.79, 710.0,
                     -708.4, -745.1, -745.2, -746.0])
EDGES = np.array([2.2250738585072014e-308, 1e-300, -1e-300, 1.0, -1.0, np.pi / 2, -np.pi / 2,
                  np.pi, 2.0 ** 20, -2.0 ** 20, 709.78, -708.39, 1e5, -1e5])


def _with_specials(rng, n=8192):
    x = rng.uniform(-10, 10, n)
    both = np.concatenate([SPECIALS, EDGES])
    pos = rng.choice(n, both.size * 8, replace=False)
    x[pos] = np.tile(both, 8)
    return x


@pytest.mark.parametrize("name", NAMES)
def test_special_values_bit_for_bit(name):
    x = _with_specials(np.random.default_rng(1))
    np_f = getattr(np, name)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        got = vecmath.apply(name, x)
    with np.errstate(all="ignore"):
        want = np_f(x)
    assert not ours  # NumPy's IEEE warnings: silent from tapegrad's code, as PyTorch's ops
    special = np.isin(x.view(np.int64), SPECIALS.view(np.int64))
    assert np.array_equal(got[special].view(np.int64), want[special].view(np.int64))
    # finite arguments: at most one ulp from NumPy (which is within 0.5 ulp here)
    ok = np.isfinite(want)
    assert np.all(np.abs(got[ok].view(np.int64) - want[ok].view(np.int64)) <= 1)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    with np.errstate(all="raise"):  # np.errstate acts on the elements NumPy recomputes
        if name in ("exp", "log"):
            with pytest.raises(FloatingPointError):
                np_f(x)
            with pytest.raises(FloatingPointError):
                vecmath.apply(name, x)


def test_signed_zero_and_shape():
    x = np.zeros((80, 64))
    x[::2] = -0.0
    s = vecmath.apply("sin", x)
    assert s.shape == x.shape and np.array_equal(np.signbit(s), np.signbit(x))
    assert np.all(vecmath.apply("cos", x) == 1.0)
    assert np.all(vecmath.apply("exp", x) == 1.0)
    with warnings.catch_warnings(record=True) as caught:  # -inf as np.log(0.0), silently
        warnings.simplefilter("always")
        assert np.all(vecmath.apply("log", x) == -np.inf)
    assert not caught


@pytest.mark.parametrize("name", NAMES)
def test_dispatch_falls_back_to_numpy(name):
    rng = np.random.default_rng(2)
    f, np_f = getattr(vecmath, name), getattr(np, name)
    big = rng.uniform(0.5, 10, (300, 40))
    for x in (big[:100, :40], big[:, ::2], big.T, big.astype(np.float32), 3.0,
              np.float64(3.0), [1.0, 2.0], np.asarray(2.0)):
        got, want = f(x), np_f(x)
        assert type(got) is type(want) and np.asarray(got).dtype == np.asarray(want).dtype
        bits = [np.ascontiguousarray(v).reshape(-1).view(np.uint8) for v in (got, want)]
        assert np.array_equal(*bits)
    got = f(big)
    if vecmath.ENABLED[name]:
        assert np.array_equal(got, vecmath.apply(name, big))
    else:
        assert np.array_equal(got, np_f(big))
    assert np.all(np.abs(got.view(np.int64) - np_f(big).view(np.int64)) <= 1)


@pytest.mark.parametrize("name", NAMES)
def test_ops_large_and_small_agree(name):
    """The forward of a large record (kernel) and of small pieces (NumPy) agree within 1 ulp,
    and so does the large record's derivative rule."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0.1, 20.0, 6000)
    op = getattr(tg, name)
    t = tg.tensor(x, requires_grad=True)
    y = op(t)
    pieces = np.concatenate([op(tg.tensor(x[i:i + 1000])).detach().numpy()
                             for i in range(0, x.size, 1000)])
    assert np.all(np.abs(y.detach().numpy().view(np.int64) - pieces.view(np.int64)) <= 1)
    y.sum().backward()
    d = {"exp": np.exp, "log": lambda v: 1.0 / v, "sin": np.cos, "cos": lambda v: -np.sin(v)}
    want = d[name](x)
    assert np.all(np.abs(t.grad.numpy().view(np.int64) - want.view(np.int64)) <= 1)


@pytest.mark.parametrize("name", NAMES)
def test_the_public_op_is_vecmaths_function_on_both_sides_of_the_threshold(name):
    # tg.sin & co. call NumPy's ufunc themselves below the threshold (no vecmath call there):
    # the values must stay vecmath's on both sides, with and without grad
    rng = np.random.default_rng(4)
    op, f = getattr(tg, name), getattr(vecmath, name)
    for n in (vecmath.THRESHOLD - 1, vecmath.THRESHOLD):
        x = rng.uniform(0.1, 20.0, n)
        want = f(x)
        with tg.no_grad():
            assert np.array_equal(op(tg.tensor(x)).numpy(), want)
        assert np.array_equal(op(tg.tensor(x, requires_grad=True)).detach().numpy(), want)
    assert np.array_equal(op(tg.tensor(x[:7].astype(np.float32))).numpy(),
                          getattr(np, name)(x[:7].astype(np.float32)))


@pytest.mark.parametrize("name", ("sin", "cos"))
def test_times_is_the_product_of_the_kernels_value(name):
    """``vecmath.times(name, g, x)``, one pass for ``g * name(x)`` (sin's and cos's
    derivative rules): bit for bit ``g * vecmath.name(x)`` (NumPy's value where the kernel
    leaves an element, also when writing over ``g`` itself), and NumPy's product where the
    arrays do not fit the kernel."""
    rng = np.random.default_rng(4)
    x = _with_specials(rng)
    g = rng.standard_normal(x.size)
    g[::97] = np.inf
    f = getattr(vecmath, name)
    with np.errstate(all="ignore"):
        want = g * f(x)
        got = vecmath.times(name, g, x)
        assert np.array_equal(got.view(np.int64), want.view(np.int64))
        into_g = g.copy()
        assert vecmath.times(name, into_g, x, out=into_g) is into_g
        assert np.array_equal(into_g.view(np.int64), want.view(np.int64))
        for gg, xx in ((g[::2], x[::2]), (g[:10], x[:10]), (2.0, x)):
            ref = np.multiply(gg, f(xx))  # (f: NumPy's where the arrays do not fit it)
            np.testing.assert_array_equal(vecmath.times(name, gg, xx), ref)  # (nan == nan)


@pytest.mark.parametrize("name", ("sin", "cos"))
def test_times_added_into_an_array_is_the_two_pass_sum(name):
    """``vecmath.times(name, g, x, out=acc, add=True)``, one pass for ``acc += g * name(x)`` (a
    derivative added into an adjoint that holds a gradient): bit for bit ``acc + g *
    vecmath.name(x)``, also where the kernel leaves an element to NumPy (nan, inf, huge
    arguments) and where the arrays do not fit the kernel (NumPy's two passes)."""
    rng = np.random.default_rng(6)
    x = _with_specials(rng)
    g = rng.standard_normal(x.size)
    g[::97] = np.inf
    acc0 = rng.standard_normal(x.size)
    acc0[::89] = -np.inf
    f = getattr(vecmath, name)
    with np.errstate(all="ignore"):
        want = acc0 + g * f(x)
        acc = acc0.copy()
        assert vecmath.times(name, g, x, out=acc, add=True) is acc
        assert np.array_equal(acc.view(np.int64), want.view(np.int64))
        for sl, dt in ((slice(None, None, 2), np.float64), (slice(0, 10), np.float64)):
            gg, xx, aa = (a[sl].astype(dt) for a in (g, x, acc0))
            ref = aa + gg * f(xx)
            vecmath.times(name, gg, xx, out=aa, add=True)
            np.testing.assert_array_equal(aa, ref)  # (nan == nan)


def test_float32_products_added_in_one_pass_after_numpys_function(monkeypatch):
    """Where the kernel does not apply (a strided float32 ``x``), ``times(..., add=True)`` is
    NumPy's sin/cos and then one pass for ``acc += g * f`` (``add_product``), NumPy's two
    roundings."""
    from tapegrad.vecmath import select_kernels

    calls = []
    real = select_kernels.add_product
    monkeypatch.setattr(select_kernels, "add_product", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(16)
    x, g, acc = (rng.standard_normal(3 * vecmath.THRESHOLD).astype(np.float32) * 10
                 for _ in range(3))
    x = np.repeat(x, 2)[::2]
    want = acc + g * np.cos(x)
    vecmath.times("cos", g, x, out=acc, add=True)
    np.testing.assert_array_equal(acc, want)
    assert calls == [1]


def test_sin_and_cos_derivatives_use_one_pass_and_the_same_values():
    """Large sin/cos records' derivative rules, ``g * cos(x)`` and ``-g * sin(x)``, run as
    ``vecmath.times``: the gradient is the product of the same rounded values as before."""
    from tapegrad.registry import REGISTRY, Op, _numpy_form

    assert all(_numpy_form(REGISTRY[op].dx).startswith("_times(") for op in (Op.SIN, Op.COS))
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(5)
    x0 = rng.uniform(-30, 30, 1 << 21)  # an arena past 2**21: rules write into dead arrays
    g0 = rng.standard_normal(x0.size)
    for n in (x0.size, 8192):  # (8192: a small arena, the rules' plain form)
        x, g = x0[:n], g0[:n]
        for op, want in ((tg.sin, g * vecmath.cos(x)), (tg.cos, -g * vecmath.sin(x))):
            t = tg.tensor(x, requires_grad=True)
            op(t).backward(tg.tensor(g))
            assert np.array_equal(t.grad.numpy(), want)
            # and against independent derivatives: NumPy's cos/sin, PyTorch's autograd where
            # installed (each product within ~1 ulp of the exact one: 6e-16 apart at most)
            ref = g * (np.cos(x) if op is tg.sin else -np.sin(x))
            np.testing.assert_allclose(t.grad.numpy(), ref, rtol=6e-16, atol=0)
            if torch is not None:
                tt = torch.tensor(x, requires_grad=True)
                getattr(torch, op.__name__)(tt).backward(torch.tensor(g))
                np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=6e-16, atol=0)


def test_kernels_load_lazily():
    """``import tapegrad`` and small programs neither import Numba's kernels nor compile."""
    code = ("import sys, numpy as np, tapegrad as tg\n"
            "x = tg.tensor(np.linspace(0.1, 1, 100), requires_grad=True)\n"
            "(tg.sin(x) * tg.exp(x) + tg.log(x) * tg.cos(x)).sum().backward()\n"
            "print('tapegrad.vecmath.kernels' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_kernel_loops_ask_for_the_widest_vectors():
    """The math loops carry LLVM's ``prefer-vector-width=512`` (on AVX-512 CPUs LLVM otherwise
    stays at 256 bits); where the CPU has AVX-512 their machine code uses its registers.
    (Compiled afresh from the same source and options: a loop loaded from Numba's cache keeps
    no IR to inspect.)"""
    import llvmlite.binding as llvm
    from numba import njit
    from tapegrad.vecmath import erf_kernels, kernels

    x = np.linspace(-3, 3, 5000)
    args = {kernels._sin_loop: (x, np.empty_like(x)), kernels._cos_loop: (x, np.empty_like(x)),
            kernels._log_loop: (x + 4.0, np.empty_like(x)),
            kernels._exp_loop: (x, np.empty_like(x)), erf_kernels._erf_loop: (x, np.empty_like(x)),
            kernels.TIMES[0]: (x, x.copy(), np.empty_like(x), False)}
    avx512 = "+avx512f" in llvm.get_host_cpu_features().flatten()
    for loop, a in args.items():
        options = {k: v for k, v in loop.targetoptions.items() if k != "cache"}
        fresh = njit(**options)(loop.py_func)
        out = fresh(*a)
        assert out == loop(*a)  # (the count of elements left to NumPy: none here)
        sig = fresh.signatures[0]
        assert '"prefer-vector-width"="512"' in fresh.inspect_llvm(sig), loop
        if avx512:
            assert "zmm" in fresh.inspect_asm(sig), loop


def test_where_is_numpys_select_bit_for_bit():
    """``vecmath.where`` (the formulas' ``where``, e.g. relu's derivative): NumPy's values and
    dtype for every operand form it takes, NumPy's own call for the rest."""
    rng = np.random.default_rng(11)
    for dtype in (np.float64, np.float32):
        o = rng.standard_normal(20000).astype(dtype)
        g = rng.standard_normal(20000).astype(dtype)
        o[[3, 9]], g[[4, 9]] = np.nan, np.inf
        cond = o <= 0.0
        for a, b in ((0.0, g), (g, 0.0), (g, o), (np.float64(0.5), g), (0, g), (g, np.float32(2))):
            got, want = vecmath.where(cond, a, b), np.where(cond, a, b)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
        for args in ((cond[:100], 0.0, g[:100]),  # small: NumPy's
                     (cond, g[:1], g),  # broadcasting: NumPy's
                     (cond, g.astype(np.float16), 0.0)):  # another dtype: NumPy's
            np.testing.assert_array_equal(vecmath.where(*args), np.where(*args))
    x = tg.tensor(rng.standard_normal((40, 1000)), requires_grad=True)
    (tg.relu(x) * tg.tensor(np.arange(1000.0))).sum().backward()  # relu's VJP: a large where
    np.testing.assert_array_equal(x.grad.numpy(),
                                  np.where(x.detach().numpy() <= 0, 0.0, np.arange(1000.0)))


def test_where_of_one_value_and_pow_of_one_exponent_as_before():
    """A formula's ``where`` on a constant test copies the chosen operand, and ``_pow`` with
    one exponent computes one power: the values and dtypes the three-way np.where gave."""
    from tapegrad.registry import _np_pow

    rng = np.random.default_rng(12)
    for dtype in (np.float64, np.float32):
        x = rng.standard_normal(20000).astype(dtype)
        g = rng.standard_normal(20000).astype(dtype)
        x[[2, 3]] = np.nan, -0.0
        for cond in (True, False, np.True_, np.False_):
            for a, b in ((0.0, g), (g, 0.0), (g, x), (x.astype(np.float64), g)):
                got, want = vecmath.where(cond, a, b), np.where(cond, a, b)
                assert got.dtype == want.dtype and got.shape == want.shape
                np.testing.assert_array_equal(got, want)
        xd = x.astype(np.float64)  # (a float32 x ** y is computed in float64, as before)
        with np.errstate(all="ignore"):
            for y, want in ((1.0, np.power(xd, 1.0)), (1.5, np.power(xd, 1.5)),
                            (2.0, xd * xd), (3.0, xd * xd * xd), (-1.0, 1.0 / xd),
                            (-2.0, 1.0 / (xd * xd))):  # PyTorch's products for 2, 3, -1, -2
                got = _np_pow(x, y)
                assert got.dtype == want.dtype
                np.testing.assert_array_equal(got, want)
    xv = rng.standard_normal(30000)
    x = tg.tensor(xv, requires_grad=True)
    y = x ** 3  # PyTorch's x * x * x, not NumPy's pow (~56 ns an element for x < 0)
    np.testing.assert_array_equal(y.detach().numpy(), xv * xv * xv)
    y.sum().backward()  # POWC's VJP on a large record: where(c == 0, 0, g * c * x ** 2)
    np.testing.assert_array_equal(x.grad.numpy(), 3.0 * (xv * xv))


def test_where_op_and_its_saved_mask_on_large_arrays():
    """``tg.where`` forward (a bool condition) and its VJP (the saved float64 0/1 mask, NaN
    counting as true in NumPy's test) through the select: NumPy's values, and gradients of
    leaky_relu / hardtanh as their definitions give them."""
    rng = np.random.default_rng(13)
    m = (rng.standard_normal(20000) > 0).astype(np.float64)
    m[[5, 6, 7]] = np.nan, -0.0, 2.0
    g = rng.standard_normal(20000)
    for a, b in ((g, 0.0), (0.0, g)):
        np.testing.assert_array_equal(vecmath.where(m, a, b), np.where(m, a, b))
    xv = rng.standard_normal((50, 1000)) * 2
    wv = rng.standard_normal((50, 1000))
    for f, df in ((lambda x: tg.nn.functional.leaky_relu(x, 0.1), np.where(xv > 0, 1.0, 0.1)),
                  (tg.nn.functional.hardtanh, ((xv > -1) & (xv < 1)).astype(float))):
        x = tg.tensor(xv, requires_grad=True)
        y = f(x)
        (y * tg.tensor(wv)).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), wv * df)
    y = tg.where(tg.tensor(xv > 0), tg.tensor(xv), 0.0)
    np.testing.assert_array_equal(y.numpy(), np.where(xv > 0, xv, 0.0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_powers_are_pytorchs(dtype):
    """``x ** c`` for c in 2, 3, -1, -2 is PyTorch's value bit for bit (its products, not C's
    pow); the gradient is PyTorch's to rounding, special values included."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(14)
    xv = (rng.standard_normal(20000) * 3).astype(dtype)
    xv[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30]
    wv = rng.standard_normal(20000).astype(dtype)
    for c in (2, 3, -1, -2, 3.0):
        x, xt = tg.tensor(xv, requires_grad=True), torch.tensor(xv, requires_grad=True)
        y, yt = x ** c, xt ** c
        np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
        (y * tg.tensor(wv)).sum().backward()
        (yt * torch.tensor(wv)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(),
                                   rtol=2e-6 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_is_the_overflow_free_expression_bit_for_bit(dtype):
    """``vecmath.sigmoid`` (exp in place, then one pass) gives the values of
    ``where(x >= 0, 1/(1+e), e/(1+e))``, ``e = exp(-|x|)``, special values included, and the
    sigmoid op's forward and gradient are PyTorch's to rounding."""
    r = np.random.default_rng(7)
    x = (r.standard_normal(3 * vecmath.THRESHOLD) * 8).astype(dtype)
    x[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 800.0, -800.0, 1e-30]

    def reference(v):
        e = np.exp(-np.abs(v))
        return np.where(v >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning the expression would not give
        got = vecmath.sigmoid(x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, reference(x))
    for v in (x[::2], x[:100], x.reshape(-1, 4)[:, 1:]):  # strided, small: NumPy's expression
        np.testing.assert_array_equal(vecmath.sigmoid(v), reference(v))
    torch = pytest.importorskip("torch")
    xs = x[8:]
    t = tg.tensor(xs, requires_grad=True)
    tg.sigmoid(t).sum().backward()
    tt = torch.tensor(xs, requires_grad=True)
    torch.sigmoid(tt).sum().backward()
    tol = 1e-15 if dtype == np.float64 else 1e-6  # (float32: an ulp near 1 is 1.2e-7)
    np.testing.assert_allclose(tg.sigmoid(tg.tensor(xs)).numpy(), torch.sigmoid(tt).detach(),
                               rtol=1e3 * tol if dtype == np.float32 else 4 * tol, atol=tol)
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=8 * tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_plain_sigmoid_and_silu_are_numpys_expressions_bit_for_bit(dtype):
    """``plain_sigmoid`` (the formulas' ``sigmoid``) and ``silu`` (silu's forward): NumPy's
    ``exp`` in place and one pass give ``1 / (1 + exp(-x))`` and ``x / (1 + exp(-x))`` exactly,
    special values included, large and small, strided too; silu's gradient is unchanged."""
    r = np.random.default_rng(17)
    x = (r.standard_normal(3 * vecmath.THRESHOLD) * 30).astype(dtype)
    x[:9] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 800.0, -800.0, 1e-30, -90.0]
    with np.errstate(over="ignore", invalid="ignore"):
        want_s = 1.0 / (1.0 + np.exp(-x))
        want_silu = x / (1.0 + np.exp(-x))
        got_s, got_silu = vecmath.plain_sigmoid(x), vecmath.silu(x)
        assert got_s.dtype == got_silu.dtype == dtype
        np.testing.assert_array_equal(got_s, want_s)
        np.testing.assert_array_equal(got_silu, want_silu)
        for v in (x[::2], x[:100], x.reshape(-1, 4)[:, 1:]):  # NumPy's expressions
            np.testing.assert_array_equal(vecmath.plain_sigmoid(v), 1.0 / (1.0 + np.exp(-v)))
            np.testing.assert_array_equal(vecmath.silu(v), v / (1.0 + np.exp(-v)))
    xs = x[9:]
    t = tg.tensor(xs, requires_grad=True)
    y = tg.nn.functional.silu(t)
    np.testing.assert_array_equal(y.detach().numpy(), want_silu[9:])
    g = r.standard_normal(xs.shape).astype(dtype)
    y.backward(tg.tensor(g))
    with np.errstate(over="ignore", invalid="ignore"):
        s = 1.0 / (1.0 + np.exp(-xs))
        np.testing.assert_array_equal(t.grad.numpy(), g * s * (1.0 + xs * (1.0 - s)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_and_leaky_relu_are_numpys_bit_for_bit(dtype):
    """The one-pass relu and leaky relu give NumPy's ``maximum(x, 0)`` and ``where(x > 0, x,
    x * slope)``: NaN, signed zeros and infinities included, large and small, strided too."""
    r = np.random.default_rng(12)
    x = r.standard_normal(3 * vecmath.THRESHOLD).astype(dtype)
    x[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, -np.nan]
    for v in (x, x[:100], x[::2], x.reshape(3, -1)):
        for got, want in ((vecmath.relu(v), np.maximum(v, np.zeros((), dtype))),
                          (vecmath.leaky_relu(v, 0.1), np.where(v > 0, v, v * 0.1))):
            assert got.dtype == dtype and got.shape == v.shape
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    assert not np.signbit(vecmath.relu(x)[1])  # maximum(-0.0, 0) is 0.0, as relu's was



def _f32_ulps(got, ref):
    """|got - ref| in float32 ulps of the float32 nearest ``ref`` (a float64 reference)."""
    return np.abs(got.astype(np.float64) - ref) / np.spacing(
        np.abs(ref).astype(np.float32)).astype(np.float64)


@pytest.mark.parametrize("name", ("sin", "cos"))
def test_float32_kernel_within_one_ulp(name):
    """The float32 sin/cos of ``times`` (``trig32_kernels``: musl's sinf/cosf method in
    float64, rounded once): within 1 ulp of mpmath on sampled arguments, and of the C
    library's float64 value (itself within 1e-16) at every float32 next to a multiple of pi/2
    below 2**20, where the reduction cancels most; NumPy's value for NaN, inf, huge."""
    mpmath = pytest.importorskip("mpmath")
    from tapegrad.vecmath import trig32_kernels as K

    rng = np.random.default_rng(23)
    x = (rng.standard_normal(4000) * rng.choice([1e-30, 1e-3, 1.0, 30.0, 1e4, 1e6], 4000))
    x = x.astype(np.float32)
    got = vecmath.trig32(name, x)
    mp_f = getattr(mpmath, name)
    with mpmath.workdps(40):
        ref = np.array([float(mp_f(mpmath.mpf(float(v)))) for v in x])
    assert _f32_ulps(got, ref).max() <= 1.0
    k = np.arange(1, int(K.TRIG32_MAX / (np.pi / 2)))
    near = (k * (np.pi / 2)).astype(np.float32)
    near = np.concatenate([near, np.nextafter(near, np.float32(0)),
                           np.nextafter(near, np.float32(np.inf))])
    near = near[near <= K.TRIG32_MAX]
    near = np.concatenate([near, -near])
    worst = _f32_ulps(vecmath.trig32(name, near), getattr(np, name)(near.astype(np.float64)))
    assert worst.max() <= 1.0
    special = np.array([np.nan, np.inf, -np.inf, 3e6, -1e30, 0.0, -0.0], np.float32)
    with np.errstate(all="ignore"):
        want = getattr(np, name)(special)
        got = vecmath.trig32(name, special)
    assert np.array_equal(got.view(np.int32), want.view(np.int32))


@pytest.mark.parametrize("name", ("sin", "cos"))
def test_float32_products_in_one_pass(name, monkeypatch):
    """Large float32 ``times`` runs the float32 kernel's one-pass loops (written, written
    over ``g``, added): bit for bit the product (and sum) of ``trig32``'s values in float32,
    NumPy's function where the kernel leaves an element; no whole array of f(x)."""
    from tapegrad.vecmath import trig32_kernels as K

    monkeypatch.setattr(vecmath, "trig32", None)  # (the one-pass loops need no f(x) array)
    rng = np.random.default_rng(21)
    n = 70_001
    x = (rng.standard_normal(n) * rng.choice([1.0, 30.0, 1e4, 1e7], n)).astype(np.float32)
    x[::101] = np.inf
    x[::103] = np.nan
    x[::107] = -0.0
    g = rng.standard_normal(n).astype(np.float32)
    g[::97] = np.inf
    acc0 = rng.standard_normal(n).astype(np.float32)
    fx = np.empty_like(x)
    bad = K.trig_loop(x, fx, name == "cos")
    idx = ~(np.abs(x) <= K.TRIG32_MAX)
    assert bad == idx.sum() > 0
    with np.errstate(all="ignore"):
        fx[idx] = getattr(np, name)(x[idx])
        want = g * fx
        got = vecmath.times(name, g, x)
        assert got.dtype == np.float32
        assert np.array_equal(got.view(np.int32), want.view(np.int32))
        into_g = g.copy()
        assert vecmath.times(name, into_g, x, out=into_g) is into_g
        assert np.array_equal(into_g.view(np.int32), want.view(np.int32))
        acc = acc0.copy()
        assert vecmath.times(name, g, x, out=acc, add=True) is acc
        want_sum = acc0 + g * fx
        assert np.array_equal(acc.view(np.int32), want_sum.view(np.int32))


def test_large_float32_sin_backward_matches_pytorch():
    """sin's gradient of a large float32 input (added into an adjoint that holds ``x * x``'s
    gradient, and written alone): PyTorch's within float32 rounding, and ``g * cos(x)`` with
    the float32 kernel's cos bit for bit."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(22)
    v = rng.standard_normal(200_003).astype(np.float32) * 3
    w = rng.standard_normal(v.size).astype(np.float32)
    for fn in (lambda m, t, w: (m.sin(t) * w).sum(),
               lambda m, t, w: (m.sin(t) * w + t * t).sum(),
               lambda m, t, w: (m.cos(t) * w - t * t).sum()):
        x = tg.tensor(v, requires_grad=True)
        fn(tg, x, tg.tensor(w)).backward()
        xt = torch.tensor(v, requires_grad=True)
        fn(torch, xt, torch.tensor(w)).backward()
        assert x.grad.dtype == tg.float32
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=2e-6, atol=2e-6)
    x = tg.tensor(v, requires_grad=True)
    (tg.sin(x) * tg.tensor(w)).sum().backward()
    assert np.array_equal(x.grad.numpy(), w * vecmath.trig32("cos", v))
