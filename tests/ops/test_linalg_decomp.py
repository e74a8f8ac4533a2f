"""Solves, decompositions and norms (tapegrad.linalg, np.linalg on tensors) through check_op.

Inputs come from each op's domain: well-conditioned matrices, symmetric matrices with distinct
eigenvalues (the functions symmetrise their input, as eigh's symmetric gradient assumes), SPD
matrices for cholesky. Eigen- and singular vectors enter gauge-invariant losses only (squares of
their entries, products like U diag(S) Vh), so the values compared with PyTorch are unique.
"""

import math
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_table_entry

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


def _cond(L, a, p):
    """torch.linalg.cond's backward fails for the norm orders (it writes into a saved inverse):
    torch's side uses the definition it documents, norm(A) * norm(inv(A))."""
    if L is tg or p in (None, 2, -2):
        return L.linalg.cond(a, p)
    return L.linalg.matrix_norm(a, p) * L.linalg.matrix_norm(L.linalg.inv(a), p)


OPS += [(f"cond_ord_{o}", (lambda o: lambda L, a: _cond(L, a, o))(o),
         [((3, 3),), ((2, 3, 3),)] + ([((4, 3),), ((3, 4),)] if o in (None, 2, -2) else []),
         well) for o in [None] + _MATRIX_ORDS]
OPS += [
    ("multi_dot", lambda L, a, b, c, d: L.linalg.multi_dot([a, b, c, d]),
     [((2, 6), (6, 3), (3, 5), (5, 1)), ((4, 2), (2, 3), (3, 3), (3, 2))], None),
    ("multi_dot_vector_ends", lambda L, a, b, c: L.linalg.multi_dot([a, b, c]),
     [((3,), (3, 4), (4,)), ((2,), (2, 2), (2, 3))], None),
    ("multi_dot_two", lambda L, a, b: L.linalg.multi_dot([a, b]), [((3, 2), (2,))], None),
    ("matrix_exp", lambda L, a: L.linalg.matrix_exp(a), [((3, 3),), ((2, 2, 2),)], None),
    ("matrix_exp_scaled", lambda L, a: L.linalg.matrix_exp(a * 4.0), [((3, 3),)], None),
]
# (every combination of solve_triangular's flags; the diagonal kept away from zero)
OPS += [(f"solve_triangular_{'u' if up else 'l'}{'L' if left else 'R'}{'1' if unit else ''}",
         (lambda up, left, unit: lambda L, a, b: L.linalg.solve_triangular(
             a + 4 * L.eye(3, dtype=L.float64), b, upper=up, left=left,
             unitriangular=unit))(up, left, unit),
         [((3, 3), (3, 2) if left else (2, 3)), ((2, 3, 3), (1, 3, 1) if left else (1, 1, 3))],
         None) for up in (True, False) for left in (True, False) for unit in (True, False)]


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


# ---- np.linalg on tensors ----------------------------------------------------------------------

def _np_cases(rng):
    A, B = _wellcond(rng, (3, 3)), rng.standard_normal((3, 2))
    T, S = _wellcond(rng, (4, 3)), _wellcond(rng, (3, 3))
    S = S @ S.T
    return [
        (np.linalg.solve, (A, B), {}), (np.linalg.solve, (A, B[:, 0]), {}),
        (np.linalg.inv, (A,), {}), (np.linalg.det, (A,), {}), (np.linalg.slogdet, (A,), {}),
        (np.linalg.eigh, (S,), {}), (np.linalg.eigvalsh, (S,), {"UPLO": "U"}),
        (np.linalg.svd, (T,), {}), (np.linalg.svd, (T,), {"full_matrices": False}),
        (np.linalg.svd, (T,), {"compute_uv": False}), (np.linalg.qr, (T,), {}),
        (np.linalg.qr, (T.T,), {"mode": "complete"}), (np.linalg.qr, (T,), {"mode": "r"}),
        (np.linalg.cholesky, (S,), {}), (np.linalg.cholesky, (S,), {"upper": True}),
        (np.linalg.pinv, (T,), {}), (np.linalg.pinv, (S,), {"hermitian": True}),
        (np.linalg.matrix_power, (A, 3), {}), (np.linalg.matrix_power, (A, -1), {}),
        (np.linalg.lstsq, (T, rng.standard_normal(4)), {}),
        (np.linalg.lstsq, (T, rng.standard_normal((4, 2))), {"rcond": None}),
    ] + [(np.linalg.norm, (T,), {"ord": o}) for o in [None] + _MATRIX_ORDS] + [
        (np.linalg.norm, (T,), {"ord": o, "axis": 1, "keepdims": True})
        for o in [None, 0, 1, 2, 3, -1, math.inf, -math.inf]] + [
        (np.linalg.norm, (T,), {"axis": (1, 0), "ord": "nuc", "keepdims": True}),
        (np.linalg.norm, (T[0],), {"ord": 0}), (np.linalg.norm, (T,), {"keepdims": True})]


