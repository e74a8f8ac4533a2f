"""Forward mode through the Python ops' own JVP rules (``jvp_np``): ``tg.func.jvp`` and
``jacfwd`` against central finite differences and against ``torch.func.jvp``, with the
per-row Jacobian fallback (one ``vjp_np`` per output element) switched off, so a missing or
failing rule fails here instead of being computed another way."""

import zlib

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F
from tapegrad.autograd import forward_sweep
from tapegrad.registry import PYTHON_BASE, REGISTRY, Op

from tests.op_checks import needs_torch, torch

RULED = ("cat", "amax", "prod", "copy_slices", "einsum", "cumsum", "var", "std", "atan",
         "asin", "acos", "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "erfc", "atan2",
         "logcumsumexp", "log2", "log10", "stack", "_binary_cross_entropy_backward",
         "cumprod", "eigh", "svd", "solve", "inv", "det", "logabsdet", "qr", "cholesky",
         "pinv")


@pytest.fixture(autouse=True)
def rules_only(monkeypatch):
    """No Jacobian from vjp_np, and no silent fallback to the double-vjp trick."""
    monkeypatch.setattr(forward_sweep, "_JAC_LIMIT", -1)
    sweep = forward_sweep.tangents

    def tangents(*args):
        try:
            return sweep(*args)
        except forward_sweep.Unsupported as e:
            raise AssertionError(f"forward sweep refused: {e}") from None

    monkeypatch.setattr(forward_sweep, "tangents", tangents)


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def _outs(o):
    return list(o) if isinstance(o, (tuple, list)) else [o]


def check(name, f, tf, arrays, tans=None, eps=1e-6, rtol=1e-7, fd_rtol=1e-5, fd=True):
    """jvp of ``f`` (tapegrad) at ``arrays`` along ``tans`` against finite differences and
    torch.func.jvp of ``tf``."""
    rng = _rng(name)
    if tans is None:
        tans = [rng.standard_normal(np.shape(a)) for a in arrays]
    out, jv = tg.func.jvp(f, tuple(tg.tensor(a) for a in arrays),
                          tuple(tg.tensor(t) for t in tans))
    tout, tjv = torch.func.jvp(tf, tuple(torch.tensor(a) for a in arrays),
                               tuple(torch.tensor(t) for t in tans)) if torch else ((), ())
    for o, j, to, tj in zip(_outs(out), _outs(jv), _outs(tout), _outs(tjv)):
        np.testing.assert_allclose(o.numpy(), to.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
        np.testing.assert_allclose(j.numpy(), tj.detach().numpy(), rtol=rtol, atol=1e-10,
                                   err_msg=name)
    if fd:
        plus = f(*[tg.tensor(a + eps * t) for a, t in zip(arrays, tans)])
        minus = f(*[tg.tensor(a - eps * t) for a, t in zip(arrays, tans)])
        for j, p, m in zip(_outs(jv), _outs(plus), _outs(minus)):
            np.testing.assert_allclose(j.numpy(), (p.numpy() - m.numpy()) / (2 * eps),
                                       rtol=fd_rtol, atol=1e-6, err_msg=name)
    return jv


def both(fn):
    """``fn(lib, *xs)`` as a tapegrad function and a torch function."""
    return (lambda *xs: fn(tg, *xs)), (lambda *xs: fn(torch, *xs))


# ---- elementwise --------------------------------------------------------------------------

UNARY = {  # name: (low, high) of the inputs
    "atan": (-3, 3), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "sinh": (-2, 2),
    "cosh": (-2, 2), "asinh": (-3, 3), "acosh": (1.1, 4), "atanh": (-0.9, 0.9),
    "erf": (-2, 2), "erfc": (-2, 2), "log2": (0.2, 5), "log10": (0.2, 5),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(7,), (3, 4)])
def test_unary(name, shape):
    lo, hi = UNARY[name]
    x = _rng(name).uniform(lo, hi, shape)
    f, tf = both(lambda lib, a: getattr(lib, name)(a) * a)
    check(name, f, tf, [x])


