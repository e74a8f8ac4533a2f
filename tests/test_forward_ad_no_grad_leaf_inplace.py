"""Inside forward mode, a tensor that requires no grad changed in place under no_grad by a
dual operand takes its tangent, as PyTorch's (b = zeros(2); with no_grad(): b.add_(x_dual)),
and stays a leaf that requires no grad; after the level it has none."""

import numpy as np
import pytest

import tapegrad as tg

CASES = {
    "add": lambda lib, x: lib.zeros(2).add_(x),
    "chain": lambda lib, x: lib.zeros(2).mul_(2).add_(x * 3),
    "twice": lambda lib, x: lib.zeros(2).add_(x).mul_(2),
    "view": lambda lib, x: _copied_into_view(lib, x),
    "setitem": lambda lib, x: _set(lib, x),
    "no_dual": lambda lib, x: lib.zeros(2).add_(lib.ones(2)),
}


def _copied_into_view(lib, x):
    e = lib.zeros(3)
    e[1:].copy_(x)
    return e


def _set(lib, x):
    b = lib.zeros(2)
    b[0] = x[1]
    return b


def _dual(lib):
    fwAD = lib.autograd.forward_ad
    return fwAD.make_dual(lib.tensor([1.0, 2.0], dtype=lib.float64),
                          lib.tensor([10.0, 20.0], dtype=lib.float64))


def _run(lib, make):
    fwAD = lib.autograd.forward_ad
    with fwAD.dual_level():
        with lib.no_grad():
            b = make(lib, _dual(lib))
        p = fwAD.unpack_dual(b)
        inside = (p.primal.tolist(), None if p.tangent is None else p.tangent.tolist(),
                  b.requires_grad, b.is_leaf, b.grad_fn is None)
        t = fwAD.unpack_dual(b * 2).tangent
        doubled = None if t is None else t.tolist()
    after = fwAD.unpack_dual(b).tangent
    b.requires_grad_()
    (b * 3).sum().backward()
    return inside, doubled, after, b.grad.tolist()


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    assert _run(tg, CASES[case]) == _run(torch, CASES[case])


def test_tangents_without_torch():
    inside, doubled, after, grad = _run(tg, CASES["chain"])
    assert inside == ([3.0, 6.0], [30.0, 60.0], False, True, True)
    assert doubled == [60.0, 120.0] and after is None and grad == [3.0, 3.0]

    def f(x):
        b = tg.zeros(2, dtype=tg.float64)
        with tg.no_grad():
            b.add_(x * x)
        return b * 1

    x, v = tg.tensor([1.5, -2.0], dtype=tg.float64), tg.tensor([1.0, 0.5], dtype=tg.float64)
    out, tangent = tg.func.jvp(f, (x,), (v,))
    np.testing.assert_allclose(tangent.numpy(), 2 * x.numpy() * v.numpy())


def _after_level(lib, make):
    """What a tensor changed in place by a dual under no_grad is once the level has ended (a
    module's buffer updated inside forward mode, used afterwards)."""
    with lib.autograd.forward_ad.dual_level(), lib.no_grad():
        b = make(lib, _dual(lib))
    y = lib.tensor(1.0, dtype=lib.float64) - b * 3
    w = lib.tensor([2.0] * b.numel(), dtype=lib.float64, requires_grad=True)
    (b * w).sum().backward()
    return (b.requires_grad, b.is_leaf, y.requires_grad, y.grad_fn is None, y.numpy().tolist(),
            w.grad.tolist())


@pytest.mark.parametrize("case", sorted(CASES))
def test_plain_after_level_matches_torch(case):
    torch = pytest.importorskip("torch")
    assert _after_level(tg, CASES[case]) == _after_level(torch, CASES[case])


def test_plain_after_level():
    got = _after_level(tg, CASES["chain"])
    assert got == (False, True, False, True, [-8.0, -17.0], [3.0, 6.0])
    kept = {}

    def f(x):
        b = kept["b"] = tg.zeros(2, dtype=tg.float64)
        with tg.no_grad():
            b.add_(x)
        return b * x

    x = tg.tensor([1.0, 2.0], dtype=tg.float64)
    _, tangent = tg.func.jvp(f, (x,), (tg.ones_like(x),))
    assert tangent.tolist() == [2.0, 4.0]
    assert not (kept["b"] * 2).requires_grad
