"""float32 gradients into a broadcast operand of records the compiled sweep runs (fewer than
``BIG`` elements): summed in float64 (``engine/wide_gather.py``), as accurate as PyTorch's
float32 sums against the float64 gradient, in both the plain and the vectorised loop; float64
gradients as before (gradcheck)."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import sweep

torch = pytest.importorskip("torch")

_BINARY = {"mul": lambda L, p, q: p * q, "div": lambda L, p, q: p / q,
           "add": lambda L, p, q: p + q, "sub": lambda L, p, q: p - q,
           "pow": lambda L, p, q: L.pow(p.abs() + 0.5, q),
           "maximum": lambda L, p, q: L.maximum(p, q), "atan2": lambda L, p, q: L.atan2(p, q)}
OPS = {}
for _name, _f in _BINARY.items():  # the broadcast operand second, then first
    OPS[_name] = (lambda f: lambda L, x, b: f(L, x, b))(_f)
    OPS["r" + _name] = (lambda f: lambda L, x, b: f(L, b, x))(_f)
OPS["expand"] = lambda L, x, b: b.expand(x.shape) * x
OPS["reused"] = lambda L, x, b: x / b + b * 2.0  # (b's adjoint holds b * 2's before the sum)
# scalar (1,) and 0-d operands, a row and a column of a 2-D, axes of a 3-D; all < BIG elements
SHAPES = [((3000,), (1,)), ((3000,), ()), ((1000,), (1,)), ((64, 50), (1, 50)),
          ((64, 50), (64, 1)), ((4, 30, 5), (4, 1, 5)), ((2000, 2), (1, 2)), ((2, 1500), (2, 1)),
          ((3, 40, 30), (1, 40, 1))]
EPS32 = float(np.finfo(np.float32).eps)


def _grad_b(L, op, xn, bn, gn, dtype):
    x = L.tensor(xn.astype(dtype), requires_grad=True)
    b = L.tensor(bn.astype(dtype), requires_grad=True)
    gb, = L.autograd.grad(op(L, x, b), b, L.tensor(gn.astype(dtype)))
    assert gb.dtype == (L.float32 if dtype is np.float32 else L.float64)
    return np.asarray(gb.numpy(), np.float64)


@pytest.mark.parametrize("kernel", ["plain", "vectorised"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_small_broadcast_gradients_summed_accurately(monkeypatch, shapes, kernel):
    monkeypatch.setattr(sweep, "_VECTOR_MEAN", 10 ** 9 if kernel == "plain" else 0)
    xs, bs = shapes
    r = np.random.default_rng(len(xs) + sum(xs))
    # one sign: the partial sums grow with the length (summed in turn in float32, b.grad was
    # up to 1.8e-6 of the scale off here; PyTorch's at most 1.5e-7)
    xn = r.uniform(0.5, 1.5, xs).astype(np.float32)
    bn = r.uniform(0.5, 1.5, bs).astype(np.float32)
    gn = r.uniform(0.5, 1.5, np.broadcast_shapes(xs, bs)).astype(np.float32)
    bad = []
    for name, op in OPS.items():
        truth = _grad_b(torch, op, xn, bn, gn, np.float64)
        scale = np.abs(truth).max()
        theirs = np.abs(_grad_b(torch, op, xn, bn, gn, np.float32) - truth).max() / scale
        ours = np.abs(_grad_b(tg, op, xn, bn, gn, np.float32) - truth).max() / scale
        if ours > max(1.5 * theirs, EPS32):
            bad.append((name, ours, theirs))
        ours64 = _grad_b(tg, op, xn, bn, gn, np.float64)
        np.testing.assert_allclose(ours64, truth, rtol=1e-12, err_msg=name)
    assert not bad


@pytest.mark.parametrize("kernel", ["plain", "vectorised"])
@pytest.mark.parametrize("shapes", [((40,), (1,)), ((30,), ()), ((6, 5), (1, 5)),
                                    ((6, 5), (6, 1)), ((3, 4, 2), (3, 1, 2))], ids=str)
def test_small_broadcast_gradcheck_float64(monkeypatch, shapes, kernel):
    monkeypatch.setattr(sweep, "_VECTOR_MEAN", 10 ** 9 if kernel == "plain" else 0)
    xs, bs = shapes
    r = np.random.default_rng(sum(xs))
    x = tg.tensor(r.uniform(0.5, 1.5, xs), requires_grad=True)
    b = tg.tensor(r.uniform(0.5, 1.5, bs), requires_grad=True)
    for name, op in OPS.items():
        assert tg.autograd.gradcheck(lambda x, b: op(tg, x, b), (x, b)), name