def test_atan2_both_tangents_and_broadcast():
    rng = _rng("atan2")
    y, x = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    f, tf = both(lambda lib, a, b: lib.atan2(a, b))
    check("atan2", f, tf, [y, x])
    check("atan2 y", lambda a: tg.atan2(a, tg.tensor(x)),
          lambda a: torch.atan2(a, torch.tensor(x)), [y])
    check("atan2 x", lambda b: tg.atan2(tg.tensor(y), b),
          lambda b: torch.atan2(torch.tensor(y), b), [x])


# ---- reductions and scans -------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_logcumsumexp_cumprod(dim):
    x = _rng("scan").uniform(0.5, 1.5, (3, 4, 5)) * np.where(
        _rng("sign").random((3, 4, 5)) < 0.3, -1.0, 1.0)
    for name in ("cumsum", "logcumsumexp", "cumprod"):
        f, tf = both(lambda lib, a: getattr(lib, name)(a, dim))
        check(f"{name} {dim}", f, tf, [x])


def test_logcumsumexp_far_apart_values():
    # exp(x) underflows against the running maximum: the log-space form stays exact
    x = np.array([-800.0, 0.0, -900.0, 5.0])
    t = np.array([1.0, -2.0, 3.0, 0.5])
    _, jv = tg.func.jvp(lambda a: tg.logcumsumexp(a, 0), (tg.tensor(x),), (tg.tensor(t),))
    w = [np.exp(x[:i + 1] - np.logaddexp.reduce(x[:i + 1])) for i in range(4)]
    np.testing.assert_allclose(jv.numpy(), [wi @ t[:i + 1] for i, wi in enumerate(w)],
                               rtol=1e-12)


@pytest.mark.parametrize("x", [
    [[2.0, 0.0, 3.0, 4.0], [1.5, 2.0, -1.0, 0.5]],  # one zero
    [[0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 1.0, 2.0]],  # two zeros in a line
    [[0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 0.0]],  # at the ends
])
@needs_torch
def test_cumprod_and_prod_with_zeros(x):
    x = np.array(x)
    for dim in (0, 1):
        f, tf = both(lambda lib, a: lib.cumprod(a, dim))
        check(f"cumprod zeros {dim}", f, tf, [x], fd=False)
        f, tf = both(lambda lib, a: lib.prod(a, dim))
        check(f"prod zeros {dim}", f, tf, [x], fd=False)
        f, tf = both(lambda lib, a: lib.prod(a, dim, keepdim=True))
        check(f"prod zeros keepdim {dim}", f, tf, [x], fd=False)
    f, tf = both(lambda lib, a: lib.prod(a))
    check("prod all zeros", f, tf, [x], fd=False)
    # the exact derivative: prod is a polynomial, so the finite difference of a line with
    # one zero is exact up to rounding
    check("prod one zero", lambda a: tg.prod(a, 1), lambda a: torch.prod(a, 1),
          [np.array([[2.0, 0.0, 3.0], [1.0, 2.0, 3.0]])])


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_prod(dim, keepdim):
    x = _rng("prod").uniform(0.5, 2.0, (3, 4))
    if dim is None:
        f, tf = both(lambda lib, a: lib.prod(a))
    else:
        f, tf = both(lambda lib, a: lib.prod(a, dim, keepdim=keepdim))
    check("prod", f, tf, [x])


@pytest.mark.parametrize("dim,keepdim", [((), False), (0, False), ((0, 2), True), (-1, False)])
def test_amax_amin(dim, keepdim):
    x = _rng("amax").standard_normal((3, 4, 5))
    for name in ("amax", "amin"):
        f, tf = both(lambda lib, a: getattr(lib, name)(a, dim, keepdim))
        check(f"{name} {dim}", f, tf, [x])


