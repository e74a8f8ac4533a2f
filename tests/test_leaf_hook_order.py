"""Hooks on leaves run after the sweep, in the order the leaves were first used (documented in
docs/differences_from_pytorch.md), where PyTorch runs each when its gradient is complete; the
gradients they receive and the final .grad are PyTorch's. These tests pin tapegrad's order."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _two_leaves(m, first):
    log, grads = [], {}
    a = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
    b = m.tensor([3.0, 4.0], dtype=m.float64, requires_grad=True)

    def hook(name, other):
        def fn(g):
            grads[name] = g.numpy().copy()
            log.append((name, other.grad is not None))
        return fn

    a.register_hook(hook("a", b))
    b.register_hook(hook("b", a))
    h = a * 2 if first == "a" else b * 2
    h.register_hook(lambda g: log.append("h"))
    (h * (b if first == "a" else a)).exp().sum().backward()
    return log, grads, a.grad.numpy(), b.grad.numpy()


@pytest.mark.parametrize("first", ["a", "b"])
def test_leaf_hooks_run_after_the_sweep_in_first_use_order(first):
    log, grads, ga, gb = _two_leaves(tg, first)
    other = "b" if first == "a" else "a"
    assert log == ["h", (first, False), (other, True)]
    tlog, tgrads, tga, tgb = _two_leaves(torch, first)
    # PyTorch: the leaf nearer the output completes first, before the non-leaf's hook
    assert tlog == [(other, False), "h", (first, True)]
    for k in "ab":
        np.testing.assert_allclose(grads[k], tgrads[k], rtol=1e-14)
    np.testing.assert_allclose(ga, tga, rtol=1e-14)
    np.testing.assert_allclose(gb, tgb, rtol=1e-14)


@pytest.mark.parametrize("c_first", [False, True])
def test_multi_grad_hook_any_over_leaves_picks_the_first_used(c_first):
    def run(m):
        got = []
        a = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        c = m.tensor([0.5], dtype=m.float64, requires_grad=True)
        m.autograd.graph.register_multi_grad_hook(
            (a, c), lambda g: got.append(g.numpy().copy()), mode="any")
        y = (c * 3).sum() + a.exp().sum() * 2 if c_first else (a * 2).sum() + c.exp().sum() * 3
        y.backward()
        return got

    got, want = run(tg), run(torch)
    assert len(got) == len(want) == 1
    first_used = [3.0] if c_first else [2.0, 2.0]
    np.testing.assert_allclose(got[0], first_used)
    # PyTorch's: the leaf its sweep completes first (here the one used last)
    np.testing.assert_allclose(want[0], [2 * np.exp(1.0), 2 * np.exp(2.0)] if c_first
                               else [3 * np.exp(0.5)])
