"""Seeded random programs mixing inference tensors (made in inference mode, some requiring
grad) with normal tensors through elementwise ops, reductions, matmul, indexing and in-place
writes, outside inference mode, run in tapegrad and in PyTorch: each step raises in both or
in neither (same error class and message prefix), gives the same values, requires_grad and
is_inference; a final backward gives the same error or the same gradients. (891 steps, 180 of
them raising in PyTorch; 121 backwards, 6 of them raising.)"""

import random

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

N_PROGRAMS = 200
# op name -> f(lib, *operands): UNARY of any floating tensor, UNARY_DIM of one of 1 dim or
# more, UNARY_MM of a (3, 3) one, BINARY/TERNARY of broadcastable ones, MATMUL of (3, 3) ones,
# INDEX of a (3, 3) one and an index tensor, INPLACE writes into the first operand
UNARY = {
    "sin": lambda L, x: x.sin(),
    "exp": lambda L, x: x.exp(),
    "abs": lambda L, x: x.abs(),
    "neg": lambda L, x: -x,
    "tanh": lambda L, x: x.tanh(),
    "sigmoid": lambda L, x: L.sigmoid(x),
    "relu": lambda L, x: x.relu(),
    "square": lambda L, x: x.square(),
    "sqrt": lambda L, x: x.sqrt(),
    "pow2": lambda L, x: x ** 2,
    "rpow": lambda L, x: 2 ** x,
    "hardtanh": lambda L, x: L.nn.functional.hardtanh(x),
    "clamp": lambda L, x: x.clamp(0.5, 1.5),
    "mul2": lambda L, x: x * 2,
    "add1": lambda L, x: x + 1,
    "rdiv": lambda L, x: 1 / x,
    "sum": lambda L, x: x.sum(),
    "mean": lambda L, x: x.mean(),
    "var": lambda L, x: x.var(),
    "std": lambda L, x: x.std(),
    "prod": lambda L, x: x.prod(),
    "norm": lambda L, x: x.norm(),
    "max": lambda L, x: x.max(),
    "clone": lambda L, x: x.clone(),
    "detach": lambda L, x: x.detach(),
}
UNARY_DIM = {
    "sum0": lambda L, x: x.sum(0),
    "var0": lambda L, x: x.var(0),
    "amax0": lambda L, x: x.amax(0),
    "logsumexp0": lambda L, x: x.logsumexp(0),
    "softmax": lambda L, x: x.softmax(-1),
    "cumsum": lambda L, x: x.cumsum(0),
    "select1": lambda L, x: x[1],
    "slice": lambda L, x: x[:2],
    "unsqueeze": lambda L, x: x.unsqueeze(0),
}
UNARY_MM = {
    "t": lambda L, x: x.t(),
    "view": lambda L, x: x.view(9),
    "sum1": lambda L, x: x.sum(1),
}
BINARY = {
    "add": lambda L, x, y: x + y,
    "sub": lambda L, x, y: x - y,
    "mul": lambda L, x, y: x * y,
    "div": lambda L, x, y: x / y,
    "maximum": lambda L, x, y: L.maximum(x, y),
    "atan2": lambda L, x, y: L.atan2(x, y),
    "pow": lambda L, x, y: x ** y,
    "lerp_s": lambda L, x, y: L.lerp(x, y, 0.3),
}
TERNARY = {
    "lerp": lambda L, x, y, z: L.lerp(x, y, z),
    "addcmul": lambda L, x, y, z: L.addcmul(x, y, z),
    "addcdiv": lambda L, x, y, z: L.addcdiv(x, y, z, value=0.5),
}
MATMUL = {
    "mm": lambda L, x, y: x @ y,
    "mv": lambda L, x, y: x @ y[0],
}
INDEX = {
    "cols": lambda L, x, i: x[:, i],
    "rows": lambda L, x, i: x[i],
    "index_select": lambda L, x, i: L.index_select(x, 0, i),
    "gather": lambda L, x, i: x.gather(0, i.expand(3, 2)),
}
INPLACE = {
    "add_": lambda L, x, y: x.add_(y),
    "mul_": lambda L, x, y: x.mul_(2.0),
    "clamp_": lambda L, x, y: x.clamp_(min=0.5),
    "sin_": lambda L, x, y: x.sin_(),
    "setitem": lambda L, x, y: x.__setitem__(0, 0.5),
    "copy_": lambda L, x, y: x.copy_(y),
    "zero_": lambda L, x, y: x.zero_(),
}


def _broadcastable(s, t):
    return all(a == b or a == 1 or b == 1 for a, b in zip(s[::-1], t[::-1]))


