"""Everyday NumPy calls from numerical scripts, run on tensors that require grad.

Each call in the table either works (the value equals NumPy's on the plain arrays and the
gradient matches central finite differences of the same NumPy code, and PyTorch's where a
torch twin is given) or raises a clear ``TypeError``; a result that silently lost its gradient
fails. ``UNSUPPORTED`` lists the calls that raise today, so a new handler (or a new op picked up
by name) shows up as a test to move out of that list.
"""

import numpy as np
import pytest

import tapegrad as tg

A = np.random.default_rng(0).uniform(-1.5, 1.5, size=(3, 4))
B = np.random.default_rng(1).uniform(-1.5, 1.5, size=(3, 4))
P = np.random.default_rng(2).uniform(0.3, 2.0, size=(3, 4))  # positive
V = np.random.default_rng(3).uniform(-1.5, 1.5, size=(4,))
W = np.random.default_rng(4).uniform(-1.5, 1.5, size=(4,))
V3 = np.random.default_rng(5).uniform(-1.5, 1.5, size=(3,))
M = np.random.default_rng(6).uniform(-1.5, 1.5, size=(4, 4))
S = np.array([[0.3, -1.2, 0.9, 1.7], [-0.4, 0.1, -1.1, 0.6], [1.3, -0.8, 0.45, -0.05]])
WT = np.array([0.5, 1.0, 2.0, 0.25])  # np.average weights
IDX = np.array([2, 0, 3])

