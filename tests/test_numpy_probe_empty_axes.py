"""NumPy reductions over no axis (``axis=()``, as ``axis=tuple(range(1, x.ndim))`` gives for a
1-D ``x``) on tensors: NumPy reduces nothing (``np.sum(x, axis=())`` is ``x``); tapegrad's ops
read ``dim=()`` as every axis, which returned the total."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

A = np.random.default_rng(0).standard_normal((3, 4))
W = np.abs(A) + 0.5
MASK = np.array([True, False, True, True])

CASES = {
    "sum": lambda a: np.sum(a, axis=()),
    "sum keepdims": lambda a: np.sum(a, axis=(), keepdims=True),
    "sum initial where": lambda a: np.sum(a, (), None, None, False, 1.0, MASK),
    "mean": lambda a: np.mean(a, axis=()),
    "mean where": lambda a: np.mean(a, axis=(), where=np.ones((3, 4), bool)),
    "max": lambda a: np.max(a, axis=()),
    "amin keepdims": lambda a: np.amin(a, axis=(), keepdims=True),
    "max initial where": lambda a: np.max(a, axis=(), initial=0.0, where=MASK),
    "prod": lambda a: np.prod(a, axis=()),
    "std": lambda a: np.std(a, axis=()),
    "var": lambda a: np.var(a, ()),
    "ptp": lambda a: np.ptp(a, ()),
    "average": lambda a: np.average(a, axis=(), weights=W, returned=True),
    "nansum": lambda a: np.nansum(a, axis=()),
    "nanmean": lambda a: np.nanmean(a, axis=(), keepdims=True),
    "nanmax": lambda a: np.nanmax(a, axis=()),
    "nanvar": lambda a: np.nanvar(a, axis=()),
    "nanprod": lambda a: np.nanprod(a, axis=()),
    "median": lambda a: np.median(a, axis=()),
    "quantile": lambda a: np.quantile(a, [0.3, 0.5], axis=(), keepdims=True),
    "nanpercentile": lambda a: np.nanpercentile(a, 40, axis=()),
    "vector_norm": lambda a: np.linalg.vector_norm(a, axis=(), ord=3),
    "add.reduce": lambda a: np.add.reduce(a, axis=()),
    "maximum.reduce keepdims": lambda a: np.maximum.reduce(a, (), keepdims=True),
    "logaddexp.reduce": lambda a: np.logaddexp.reduce(a, axis=()),
    "per-sample sum of a 1-D x": lambda a: np.sum(a[0] ** 2, axis=tuple(range(1, a[0].ndim))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_shapes_and_gradcheck(name):
    f = CASES[name]
    t = tg.tensor(A, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref, out = f(A), f(t)
    for r, o in zip(ref if isinstance(ref, tuple) else (ref,),
                    out if isinstance(out, tuple) else (out,)):
        assert o.shape == np.shape(r) and o.dtype == np.asarray(r).dtype
        np.testing.assert_allclose(o.detach().numpy(), r, rtol=1e-14, atol=0)
    assert tg.autograd.gradcheck(lambda t: f(t), (t,))


def test_gradient_against_torch():
    torch = pytest.importorskip("torch")
    t = tg.tensor(A, requires_grad=True)
    (np.sum(np.sin(t), axis=()) * np.max(t, axis=(), keepdims=True)).sum().backward()
    u = torch.tensor(A, requires_grad=True)
    (torch.sin(u) * u).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), u.grad.numpy(), rtol=1e-14)


def test_other_axes_unchanged():
    t = tg.tensor(A, requires_grad=True)
    np.testing.assert_allclose(np.sum(t, axis=(0, 1)).detach().numpy(), A.sum(), rtol=1e-14)
    np.testing.assert_allclose(np.std(t, 1, ddof=1).detach().numpy(), A.std(1, ddof=1),
                               rtol=1e-14)
    np.testing.assert_allclose(np.add.reduce(t).detach().numpy(), A.sum(0), rtol=1e-14)
