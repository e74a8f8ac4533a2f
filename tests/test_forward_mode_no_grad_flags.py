"""A result computed under ``no_grad`` inside forward mode (a ``forward_ad`` level, ``jvp``)
carries its tangent but is a constant to reverse mode, and says so as PyTorch's does:
``requires_grad`` False, ``grad_fn`` None, ``is_leaf`` True, and ``backward``/``grad`` from
it raise "does not require grad" (it reported True and a ``grad_fn``, and ``backward`` from it
quietly reached nothing)."""

import numpy as np
import pytest

import tapegrad as tg


def _flags(L):
    fwad = L.autograd.forward_ad
    p = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
    res = []
    with fwad.dual_level():
        x = fwad.make_dual(p * 1, L.tensor([1.0, 0.5], dtype=L.float64))
        with L.no_grad():
            y = x * 3
            s = (x.exp() * y).sum()
        for t in (y, s):
            res.append((t.requires_grad, t.grad_fn is None, t.is_leaf,
                        fwad.unpack_dual(t).tangent.numpy().tolist()))
        for f in (lambda: s.backward(), lambda: L.autograd.grad(s, p)):
            with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad "
                                                   "and does not have a grad_fn"):
                f()
        z = x * 3  # (grad mode on: reverse mode reaches p through it)
        (g,) = L.autograd.grad(z.sum(), p)
        res.append((z.requires_grad, g.numpy().tolist()))

    def f(a):
        with L.no_grad():
            b = a.sin() * 2
        res.append((b.requires_grad, b.grad_fn is None, b.is_leaf))
        return b

    _, t = L.func.jvp(f, (L.tensor([0.5, 1.0], dtype=L.float64),),
                      (L.tensor([1.0, 1.0], dtype=L.float64),))
    res.append(t.numpy().tolist())
    return res


def test_flags_of_no_grad_results_in_forward_mode():
    got = _flags(tg)
    assert got[0][:3] == (False, True, True) and got[1][:3] == (False, True, True)
    np.testing.assert_allclose(got[0][3], [3.0, 1.5])
    assert got[2] == (True, [3.0, 3.0]) and got[3] == (False, True, True)
    np.testing.assert_allclose(got[4], 2 * np.cos([0.5, 1.0]))


def test_flags_as_pytorch():
    torch = pytest.importorskip("torch")
    got, want = _flags(tg), _flags(torch)
    assert [g[:3] if isinstance(g, tuple) else None for g in got] == \
        [w[:3] if isinstance(w, tuple) else None for w in want]
    np.testing.assert_allclose(got[1][3], want[1][3], rtol=1e-12)
    np.testing.assert_allclose(got[4], want[4], rtol=1e-12)
