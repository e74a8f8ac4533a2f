"""NumPy and SciPy code written for arrays, as scientists write it, run on tensors that require
grad: SciPy's special-function ufuncs, the ufunc methods (``outer``, ``accumulate``,
``reduce``, ``at``), NumPy's in-place writers (``fill_diagonal``, ``put_along_axis``, ...),
``initial=``/``where=`` in reductions, ``diff``'s ``prepend``/``append``,
``sliding_window_view``, ``unwrap``, and the errors where a gradient cannot be kept.

Each program runs on plain arrays for the reference values; on tensors its gradient is checked
by central finite differences in float64 (``check_op``) and against PyTorch where PyTorch has
the same function.
"""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_against_torch, check_op

sp = pytest.importorskip("scipy.special")

R = np.random.default_rng(7)
POS = R.uniform(0.3, 3.0, size=(5,))
REAL = R.uniform(-2.0, 2.0, size=(5,))
UNIT = R.uniform(0.05, 0.95, size=(5,))
X = R.uniform(0.0, 3.0, size=(5, 3))


def _rg(a):
    return tg.tensor(np.array(a, dtype=np.float64), requires_grad=True)


# ---- scipy.special's ufuncs ------------------------------------------------------------------

# name, code, inputs, torch twin (or None)
SPECIAL = [
    ("gammaln", lambda x: sp.gammaln(x), [POS], lambda T, x: x.lgamma()),
    ("digamma", lambda x: sp.digamma(x) + sp.psi(x), [POS], lambda T, x: 2 * x.digamma()),
    ("erf_erfc", lambda x: sp.erf(x) * sp.erfc(x), [REAL], lambda T, x: x.erf() * x.erfc()),
    ("erfinv", lambda x: sp.erfinv(x * 0.4), [REAL], lambda T, x: (x * 0.4).erfinv()),
    ("expit", lambda x: sp.expit(x), [REAL], lambda T, x: x.sigmoid()),
    ("logit", lambda x: sp.logit(x), [UNIT], lambda T, x: x.logit()),
    ("log_expit", lambda x: sp.log_expit(x), [REAL],
     lambda T, x: T.nn.functional.logsigmoid(x)),
    ("xlogy", lambda x, y: sp.xlogy(x, y), [REAL, POS], lambda T, x, y: x.xlogy(y)),
    ("xlog1py", lambda x, y: sp.xlog1py(x, y), [REAL, POS],
     lambda T, x, y: T.special.xlog1py(x, y)),
    ("entr", lambda x: sp.entr(x), [POS], lambda T, x: T.special.entr(x)),
    ("ndtr", lambda x: sp.ndtr(x), [REAL], lambda T, x: T.special.ndtr(x)),
    ("ndtri", lambda x: sp.ndtri(x), [UNIT], lambda T, x: T.special.ndtri(x)),
    ("log_ndtr", lambda x: sp.log_ndtr(x), [REAL],
     lambda T, x: T.special.log_ndtr(x)),
    ("i0_i1", lambda x: sp.i0(x) + sp.i1e(x), [REAL],
     lambda T, x: T.special.i0(x) + T.special.i1e(x)),
    ("gamma", lambda x: sp.gamma(x), [REAL * 0.9 + 0.05], lambda T, x: x.lgamma().exp()
     * T.tensor(np.sign(sp.gamma(REAL * 0.9 + 0.05)))),
    ("betaln", lambda a, b: sp.betaln(a, b), [POS, POS[::-1].copy()],
     lambda T, a, b: a.lgamma() + b.lgamma() - (a + b).lgamma()),
    ("rel_entr_kl_div", lambda p, q: sp.rel_entr(p, q) + sp.kl_div(p, q), [UNIT, POS], None),
    ("huber", lambda r: sp.huber(1.0, r) + sp.pseudo_huber(0.7, r), [REAL], None),
]


@pytest.mark.parametrize("name,f,arrays,tf", SPECIAL, ids=[c[0] for c in SPECIAL])
def test_scipy_special_ufunc(name, f, arrays, tf):
    check_op(f, arrays, ref=f, order=1)


@pytest.mark.parametrize("name,f,arrays,tf", [c for c in SPECIAL if c[3] is not None],
                         ids=[c[0] for c in SPECIAL if c[3] is not None])
def test_scipy_special_ufunc_against_torch(name, f, arrays, tf):
    torch = pytest.importorskip("torch")
    check_against_torch(f, lambda *ts: tf(torch, *ts), arrays, rtol=1e-6, atol=1e-9)


