"""Ops that tapegrad records as another op or as several records are named as PyTorch's one
node (``grad_fn.name()``, the class name, ``next_functions``): ``x - c`` is SubBackward0 (an
addition of -c on the tape), ``c - x`` RsubBackward1 (a product by -1 carrying the value
``c - x``, its one input x); composed ops (sinc, logit, lerp, addcmul, scatter, unfold, ...)
name their last record and list the op's own inputs. Values, first and second derivatives
against PyTorch, and by finite differences."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CALLS = {
    "x - 1": lambda L, x: x - 1, "x - 2.5": lambda L, x: x - 2.5,
    "1 - x": lambda L, x: 1 - x, "2.5 - x": lambda L, x: 2.5 - x,
    "sub": lambda L, x: L.sub(x, 2), "Tensor.sub": lambda L, x: x.sub(2),
    "subtract": lambda L, x: L.subtract(x, 2.5), "rsub": lambda L, x: L.rsub(x, 2),
    "x * 2 - 1": lambda L, x: x * 2 - 1, "1 - x * 2": lambda L, x: 1 - x * 2,
    "sub_": lambda L, x: (x * 1).sub_(1), "x - y": lambda L, x: x - x * 2,
    "x - np.float64": lambda L, x: x - np.float64(1.5),
}


def _graph(y):
    node = y.grad_fn
    return (node.name(), type(node).__name__,
            [(f.name() if f is not None else None, k) for f, k in node.next_functions])


def _outcome(L, call, shape, dtype):
    x = L.tensor(np.full(shape, 0.7, dtype) + np.arange(np.prod(shape, dtype=int)).reshape(shape)
                 .astype(dtype), requires_grad=True)
    y = CALLS[call](L, x)
    g, = L.autograd.grad((y * y).sum(), x, create_graph=True)
    gg, = L.autograd.grad(g.sum(), x)
    return _graph(y), y.detach().numpy(), g.detach().numpy(), gg.numpy()


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("shape", [(3,), ()])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_as_torch(call, shape, dtype):
    got, want = _outcome(tg, call, shape, dtype), _outcome(torch, call, shape, dtype)
    assert got[0] == want[0]
    for a, b in zip(got[1:], want[1:]):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("call", list(CALLS))
def test_gradcheck(call):
    x = tg.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    f = lambda t: CALLS[call](tg, t) * t  # noqa: E731
    assert tg.autograd.gradcheck(f, (x,))
    assert tg.autograd.gradgradcheck(f, (x,))


def _ops(L):
    F = L.nn.functional
    i = L.tensor([[0, 2, 1], [2, 0, 0]])
    i2 = L.tensor([[0, 2, 1], [2, 0, 1]])
    m = L.tensor([[True, False, True], [False, True, True]])
    c = L.tensor(np.linspace(0.3, 0.8, 6).reshape(2, 3))  # (requires no grad)
    return {
        "sinc": lambda x, y, z: L.sinc(x),
        "logit": lambda x, y, z: L.logit(x * 0.1),
        "logit eps": lambda x, y, z: L.logit(x, eps=0.05),
        "mvlgamma": lambda x, y, z: L.mvlgamma(x + 2, 3),
        "special.multigammaln": lambda x, y, z: L.special.multigammaln(x + 2, 2),
        "matrix_exp": lambda x, y, z: L.matrix_exp(x[:, :2] * 0.3),
        "linalg.matrix_exp": lambda x, y, z: L.linalg.matrix_exp(x[:, :2]),
        "lstsq": lambda x, y, z: L.linalg.lstsq(x.T, y.T).solution,
        "lstsq vector": lambda x, y, z: L.linalg.lstsq(x.T, y[0]).solution,
        "scatter": lambda x, y, z: x.scatter(1, i2, y),
        "scatter value": lambda x, y, z: L.scatter(x, 1, i, 2.5),
        "scatter_add": lambda x, y, z: L.scatter_add(x, 1, i, y),
        "index_copy": lambda x, y, z: x.index_copy(1, L.tensor([2, 0]), y[:, :2]),
        "index_fill": lambda x, y, z: x.index_fill(1, L.tensor([2, 0]), -1.0),
        "index_fill 0-d": lambda x, y, z: x.index_fill(0, L.tensor([1]), y[0, 1]),
        "masked_scatter": lambda x, y, z: x.masked_scatter(m, y),
        "masked_select": lambda x, y, z: L.masked_select(x, m),
        "lerp": lambda x, y, z: L.lerp(x, y, 0.3),
        "lerp 0.7": lambda x, y, z: x.lerp(y, 0.7),
        "lerp tensor": lambda x, y, z: L.lerp(x, y, z),
        "lerp constant end": lambda x, y, z: L.lerp(x, c, z),
        "addcmul": lambda x, y, z: L.addcmul(x, y, z, value=0.5),
        "addcmul constant": lambda x, y, z: x.addcmul(c, z),
        "addcdiv": lambda x, y, z: L.addcdiv(x, y, z + 2, value=-2),
        "addcdiv constant input": lambda x, y, z: L.addcdiv(c, y, z + 2),
        "unfold": lambda x, y, z: F.unfold(x.reshape(1, 1, 2, 3), 2),
        "unfold unbatched": lambda x, y, z: F.unfold(x.reshape(1, 2, 3), (1, 2), padding=1),
        "fold": lambda x, y, z: F.fold(x.reshape(1, 2, 3), (1, 4), (1, 2)),
        "sort stable": lambda x, y, z: x.sort(dim=1, stable=True)[0],
        "sort stable=False": lambda x, y, z: L.sort(x, stable=False)[0],
        "sort": lambda x, y, z: x.sort(0)[0],
        "reshape copy": lambda x, y, z: x.t().reshape(6),
        "flatten copy": lambda x, y, z: (x * 2).t().flatten(),
        "reshape view": lambda x, y, z: x.reshape(3, 2),
        "x[index] = v": lambda x, y, z: _put(x * 1, (L.tensor([1, 0]),), y[0]),
        "x[mask] = v": lambda x, y, z: _put(x + 0, (m,), y[m]),
        "x[:, index] = c": lambda x, y, z: _put(x * 1, (slice(None), [2, 0]), 4.0),
        "c[index] = v": lambda x, y, z: _put(L.zeros((2, 3), dtype=L.float64), ([1],), y[0]),
        "x[0] = v": lambda x, y, z: _put(x * 1, (0,), y[1]),
        # (PyTorch expands the input first: its next function is ExpandBackward0)
        "take_along_dim": lambda x, y, z: L.take_along_dim(x, i, 1),
    }


def _put(t, key, v):
    t[key] = v
    return t


# (PyTorch clones first: its next function is CloneBackward0)
NAMES_ONLY = {"take_along_dim", "reshape copy", "flatten copy"}


def _inputs(L):
    rng = np.random.default_rng(3)
    return [L.tensor(rng.uniform(0.2, 0.9, (2, 3)), requires_grad=True) for _ in range(3)]


@pytest.mark.parametrize("call", list(_ops(tg)))
def test_composed_ops_as_torch(call):
    outcome = []
    for L in (tg, torch):
        xs = _inputs(L)
        y = _ops(L)[call](*xs)
        w = L.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)))
        gs = L.autograd.grad((y * w).sum(), xs, allow_unused=True)
        outcome.append((_graph(y), y.detach().numpy(),
                        [None if g is None else g.numpy() for g in gs]))
    got, want = outcome
    assert got[0][:2] == want[0][:2]
    if call not in NAMES_ONLY:
        assert got[0] == want[0]
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-12)
    for a, b in zip(got[2], want[2]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("call", list(_ops(tg)))
def test_composed_ops_gradcheck(call):
    xs = _inputs(tg)
    f = _ops(tg)[call]
    assert tg.autograd.gradcheck(lambda *a: f(*a), xs)
