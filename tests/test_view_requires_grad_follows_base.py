"""A view that is a leaf (made under no_grad, or of a tensor that did not require grad) reports
requires_grad as PyTorch's: its base's flag read now, so ``x.requires_grad_()`` after the view
was made counts; ``requires_grad_(False)`` on a view made under no_grad of a tensor requiring
grad is accepted and changes nothing while the base requires grad."""

import pytest

import tapegrad as tg


def _state(lib):
    out = {}
    for mode in ("no_grad", "grad"):
        x = lib.tensor([1.0, 2.0, 3.0, 4.0])
        if mode == "no_grad":
            with lib.no_grad():
                v = x[1:3]
                w = v[:1]
        else:
            v = x[1:3]
            w = v[:1]
        before = (v.requires_grad, w.requires_grad)
        x.requires_grad_()
        out[mode] = (before, v.requires_grad, w.requires_grad, v.is_leaf, v.grad_fn is None,
                     x.detach().requires_grad)
        x.requires_grad_(False)
        out[mode + "_off"] = (v.requires_grad, w.requires_grad)

    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with lib.no_grad():
        v = x[1:]
    v.requires_grad_(False)
    out["rg_false"] = (v.requires_grad, v.is_leaf)
    v.requires_grad = False
    out["set_false"] = v.requires_grad
    y = (v * x[1:]).sum()
    y.backward()
    out["backward"] = (x.grad.tolist(), v.grad)

    p = lib.tensor([1.0, 2.0, 3.0])
    with lib.no_grad():
        u = p[1:]
    u.requires_grad_()  # a view of a tensor not requiring grad, made a leaf of its own
    (u * 2).sum().backward()
    out["own_leaf"] = (u.requires_grad, p.requires_grad, u.grad.tolist())
    return out


def test_matches_torch():
    torch = pytest.importorskip("torch")
    assert _state(tg) == _state(torch)


def test_without_torch():
    s = _state(tg)
    assert s["no_grad"][:3] == ((False, False), True, True) and s["no_grad_off"] == (False, False)
    assert s["grad"][:3] == ((False, False), True, True) and s["rg_false"] == (True, True)
    assert s["grad"][5] is False and s["grad"][3:5] == (True, True)
