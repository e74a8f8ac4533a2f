"""The replay's work over large arrays: a two-operand einsum with a batch letter as one batched
matmul (``ops/einsum_plan.py``), sums pushed through the linear ops that made their
operand, a diagonal scaling folded into the contraction beside it (``rewrites``), and a
broadcast operand with short inner runs copied before the operation (``codegen``). Compiled
results must equal eager ones, and compiled gradients finite differences and PyTorch's."""

import re
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops import einsum_plan

R = np.random.default_rng(7)


# ---- the matmul plan on its own ----------------------------------------------------------

PLANNED = [
    ("kij,nkj->nki", (25, 10, 10), (600, 25, 10)),  # GMM's forward: operands swapped
    ("nki,nkj->kij", (600, 25, 10), (600, 25, 10)),  # its gradient for L: n contracted
    ("nki,kij->nkj", (600, 25, 10), (25, 10, 10)),  # its gradient for x
    ("bij,bjk->bik", (8, 30, 40), (8, 40, 20)),  # a plain batched matmul
    ("ij,jk->ik", (90, 60), (60, 70)),  # no batch letter
    ("abij,bajk->abik", (3, 4, 20, 30), (4, 3, 30, 10)),  # two batch letters: reshaped
    ("ijk,kjl->li", (40, 30, 5), (5, 30, 20)),  # two contracted letters, output transposed
    ("iab,bj->ija", (30, 20, 10), (10, 40)),  # grouped letters interleave in the output
    ("nk,nkd->kd", (500, 20), (500, 20, 10)),  # an outer operand with a batch letter
]


