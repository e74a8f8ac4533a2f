"""The matrix and composite transforms (CorrCholesky, LowerCholesky, PositiveDefinite,
Reshape, Independent, Cat, Stack, CumulativeDistribution): values, inverses, log-dets, shapes
and constraints against PyTorch; finite differences of the forward maps and log-dets without
it."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op, needs_torch, torch

D = tg.distributions
rng = np.random.default_rng(29)
VEC6 = rng.standard_normal((2, 3, 6))  # 6 = 4 * 3 / 2: 4 x 4 correlation factors
SQUARE = rng.standard_normal((2, 3, 3))
X = rng.standard_normal((2, 4, 3)) * 0.5
SIZE = (4, 3)


def _transforms(lib):
    """name -> (transform of ``lib``'s distributions, input x)"""
    M = lib.distributions
    T = M.transforms
    return {
        "CorrCholesky": (M.CorrCholeskyTransform(), VEC6),
        "LowerCholesky": (M.LowerCholeskyTransform(), SQUARE),
        "PositiveDefinite": (M.PositiveDefiniteTransform(), SQUARE),
        "Reshape": (M.ReshapeTransform((4, 3), (2, 6)), X),
        "Independent": (M.IndependentTransform(T.ExpTransform(), 2), X),
        "Cat": (M.CatTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0),
                                T.SigmoidTransform()], dim=1, lengths=[1, 2, 1]), X),
        "Cat-last": (M.CatTransform([T.ExpTransform(), T.TanhTransform()], dim=-1,
                                    lengths=[2, 1]), X),
        "Stack": (M.StackTransform([T.ExpTransform(), T.AffineTransform(0.5, -3.0),
                                    T.SigmoidTransform()], dim=-1), X),
        "CumulativeDistribution": (M.CumulativeDistributionTransform(
            M.Normal(lib.tensor(0.3, dtype=lib.float64), lib.tensor(1.5, dtype=lib.float64))),
            X),
    }


NAMES = list(_transforms(tg))


def _np(t):
    return np.asarray(t.detach().numpy(), np.float64)


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_values_inverse_log_det_shapes_match_pytorch(name):
    tt, x = _transforms(torch)[name]
    tg_t, _ = _transforms(tg)[name]
    xt, xg = torch.tensor(x), tg.tensor(x)
    yt, yg = tt(xt), tg_t(xg)
    np.testing.assert_allclose(_np(yg), yt.numpy(), rtol=1e-12, atol=1e-14)
    if name not in ("LowerCholesky", "PositiveDefinite"):  # (not bijective: no round trip)
        np.testing.assert_allclose(_np(tg_t.inv(yg)), tt.inv(yt).numpy(), rtol=1e-9,
                                   atol=1e-12)
    if name not in ("LowerCholesky", "PositiveDefinite"):  # (PyTorch has no log-det)
        np.testing.assert_allclose(_np(tg_t.log_abs_det_jacobian(xg, yg)),
                                   tt.log_abs_det_jacobian(xt, yt).numpy(), rtol=1e-10,
                                   atol=1e-12)
    assert tuple(tg_t.forward_shape(x.shape)) == tuple(tt.forward_shape(torch.Size(x.shape)))
    assert tuple(tg_t.inverse_shape(yg.shape)) == tuple(tt.inverse_shape(yt.shape))
    for side in ("domain", "codomain"):
        a, b = getattr(tt, side), getattr(tg_t, side)
        assert b.event_dim == a.event_dim and b.is_discrete == a.is_discrete, side
        assert np.array_equal(np.asarray(b.check(yg if side == "codomain" else xg)),
                              a.check(yt if side == "codomain" else xt).numpy()), side


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("LowerCholesky",
                                                               "PositiveDefinite")])
def test_forward_and_log_det_finite_differences(name):
    t, x = _transforms(tg)[name]
    check_op(lambda v: t(v), [x], order=1)
    check_op(lambda v: t.log_abs_det_jacobian(v, t(v)), [x], order=1)


@pytest.mark.parametrize("name", ["LowerCholesky", "PositiveDefinite"])
def test_matrix_transforms_invert_on_their_codomain(name):
    t, x = _transforms(tg)[name]
    y = t(tg.tensor(x))
    assert np.all(t.codomain.check(y))
    np.testing.assert_allclose(_np(t(t.inv(y))), _np(y), rtol=1e-10, atol=1e-12)
    check_op(lambda v: t(v), [x], order=1)


def test_corr_cholesky_pushes_normals_onto_the_lkj_support():
    torch = pytest.importorskip("torch")
    loc, scale = rng.standard_normal(6) * 0.3, rng.random(6) + 0.5
    dg = D.TransformedDistribution(D.Normal(tg.tensor(loc), tg.tensor(scale)),
                                   D.CorrCholeskyTransform())
    dt = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(torch.tensor(loc), torch.tensor(scale)),
        torch.distributions.CorrCholeskyTransform())
    assert dg.event_shape == (4, 4) and dg.batch_shape == ()
    tg.manual_seed(3)
    s = dg.sample((5,))
    assert np.all(D.constraints.corr_cholesky.check(s))
    np.testing.assert_allclose(_np(dg.log_prob(s)), dt.log_prob(torch.tensor(_np(s))).numpy(),
                               rtol=1e-9)


def test_vec_and_tril_round_trip():
    mt = D.matrix_transforms
    v = tg.tensor(rng.standard_normal((2, 10)))
    for diag, n in ((0, 4), (-1, 5)):
        m = mt.vec_to_tril_matrix(v, diag=diag)
        assert m.shape == (2, n, n)
        np.testing.assert_array_equal(_np(mt.tril_matrix_to_vec(m, diag=diag)), _np(v))
    with pytest.raises(ValueError, match="cannot be expressed"):
        mt.vec_to_tril_matrix(tg.tensor(np.zeros(7)))


def test_every_transform_is_reachable_from_the_transforms_module():
    # as torch.distributions.transforms.X: the composite and matrix transforms too
    from tapegrad.distributions import transforms

    for name in ("CatTransform", "StackTransform", "ReshapeTransform", "IndependentTransform",
                 "CumulativeDistributionTransform", "CorrCholeskyTransform",
                 "LowerCholeskyTransform", "PositiveDefiniteTransform", "ExpTransform"):
        assert getattr(transforms, name) is getattr(tg.distributions, name)