def test_student_t_and_black_scholes_programs():
    y = R.standard_normal(12)

    def student_t_nll(nu, mu):
        return -np.sum(sp.gammaln((nu + 1) / 2) - sp.gammaln(nu / 2) - 0.5 * np.log(nu * np.pi)
                       - (nu + 1) / 2 * np.log1p((y - mu) ** 2 / nu))

    def call_price(S, sigma, K=1.0, T=0.5, r=0.01):
        d1 = (np.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * np.sqrt(T))
        d2 = d1 - sigma * np.sqrt(T)
        return S * sp.ndtr(d1) - K * np.exp(-r * T) * sp.ndtr(d2)

    check_op(student_t_nll, [np.array(3.5), np.array(0.2)], ref=student_t_nll)
    check_op(call_price, [np.array([0.9, 1.0, 1.2]), np.array([0.2, 0.25, 0.3])],
             ref=call_price)


def test_scipy_special_names_itself_where_unsupported():
    t = _rg(POS)
    with pytest.raises(TypeError, match=r"^tapegrad does not implement scipy\.special\.gammainc "
                       r"for tensors that require grad"):
        sp.gammainc(t, 1.0)
    # without a gradient at stake SciPy computes the values
    r = sp.gammainc(tg.tensor(POS), 1.0)
    assert isinstance(r, tg.Tensor) and not r.requires_grad
    np.testing.assert_array_equal(r.numpy(), sp.gammainc(POS, 1.0))


# ---- ufunc methods ---------------------------------------------------------------------------

def test_subtract_outer_pairwise_energy():
    def energy(x):
        d = np.subtract.outer(x, x)
        return np.sum(np.exp(-d ** 2)) + np.sum(np.multiply.outer(x, x[:2]))

    check_op(energy, [REAL], ref=energy)
    pytest.importorskip("torch")
    check_against_torch(energy, lambda x: (-(x[:, None] - x[None]) ** 2).exp().sum()
                        + (x[:, None] * x[None, :2]).sum(), [REAL])


ACCUMULATE = [
    ("add", lambda x: np.add.accumulate(x, axis=1), lambda x: x.cumsum(1)),
    ("multiply", lambda x: np.multiply.accumulate(x), lambda x: x.cumprod(0)),
    ("maximum", lambda x: np.maximum.accumulate(x, axis=1), lambda x: x.cummax(1).values),
    ("minimum", lambda x: np.minimum.accumulate(x), lambda x: x.cummin(0).values),
    ("logaddexp", lambda x: np.logaddexp.accumulate(x, axis=1), lambda x: x.logcumsumexp(1)),
]


@pytest.mark.parametrize("name,f,tf", ACCUMULATE, ids=[c[0] for c in ACCUMULATE])
def test_ufunc_accumulate(name, f, tf):
    check_op(f, [X - 1.5], ref=f, order=1)
    pytest.importorskip("torch")
    check_against_torch(f, tf, [X - 1.5])


def test_accumulate_axis_none_as_numpy():
    """axis=None: the only axis of a 1-D input; refused on N-D (NumPy raises there too)."""
    check_op(lambda v: np.maximum.accumulate(v, axis=None), [REAL],
             ref=lambda v: np.maximum.accumulate(v, axis=None), order=1)
    with pytest.raises(TypeError, match=r"numpy\.maximum\.accumulate with axis=None"):
        np.maximum.accumulate(_rg(X), axis=None)


def test_logaddexp_reduce_is_logsumexp():
    def f(x):
        return np.logaddexp.reduce(x, axis=0) + np.logaddexp2.reduce(x, axis=1, keepdims=True)

    check_op(f, [X], ref=f)
    check_op(lambda x: np.logaddexp.reduce(x, axis=None), [X],
             ref=lambda x: np.logaddexp.reduce(x, axis=None))
    pytest.importorskip("torch")
    check_against_torch(lambda x: np.logaddexp.reduce(x, axis=1), lambda x: x.logsumexp(1), [X])


def test_add_at_assembly():
    """Finite-element style assembly: repeated indices add up, as NumPy's add.at."""
    elems = np.array([0, 1, 2, 1])

    def load(k):
        f = np.zeros_like(k, shape=4)
        np.add.at(f, elems, k)
        np.subtract.at(f, elems + 1, 0.5 * k)
        return f

    check_op(load, [POS[:4]], ref=load)
    torch = pytest.importorskip("torch")
    check_against_torch(load, lambda k: torch.zeros(4, dtype=k.dtype)
                        .index_add(0, torch.tensor(elems), k)
                        .index_add(0, torch.tensor(elems + 1), -0.5 * k), [POS[:4]])


def test_add_at_into_an_ndarray_is_refused():
    with pytest.raises(TypeError, match=r"write a tensor that requires grad into a NumPy array"):
        np.add.at(np.zeros(3), [0, 1, 1], _rg([1.0, 2.0, 3.0]))


