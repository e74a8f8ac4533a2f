"""Solves, decompositions and norms (tapegrad.linalg, np.linalg on tensors) through check_op.

Inputs come from each op's domain: well-conditioned matrices, symmetric matrices with distinct
eigenvalues (the functions symmetrise their input, as eigh's symmetric gradient assumes), SPD
matrices for cholesky. Eigen- and singular vectors enter gauge-invariant losses only (squares of
their entries, products like U diag(S) Vh), so the values compared with PyTorch are unique.
"""

import math

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op, check_table_entry, lib_fns

try:
    import torch
except ImportError:  # the table still runs its finite-difference checks
    torch = None


def _orth(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _wellcond(rng, shape):
    """Random matrices with singular values in [1, 3] (spread apart) and either det sign."""
    *batch, m, n = shape
    out = np.empty(shape)
    for idx in np.ndindex(*batch):
        k = min(m, n)
        s = np.linspace(3.0, 1.0, k) + 0.1 * rng.random(k)
        out[idx] = _orth(rng, m)[:, :k] @ np.diag(s) @ _orth(rng, n)[:k]
    return out


def _sym(L, x):
    return (x + x.mT) * 0.5


def _spd(L, x):
    n = x.shape[-1]
    return x @ x.mT + n * L.eye(n, dtype=L.float64)


def well(shapes, rng):
    """The first input well-conditioned, the others standard normal."""
    return [_wellcond(rng, shapes[0])] + [rng.standard_normal(s) for s in shapes[1:]]


def _svd_loss(L, r, k):
    """Gauge-invariant views of an SVD: S, squared entries of U and Vh, U diag(S) Vh."""
    U, S, Vh = r
    U, Vh = U[..., :k], Vh[..., :k, :]
    return S, U * U, Vh * Vh, (U * S.unsqueeze(-2)) @ Vh


def _eigh_loss(L, r):
    w, V = r
    return w, V * V, (V * L.exp(w).unsqueeze(-2)) @ V.mT


# name, f(lib, *xs), shape cases, input sampler (None: standard normal)
OPS = [
    ("solve", lambda L, a, b: L.linalg.solve(a, b),
     [((3, 3), (3, 2)), ((3, 3), (3,)), ((2, 3, 3), (3, 2)), ((2, 3, 3), (2, 3)),
      ((1, 3, 3), (2, 3, 1))], well),
    ("solve_right", lambda L, a, b: L.linalg.solve(a, b, left=False), [((3, 3), (2, 3))], well),
    ("inv", lambda L, a: L.linalg.inv(a), [((3, 3),), ((2, 3, 3),), ((1, 1),)], well),
    ("det", lambda L, a: L.linalg.det(a), [((3, 3),), ((2, 3, 3),), ((1, 1),)], well),
    ("slogdet", lambda L, a: L.linalg.slogdet(a).logabsdet, [((3, 3),), ((2, 3, 3),)], well),
    ("slogdet_sign_times_det", lambda L, a: L.linalg.slogdet(a).sign *
     L.exp(L.linalg.slogdet(a)[1]), [((3, 3),)], well),
    ("eigh", lambda L, x: _eigh_loss(L, L.linalg.eigh(_sym(L, x))),
     [((3, 3),), ((2, 3, 3),), ((1, 1),)], None),
    ("eigh_upper", lambda L, x: _eigh_loss(L, L.linalg.eigh(_sym(L, x), UPLO="U")), [((3, 3),)],
     None),
    ("eigh_vectors_only", lambda L, x: L.linalg.eigh(_sym(L, x))[1] ** 2, [((3, 3),)], None),
    ("eigvalsh", lambda L, x: L.linalg.eigvalsh(_sym(L, x)), [((3, 3),), ((2, 2, 2),)], None),
    ("svd_tall", lambda L, a: _svd_loss(L, L.linalg.svd(a, full_matrices=False), 3),
     [((4, 3),), ((2, 4, 3),)], well),
    ("svd_wide", lambda L, a: _svd_loss(L, L.linalg.svd(a, full_matrices=False), 3),
     [((3, 4),), ((2, 3, 5),)], well),
    ("svd_square", lambda L, a: _svd_loss(L, L.linalg.svd(a, full_matrices=False), 3),
     [((3, 3),)], well),
    ("svd_full_matrices", lambda L, a: _svd_loss(L, L.linalg.svd(a, full_matrices=True), 2),
     [((4, 2),), ((2, 4),)], well),
    ("svd_u_only", lambda L, a: L.linalg.svd(a, full_matrices=False)[0] ** 2, [((4, 3),)], well),
    ("svd_vh_only", lambda L, a: L.linalg.svd(a, full_matrices=False)[2] ** 2, [((3, 4),)],
     well),
    ("svdvals", lambda L, a: L.linalg.svdvals(a), [((4, 3),), ((3, 4),), ((2, 3, 3),)], well),
    ("qr", lambda L, a: tuple(L.linalg.qr(a)), [((4, 3),), ((3, 3),), ((2, 4, 2),)], well),
    ("qr_wide", lambda L, a: tuple(L.linalg.qr(a)), [((3, 5),), ((2, 2, 3),)], well),
    ("qr_complete_wide", lambda L, a: tuple(L.linalg.qr(a, mode="complete")), [((2, 3),)], well),
    ("qr_r_only", lambda L, a: L.linalg.qr(a)[1], [((4, 3),)], well),
    ("cholesky", lambda L, x: L.linalg.cholesky(_spd(L, x)), [((3, 3),), ((2, 3, 3),)], None),
    ("cholesky_upper", lambda L, x: L.linalg.cholesky(_spd(L, x), upper=True), [((3, 3),)], None),
    ("pinv", lambda L, a: L.linalg.pinv(a), [((4, 3),), ((3, 4),), ((3, 3),), ((2, 4, 2),)],
     well),
    ("pinv_hermitian", lambda L, x: L.linalg.pinv(_sym(L, x), hermitian=True), [((3, 3),)],
     None),
    ("matrix_power_0", lambda L, a: L.linalg.matrix_power(a, 0), [((3, 3),)], well),
    ("matrix_power_1", lambda L, a: L.linalg.matrix_power(a, 1), [((3, 3),)], well),
    ("matrix_power_3", lambda L, a: L.linalg.matrix_power(a, 3), [((3, 3),), ((2, 2, 2),)],
     well),
    ("matrix_power_6", lambda L, a: L.linalg.matrix_power(a * 0.5, 6), [((3, 3),)], well),
    ("matrix_power_neg2", lambda L, a: L.linalg.matrix_power(a, -2), [((3, 3),)], well),
    ("lstsq", lambda L, a, b: L.linalg.lstsq(a, b).solution,
     [((5, 3), (5, 2)), ((5, 3), (5,)), ((2, 5, 3), (2, 5, 2)), ((3, 5), (3, 2))], well),
    ("lstsq_gelsd", lambda L, a, b: (lambda r: (r.solution, r.residuals))(
        L.linalg.lstsq(a, b, driver="gelsd")), [((5, 3), (5, 2))], well),
    ("vector_norm", lambda L, x: L.linalg.vector_norm(x), [((4,),), ((2, 3),)], None),
    ("vector_norm_dim_keepdim", lambda L, x: L.linalg.vector_norm(x, 2, dim=1, keepdim=True),
     [((2, 3),)], None),
    ("matrix_norm_fro", lambda L, a: L.linalg.matrix_norm(a), [((3, 4),), ((2, 3, 3),)], well),
    ("matrix_norm_dims_keepdim", lambda L, a: L.linalg.matrix_norm(a, "nuc", dim=(0, 2),
                                                                   keepdim=True),
     [((3, 2, 4),)], None),
    ("norm_default", lambda L, x: L.linalg.norm(x), [((3,),), ((2, 3),), ((2, 2, 2),)], None),
    ("norm_dim_2tuple", lambda L, x: L.linalg.norm(x, dim=(1, 2)), [((2, 3, 3),)], None),
]

_VECTOR_ORDS = [2, 1, 3, 0.5, -1, math.inf, -math.inf]
_MATRIX_ORDS = ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf]
OPS += [(f"vector_norm_ord_{o}", (lambda o: lambda L, x: L.linalg.vector_norm(x, o, dim=-1))(o),
         [((4,),), ((2, 4),)], None) for o in _VECTOR_ORDS]
