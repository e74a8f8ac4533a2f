"""tapegrad.vecmath's erf kernel: within 1 ulp of mpmath on each of FDLIBM's intervals, special
values as the scalar erf's, dispatch, and ``tg.erf`` / exact ``gelu`` on large arrays (values,
gradients by finite differences and against PyTorch).

The big sampling run (millions of arguments) is ``tests/vecmath_accuracy.py``."""

import math

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import vecmath

N_ARGUMENTS = 40_000  # mpmath arguments over all ranges (~2 s)
SPECIALS = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 6.0, -6.0, 6.5, -27.0, 1e300,
                     -1e300, 1.7976931348623157e308, -1.7976931348623157e308])
TINY = np.array([5e-324, -5e-324, 1e-310, -1e-310, 2.2250738585072014e-308, 1e-300, 3e-9])


def _bits_apart(a, b):
    return np.abs(a.view(np.int64) - b.view(np.int64))


def test_within_one_ulp_of_mpmath():
    pytest.importorskip("mpmath", reason="mpmath (the reference) is a test dependency: "
                                         "pip install tapegrad[test]")
    import vecmath_accuracy as acc

    rng = np.random.default_rng(7)
    n = N_ARGUMENTS // len(acc.samples("erf", rng, 1))
    worst = {}
    for label, x in acc.samples("erf", rng, n).items():
        worst[label], _ = acc.measure("erf", x)
        assert worst[label] <= 1.0, (label, worst[label])
    assert max(worst.values()) > 0.5  # the kernel computed these (it is not exact)


def test_special_values_as_the_scalar_erf():
    """NaN, infinities, zeros (with their sign) and |x| >= 6 as ``math.erf``; subnormal
    and tiny arguments within an ulp; everything at most two ulps from it (each is within one
    of the exact value)."""
    rng = np.random.default_rng(8)
    x = rng.uniform(-8, 8, 8192)
    for values in (SPECIALS, TINY):
        x[rng.choice(x.size, values.size * 8, replace=False)] = np.tile(values, 8)
    got = vecmath.erf(x)
    want = np.array([math.erf(v) for v in x.tolist()])
    # (NaN: any NaN, whatever its sign bit)
    special = np.isin(x.view(np.int64), SPECIALS.view(np.int64)) & ~np.isnan(x)
    assert np.array_equal(got[special].view(np.int64), want[special].view(np.int64))
    assert np.array_equal(np.isnan(got), np.isnan(x))
    tiny = np.isin(x.view(np.int64), TINY.view(np.int64))
    assert np.all(_bits_apart(got[tiny], want[tiny]) <= 1)
    ok = ~np.isnan(x)
    assert np.all(_bits_apart(got[ok], want[ok]) <= 2)


def test_dispatch_falls_back_to_the_scalar_erf():
    rng = np.random.default_rng(9)
    big = rng.normal(0.0, 2.0, (300, 40))
    scalar = vecmath.special("erf")
    for x in (big[:100, :40], big[:, ::2], big.T, big.astype(np.float32), 0.5,
              np.float64(0.5), np.asarray(0.5), [0.1, -2.0]):
        got, want = vecmath.erf(x), scalar(x)
        assert type(got) is type(want) and np.asarray(got).dtype == np.asarray(want).dtype
        assert np.array_equal(np.asarray(got), np.asarray(want))
    assert np.array_equal(vecmath.erf(big), vecmath.apply("erf", big))


def test_erf_op_on_large_arrays():
    """``tg.erf`` of a large tensor: the kernel's values (within an ulp of the scalar path of
    small pieces up to the two functions' own errors), ``2/sqrt(pi) exp(-x**2)`` as its
    gradient, and a central difference of the kernel's values along a random direction that
    agrees with that gradient."""
    rng = np.random.default_rng(10)
    x = rng.normal(0.0, 2.0, 6000)
    t = tg.tensor(x, requires_grad=True)
    y = tg.erf(t)
    assert np.array_equal(y.detach().numpy(), vecmath.apply("erf", x))
    pieces = np.concatenate([tg.erf(tg.tensor(x[i:i + 1000])).numpy()
                             for i in range(0, x.size, 1000)])
    assert np.all(_bits_apart(y.detach().numpy(), pieces) <= 2)
    y.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), 2 / math.sqrt(math.pi) * np.exp(-x * x),
                               rtol=1e-15, atol=0)
    v = rng.standard_normal(x.size)
    h = 1e-6
    with tg.no_grad():
        diff = (tg.erf(tg.tensor(x + h * v)) - tg.erf(tg.tensor(x - h * v))).sum().item() / (2 * h)
    assert diff == pytest.approx(float(t.grad.numpy() @ v), rel=1e-8)


def test_exact_gelu_on_large_arrays_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 3.0, 8192)
    g = rng.standard_normal(x.size)
    t = tg.tensor(x, requires_grad=True)
    y = tg.nn.functional.gelu(t)
    y.backward(tg.tensor(g))
    tt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.gelu(tt)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-14, atol=1e-15)