# ---- in-place writers ------------------------------------------------------------------------

def _lj_forces(pos):
    diff = pos[:, None, :] - pos[None, :, :]
    r2 = (diff ** 2).sum(axis=-1)
    np.fill_diagonal(r2, np.inf)
    inv6 = r2 ** -3
    return ((24 * (2 * inv6 ** 2 - inv6) / r2)[:, :, None] * diff).sum(axis=1)


def test_fill_diagonal_lennard_jones_forces():
    check_op(_lj_forces, [X], ref=_lj_forces)
    torch = pytest.importorskip("torch")

    def torch_forces(pos):
        diff = pos[:, None, :] - pos[None, :, :]
        r2 = (diff ** 2).sum(-1) + torch.diag(torch.full((len(pos),), torch.inf,
                                                         dtype=pos.dtype))
        inv6 = r2 ** -3
        return ((24 * (2 * inv6 ** 2 - inv6) / r2)[:, :, None] * diff).sum(1)

    check_against_torch(_lj_forces, torch_forces, [X])


def _writers(x, v):
    a = x * 1.0
    np.fill_diagonal(a, v[:2], wrap=True)  # cycled, as NumPy's
    np.put_along_axis(a, np.argmax(x, axis=1)[:, None], v[2], axis=1)
    b = x.copy()
    np.put(b, [0, 4, 4], v[:3])  # the last of a repeated index wins
    np.putmask(b, x > 1.5, v[::-1])
    np.place(b, x < 0.5, v[1:3])
    c = np.zeros_like(x)
    np.copyto(c, v[:3], where=x > 1.0)
    return a + b + c


def test_in_place_writers():
    check_op(_writers, [X, REAL], ref=_writers)


def test_in_place_writers_against_torch():
    torch = pytest.importorskip("torch")
    ref = _writers(X, REAL)

    def torch_writers(x, v):  # the same placements, written with torch's indexing
        src = np.full(X.shape, -1)
        tv = torch.cat([v, torch.zeros(1, dtype=v.dtype)])
        a, b, c = x * 1.0, x.clone(), torch.zeros_like(x)
        for t, code in ((a, 0), (b, 1), (c, 2)):
            src[...] = -1
            _writers_placement(src, code)
            m = torch.tensor(src >= 0)
            t[m] = tv[torch.tensor(src[src >= 0])]
        return a + b + c

    np.testing.assert_allclose(torch_writers(torch.tensor(X), torch.tensor(REAL)).numpy(), ref)
    check_against_torch(_writers, torch_writers, [X, REAL])


def _writers_placement(src, code):
    """Which entry of REAL each writer of ``_writers`` puts where (NumPy on index arrays)."""
    n = np.arange(5)
    if code == 0:
        np.fill_diagonal(src, n[:2], wrap=True)
        np.put_along_axis(src, np.argmax(X, axis=1)[:, None], 2, axis=1)
    elif code == 1:
        np.put(src, [0, 4, 4], n[:3])
        np.putmask(src, X > 1.5, n[::-1])
        np.place(src, X < 0.5, n[1:3])
    else:
        np.copyto(src, n[:3], where=X > 1.0)


