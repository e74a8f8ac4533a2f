"""Inside a forward_ad dual level with grad mode on, a result computed from duals whose primals
require no grad requires no grad, as PyTorch's: requires_grad False, a leaf without grad_fn,
backward from it raises, and its tangent is still there afterwards. A result that also depends
on a tensor requiring grad keeps its history and its gradient."""

import numpy as np
import pytest

import tapegrad as tg


def _state(lib):
    fwAD = lib.autograd.forward_ad
    out = {}
    w = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
    with fwAD.dual_level():
        x = fwAD.make_dual(lib.tensor([1.0, 2.0], dtype=lib.float64),
                           lib.tensor([1.0, 1.0], dtype=lib.float64))
        z = (x * x).sin().sum()
        out["dual"] = (x.requires_grad, x.is_leaf, x.grad_fn is None)
        out["z"] = (z.requires_grad, z.is_leaf, z.grad_fn is None)
        with pytest.raises(RuntimeError) as e:
            z.backward()
        out["backward"] = str(e.value)
        with pytest.raises(RuntimeError) as e:
            lib.autograd.grad(z, [w])
        out["grad"] = str(e.value)
        out["tangent"] = round(float(fwAD.unpack_dual(z).tangent), 12)
        m = (x * w).sum()  # a tensor requiring grad takes part: reverse mode reaches w
        out["mixed"] = (m.requires_grad, m.is_leaf, m.grad_fn is None)
        out["mixed_tangent"] = round(float(fwAD.unpack_dual(m).tangent), 12)
        m.backward()
        out["w_grad"] = w.grad.tolist()
        p = fwAD.make_dual(w * 1, lib.tensor([1.0, 0.0], dtype=lib.float64))
        out["dual_of_grad"] = (p.requires_grad, (p * 2).requires_grad)
    return out


def test_matches_torch():
    torch = pytest.importorskip("torch")
    assert _state(tg) == _state(torch)


def test_without_torch():
    s = _state(tg)
    assert s["z"] == (False, True, True) and s["mixed"] == (True, False, False)
    assert "does not require grad" in s["backward"]
    np.testing.assert_allclose(s["tangent"], np.cos(1.0) * 2 + np.cos(4.0) * 4, rtol=1e-12)
    assert s["w_grad"] == [1.0, 2.0]