def _leaves(r):
    return list(r) if isinstance(r, tuple) else [r]


@pytest.mark.parametrize("grad", [False, True])
def test_numpy_functions_on_tensors(rng, grad):
    """np.linalg.* on tensors: NumPy's values, result types and field names; gradients flow."""
    for f, args, kw in _np_cases(rng):
        ts = [tg.tensor(a, requires_grad=grad) if isinstance(a, np.ndarray) else a
              for a in args]
        want, got = f(*args, **kw), f(*ts, **kw)
        assert type(got).__name__ == type(want).__name__ or not isinstance(want, tuple), f
        if isinstance(want, tuple):
            assert getattr(got, "_fields", None) in (None, getattr(want, "_fields", None))
        for g, w in zip(_leaves(got), _leaves(want)):
            if isinstance(g, tg.Tensor):
                assert g.shape == np.shape(w), (f, kw)
                np.testing.assert_allclose(g.detach().numpy(), w, rtol=1e-9, atol=1e-12)
            else:
                assert g == w
        if grad:
            outs = [g for g in _leaves(got) if isinstance(g, tg.Tensor) and g.requires_grad]
            assert outs, (f, kw)
            for t in ts:
                if isinstance(t, tg.Tensor):
                    t.grad = None
            sum(((o * o).sum() for o in outs[1:]), (outs[0] * outs[0]).sum()).backward()
            if kw.get("ord") == 0:  # the count of non-zeros: no gradient, as PyTorch's
                assert ts[0].grad is None, (f, kw)
                continue
            assert ts[0].grad is not None and np.all(np.isfinite(ts[0].grad.numpy()))


def test_numpy_gradient_equals_tgl_linalg(rng):
    A = _wellcond(rng, (3, 3))
    x, y = tg.tensor(A, requires_grad=True), tg.tensor(A, requires_grad=True)
    np.linalg.slogdet(x).logabsdet.backward()
    tg.linalg.slogdet(y)[1].backward()
    np.testing.assert_allclose(x.grad.numpy(), np.linalg.inv(A).T, rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), x.grad.numpy(), rtol=0)


def test_numpy_integer_input_is_float64():
    t = tg.tensor(np.array([[2, 1], [1, 3]]))
    assert np.linalg.inv(t).dtype == np.float64
    np.testing.assert_allclose(np.linalg.det(t).item(), 5.0)


def test_float32():
    rng = np.random.default_rng(3)
    a = _wellcond(rng, (3, 3)).astype(np.float32)
    x = tg.tensor(a, requires_grad=True)
    for out in (tg.linalg.inv(x), tg.linalg.svdvals(x), tg.linalg.eigh(x @ x.mT)[0]):
        assert out.dtype == np.float32
    tg.linalg.det(x).backward()
    assert x.grad.dtype == np.float32
    want = np.linalg.det(a.astype(np.float64)) * np.linalg.inv(a.astype(np.float64)).T
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-5)


# ---- where derivatives do not exist (docs/linalg.md) -------------------------------------------

def test_det_gradient_at_singular_matrices_is_the_cofactor_matrix():
    a = np.array([[1.0, 2.0, 0.5], [2.0, 4.0, 1.0], [0.3, -1.0, 2.0]])  # rank 2
    cof = np.array([[9.0, -3.7, -3.2], [-4.5, 1.85, 1.6], [0.0, 0.0, 0.0]])
    x = tg.tensor(a, requires_grad=True)
    tg.linalg.det(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), cof, atol=1e-12)
    # the cofactor is also what finite differences give, and its own derivative exists
    assert tg.autograd.gradcheck(tg.linalg.det, (tg.tensor(a, requires_grad=True),))
    assert tg.autograd.gradgradcheck(tg.linalg.det, (tg.tensor(a, requires_grad=True),))
    # a batch mixing singular and regular matrices
    b = np.stack([a, _wellcond(np.random.default_rng(0), (3, 3))])
    y = tg.tensor(b, requires_grad=True)
    tg.linalg.det(y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy()[0], cof, atol=1e-12)
    np.testing.assert_allclose(y.grad.numpy()[1], np.linalg.det(b[1]) * np.linalg.inv(b[1]).T)