# (id, numpy code of the inputs, inputs, torch twin or None)
CASES = [
    # elementwise
    ("exp", lambda x: np.exp(x), [A], lambda x: x.exp()),
    ("log", lambda x: np.log(x), [P], lambda x: x.log()),
    ("sqrt", lambda x: np.sqrt(x), [P], lambda x: x.sqrt()),
    ("sin*cos", lambda x: np.sin(x) * np.cos(x), [A], lambda x: x.sin() * x.cos()),
    ("tanh", lambda x: np.tanh(x), [A], lambda x: x.tanh()),
    ("abs", lambda x: np.abs(x), [S], lambda x: x.abs()),
    ("square", lambda x: np.square(x), [A], lambda x: x.square()),
    ("power", lambda x: np.power(x, 3), [A], lambda x: x ** 3),
    ("log2+log10", lambda x: np.log2(x) + np.log10(x), [P], lambda x: x.log2() + x.log10()),
    ("exp2", lambda x: np.exp2(x), [A], lambda x: x.exp2()),
    ("hypot", lambda x, y: np.hypot(x, y), [A, B], lambda x, y: x.hypot(y)),
    ("logaddexp", lambda x, y: np.logaddexp(x, y), [A, B], lambda x, y: x.logaddexp(y)),
    ("arctan", lambda x: np.arctan(x), [A], lambda x: x.atan()),
    ("arctan2", lambda x, y: np.arctan2(x, y), [A, P], lambda x, y: x.atan2(y)),
    ("maximum0", lambda x: np.maximum(x, 0.0), [S], lambda x: x.clamp(min=0.0)),
    ("clip", lambda x: np.clip(x, -0.5, 0.5), [S], lambda x: x.clamp(-0.5, 0.5)),
    ("where", lambda x: np.where(x > 0, x, 0.1 * x), [S], lambda x: x.where(x > 0, 0.1 * x)),
    ("sign*x", lambda x: np.sign(x) * x, [S], lambda x: x.sign() * x),
    ("floor", lambda x: np.floor(x) + x, [S], lambda x: x.floor() + x),
    ("nan_to_num", lambda x: np.nan_to_num(x), [A], lambda x: x.nan_to_num()),
    # reductions
    ("sum_axis0", lambda x: np.sum(x, axis=0), [A], lambda x: x.sum(0)),
    ("mean_keepdims", lambda x: np.mean(x, axis=1, keepdims=True), [A],
     lambda x: x.mean(1, keepdim=True)),
    ("std_ddof1", lambda x: np.std(x, ddof=1), [A], lambda x: x.std()),
    ("var_axis0_ddof1", lambda x: np.var(x, axis=0, ddof=1), [A], lambda x: x.var(0)),
    ("max_axis", lambda x: np.max(x, axis=-1), [S], lambda x: x.amax(-1)),
    ("min", lambda x: np.min(x), [S], lambda x: x.min()),
    ("prod_axis1", lambda x: np.prod(x, axis=1), [A], lambda x: x.prod(1)),
    ("ptp", lambda x: np.ptp(x, axis=1), [S], lambda x: x.amax(1) - x.amin(1)),
    ("average_weights", lambda x: np.average(x, axis=1, weights=WT), [A],
     lambda x: (x * x.new_tensor(WT)).sum(1) / WT.sum()),
    ("median", lambda x: np.median(x, axis=1), [S], None),
    ("cumsum", lambda x: np.cumsum(x, axis=1), [A], lambda x: x.cumsum(1)),
    ("cumprod", lambda x: np.cumprod(x, axis=1), [A], lambda x: x.cumprod(1)),
    ("diff", lambda x: np.diff(x, axis=1), [A], lambda x: x.diff(dim=1)),
    ("norm", lambda x: np.linalg.norm(x), [A], lambda x: x.norm()),
    ("norm_axis1", lambda x: np.linalg.norm(x, axis=1), [A], lambda x: x.norm(dim=1)),
    ("trace", lambda x: np.trace(x), [M], lambda x: x.trace()),
    # shape manipulation
    ("reshape", lambda x: np.reshape(x, (4, 3)) * np.arange(12.0).reshape(4, 3), [A], None),
    ("transpose", lambda x: np.transpose(x) * B.T, [A], lambda x: x.T * x.new_tensor(B.T)),
    ("moveaxis", lambda x: np.moveaxis(x[None], 0, -1), [A], None),
    ("expand_dims", lambda x: np.expand_dims(x, 1) * V3[:, None, None], [V], None),
    ("flip", lambda x: np.flip(x, axis=1) * B, [A], None),
    ("roll", lambda x: np.roll(x, 1, axis=1) * B, [A], lambda x: x.roll(1, 1) * x.new_tensor(B)),
    ("roll_flat", lambda x: np.roll(x, -5) * B, [A], None),
    ("tile", lambda x: np.tile(x, (2, 3)), [V3], lambda x: x.tile((2, 3))),
    ("repeat", lambda x: np.repeat(x, 2, axis=0), [A], lambda x: x.repeat_interleave(2, 0)),
    ("concatenate", lambda x, y: np.concatenate([x, y], axis=1), [A, B], None),
    ("stack", lambda x, y: np.stack([x, y], axis=-1), [A, B], None),
    ("vstack", lambda x, y: np.vstack([x, y[0]]), [A, B], None),
    ("hstack", lambda x, y: np.hstack([x, y]), [V, W], None),
    ("column_stack", lambda x, y: np.column_stack([x, y]), [V, W], None),
    ("atleast_2d", lambda x: np.atleast_2d(x) * B[:1], [V], None),
    ("split", lambda x: np.split(x, 2, axis=1)[1] * B[:, :2], [A], None),
    ("diag", lambda x: np.diag(x) @ M, [V], None),
    ("diagonal", lambda x: np.diagonal(x, 1), [M], None),
    ("triu", lambda x: np.triu(x), [M], lambda x: x.triu()),
    ("pad", lambda x: np.pad(x, 1), [A], None),
    ("take", lambda x: np.take(x, IDX), [V], None),
    # products
    ("dot", lambda x, y: np.dot(x, y), [V, W], lambda x, y: x.dot(y)),
    ("matmul", lambda x, y: x @ y, [A, M], lambda x, y: x @ y),
    ("outer", lambda x, y: np.outer(x, y), [V3, W], lambda x, y: x.outer(y)),
    ("inner", lambda x, y: np.inner(x, y), [A, B], lambda x, y: x @ y.T),
    ("tensordot", lambda x, y: np.tensordot(x, y, axes=1), [A, M], lambda x, y: x @ y),
    ("tensordot_2", lambda x, y: np.tensordot(x, y, axes=([1], [1])), [A, B],
     lambda x, y: x @ y.T),
    ("vdot", lambda x, y: np.vdot(x, y), [A, B], lambda x, y: (x * y).sum()),
    ("einsum", lambda x, y: np.einsum("ij,ij->i", x, y), [A, B], lambda x, y: (x * y).sum(1)),
    ("cross", lambda x, y: np.cross(x, y), [V3, V3[::-1].copy()], lambda x, y: x.cross(y, dim=-1)),
    ("kron", lambda x, y: np.kron(x, y), [V3, W], lambda x, y: x.kron(y)),
    # values only (no gradient needed): an integer/bool result, or a sorted copy
    ("sort", lambda x: np.sort(x, axis=1), [S], lambda x: x.sort(1).values),
    ("argmax", lambda x: np.argmax(x, axis=1), [S], None),
    ("allclose", lambda x, y: np.allclose(x, y), [A, A], None),
    ("count_positive", lambda x: np.sum(x > 0), [S], None),
    # where= on a reduction: the entries it leaves out take no part (and get no gradient)
    ("mean_where", lambda x: np.mean(x, where=x > 0), [S],
     lambda x: (x * (x > 0)).sum() / (x > 0).sum()),
    ("var_where", lambda x: np.var(x, where=x > 0), [S], None),
]

