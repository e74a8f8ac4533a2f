"""Gradients where an op is not differentiable in the ordinary sense: ties of ``median()`` and
``nanmedian()`` without ``dim`` (the gradient is shared, as for ``max()``), ``atan2`` at the
origin (0, as in PyTorch). Compared with PyTorch, and checked by finite differences away from
the ties."""

import numpy as np
import pytest

import tapegrad as tg

MEDIAN_INPUTS = [[1.0, 3, 3, 2, 2], [2.0, 2, 2], [[1.0, 5], [5, 1]], [0.1, 0.1, 0.1, 0.3],
                 [1.0, np.nan, 2, np.nan], [np.nan, 2.0, 2, 1], [4.0]]


def _median_grad(lib, name, values):
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    y = getattr(x, name)()
    y.backward(lib.tensor(3.0, dtype=lib.float64))
    return y.item(), np.asarray(x.grad.tolist()).ravel()


@pytest.mark.parametrize("name", ["median", "nanmedian"])
@pytest.mark.parametrize("values", MEDIAN_INPUTS, ids=str)
def test_median_without_dim_shares_the_gradient_among_ties(torch, name, values):
    v, g = _median_grad(tg, name, values)
    tv, tgrad = _median_grad(torch, name, values)
    np.testing.assert_array_equal([v], [tv])
    np.testing.assert_array_equal(g, tgrad)


def test_median_ties_without_torch():
    v, g = _median_grad(tg, "median", [1.0, 3, 3, 2, 2])
    assert v == 2.0 and g.tolist() == [0.0, 0.0, 0.0, 1.5, 1.5]
    v, g = _median_grad(tg, "nanmedian", [np.nan, 2.0, 2, 1])
    assert v == 2.0 and g.tolist() == [0.0, 1.5, 1.5, 0.0]
    # forward mode reads the ties' mean tangent; vmap shares per example
    _, t = tg.func.jvp(lambda a: a.median(), (tg.tensor([1.0, 2, 2], dtype=tg.float64),),
                       (tg.tensor([1.0, 2, 4], dtype=tg.float64),))
    assert t.item() == 3.0
    rows = tg.tensor([[1.0, 2, 2], [3, 3, 1]], dtype=tg.float64)
    assert tg.vmap(tg.func.grad(lambda a: a.median()))(rows).tolist() == \
        [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]


def test_median_away_from_ties_passes_gradcheck():
    x = tg.tensor([1.0, 3, 3.5, 2, 2.5], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda a: a.median() * a.sum(), (x,))
    assert tg.autograd.gradgradcheck(lambda a: tg.nanmedian(a) * a.sum(), (x,))


ATAN2_POINTS = [(0.0, 0.0), (0.0, 1e-200), (1e-200, 0.0), (1e-200, 1e-200), (np.inf, 1.0),
                (np.inf, np.inf), (np.nan, 0.0), (1.0, 2.0), (-0.0, -0.0)]


def _atan2_grads(lib):
    y = lib.tensor([p[0] for p in ATAN2_POINTS], dtype=lib.float64, requires_grad=True)
    x = lib.tensor([p[1] for p in ATAN2_POINTS], dtype=lib.float64, requires_grad=True)
    lib.atan2(y, x).backward(lib.full((len(ATAN2_POINTS),), 2.0, dtype=lib.float64))
    return np.asarray(y.grad.tolist()), np.asarray(x.grad.tolist())


def test_atan2_gradient_at_the_origin_matches_torch(torch):
    for a, b in zip(_atan2_grads(tg), _atan2_grads(torch)):
        np.testing.assert_array_equal(a, b)


def test_atan2_gradient_at_the_origin_is_zero_and_smooth_elsewhere():
    gy, gx = _atan2_grads(tg)
    assert gy[:4].tolist() == [0.0] * 4 and gx[:4].tolist() == [0.0] * 4
    y = tg.tensor([0.0, 0.3, -1.0], dtype=tg.float64, requires_grad=True)
    x = tg.tensor([0.0, 0.5, 2.0], dtype=tg.float64, requires_grad=True)
    g1 = tg.autograd.grad(tg.atan2(y, x).sum(), (y, x), create_graph=True)
    g2 = tg.autograd.grad(sum(g.sum() for g in g1), (y, x))
    assert all(np.isfinite(g.numpy()).all() for g in g2)  # no inf * 0 at second order
    pos = (tg.tensor([0.3, -1.0], dtype=tg.float64, requires_grad=True),
           tg.tensor([0.5, 2.0], dtype=tg.float64, requires_grad=True))
    assert tg.autograd.gradgradcheck(tg.atan2, pos)