def _det_third_derivative(a, seed=0):
    rng = np.random.default_rng(seed)
    v, u = rng.standard_normal(a.shape), rng.standard_normal(a.shape)
    x = tg.tensor(a, requires_grad=True)
    (g,) = tg.autograd.grad(tg.linalg.det(x).sum(), x, create_graph=True)
    (g2,) = tg.autograd.grad((g * tg.tensor(v)).sum(), x, create_graph=True)
    (g3,) = tg.autograd.grad((g2 * tg.tensor(u)).sum(), x)
    return g3.numpy()


def test_det_third_derivative_at_rank_n_minus_1():
    """det is a polynomial: for 3x3 its third derivative is constant, for 2x2 zero, for 4x4
    linear in A. The SVD-built cofactor's own second derivative lost ~eps / s_min (off by 40%
    at this 3x3, s_min 3e-16); the minors' cofactor is exact (PyTorch's is off too)."""
    a = np.arange(1.0, 10.0).reshape(3, 3)  # rank 2, det exactly 0
    np.testing.assert_allclose(_det_third_derivative(a),
                               _det_third_derivative(a + 0.5 * np.eye(3)), atol=1e-12)
    np.testing.assert_allclose(_det_third_derivative(np.array([[1.0, 2.0], [2.0, 4.0]])), 0.0,
                               atol=1e-14)
    b = np.array([[1.0, 2, 3, 4], [2, 1, 0, 1], [3, 3, 3, 5], [0, 1, 2, 0]])  # rank 3
    s = 0.5 * np.eye(4) + 0.1 * np.random.default_rng(3).standard_normal((4, 4))
    np.testing.assert_allclose(_det_third_derivative(b), (_det_third_derivative(b + s) +
                                                          _det_third_derivative(b - s)) / 2,
                               atol=1e-10)


def test_logabsdet_at_a_singular_matrix_has_no_derivative():
    x = tg.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    sign, logabs = tg.linalg.slogdet(x)
    assert sign.item() == 0.0 and logabs.item() == -math.inf
    logabs.backward()
    assert not np.any(np.isfinite(x.grad.numpy()))