@needs_torch
def test_amax_ties_split_evenly():
    x = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 0.0]])
    t = np.array([[10.0, 1.0, 2.0, 7.0], [1.0, 2.0, 6.0, 9.0]])
    for name, f, tf in [("amax", *both(lambda lib, a: lib.amax(a, 1))),
                        ("amax all", *both(lambda lib, a: lib.amax(a))),
                        ("amin", *both(lambda lib, a: lib.amin(a, 0))),
                        ("max", *both(lambda lib, a: lib.max(a))),
                        ("min", *both(lambda lib, a: lib.min(a)))]:
        check(name, f, tf, [x], [t], fd=False)
    _, jv = tg.func.jvp(lambda a: tg.amax(a, 1), (tg.tensor(x),), (tg.tensor(t),))
    np.testing.assert_allclose(jv.numpy(), [1.5, 3.0])


@pytest.mark.parametrize("dim,correction,keepdim", [
    (None, 1, False), (0, 1, False), (1, 0, True), ((0, 2), 1, False), (-1, 2, False)])
def test_var_std(dim, correction, keepdim):
    x = _rng("var").standard_normal((3, 4, 5))
    for name in ("var", "std"):
        f, tf = both(lambda lib, a: getattr(lib, name)(a, dim, correction=correction,
                                                       keepdim=keepdim))
        check(f"{name} {dim}", f, tf, [x])


@needs_torch
def test_edge_values_as_pytorch():
    """nan/inf/0 where PyTorch's forward formulas give them (std at a constant line: 0;
    max() reads the mask as a product, amax selects; atan2 at the origin: nan)."""
    cases = [
        ("std const", both(lambda lib, a: lib.std(a, 1)),
         [[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]),
        ("var no dof", both(lambda lib, a: lib.var(a, 0, correction=3)),
         [1.0, 3.0, 3.0], [1.0, 2.0, 3.0]),
        ("amax nan", both(lambda lib, a: lib.amax(a)), [1.0, np.nan, 2.0], [1.0, 2.0, 3.0]),
        ("max nan", both(lambda lib, a: lib.max(a)), [1.0, np.nan, 2.0], [1.0, 2.0, 3.0]),
        ("amax inf tangent", both(lambda lib, a: lib.amax(a)), [1.0, 3.0, 3.0],
         [np.inf, 1.0, 3.0]),
        ("max inf tangent", both(lambda lib, a: lib.max(a)), [1.0, 3.0, 3.0],
         [np.inf, 1.0, 3.0]),
        ("atan2 origin", both(lambda lib, a: lib.atan2(a, a * 0)), [0.0, 1.0], [1.0, 2.0]),
    ]
    for name, (f, tf), x, t in cases:
        with np.errstate(all="ignore"):
            check(name, f, tf, [np.array(x)], [np.array(t)], fd=False)


# ---- joins, in-place writes, einsum ---------------------------------------------------------

def test_cat_stack():
    rng = _rng("cat")
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    f, tf = both(lambda lib, x, y: lib.cat([x, y], 0))
    check("cat", f, tf, [a, b])
    f, tf = both(lambda lib, x, y: lib.cat([x, y.T], 1) * 2)
    check("cat 1", f, tf, [a, b[:2].T.copy()])
    # an input without a tangent, and the legacy empty (0,) input
    check("cat const", lambda x: tg.cat([tg.tensor(b), x, tg.zeros(0)]),
          lambda x: torch.cat([torch.tensor(b), x, torch.zeros(0, dtype=torch.float64)]), [a])
    for dim in (0, 1, 2, -1):
        f, tf = both(lambda lib, x, y: lib.stack([x, y], dim))
        check(f"stack {dim}", f, tf, [a, c])
    check("stack const", lambda x: tg.stack([tg.tensor(c), x], 1),
          lambda x: torch.stack([torch.tensor(c), x], 1), [a])


def test_copy_slices():
    rng = _rng("copy_slices")
    base, val = rng.standard_normal((4, 5)), rng.standard_normal((2, 5))

    def fn(lib, b, v):
        c = b * 1.0
        c[1:3] = v
        c[:, 0] = 7.0
        return c.sin()

    f, tf = both(fn)
    check("copy_slices", f, tf, [base, val])

    def only_value(lib, v):
        c = lib.zeros(4, 5, dtype=lib.float64)
        c[::2, 1:] = v[:, :4]
        return c * 2

    f, tf = both(only_value)
    check("copy_slices value", f, tf, [val])


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("...ij,...j->...i", [(2, 3, 4), (4,)]),
    ("ij,jk,k->i", [(2, 3), (3, 4), (4,)]),
    ("ij->", [(2, 3)]),
    ("ijk->kji", [(2, 3, 4)]),
])
def test_einsum(eq, shapes):
    xs = [_rng(eq + str(i)).standard_normal(s) for i, s in enumerate(shapes)]
    f, tf = both(lambda lib, *a: lib.einsum(eq, *a))
    check(eq, f, tf, xs)
    if len(xs) > 1:  # the tangent of each operand alone
        for i in range(len(xs)):
            def one(lib, a, i=i):
                ops = [lib.tensor(x) if lib is tg else torch.tensor(x) for x in xs]
                ops[i] = a
                return lib.einsum(eq, *ops)
            f, tf = both(one)
            check(f"{eq} operand {i}", f, tf, [xs[i]])