@pytest.mark.parametrize("spec,sa,sb", PLANNED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_plan_matches_numpy_einsum(spec, sa, sb, dtype):
    a = R.standard_normal(sa).astype(dtype)
    b = R.standard_normal(sb).astype(dtype)
    plan = einsum_plan.plan(spec, a, b)
    assert plan is not None
    want = np.einsum(spec, a.astype(np.float64), b.astype(np.float64))
    for x, y in ((a, b), (a * 2.0, b[..., ::-1].copy())):  # new values, the same plan
        got = plan(x, y)
        want = np.einsum(spec, x.astype(np.float64), y.astype(np.float64))
        assert got.dtype == dtype and got.shape == want.shape and got.flags.c_contiguous
        np.testing.assert_allclose(got, want, rtol=1e-10 if dtype == np.float64 else 1e-4,
                                   atol=1e-10 if dtype == np.float64 else 1e-3)


def test_plan_also_reads_strided_operands():
    a = R.standard_normal((50, 25, 20))[:, :, ::2]  # a view: every other column
    b = R.standard_normal((25, 10, 10)).transpose(0, 2, 1)
    plan = einsum_plan.plan("nkj,kij->nki", a, b)
    # (an absolute bound too: BLAS and einsum sum in other orders, and an element near zero
    # differs by rounding alone, ~1e-16, whose relative size depends on the values drawn)
    np.testing.assert_allclose(plan(a, b), np.einsum("nkj,kij->nki", a, b), rtol=1e-12,
                               atol=1e-13)


@pytest.mark.parametrize("spec,sa,sb,dtype", [
    ("ij,jk->ik", (10, 10), (10, 10), np.float64),  # small: np.einsum's own loop
    ("ij,jk->ik", (100, 100), (100, 100), np.int64),  # not floating
    ("ii,ij->j", (100, 100), (100, 100), np.float64),  # a repeated letter (a diagonal)
    ("ij,jk->k", (100, 100), (100, 100), np.float64),  # i summed over one operand only
    ("...ij,jk->...ik", (3, 100, 100), (100, 100), np.float64),  # an ellipsis
    ("ij,jk->ik", (100, 1), (100, 100), np.float64),  # j broadcast
    ("ij,ij->ij", (100, 100), (100, 100), np.float64),  # no letter summed: np.einsum's loop
    ("i,j->ij", (5000,), (10,), np.float64),  # an outer product
])
def test_plan_declines_what_it_does_not_cover(spec, sa, sb, dtype):
    a, b = np.ones(sa, dtype), np.ones(sb, dtype)
    assert einsum_plan.plan(spec, a, b) is None


def test_plan_declines_mixed_dtypes():
    assert einsum_plan.plan("ij,jk->ik", np.ones((100, 100)),
                              np.ones((100, 100), np.float32)) is None


# ---- compiled GMM-like programs ------------------------------------------------------------

N, D, K = 400, 6, 8  # n*K*d = 19200 elements: the contractions take the matmul plan


def _gmm_state(seed=1):
    rr = np.random.default_rng(seed)
    return (rr.standard_normal(K), rr.standard_normal((K, D)),
            rr.standard_normal((K, D + D * (D - 1) // 2)) * 0.1)


def _tril_index():
    rows, cols = np.tril_indices(D, -1)
    idx = np.zeros((D, D), np.int64)
    idx[rows, cols] = np.arange(1, len(rows) + 1)
    return idx.reshape(-1)


def _gmm_loss(T, pa, pm, pi, xt, idx):
    """The negative GMM log-likelihood in ``T``'s ops (tapegrad or torch)."""
    qdiag = T.exp(pi[:, :D])
    padded = T.cat([T.zeros((K, 1), dtype=pi.dtype), pi[:, D:]], 1)
    L = padded[:, idx].reshape(K, D, D)
    xc = xt[:, None, :] - pm[None, :, :]
    qx = qdiag[None, :, :] * xc + T.einsum("kij,nkj->nki", L, xc)
    inner = pa + pi[:, :D].sum(1) - 0.5 * (qx * qx).sum(2)
    return -(T.logsumexp(inner, 1).sum() - N * T.logsumexp(pa, 0))


def _make_gmm():
    idx = _tril_index()
    params = [tg.tensor(a, requires_grad=True) for a in _gmm_state()]

    def step(xt):
        for p in params:
            p.grad = None
        loss = _gmm_loss(tg, *params, xt, idx)
        loss.backward()
        return loss.detach()

    return step, params


def _twins(make, calls):
    fe, se = make()
    fc, sc = make()
    step = tg.compile(fc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no silent fallback to eager
        for args in calls:
            np.testing.assert_allclose(step(*args).numpy(), fe(*args).numpy(), rtol=1e-9)
            for a, b in zip(se, sc):
                np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-9,
                                           atol=1e-12)
    assert step._count == 1
    return step, sc


def _source(step):
    return "\n".join(p.source for ps in step._cache.values() for p in ps)


def _directional_fd(loss_of, arrays, grads, h=1e-6):
    """``loss_of(arrays)`` differentiated along random directions, against the gradients."""
    for _ in range(3):
        vs = [R.standard_normal(a.shape) for a in arrays]
        up = loss_of([a + h * v for a, v in zip(arrays, vs)])
        down = loss_of([a - h * v for a, v in zip(arrays, vs)])
        want = (up - down) / (2 * h)
        got = sum(float(np.sum(g * v)) for g, v in zip(grads, vs))
        assert abs(got - want) <= 1e-6 * max(1.0, abs(want))


def test_compiled_gmm_gradient_matches_eager_finite_differences_and_torch():
    xs = [R.standard_normal((N, D)) for _ in range(3)]
    step, params = _twins(_make_gmm, [(tg.tensor(x),) for x in xs])
    src = _source(step)
    # the contractions take the plan; the means' gradient sums before the linear ops
    assert src.count("_I['einsum']") >= 3
    x = xs[-1]
    idx = _tril_index()
    grads = [p.grad.numpy() for p in params]
    arrays = [p.detach().numpy().copy() for p in params]

    def loss_of(ps):
        with tg.no_grad():
            return float(_gmm_loss(tg, *[tg.tensor(a) for a in ps], tg.tensor(x), idx))

    _directional_fd(loss_of, arrays, grads)
    torch = pytest.importorskip("torch")
    tp = [torch.tensor(a, requires_grad=True) for a in arrays]
    _gmm_loss(torch, *tp, torch.tensor(x), torch.tensor(idx)).backward()
    for g, t in zip(grads, tp):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_gmm_means_gradient_is_one_pass_over_the_big_cotangent():
    """``d/dmu`` is ``-sum_n(g * q + einsum(g, L))``: the replay sums ``g`` once and applies
    ``q`` and ``L`` to the (K, d) sum, so no (n, K, d) product or contraction of ``g`` with
    ``L`` is left; ``sum_n(g * xc)`` is the diagonal of ``einsum(g, xc)``, L's gradient."""
    step, _ = _twins(_make_gmm, [(tg.tensor(R.standard_normal((N, D))),) for _ in range(2)])
    (prog,) = [p for ps in step._cache.values() for p in ps]
    names = prog.early.__globals__
    exprs = _assigned(step)
    contraction = [e for e in exprs.values() if e.startswith("_norm(_I['einsum'](") and
                   names[e.split("(")[2].split(",")[0]]["spec"] == "nki,kij->nkj"]
    assert len(contraction) == 1
    g = contraction[0].split(", ")[1]  # its big operand is a sum over n
    assert exprs[g].startswith("_reduce(") and ", (0,), " in exprs[g]
    big = exprs[g][len("_reduce("):].split(",")[0]
    # that cotangent is read twice: this sum and the contraction for L, whose diagonal is the
    # gradient for Q's diagonal (no product with q or xc, no contraction with L)
    assert sum(bool(re.search(rf"\b{big}\b", e)) for e in exprs.values()) == 2


def test_values_the_rewrites_derive_twice_are_computed_once():
    """The rewrites may rebuild a value the program already has (GMM: L's matrix from Q's
    diagonal, once for the forward and once for the means' gradient): the replay keeps one.
    No two assignments in it compute the same expression."""
    step, _ = _twins(_make_gmm, [(tg.tensor(R.standard_normal((N, D))),) for _ in range(2)])
    (prog,) = [p for ps in step._cache.values() for p in ps]
    names = prog.early.__globals__
    exprs = _assigned(step)

    memo = {}

    def resolved(e):
        """The expression with constants (_k..) by content and values (v..) by what made
        them (``out=`` buffers dropped): equal computations read equal."""
        e = re.sub(r", out=v\d+", "", e)
        e = re.sub(r"_k\d+", lambda m: repr(names[m.group(0)]), e)
        return re.sub(r"\bv\d+\b", lambda m: value(m.group(0)), e)

    def value(v):
        if v not in memo:
            memo[v] = v  # (an input, or a cycle through an in-place line: its own name)
            if v in exprs:
                memo[v] = f"#{hash(resolved(exprs[v]))}"
        return memo[v]

    scatters = [resolved(e) for e in exprs.values() if "index_scatter" in e]
    assert len(scatters) == len(set(scatters)) > 0


# ---- each rule of the sums, on its own --------------------------------------------------

def _make_linear():
    rr = np.random.default_rng(3)
    a = tg.tensor(rr.standard_normal((1, 30, 8)), requires_grad=True)
    c = tg.tensor(rr.standard_normal((30, 8)), requires_grad=True)
    m = tg.tensor(rr.standard_normal((30, 8, 8)), requires_grad=True)
    w = tg.tensor(rr.standard_normal(8), requires_grad=True)

    def step(x, y):
        for p in (a, c, m, w):
            p.grad = None
        u = x - a  # d/da: -sum over n of what follows
        v = tg.einsum("kij,nkj->nki", m, u) * 0.5 + c * u - y * w
        (tg.sin(v).sum() + (v * v).sum((0,)).sum() + (-(v / 3.0)).sum(2).sum()).backward()
        return v.sum(0).detach()  # a sum that is also a result

    return step, [a, c, m, w]


def test_each_linear_op_passes_its_sum_and_gradients_match_eager_and_fd():
    calls = [(tg.tensor(R.standard_normal((200, 30, 8))), tg.tensor(R.standard_normal((200, 30, 8))))
             for _ in range(3)]
    fe, se = _make_linear()
    fc, sc = _make_linear()
    step = tg.compile(fc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for args in calls:
            np.testing.assert_allclose(step(*args).numpy(), fe(*args).numpy(), rtol=1e-9,
                                       atol=1e-10)
            for p, q in zip(se, sc):
                np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-9,
                                           atol=1e-10)
    assert step._count == 1
    x, y = (t.numpy() for t in calls[-1])

    def loss_of(ps):
        a, c, m, w = (tg.tensor(p) for p in ps)
        with tg.no_grad():
            u = tg.tensor(x) - a
            v = tg.einsum("kij,nkj->nki", m, u) * 0.5 + c * u - tg.tensor(y) * w
            return float(tg.sin(v).sum() + (v * v).sum((0,)).sum() + (-(v / 3.0)).sum(2).sum())

    _directional_fd(loss_of, [p.detach().numpy().copy() for p in sc],
                    [p.grad.numpy() for p in sc])


def test_sum_of_a_value_also_read_elsewhere_is_not_pushed():
    """``s = a + b`` is summed and returned: the sum stays over ``s``."""
    def make():
        w = tg.tensor(np.linspace(0.0, 1.0, 8), requires_grad=True)

        def step(x):
            w.grad = None
            s = x * w + x
            (s.sum(0) * s.sum(0)).sum().backward()
            return s.detach()

        return step, [w]

    fe, se = make()
    fc, sc = make()
    step = tg.compile(fc)
    for _ in range(2):
        x = tg.tensor(R.standard_normal((3000, 8)))
        np.testing.assert_allclose(step(x).numpy(), fe(x).numpy(), rtol=1e-12)
        np.testing.assert_allclose(sc[0].grad.numpy(), se[0].grad.numpy(), rtol=1e-9)


def _assigned(step):
    out = {}
    for line in _source(step).splitlines():
        name, eq, expr = line.strip().partition(" = ")
        if eq and name.startswith("v") and name[1:].isdigit():
            out[name] = expr
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sums_of_linear_expressions_read_each_input_once(dtype):
    """Sums over some axes (kept or dropped) and over all of ``(x*2 - y)/3``, ``-(x + y)`` and
    ``x*c - y*w`` are sums of the inputs combined afterwards (``c`` is constant along the summed
    axes, ``w`` is not): every use of ``x`` is one of three reductions, and the values are
    eager's up to rounding."""
    rr = np.random.default_rng(5)
    c = tg.tensor(rr.standard_normal((1, 7, 1)).astype(dtype))
    w = tg.tensor(rr.standard_normal(5).astype(dtype))

    def f(x, y):
        return (((x * 2.0 - y) / 3.0).sum(0), (-(x + y)).sum((0, 2), keepdim=True),
                (x * c - y * w).sum((0, 2)), (x - y).sum())

    step = tg.compile(f)
    tol = 1e-9 if dtype == np.float64 else 1e-4
    for _ in range(3):
        x, y = (tg.tensor(rr.standard_normal((900, 7, 5)).astype(dtype)) for _ in range(2))
        for got, want in zip(step(x, y), f(x, y)):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol * 10)
    assert step._count == 1
    exprs = _assigned(step)
    x = next(v for v, e in exprs.items() if e == "T0._data")
    uses = [e for e in exprs.values() if re.search(rf"\b{x}\b", e)]
    assert len(uses) == 3 and all(e.startswith(("_reduce(", "_float(_reduce(", "_float(_sum(", "_sum("))
                                  for e in uses), uses


# ---- a broadcast operand copied before the operation ------------------------------------

@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize("bad_first", [True, False])
def test_short_broadcast_operand_is_copied_first_and_matches_eager(op, bad_first):
    """``x[:, None, :] (op) m`` over (n, K, d): the operand broadcast along the middle axis is
    copied into the result, then the operation runs in place; either order of operands."""
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b}[op]
    m = tg.tensor(R.standard_normal((25, 10)) + 3.0, requires_grad=True)

    def f(x):
        m.grad = None
        bad = x[:, None, :]
        y = fn(bad, m) if bad_first else fn(m, bad)
        (y * y).sum().backward()
        return y.detach()

    step = tg.compile(f)
    for _ in range(3):
        x = tg.tensor(R.standard_normal((300, 10)) + 3.0)
        got = step(x)
        g_c = m.grad.numpy().copy()
        want = f(x)
        np.testing.assert_array_equal(got.numpy(), want.numpy())  # the same one rounding
        np.testing.assert_allclose(g_c, m.grad.numpy(), rtol=1e-9)
    assert step._count == 1
    assert "_copyto(" in _source(step)


# ---- a diagonal scaling folded into the contraction ---------------------------------------

def _fold_step(c_shape, spec="kij,nkj->nki", n=300):
    rr = np.random.default_rng(4)
    m = tg.tensor(rr.standard_normal((6, 5, 5)), requires_grad=True)
    c = tg.tensor(rr.standard_normal(c_shape), requires_grad=True)

    def f(x):
        m.grad = c.grad = None
        y = c * x + tg.einsum(spec, m, x)
        (y * y).sum().backward()
        return y.detach()

    return f, [m, c]


@pytest.mark.parametrize("c_shape,folded", [((6, 5), True), ((1, 6, 5), True), ((5,), True),
                                            ((300, 6, 5), False), ((300, 1, 1), False)])
def test_diagonal_scaling_beside_a_contraction_folds_into_it(c_shape, folded):
    """``c * x + einsum("kij,nkj->nki", m, x)`` is one einsum with ``m + diag(c)`` when ``c``
    is constant along ``n`` (the axis the matrix does not index); eager's values and
    gradients either way."""
    fe, se = _fold_step(c_shape)
    fc, sc = _fold_step(c_shape)
    step = tg.compile(fc)
    for _ in range(3):
        x = tg.tensor(R.standard_normal((300, 6, 5)))
        np.testing.assert_allclose(step(x).numpy(), fe(x).numpy(), rtol=1e-9, atol=1e-12)
        for a, b in zip(se, sc):
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert step._count == 1
    assert ("index_scatter" in _source(step)) == folded


def test_infinite_diagonal_scaling_stays_in_its_row():
    """An infinite ``c`` on the diagonal gives inf (or nan where x is 0) in its row only,
    as ``c * x`` does: the off-diagonal zeros are written, not computed as ``inf * 0``."""
    m = tg.tensor(R.standard_normal((6, 5, 5)))
    c = np.ones((6, 5))
    c[2, 3] = np.inf

    def f(x, c):
        return c * x + tg.einsum("kij,nkj->nki", m, x)

    step = tg.compile(f)
    for _ in range(2):
        x = R.standard_normal((300, 6, 5))
        x[0, 2, 3] = 0.0
        with np.errstate(invalid="ignore"):  # inf * 0, eagerly as compiled
            got, want = step(tg.tensor(x), tg.tensor(c)), f(tg.tensor(x), tg.tensor(c))
        np.testing.assert_array_equal(np.isnan(got.numpy()), np.isnan(want.numpy()))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-9, atol=1e-12)
    assert np.isinf(want.numpy()[1:, 2, 3]).all() and np.isnan(want.numpy()[0, 2, 3])
    assert "index_scatter" in _source(step)


# ---- a sum of products that is the diagonal of a contraction beside it ------------------

@pytest.mark.parametrize("spec,axis,diagonal", [
    ("nki,nkj->kij", 0, True),  # the products summed over n: the (i, i) diagonal
    ("nki,nkj->kij", 2, False),  # summed over another axis: not that diagonal
    ("nki,nkj->nkij", 0, False),  # nothing contracted: no diagonal of it is a sum
])
def test_sum_of_products_is_the_diagonal_of_the_contraction_beside_it(spec, axis, diagonal):
    def make():
        rr = np.random.default_rng(8)
        w = tg.tensor(rr.standard_normal((1, 6, 5)), requires_grad=True)

        def f(a, b):
            w.grad = None
            c = tg.einsum(spec, a * w, b)
            s = (a * w * b).sum(axis)
            (c.sum() * 0.5 + (s * s).sum()).backward()
            return c.detach(), s.detach()

        return f, [w]

    fe, se = make()
    fc, sc = make()
    step = tg.compile(fc)
    for _ in range(3):
        a, b = (tg.tensor(R.standard_normal((300, 6, 5))) for _ in range(2))
        for got, want in zip(step(a, b), fe(a, b)):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(sc[0].grad.numpy(), se[0].grad.numpy(), rtol=1e-9)
    assert step._count == 1
    names = [p for ps in step._cache.values() for prog in ps
             for p in prog.early.__globals__.values() if isinstance(p, dict) and "spec" in p]
    assert any(p["spec"] == "kii->ki" for p in names) == diagonal