def test_repeated_eigenvalues():
    a = np.diag([1.0, 1.0, 2.0])
    # eigenvalues alone: differentiable (the gradient of their sum is the identity)
    x = tg.tensor(a, requires_grad=True)
    tg.linalg.eigvalsh(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.eye(3), atol=1e-15)
    x.grad = None
    w, V = tg.linalg.eigh(x)
    (w * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    # eigenvectors of a repeated eigenvalue: no derivative, inf/nan (as in PyTorch)
    x.grad = None
    w, V = tg.linalg.eigh(x)
    (V * V).sum().backward()
    assert not np.all(np.isfinite(x.grad.numpy()))


def test_repeated_singular_values():
    x = tg.tensor(np.eye(3)[:, :2] * 2.0, requires_grad=True)  # singular values 2, 2
    tg.linalg.svdvals(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.eye(3)[:, :2], atol=1e-15)
    x.grad = None
    (tg.linalg.matrix_norm(x, "nuc") + tg.linalg.matrix_norm(x, 2)).backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    x.grad = None
    U, S, Vh = tg.linalg.svd(x, full_matrices=False)
    (U * U).sum().backward()
    assert not np.all(np.isfinite(x.grad.numpy()))


# ---- errors --------------------------------------------------------------------------------------

def test_matrix_rank_matches_numpy_and_torch(rng, torch):
    A = rng.standard_normal((2, 5, 3)) @ rng.standard_normal((2, 3, 4))  # rank 3
    S = A[0] @ A[0].T
    cases = [((A,), {}), ((A,), {"atol": 1.0, "rtol": 0.0}), ((A,), {"rtol": 0.5}),
             ((S,), {"hermitian": True}), ((np.zeros((3, 3)),), {}), ((np.eye(4),), {})]
    for args, kw in cases:
        got = tg.linalg.matrix_rank(tg.tensor(args[0], requires_grad=True), **kw)
        want = torch.linalg.matrix_rank(torch.tensor(args[0]), **kw)
        assert got.dtype == np.int64 and not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(np.linalg.matrix_rank(tg.tensor(A, requires_grad=True)).numpy(),
                                  np.linalg.matrix_rank(A))
    assert np.linalg.matrix_rank(tg.tensor(A[0]), tol=1e3).item() == np.linalg.matrix_rank(
        A[0], tol=1e3) == 0


def test_numpy_cond_multi_dot_and_qr_modes(rng):
    A, T = _wellcond(rng, (3, 3)), _wellcond(rng, (4, 3))
    for p in [None] + _MATRIX_ORDS:
        x = tg.tensor(A, requires_grad=True)
        np.testing.assert_allclose(np.linalg.cond(x, p).item(), np.linalg.cond(A, p),
                                   rtol=1e-12)
        assert tg.autograd.gradgradcheck(lambda a, p=p: np.linalg.cond(a, p), (x,))
    ms = [rng.standard_normal(4), T, rng.standard_normal((3, 5)), rng.standard_normal((5, 2))]
    ts = [tg.tensor(m, requires_grad=True) for m in ms]
    np.testing.assert_allclose(np.linalg.multi_dot(ts).detach().numpy(),
                               np.linalg.multi_dot(ms), rtol=1e-12)
    assert tg.autograd.gradgradcheck(lambda *xs: np.linalg.multi_dot(xs), tuple(ts))
    for mode, M in (("reduced", T), ("complete", T.T), ("r", T)):
        x = tg.tensor(M, requires_grad=True)
        assert tg.autograd.gradgradcheck(lambda a, mode=mode: np.linalg.qr(a, mode=mode), (x,))
    x = tg.tensor(T, requires_grad=True)
    with pytest.warns(DeprecationWarning, match="'full' option is deprecated"):
        q, r = np.linalg.qr(x, mode="full")
    np.testing.assert_allclose((q @ r).detach().numpy(), T, atol=1e-12)
    for mode in ("raw", "economic"):
        with pytest.raises(TypeError, match=f"numpy.linalg.qr with mode='{mode}': LAPACK's "
                                            "Householder reflectors are not differentiated"):
            np.linalg.qr(x, mode=mode)
        with warnings.catch_warnings():  # 'economic' is deprecated in NumPy
            warnings.simplefilter("ignore", DeprecationWarning)
            h = np.linalg.qr(tg.tensor(T), mode=mode)  # no gradient needed: NumPy's result
            want = np.linalg.qr(T, mode=mode)
        np.testing.assert_allclose((h[0] if mode == "raw" else h).numpy(),
                                   want[0] if mode == "raw" else want, atol=1e-12)
    with pytest.raises(ValueError, match="Expecting at least two arrays"):
        np.linalg.multi_dot([ts[1]])


def test_errors():
    sing = tg.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    for f in (tg.linalg.inv, lambda a: tg.linalg.solve(a, tg.ones(2))):
        with pytest.raises(RuntimeError, match="singular"):
            f(sing)
        with pytest.raises(np.linalg.LinAlgError):
            f(sing)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.inv(sing)
    with pytest.raises(RuntimeError, match="positive-definite"):
        tg.linalg.cholesky(tg.tensor([[1.0, 0.0], [0.0, -1.0]]))
    with pytest.raises(RuntimeError, match="batches of square matrices"):
        tg.linalg.det(tg.ones(2, 3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tg.linalg.inv(tg.ones(3))
    with pytest.raises(RuntimeError, match="Expected a floating point"):
        tg.linalg.inv(tg.tensor([[1, 0], [0, 1]]))
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        tg.linalg.qr(tg.ones(3, 2, requires_grad=True), mode="complete")[0].sum().backward()
    sq = tg.tensor([[1.0, 2.0], [2.0, 4.0]])
    assert math.inf == tg.linalg.cond(sq, "fro").item() == tg.linalg.cond(sq, 1).item()
    assert tg.linalg.cond(sing, 1).item() == math.inf  # as PyTorch: inf, the backward refuses
    with pytest.raises(RuntimeError, match=r"cond\(ord=1\): A must be batches of square"):
        tg.linalg.cond(tg.ones(2, 3), 1)
    with pytest.raises(RuntimeError, match="invalid norm type: 3"):
        tg.linalg.cond(tg.ones(2, 2), 3)
    for ts, msg in [([tg.ones(2, 2)], "expected at least 2 tensors but got 1"),
                    ([tg.ones(2, 2, 2), tg.ones(2, 2)], "the first tensor must be 1D or 2D"),
                    ([tg.ones(2, 2), tg.ones(2, 2, 2), tg.ones(2)], "tensor 1 must be 2D"),
                    ([tg.ones(2, 2), tg.ones(2, 2, 2)], "the last tensor must be 1D or 2D"),
                    ([tg.ones(2, 3), tg.ones(4, 5)],
                     r"tensors 0 and 1 with shapes \[2, 3\] and \[4, 5\] cannot be multiplied")]:
        with pytest.raises(RuntimeError, match=msg):
            tg.linalg.multi_dot(ts)


def test_complex_lstsq():
    """lstsq is pinv(A) @ B, so complex inputs take the complex pinv and matmul rules."""
    rng = np.random.default_rng(7)
    a0 = rng.standard_normal((5, 3)) + 1j * rng.standard_normal((5, 3))
    b0 = rng.standard_normal((5, 2)) + 1j * rng.standard_normal((5, 2))
    a = tg.tensor(a0, requires_grad=True)
    b = tg.tensor(b0, requires_grad=True)
    r = tg.linalg.lstsq(a, b, driver="gelsd")
    want = np.linalg.lstsq(a0, b0, rcond=None)
    np.testing.assert_allclose(r.solution.detach().numpy(), want[0], rtol=1e-12)
    np.testing.assert_allclose(r.residuals.detach().numpy(), want[1], rtol=1e-12)
    x, res, rank, s = np.linalg.lstsq(a, b0, rcond=None)
    np.testing.assert_allclose(res.detach().numpy(), want[1], rtol=1e-12)
    assert rank == want[2]
    assert tg.autograd.gradcheck(lambda p, q: tg.linalg.lstsq(p, q).solution.abs(), (a, b))

def test_solve_triangular_reads_one_triangle_and_checks_shapes():
    """Entries outside the triangle (even inf or nan) are not read and get no gradient."""
    A = tg.tensor([[2.0, np.inf], [1.0, 4.0]], requires_grad=True)
    B = tg.tensor([[2.0], [6.0]])
    X = tg.linalg.solve_triangular(A, B, upper=False)
    np.testing.assert_allclose(X.detach().numpy(), [[1.0], [1.25]])
    X.sum().backward()
    assert A.grad[0, 1].item() == 0.0 and np.isfinite(A.grad.numpy()).all()
    U = tg.tensor([[np.nan, 3.0], [np.nan, np.nan]], requires_grad=True)
    Y = tg.linalg.solve_triangular(U, B, upper=True, unitriangular=True)
    np.testing.assert_allclose(Y.detach().numpy(), [[-16.0], [6.0]])
    with pytest.raises(RuntimeError, match="B must have at least 2 dimensions"):
        tg.linalg.solve_triangular(A, tg.ones(2), upper=True)
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B for the equation "
                                           r"AX = B \(2x2 and 3x1\)"):
        tg.linalg.solve_triangular(A, tg.ones(3, 1), upper=True)
    with pytest.raises(RuntimeError, match="A must be batches of square matrices"):
        tg.linalg.solve_triangular(tg.ones(2, 3), B, upper=True)
    with pytest.raises(TypeError):
        tg.linalg.solve_triangular(A, B)  # upper is keyword-only and required, as in PyTorch


def test_matrix_exp_of_known_matrices_and_errors():
    theta = 0.7  # exp of a generator of rotations is the rotation
    R = tg.linalg.matrix_exp(tg.tensor([[0.0, -theta], [theta, 0.0]]))
    np.testing.assert_allclose(R.numpy(), [[math.cos(theta), -math.sin(theta)],
                                           [math.sin(theta), math.cos(theta)]], atol=1e-15)
    np.testing.assert_allclose(tg.tensor([[0.0, 1.0], [0.0, 0.0]]).matrix_exp().numpy(),
                               [[1.0, 1.0], [0.0, 1.0]])  # the method: the same function
    np.testing.assert_allclose(tg.matrix_exp(tg.zeros(2, 3, 3)).numpy(),
                               np.broadcast_to(np.eye(3), (2, 3, 3)))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor"):
        tg.linalg.matrix_exp(tg.tensor([[1, 2], [3, 4]]))
    with pytest.raises(RuntimeError, match="A must be batches of square matrices, but they "
                                           "are 2 by 3 matrices"):
        tg.linalg.matrix_exp(tg.ones(2, 3))