# ---- decompositions (functions of the outputs that do not depend on their signs) -------------

def _sym(a):
    return a + np.swapaxes(a, -1, -2)


@needs_torch
def test_eigh():
    rng = _rng("eigh")
    A, T = _sym(rng.standard_normal((2, 4, 4))), rng.standard_normal((2, 4, 4))
    f, tf = both(lambda lib, a: (lambda L, V: (L, V ** 2, V @ V.mT))(*lib.linalg.eigh(a)))
    check("eigh", f, tf, [A], [_sym(T)])
    check("eigh nonsymmetric tangent", f, tf, [A], [T], fd=False)  # dA as given, as PyTorch
    jac = tg.func.jacfwd(lambda a: tg.linalg.eigvalsh(a))(tg.tensor(A[0]))
    tjac = torch.func.jacfwd(torch.linalg.eigvalsh)(torch.tensor(A[0]))
    np.testing.assert_allclose(jac.numpy(), tjac.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (2, 4, 4)])
@pytest.mark.parametrize("full", [False, True])
def test_svd(shape, full):
    k = min(shape[-2:])

    def fn(lib, a):
        U, S, Vh = lib.linalg.svd(a, full_matrices=full)
        U, Vh = U[..., :k], Vh[..., :k, :]
        return S, U ** 2, Vh ** 2, (U * S[..., None, :]) @ Vh

    f, tf = both(fn)
    check(f"svd {shape} {full}", f, tf, [_rng("svd").standard_normal(shape)])
    if full:  # the extra columns of the full bases: 0, as PyTorch
        A = tg.tensor(_rng("svd").standard_normal(shape))
        _, (dU, _, dVh) = tg.func.jvp(lambda a: tg.linalg.svd(a), (A,), (tg.ones_like(A),))
        assert not dU[..., k:].numpy().any() and not dVh[..., k:, :].numpy().any()
        assert dU[..., :k].numpy().any() and dVh[..., :k, :].numpy().any()


def _well_conditioned(rng, shape):
    return rng.standard_normal(shape) + 4 * np.eye(shape[-1])