OPS += [(f"matrix_norm_ord_{o}", (lambda o: lambda L, a: L.linalg.matrix_norm(a, o))(o),
         [((3, 4),), ((2, 3, 3),)], well) for o in _MATRIX_ORDS]
OPS += [(f"norm_ord_{o}", (lambda o: lambda L, a: L.linalg.norm(a, o))(o), [((3, 4),)], well)
        for o in _MATRIX_ORDS]


@pytest.mark.parametrize("name,f,cases,arrays", OPS, ids=[o[0] for o in OPS])
def test_op_table(name, f, cases, arrays):
    check_table_entry(name, f, cases, arrays)


def _flat_outputs(out):
    return [o for o in (out if isinstance(out, (tuple, list)) else (out,))
            if o.requires_grad and o.numel()]


@pytest.mark.parametrize("name,f,cases,arrays", OPS, ids=[o[0] for o in OPS])
def test_first_and_second_order_match_torch(name, f, cases, arrays, torch):
    """Values, gradients and a Hessian-vector product against PyTorch to ~1e-10 (float64)."""
    import zlib

    rng = np.random.default_rng(zlib.crc32(name.encode()) + 1)
    for shapes in cases:
        xs = arrays(shapes, rng) if arrays else [rng.standard_normal(s) for s in shapes]
        ours = [tg.tensor(x, requires_grad=True) for x in xs]
        theirs = [torch.tensor(x, requires_grad=True) for x in xs]
        outs, touts = _flat_outputs(f(tg, *ours)), _flat_outputs(f(torch, *theirs))
        assert len(outs) == len(touts) > 0
        ws = [rng.standard_normal(o.shape) for o in outs]
        loss = sum(((o * tg.tensor(w)).sum() for o, w in zip(outs, ws)), tg.tensor(0.0))
        tloss = sum((t * torch.tensor(w)).sum() for t, w in zip(touts, ws))
        for o, t in zip(outs, touts):
            np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-10,
                                       atol=1e-12)
        gs = tg.autograd.grad(loss, ours, create_graph=True)
        tgs = torch.autograd.grad(tloss, theirs, create_graph=True)
        vs = [rng.standard_normal(x.shape) for x in xs]
        for g, tgr in zip(gs, tgs):
            np.testing.assert_allclose(g.detach().numpy(), tgr.detach().numpy(), rtol=1e-10,
                                       atol=1e-10)
        hv = _hvp(tg, gs, vs, ours)
        thv = _hvp(torch, tgs, vs, theirs)
        for h, th in zip(hv, thv):
            np.testing.assert_allclose(h, th, rtol=1e-9, atol=1e-9)


def _hvp(L, gs, vs, xs):
    """d(sum g.v)/dx; zeros where a gradient is constant (a piecewise-linear function)."""
    terms = [(g * L.tensor(v)).sum() for g, v in zip(gs, vs) if g.requires_grad]
    if not terms:
        return [np.zeros(x.shape) for x in xs]
    hs = L.autograd.grad(sum(terms[1:], terms[0]), xs, allow_unused=True)
    if L is tg:
        return [np.zeros(x.shape) if h is None else h.numpy() for h, x in zip(hs, xs)]
    return [np.zeros(x.shape) if h is None else h.detach().numpy(force=True)
            for h, x in zip(hs, xs)]  # force: torch may answer with a lazy ZeroTensor
