"""Property-based: random programs over a table of ops agree with PyTorch (values, gradients and
second order through create_graph), or with finite differences when torch is not installed."""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import tapegrad as tg  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover - the finite-difference oracle takes over
    torch = None

SHAPES = [(3,), (2, 3), (3, 3), ()]


def _bcast(a, b):
    try:
        np.broadcast_shapes(a.shape, b.shape)
        return True
    except ValueError:
        return False


def _sum(x, p):
    if x.ndim == 0:
        return x.sum()
    return x.sum(dim=p % x.ndim, keepdim=bool(p // x.ndim % 2))


def _reshape(x, p):
    if x.ndim == 0:
        return x.reshape(1)
    shape = tuple(x.shape)
    return x.reshape(-1) if p % 2 or len(shape) == 1 else x.reshape(shape[::-1])


def _transpose(x, p):
    return x.transpose(0, 1) if x.ndim >= 2 else x.sin()


def _matmul(x, y, p):
    if x.ndim in (1, 2) and y.ndim in (1, 2) and x.shape[-1] == y.shape[0]:
        return x @ y
    if x.ndim == 2:
        return x @ x.transpose(0, 1)
    if x.ndim == 1:
        return x @ x
    return x * x


def _index(x, p):
    if x.ndim == 0:
        return x * 1.5
    n = x.shape[0]
    kind = p % 3
    if kind == 0:
        return x[p % n]
    if kind == 1:
        return x[[0, p % n, 0]]  # repeated indices accumulate
    return x[1:] if n > 1 else x[0:1]


# name -> (arity, fn(x, y, p)); the same code runs on tapegrad and torch tensors
OPS = [
    ("add", 2, lambda x, y, p: x + y),
    ("mul", 2, lambda x, y, p: x * y),
    ("sub", 2, lambda x, y, p: x - y),
    ("div", 2, lambda x, y, p: x / (y * y + 1.0)),
    ("exp", 1, lambda x, y, p: (x.tanh() * 2.0).exp()),
    ("sin", 1, lambda x, y, p: x.sin()),
    ("tanh", 1, lambda x, y, p: x.tanh()),
    ("sum", 1, lambda x, y, p: _sum(x, p)),
    ("reshape", 1, lambda x, y, p: _reshape(x, p)),
    ("transpose", 1, lambda x, y, p: _transpose(x, p)),
    ("matmul", 2, _matmul),
    ("index", 1, lambda x, y, p: _index(x, p)),
    ("scale", 1, lambda x, y, p: x * (0.5 + p % 3) - 0.25),
]


def run_program(leaves, program):
    pool = list(leaves)
    for op, i, j, p in program:
        _, arity, fn = OPS[op % len(OPS)]
        x = pool[i % len(pool)]
        y = pool[j % len(pool)]
        if arity == 2 and not _bcast(x, y) and op % len(OPS) != 10:
            y = x
        pool.append(fn(x, y, p))
    return pool[-1] if len(pool) > len(leaves) else pool[0] * 1.0


def _leaves(lib, arrays):
    if lib is tg:
        return [tg.tensor(a, requires_grad=True) for a in arrays]
    return [torch.tensor(a, requires_grad=True) for a in arrays]


def _first_and_second(lib, arrays, program, w, v):
    leaves = _leaves(lib, arrays)
    out = run_program(leaves, program)
    wt = lib.tensor(w(out.shape))
    loss = (out * wt).sum()
    gs = lib.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
    gs = [lib.zeros_like(x) if g is None else g for x, g in zip(leaves, gs)]
    s = sum((g * lib.tensor(vk)).sum() for g, vk in zip(gs, v))
    if not s.requires_grad:
        hs = [None] * len(leaves)
    else:
        hs = lib.autograd.grad(s, leaves, allow_unused=True)
    hs = [np.zeros(a.shape) if h is None else h.detach().numpy() for a, h in zip(arrays, hs)]
    return out.detach().numpy(), [g.detach().numpy() for g in gs], hs


programs = st.lists(st.tuples(st.integers(0, len(OPS) - 1), st.integers(0, 50),
                              st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=8)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(program=programs, seed=st.integers(0, 2 ** 16))
def test_random_programs(program, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1, 1, s) for s in SHAPES]
    v = [rng.standard_normal(s) for s in SHAPES]

    def w(shape):
        return np.random.default_rng(seed + 1).standard_normal(shape)

    if torch is None:
        def f(*xs):
            out = run_program(list(xs), program)
            return (out * tg.tensor(w(out.shape))).sum()

        xs = tuple(tg.tensor(a, requires_grad=True) for a in arrays)
        assert tg.autograd.gradcheck(f, xs, atol=1e-5, rtol=1e-4)
        assert tg.autograd.gradgradcheck(f, xs, atol=1e-5, rtol=1e-4)
        return
    out, g1, h1 = _first_and_second(tg, arrays, program, w, v)
    tout, tg1, th1 = _first_and_second(torch, arrays, program, w, v)
    np.testing.assert_allclose(out, tout, rtol=1e-11, atol=1e-12)
    for a, b in zip(g1, tg1):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(h1, th1):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