@pytest.mark.parametrize("sa,sb", [((3, 3), (3, 2)), ((2, 3, 3), (3, 4)), ((3, 3), (2, 3, 1))])
def test_solve_both_tangents_and_broadcast(sa, sb):
    rng = _rng("solve" + str(sa) + str(sb))
    A, B = _well_conditioned(rng, sa), rng.standard_normal(sb)
    f, tf = both(lambda lib, a, b: lib.linalg.solve(a, b))
    check("solve", f, tf, [A, B])
    check("solve A", lambda a: tg.linalg.solve(a, tg.tensor(B)),
          lambda a: torch.linalg.solve(a, torch.tensor(B)), [A])
    check("solve B", lambda b: tg.linalg.solve(tg.tensor(A), b),
          lambda b: torch.linalg.solve(torch.tensor(A), b), [B])


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(upper, left, unit):
    rng = _rng("tri")
    A, B = _well_conditioned(rng, (2, 4, 4)), rng.standard_normal((2, 4, 3) if left else (2, 3, 4))

    def fn(lib, a, b):
        return lib.linalg.solve_triangular(a, b, upper=upper, left=left, unitriangular=unit)

    f, tf = both(fn)
    check("solve_triangular", f, tf, [A, B])  # (the entries it does not read: no tangent)


@needs_torch
def test_inv_det_logabsdet():
    rng = _rng("inv")
    A = _well_conditioned(rng, (2, 4, 4))
    for name in ("inv", "det"):
        f, tf = both(lambda lib, a: getattr(lib.linalg, name)(a))
        check(name, f, tf, [A])
    f, tf = both(lambda lib, a: lib.linalg.slogdet(a)[1])
    check("logabsdet", f, tf, [A])
    f, tf = both(lambda lib, a: lib.logdet(a @ a.mT))
    check("logdet", f, tf, [A])
    jac = tg.func.jacfwd(tg.linalg.inv)(tg.tensor(A[0]))
    tjac = torch.func.jacfwd(torch.linalg.inv)(torch.tensor(A[0]))
    np.testing.assert_allclose(jac.numpy(), tjac.numpy(), rtol=1e-10, atol=1e-12)


@needs_torch
def test_det_at_singular_matrices():
    """The exact derivative, tr(adj(A) dA) (the cofactor matrix of the VJP, PyTorch's
    reverse mode), where PyTorch's forward mode reads 0 for det(A) = 0."""
    A = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [1.0, 3.0]]])  # one singular
    T = _rng("det0").standard_normal((2, 2, 2))
    _, jv = tg.func.jvp(tg.linalg.det, (tg.tensor(A),), (tg.tensor(T),))
    adj = np.stack([[[a[1, 1], -a[0, 1]], [-a[1, 0], a[0, 0]]] for a in A])
    np.testing.assert_allclose(jv.numpy(), np.einsum("bij,bji->b", adj, T), rtol=1e-12)
    tA = torch.tensor(A)
    _, vjp = torch.func.vjp(torch.linalg.det, tA)
    g = vjp(torch.ones(2, dtype=torch.float64))[0].numpy()
    np.testing.assert_allclose(jv.numpy(), (g * T).sum((-2, -1)), rtol=1e-10)
    _, jl = tg.func.jvp(lambda a: tg.linalg.slogdet(a)[1], (tg.tensor(A),), (tg.tensor(T),))
    assert not np.isfinite(jl.numpy()[0]) and np.isfinite(jl.numpy()[1])


@pytest.mark.parametrize("shape,mode", [((5, 3), "reduced"), ((3, 3), "reduced"),
                                        ((3, 5), "reduced"), ((2, 4, 3), "complete"),
                                        ((3, 5), "complete"), ((5, 3), "r")])
def test_qr(shape, mode):
    A = _rng("qr" + str(shape)).standard_normal(shape)
    if mode == "r":  # (PyTorch's R of mode='r' has no derivative: compare with 'reduced')
        check("qr r", lambda a: tg.linalg.qr(a, mode="r")[1],
              lambda a: torch.linalg.qr(a)[1], [A])
        return
    if mode == "complete" and shape[-2] > shape[-1]:
        with pytest.raises(RuntimeError, match="not differentiable"):
            tg.func.jvp(lambda a: tg.linalg.qr(a, mode=mode)[0], (tg.tensor(A),),
                        (tg.ones_like(tg.tensor(A)),))
        return
    f, tf = both(lambda lib, a: lib.linalg.qr(a, mode=mode))
    check(f"qr {shape} {mode}", f, tf, [A])


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(upper):
    rng = _rng("cholesky")
    M = rng.standard_normal((2, 4, 4))
    A = M @ np.swapaxes(M, -1, -2) + 4 * np.eye(4)
    T = rng.standard_normal((2, 4, 4))
    f, tf = both(lambda lib, a: lib.linalg.cholesky(a, upper=upper))
    check("cholesky", f, tf, [A], [_sym(T)])
    check("cholesky nonsymmetric tangent", f, tf, [A], [T], fd=False)  # dA as given


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (2, 4, 4)])
def test_pinv(shape):
    f, tf = both(lambda lib, a: lib.linalg.pinv(a))
    check("pinv", f, tf, [_rng("pinv").standard_normal(shape)])