X4 = np.random.default_rng(7).uniform(-1.5, 1.5, size=(2, 3, 4))
NANS = np.array([[0.5, np.nan, -1.0], [np.inf, 2.0, -np.inf]])

# More argument forms of the handlers written as compositions of ops (composites.py).
CASES += [
    ("sum_tuple_axis", lambda x: np.sum(x, axis=(0, 2), keepdims=True), [X4], None),
    ("nan_to_num_nans", lambda x: np.nan_to_num(x, nan=1.5, posinf=9.0, neginf=-4.0) * 2.0,
     [NANS], None),
    ("logaddexp_equal", lambda x: np.logaddexp(x, x * 1.0), [A], None),
    ("logaddexp2", lambda x, y: np.logaddexp2(x, y), [A, B], None),
    ("ptp_all_keepdims", lambda x: np.ptp(x, keepdims=True), [S], None),
    ("average_noweights", lambda x: np.average(x, axis=0), [A], lambda x: x.mean(0)),
    ("average_returned", lambda x: np.average(x, axis=(0, 1), weights=X4[:, :, 0] + 2.0,
                                              returned=True)[0], [X4 + 2.0], None),
    ("average_full_weights", lambda x, w: np.average(x, weights=w), [A, P], None),
    ("median_even_all", lambda x: np.median(x), [S], None),
    ("median_odd_keepdims", lambda x: np.median(x, axis=0, keepdims=True), [S], None),
    ("median_tuple_axis", lambda x: np.median(x, axis=(0, 2)), [X4], None),
    ("cumprod_flat", lambda x: np.cumprod(x), [A], None),
    ("trace_offset", lambda x: np.trace(x, offset=-1), [M], None),
    ("trace_3d", lambda x: np.trace(x, axis1=1, axis2=2), [X4[:, :3, :3].copy()], None),
    ("diag_k_pos", lambda x: np.diag(x, 2), [V], None),
    ("diag_k_neg", lambda x: np.diag(x, -1), [V3], None),
    ("diag_of_matrix", lambda x: np.diag(x, 1), [A], None),
    ("tril_k", lambda x: np.tril(x, -1), [X4], None),
    ("roll_two_axes", lambda x: np.roll(x, (1, -2), axis=(0, 2)), [X4], None),
    ("roll_big_shift", lambda x: np.roll(x, 7, axis=0), [A], None),
    ("tile_more_reps", lambda x: np.tile(x, (2, 1, 2)), [A], None),
    ("tile_int", lambda x: np.tile(x, 3), [A], None),
    ("repeat_flat", lambda x: np.repeat(x, 3), [A], None),
    ("repeat_array", lambda x: np.repeat(x, [1, 0, 2, 3], axis=1), [A], None),
    ("hstack_2d", lambda x, y: np.hstack([x, y]), [A, B], None),
    ("dstack", lambda x, y: np.dstack([x, y]), [A, B], None),
    ("atleast_3d", lambda x: np.atleast_3d(x), [V], None),
    ("pad_asym", lambda x: np.pad(x, ((0, 2), (1, 0)), constant_values=3.0), [A], None),
    ("pad_reflect", lambda x: np.pad(x, 2, mode="reflect"), [A], None),
    ("pad_edge", lambda x: np.pad(x, ((1, 1), (0, 3)), mode="edge"), [A], None),
    ("pad_wrap", lambda x: np.pad(x, 1, mode="wrap"), [A], None),
    ("take_axis_dup", lambda x: np.take(x, [0, 2, 2, -1], axis=1), [A], None),
    ("take_wrap", lambda x: np.take(x, [5, -7], mode="wrap"), [V], None),
    ("take_along_axis", lambda x: np.take_along_axis(x, np.argsort(S, axis=0), axis=0), [A],
     None),
    ("sort_flat", lambda x: np.sort(x, axis=None), [S], None),
    ("sort_ties", lambda x: np.sort(x * 0.0 + np.round(S)), [S], None),
    ("tensordot_2d", lambda x, y: np.tensordot(x, y, axes=2), [A, B], None),
    ("tensordot_3d", lambda x, y: np.tensordot(x, y, axes=([0, 2], [1, 0])),
     [X4, X4[:, 0:2, :].transpose(2, 0, 1).copy()], None),
    ("inner_vec", lambda x, y: np.inner(x, y), [V, W], None),
    ("cross_axis0", lambda x, y: np.cross(x, y, axis=0), [A[:, :2].copy(), B[:, :2].copy()],
     None),
    ("kron_2d", lambda x, y: np.kron(x, y), [A[:2, :2].copy(), B[:2, :3].copy()], None),
]