def test_in_place_writers_refuse_what_cannot_hold_a_gradient():
    with pytest.raises(TypeError, match=r"write a tensor that requires grad into a NumPy array"):
        np.copyto(np.zeros(3), _rg([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match=r"writing a tensor into an ndarray"):
        np.fill_diagonal(np.zeros((2, 2)), _rg(1.0))  # (NumPy dispatches on the array only)
    with pytest.raises(RuntimeError, match=r"leaf Variable that requires grad"):
        np.fill_diagonal(_rg(np.zeros((2, 2))), 1.0)
    with pytest.raises(TypeError, match=r"Cannot cast array data from dtype\('float64'\) to "
                       r"dtype\('int64'\)"):
        np.copyto(tg.zeros(3, dtype=np.int64), tg.tensor([1.5, 2.0, 3.0]))
    a = np.zeros((2, 2))  # without a gradient at stake NumPy writes into its own array
    np.fill_diagonal(a, tg.tensor(3.0))
    np.testing.assert_array_equal(a, np.diag([3.0, 3.0]))


# ---- reductions' initial= and where= ---------------------------------------------------------

def test_reductions_initial_and_where():
    mask = X > 1.0

    def f(x):
        return np.concatenate([
            np.sum(x ** 2, initial=1.5, keepdims=True)[0], np.sum(x, axis=0, where=mask),
            np.mean(x, axis=1, where=mask), np.prod(x, axis=0, where=mask, initial=2.0),
            np.atleast_1d(np.max(x, initial=2.5)), np.min(x, axis=1, where=mask, initial=9.0),
            np.add.reduce(x, axis=1, initial=0.5), np.atleast_1d(np.nansum(x, where=mask))])

    check_op(f, [X], ref=f)
    torch = pytest.importorskip("torch")

    def torch_f(x):
        m = torch.tensor(mask)
        xm = torch.where(m, x, 0.0)
        return torch.cat([
            ((x ** 2).sum() + 1.5)[None], xm.sum(0), xm.sum(1) / m.sum(1),
            2.0 * torch.where(m, x, 1.0).prod(0), torch.clamp(x.amax(), min=2.5)[None],
            torch.where(m, x, 9.0).amin(1), x.sum(1) + 0.5, xm.sum()[None]])

    check_against_torch(f, torch_f, [X])


def test_max_with_where_needs_initial_as_in_numpy():
    with pytest.raises(ValueError, match="to use a where mask one has to specify 'initial'"):
        np.max(_rg(X), where=X > 1.0)


# ---- signal processing -----------------------------------------------------------------------

def test_diff_prepend_append():
    def f(x, e):
        return (np.sum(np.diff(x, prepend=0.0) ** 2) + np.sum(np.diff(x, n=2, append=e[:1]))
                + np.sum(np.diff(x[None], axis=1, prepend=e[None, :1], append=3) ** 2))

    check_op(f, [REAL, POS], ref=f)
    torch = pytest.importorskip("torch")
    check_against_torch(
        f, lambda x, e: ((torch.diff(x, prepend=torch.zeros(1, dtype=x.dtype)) ** 2).sum()
                         + torch.diff(x, n=2, append=e[:1]).sum()
                         + (torch.diff(x[None], dim=1, prepend=e[None, :1],
                                       append=torch.full((1, 1), 3.0, dtype=x.dtype)) ** 2)
                         .sum()), [REAL, POS])


def test_sliding_window_view_frames():
    swv = np.lib.stride_tricks.sliding_window_view

    def stft_power(x):
        frames = swv(x, 4)[::2] * np.hanning(4)
        return np.sum(np.abs(np.fft.rfft(frames, axis=-1)) ** 2, axis=-1)

    def local_means(img):
        return (np.mean(swv(img, (2, 2)), axis=(-2, -1))
                + np.max(swv(img, 2, axis=0), axis=-1)[:, 1:])

    sig = R.standard_normal(11)
    check_op(stft_power, [sig], ref=stft_power)
    check_op(local_means, [X], ref=local_means)
    pytest.importorskip("torch")
    check_against_torch(local_means, lambda t: t.unfold(0, 2, 1).unfold(1, 2, 1).mean((-2, -1))
                        + t.unfold(0, 2, 1).amax(-1)[:, 1:], [X])


def test_unwrap_has_numpys_values_and_gradient_one():
    phase = np.cumsum(R.uniform(1.0, 3.0, size=(2, 9)), axis=1)
    for kw in ({}, {"axis": 0}, {"discont": 4.0}, {"period": 5.0}):
        t = _rg(phase)
        u = np.unwrap(t, **kw)
        np.testing.assert_array_equal(u.detach().numpy(), np.unwrap(phase, **kw))
        u.sum().backward()
        np.testing.assert_array_equal(t.grad.numpy(), np.ones_like(phase))
    check_op(lambda p: np.unwrap(p) ** 2, [phase], ref=lambda p: np.unwrap(p) ** 2)


def test_np_i0():
    check_op(lambda x: np.i0(x), [REAL], ref=np.i0, order=1)
    torch = pytest.importorskip("torch")
    check_against_torch(lambda x: np.i0(x), lambda x: torch.special.i0(x), [REAL])


# ---- errors where the gradient cannot be kept ------------------------------------------------

def test_ndarray_in_place_operator_says_so():
    acc = np.zeros(3)
    with pytest.raises(TypeError, match=r"numpy\.add would write a result that requires grad into "
                       r"a NumPy array .* a \+= t on an ndarray.*write a = a \+ t"):
        acc += _rg([1.0, 2.0, 3.0])


def test_conversion_to_ndarray_names_the_usual_causes():
    t = _rg(REAL)
    out = np.zeros(5)
    with pytest.raises(RuntimeError, match=r"writing a tensor into an ndarray \(a\[i\] = t: start "
                       r"from np\.zeros_like\(t\)\)"):
        out[:] = t
    with pytest.raises(RuntimeError, match=r"scipy\.special\.logsumexp, scipy\.stats, "
                       r"scipy\.linalg: use tapegrad\.special, tapegrad\.linalg"):
        sp.logsumexp(t)
    with pytest.raises(RuntimeError, match=r"np\.vectorize"):
        np.vectorize(lambda a: a * 2.0)(t)