# ---- binary_cross_entropy's derivative (forward over reverse) ---------------------------------

def test_bce_backward_all_tangents():
    rng = _rng("bce")
    p, y = rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0.0, 1.0, (3, 4))

    def fn(lib, a, b):
        G = tg.func.grad if lib is tg else torch.func.grad
        BCE = F.binary_cross_entropy if lib is tg else torch.nn.functional.binary_cross_entropy
        return G(lambda q, r: BCE(q, r), argnums=(0, 1))(a, b)

    f, tf = both(fn)
    jv = check("bce_backward", f, tf, [p, y], rtol=1e-6)
    assert all(np.any(j.numpy()) for j in jv)


# ---- the fallback is not taken ----------------------------------------------------------------

def test_every_listed_op_has_a_rule():
    import tapegrad.fft  # noqa: F401  (ops that register when first imported)
    import tapegrad.linalg  # noqa: F401
    import tapegrad.special  # noqa: F401

    names = {d.name: d for c, d in REGISTRY.items() if c >= PYTHON_BASE}
    missing = [n for n in RULED if getattr(names[n], "jvp_np", None) is None]
    assert missing == []


@needs_torch
def test_no_vjp_calls_in_forward_mode(monkeypatch):
    calls = []
    for op in (Op.CUMSUM, Op.CUMPROD, Op.PROD, Op.CAT):
        d = REGISTRY[op]
        monkeypatch.setattr(d, "vjp_np", lambda *a, _f=d.vjp_np, **k: calls.append(1) or _f(*a, **k))
    z = tg.tensor(np.linspace(0.1, 1.0, 200))
    v = tg.tensor(np.cos(np.arange(200.0)))

    def fn(a):
        b = tg.cat([a.cumprod(0)[:3], a.prod(0, keepdim=True)])
        return (a.sin() * a.cumsum(0)).exp().sum() + b.sum()

    _, jv = tg.func.jvp(fn, (z,), (v,))
    jac = tg.func.jacfwd(fn)(z)
    assert calls == []
    np.testing.assert_allclose(jv.item(), jac.numpy() @ v.numpy(), rtol=1e-12)
    tz = torch.tensor(z.numpy())
    _, tjv = torch.func.jvp(lambda a: (a.sin() * a.cumsum(0)).exp().sum() + torch.cat(
        [a.cumprod(0)[:3], a.prod(0, keepdim=True)]).sum(), (tz,), (torch.tensor(v.numpy()),))
    np.testing.assert_allclose(jv.item(), tjv.item(), rtol=1e-10)


@needs_torch
def test_jacfwd_against_torch():
    x = _rng("jacfwd").uniform(0.2, 0.8, (6,))

    def fn(lib, a):
        return lib.cat([lib.cumsum(a, 0) * lib.atanh(a), lib.stack([lib.var(a), lib.amax(a)]),
                        lib.logcumsumexp(a, 0)])

    jac = tg.func.jacfwd(lambda a: fn(tg, a))(tg.tensor(x))
    tjac = torch.func.jacfwd(lambda a: fn(torch, a))(torch.tensor(x))
    np.testing.assert_allclose(jac.numpy(), tjac.numpy(), rtol=1e-10, atol=1e-12)
