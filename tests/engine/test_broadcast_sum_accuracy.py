"""float32 gradients into a broadcast operand, summed over many elements: as accurate as
PyTorch's cascade sums against the float64 gradient, for every broadcasting binary op (large
records NumPy sweeps, Python ops, and the re-taped gradients of ``create_graph``)."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

OPS = {
    "div": lambda L, x, b: x / b, "rdiv": lambda L, x, b: b / (x.abs() + 1),
    "pow": lambda L, x, b: L.pow(x.abs() + 1, b), "rpow": lambda L, x, b: L.pow(b.abs() + 0.5, x),
    "atan2": lambda L, x, b: L.atan2(x, b), "maximum": lambda L, x, b: L.maximum(x, b),
    "minimum": lambda L, x, b: L.minimum(x, b), "hypot": lambda L, x, b: L.hypot(x, b),
    "where": lambda L, x, b: L.where(x > 0, x, b), "mul": lambda L, x, b: x * b,
    "sub": lambda L, x, b: x - b, "xlogy": lambda L, x, b: L.xlogy(x, b.abs() + 0.1),
    "copysign": lambda L, x, b: L.copysign(b, x), "fmax": lambda L, x, b: L.fmax(x, b),
    "lerp": lambda L, x, b: L.lerp(x, b, 0.3),
}
SHAPES = [((1, 200003), ()), ((1000, 300), (300,)), ((300, 1000), (300, 1)),
          ((4, 50001), (4, 1)), ((60, 2000, 3), (60, 1, 3)),
          ((2, 2, 2, 30001), (1, 2, 1, 1)), ((2, 3, 40001), (1, 3, 1))]  # (summed axes apart)


def _grad_b(L, op, xn, bn, gn, dtype, create_graph):
    x = L.tensor(xn.astype(dtype), requires_grad=True)
    b = L.tensor(bn.astype(dtype), requires_grad=True)
    gb, = L.autograd.grad(op(L, x, b), b, L.tensor(gn.astype(dtype)), create_graph=create_graph)
    assert gb.dtype == (L.float32 if dtype is np.float32 else L.float64)
    return np.asarray(gb.detach().numpy(), np.float64)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("create_graph", [False, True])
def test_broadcast_gradient_error_as_pytorch(shapes, create_graph):
    xs, bs = shapes
    r = np.random.default_rng(len(xs) + sum(xs))
    xn = r.standard_normal(xs).astype(np.float32)
    bn = (r.standard_normal(bs) + 2).astype(np.float32)
    gn = r.standard_normal(np.broadcast_shapes(xs, bs)).astype(np.float32)
    bad = []
    for name, op in OPS.items():
        truth = _grad_b(torch, op, xn, bn, gn, np.float64, False)
        scale = np.abs(truth).max()
        theirs = np.abs(_grad_b(torch, op, xn, bn, gn, np.float32, create_graph) - truth).max()
        ours = np.abs(_grad_b(tg, op, xn, bn, gn, np.float32, create_graph) - truth).max()
        # (summed in turn in float32, these were 4e-7 to 4e-4 of the scale off)
        if ours / scale > max(3 * theirs / scale, 3e-7):
            bad.append((name, ours / scale, theirs / scale))
    assert not bad


@pytest.mark.parametrize("op", ["div", "mul", "sin_div", "abs_mul"])
def test_complex_broadcast_gradients_as_pytorch(op):
    r = np.random.default_rng(1)
    xn = (r.standard_normal((1, 5000)) + 1j * r.standard_normal((1, 5000))).astype(np.complex64)
    bn = np.complex64(1.5 + 0.5j)
    fs = {"div": lambda x, b: x / b, "mul": lambda x, b: x * b,
          "sin_div": lambda x, b: x.sin() / b, "abs_mul": lambda x, b: (x * b).abs()}
    got = []
    for L in (tg, torch):
        x, b = L.tensor(xn, requires_grad=True), L.tensor(bn, requires_grad=True)
        y = fs[op](x, b)
        got.append(L.autograd.grad((y.abs() if y.is_complex() else y).sum(), b)[0].numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=2e-6)