def generate(seed):
    """A program: a list of (op name, operand indices into the pool). The pool starts with
    n0 (inference), n1 (inference, requires grad), a0 (requires grad), m0 (normal), an
    inference and a normal index tensor."""
    rng = random.Random(seed)
    shapes = [(3, 3), (3, 3), (3, 3), (3, 3), None, None]
    steps = []
    for _ in range(rng.randint(3, 6)):
        floats = [k for k, s in enumerate(shapes) if s is not None]
        kind = rng.choices(["u", "b", "t", "m", "x", "w"], [5, 5, 2, 2, 2, 3])[0]
        x = rng.choice(floats)
        sx = shapes[x]
        if kind == "u":
            names = list(UNARY) + (list(UNARY_DIM) if sx else []) + \
                (list(UNARY_MM) if sx == (3, 3) else [])
            name = rng.choice(names)
            steps.append((name, (x,)))
        elif kind in ("b", "t", "w"):
            ys = [k for k in floats if _broadcastable(shapes[k], sx)]
            if kind == "w":
                y = rng.choice([k for k in ys if len(shapes[k]) <= len(sx)])
                steps.append((rng.choice(list(INPLACE)), (x, y)))
                shapes.append(None)  # no new tensor: a placeholder
                continue
            y = rng.choice(ys)
            if kind == "b":
                steps.append((rng.choice(list(BINARY)), (x, y)))
            else:
                z = rng.choice([k for k in ys if _broadcastable(shapes[k], shapes[y])])
                steps.append((rng.choice(list(TERNARY)), (x, y, z)))
        elif kind == "m":
            mats = [k for k in floats if shapes[k] == (3, 3)]
            steps.append((rng.choice(list(MATMUL)), (rng.choice(mats), rng.choice(mats))))
        else:
            mats = [k for k in floats if shapes[k] == (3, 3)]
            steps.append((rng.choice(list(INDEX)), (rng.choice(mats), rng.choice([4, 5]))))
        shapes.append(_shape_after(steps[-1], shapes))
    return steps


_ALL = {**UNARY, **UNARY_DIM, **UNARY_MM, **BINARY, **TERNARY, **MATMUL, **INDEX}
_REDUCE_ALL = {"sum", "mean", "var", "std", "prod", "norm", "max"}


def _shape_after(step, shapes):
    name, ops = step
    s = shapes[ops[0]]
    if name in _REDUCE_ALL:
        return ()
    if name in ("sum0", "var0", "amax0", "logsumexp0", "select1", "sum1"):
        return s[1:]
    if name == "slice":
        return (min(2, s[0]),) + s[1:]
    if name == "unsqueeze":
        return (1,) + s
    if name == "view":
        return (9,)
    if name in MATMUL:
        return (3, 3) if name == "mm" else (3,)
    if name in INDEX:
        return (3, 2) if name in ("cols", "gather") else (2, 3)
    out = s
    for k in ops[1:]:
        t = shapes[k]
        out = tuple(np.broadcast_shapes(out, t))
    return out


def _pool(L):
    base = np.array([[0.7, 1.3, 0.9], [1.6, 0.8, 1.1], [1.2, 0.6, 1.4]])
    with L.inference_mode():
        n0 = L.tensor(base + 0.1)
        n1 = L.tensor(base * 0.9, requires_grad=True)
        i0 = L.tensor([0, 2])
    a0 = L.tensor(base.T.copy(), requires_grad=True)
    m0 = L.tensor(base[::-1].copy() + 0.2)
    return [n0, n1, a0, m0, i0, L.tensor([2, 0])]


def _norm(msg):
    msg = msg.replace("torch::autograd::", "").replace("torch.", "tapegrad.")
    return msg.split(" Hint:")[0]


def _outcome(L, fn):
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001 - compared with PyTorch's
        return type(e).__name__, _norm(str(e))


def _state(t):
    if not hasattr(t, "requires_grad"):
        return None
    return (t.detach().numpy().copy(), t.requires_grad, t.is_inference())


def run(L, steps):
    """The outcome of every step, then of the backward, and the leaves' gradients."""
    pool = _pool(L)
    leaves = pool[:4]
    out = []
    for name, ops in steps:
        args = [pool[k] for k in ops]
        if any(a is None for a in args):
            out.append(("skipped",))
            pool.append(None)
            continue
        if name in INPLACE:
            kind, r = _outcome(L, lambda: INPLACE[name](L, *args))
            out.append((kind, r if kind != "ok" else _state(args[0])))
            pool.append(None)
            if kind != "ok":  # PyTorch may have written it before raising: not used again
                pool[ops[0]] = None
            continue
        kind, r = _outcome(L, lambda: _ALL[name](L, *args))
        out.append((kind, _state(r) if kind == "ok" else r))
        pool.append(r if kind == "ok" else None)
    live = [t for t in pool[6:] if t is not None and t.requires_grad]
    if live:
        def backward():
            loss = sum((t.sin().sum() for t in live), start=L.zeros((), dtype=L.float64))
            loss.backward()
            return [None if p.grad is None else p.grad.numpy().copy() for p in leaves]
        out.append(_outcome(L, backward))
    return out


def _same(got, want):
    if isinstance(want, tuple) and len(want) == 3 and isinstance(want[0], np.ndarray):
        np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-12, equal_nan=True)
        assert got[1:] == want[1:], (got[1:], want[1:])
    elif isinstance(want, list):
        assert [g is None for g in got] == [w is None for w in want]
        for g, w in zip(got, want):
            if w is not None:
                np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, equal_nan=True)
    elif isinstance(want, str):
        assert got[:80] == want[:80]
    else:
        assert got == want


_SNAPSHOT = ("a size-1 saved value written in place after the save: tapegrad keeps a snapshot "
             "(docs/differences_from_pytorch.md), PyTorch's backward raises the in-place error")
XFAIL = {142: _SNAPSHOT, 184: _SNAPSHOT}


@pytest.mark.parametrize("seed", [
    pytest.param(s, marks=pytest.mark.xfail(strict=True, reason=XFAIL[s])) if s in XFAIL
    else s for s in range(N_PROGRAMS)])
def test_inference_program_matches_pytorch(seed):
    steps = generate(seed)
    want = run(torch, steps)
    got = run(tg, steps)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        where = f"step {k}: {steps[k] if k < len(steps) else 'backward'}"
        assert g[0] == w[0], (where, g, w)
        if len(w) > 1:
            try:
                _same(g[1], w[1])
            except AssertionError as e:
                raise AssertionError(f"{where}: {e}") from None