# Calls that must raise TypeError for tensors that require grad.
UNSUPPORTED = set()
# Calls waiting for an op that is not in tapegrad.ops yet (the handler looks it up by name):
# either a TypeError today or a correct gradient once the op lands.
PENDING_OP = {"arctan", "arctan2"}


def _fd_grad(f, arrays, k, w, eps=1e-6):
    """d sum(w * f(arrays)) / d arrays[k] by central differences, on plain NumPy."""
    x = arrays[k]
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        vals = []
        for s in (eps, -eps):
            xs = [a.copy() for a in arrays]
            xs[k][i] += s
            vals.append(np.sum(w * np.asarray(f(*xs), dtype=float)))
        g[i] = (vals[0] - vals[1]) / (2 * eps)
    return g


def _is_float(r):
    return isinstance(r, tg.Tensor) and r.dtype.kind == "f"


def run_case(f, arrays):
    """Run ``f`` on tensors requiring grad; returns ("ok", None), ("typeerror", msg), or raises
    AssertionError when a value or gradient is wrong or a gradient was dropped."""
    ts = [tg.tensor(a, requires_grad=True) for a in arrays]
    try:
        r = f(*ts)
    except TypeError as e:
        assert str(e).startswith("tapegrad does not implement numpy."), str(e)
        return "typeerror", str(e)
    ref = f(*[a.copy() for a in arrays])
    if isinstance(ref, (bool, np.bool_)) or not np.issubdtype(np.asarray(ref).dtype, np.floating):
        val = r.detach().numpy() if isinstance(r, tg.Tensor) else r
        np.testing.assert_array_equal(np.asarray(val), np.asarray(ref))
        assert not _is_float(r)
        return "ok", None
    assert isinstance(r, tg.Tensor), f"got {type(r).__name__}, not a tensor"
    np.testing.assert_allclose(r.detach().numpy(), ref, rtol=1e-10, atol=1e-12)
    assert r.requires_grad, "the result lost its gradient"
    w = np.random.default_rng(9).uniform(0.5, 1.5, size=np.shape(ref))
    (r * tg.tensor(w)).sum().backward()
    for k, (t, a) in enumerate(zip(ts, arrays)):
        g = t.grad.numpy() if t.grad is not None else np.zeros_like(a)
        np.testing.assert_allclose(g, _fd_grad(f, arrays, k, w), rtol=1e-5, atol=1e-6)
    return "ok", [None if t.grad is None else t.grad.numpy() for t in ts]


