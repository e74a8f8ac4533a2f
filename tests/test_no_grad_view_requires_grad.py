"""A view made under no_grad of a tensor that requires grad requires grad, as PyTorch's: a
leaf without grad_fn whose gradient reaches nothing (not its base, not its own .grad or hooks),
so results computed from it with grad enabled have history and a backward through them is a
no-op for it."""

import numpy as np
import pytest

import tapegrad as tg


def _state(lib):
    out = {}
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=lib.float64)
    with lib.no_grad():
        v = x[1:]
        out["inside"] = (v.requires_grad, (v * 2).requires_grad)
        w = v[:1]
    out["v"] = (v.requires_grad, v.grad_fn is None, v.is_leaf)
    out["w"] = (w.requires_grad, w.is_leaf)
    w2 = v[1:]
    out["w2"] = (w2.requires_grad, w2.grad_fn is not None, w2.is_leaf)
    y = v * 2
    out["y"] = (y.requires_grad, y.grad_fn is not None,
                [n is None for n, _ in y.grad_fn.next_functions])
    seen = []
    v.register_hook(lambda g: seen.append(g))
    v.retain_grad()
    y.sum().backward()
    out["after"] = (v.grad is None, x.grad is None, seen == [])
    (v * x[1:]).sum().backward()  # only the path through x[1:] reaches x
    out["mixed"] = x.grad.tolist()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph") as e:
        lib.autograd.grad((v * 3).sum(), [x])
    out["unused"] = str(e.value)
    out["allowed"] = lib.autograd.grad((v * x[1:]).sum(), [x, v], allow_unused=True)[1]
    with pytest.raises(RuntimeError) as e:
        v.numpy()
    out["numpy"] = str(e.value)
    with pytest.raises(RuntimeError) as e:
        v.mul_(2)
    out["inplace"] = str(e.value)
    b = x * 1
    with lib.no_grad():
        vb = b[1:]
    (vb * 2).sum().backward()
    out["nonleaf"] = (vb.requires_grad, vb.is_leaf, x.grad.tolist())
    plain = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
    with lib.no_grad():
        u = plain[1:]
    out["plain"] = u.requires_grad
    u.requires_grad_()
    (u * 2).sum().backward()  # a view of a tensor not requiring grad, made a leaf: its .grad
    out["own_leaf"] = u.grad.tolist()
    return out


def test_matches_torch():
    torch = pytest.importorskip("torch")
    assert _state(tg) == _state(torch)


def test_without_torch():
    s = _state(tg)
    assert s["v"] == (True, True, True) and s["after"] == (True, True, True)
    assert s["y"] == (True, True, [True, True]) and s["mixed"] == [0.0, 2.0, 3.0]
    assert s["allowed"] is None and s["own_leaf"] == [2.0, 2.0]
    assert "with grad mode enabled" in s["inplace"]
    x = tg.tensor(np.arange(4.0), requires_grad=True)
    with tg.no_grad():
        v = x.view(2, 2).t()
    assert v.requires_grad and tg.autograd.gradcheck(lambda a: (a * v).sum(),
                                                   (tg.ones(2, 2, dtype=tg.float64,
                                                            requires_grad=True),))