@pytest.mark.parametrize("name,f,arrays,tf", CASES, ids=[c[0] for c in CASES])
def test_everyday_call(name, f, arrays, tf):
    status, info = run_case(f, arrays)
    if name in UNSUPPORTED:
        assert status == "typeerror", f"np {name} works now: take it out of UNSUPPORTED"
    elif name not in PENDING_OP:
        assert status == "ok", info


@pytest.mark.parametrize("name,f,arrays,tf", CASES, ids=[c[0] for c in CASES])
def test_everyday_call_without_grad_matches_numpy(name, f, arrays, tf):
    """Tensors without grad: the handlers (or NumPy on the values) give NumPy's values."""
    r = f(*[tg.tensor(a) for a in arrays])
    ref = f(*[a.copy() for a in arrays])
    assert not (isinstance(r, tg.Tensor) and r.requires_grad)
    val = r.numpy() if isinstance(r, tg.Tensor) else r
    np.testing.assert_allclose(np.asarray(val, dtype=float), np.asarray(ref, dtype=float),
                               rtol=1e-10, atol=1e-12)


TORCH_CASES = [c for c in CASES
               if c[3] is not None and c[0] not in UNSUPPORTED | PENDING_OP]


@pytest.mark.parametrize("name,f,arrays,tf", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_everyday_call_matches_torch(name, f, arrays, tf, torch):
    ts = [tg.tensor(a, requires_grad=True) for a in arrays]
    tts = [torch.tensor(a, requires_grad=True) for a in arrays]
    r, tr = f(*ts), tf(*tts)
    np.testing.assert_allclose(np.asarray(r.detach().numpy()), tr.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    if not tr.requires_grad:
        return
    w = np.random.default_rng(9).uniform(0.5, 1.5, size=tuple(tr.shape))
    (r * tg.tensor(w)).sum().backward()
    (tr * torch.tensor(w)).sum().backward()
    for t, tt in zip(ts, tts):
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_table_size():
    assert len(CASES) >= 50


def test_pending_ufunc_picks_up_an_op_added_later(monkeypatch):
    """np.arctan's handler looks ``tapegrad.ops.atan`` up at call time."""
    from tapegrad import ops

    calls = []

    def atan(x):
        calls.append(x)
        return x * 1.0

    monkeypatch.setattr(ops, "atan", atan, raising=False)
    t = tg.tensor(V, requires_grad=True)
    out = np.arctan(t)
    assert calls and out.requires_grad


def test_numpy_keyword_names_on_methods_and_functions():
    """``axis=``/``keepdims=`` wherever ``dim=``/``keepdim=`` go (PyTorch accepts both), and
    ``ddof=`` for var/std: NumPy-style method calls give NumPy's values and gradients."""
    a = np.random.default_rng(5).standard_normal((3, 4))
    x = tg.tensor(a, requires_grad=True)
    checks = [
        (x.sum(axis=0, keepdims=True), a.sum(axis=0, keepdims=True)),
        (tg.sum(x, axis=1), a.sum(axis=1)), (x.mean(axis=1), a.mean(axis=1)),
        (x.prod(axis=0), a.prod(axis=0)), (x.cumsum(axis=1), a.cumsum(axis=1)),
        (x.amax(axis=0, keepdims=True), a.max(axis=0, keepdims=True)),
        (x.max(axis=1)[0], a.max(axis=1)), (x.argmin(axis=0), a.argmin(axis=0)),
        (x.std(axis=0, ddof=1), a.std(axis=0, ddof=1)), (x.var(ddof=0), a.var()),
        (tg.cat([x, x], axis=1), np.concatenate([a, a], axis=1)),
        (tg.stack([x, x], axis=2), np.stack([a, a], axis=2)),
        (x.unsqueeze(axis=0), a[None]),
    ]
    for got, want in checks:
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-14, atol=1e-15)
    x.std(axis=1, ddof=1).sum().backward()
    d = a - a.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad.numpy(), d / (a.std(axis=1, ddof=1, keepdims=True) * 3),
                               rtol=1e-12)
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        x.sum(dim=0, axis=1)
    batched = tg.vmap(lambda r: r.sum(axis=0, keepdims=True))(x)  # the batching rules too
    np.testing.assert_allclose(batched.detach().numpy(), a.sum(axis=1, keepdims=True))
