"""``unpack_dual(make_dual(p, t)).tangent is t``, as PyTorch's forward-mode tutorial asserts."""

import pytest

import tapegrad as tg
import tapegrad.autograd.forward_ad as fwAD


def test_tangent_of_a_fresh_dual_is_the_given_tensor():
    p, t = tg.tensor([1.0, 2.0]), tg.tensor([0.5, 1.0])
    with fwAD.dual_level():
        d = fwAD.make_dual(p, t)
        u = fwAD.unpack_dual(d)
        assert u.tangent is t and u.primal.tolist() == [1.0, 2.0]
        assert not u.primal.requires_grad
        d.mul_(2)  # changed in place: its tangent is pushed through the change
        assert fwAD.unpack_dual(d).tangent.tolist() == [1.0, 2.0]
        assert fwAD.unpack_dual(d * d).tangent.tolist() == [4.0, 16.0]  # (pushed: a new one)


def test_tangent_identity_with_a_primal_that_requires_grad():
    p, t = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([0.5, 1.0])
    with fwAD.dual_level():
        d = fwAD.make_dual(p, t)
        u = fwAD.unpack_dual(d)
        assert u.tangent is t and u.primal.requires_grad
        u.primal.sum().backward()
    assert p.grad.tolist() == [1.0, 1.0]


def test_tangent_identity_as_torch():
    torch = pytest.importorskip("torch")
    fw = torch.autograd.forward_ad
    p, t = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 1.0])
    with fw.dual_level():
        want = fw.unpack_dual(fw.make_dual(p, t)).tangent is t
    tp, tt = tg.tensor([1.0, 2.0]), tg.tensor([0.5, 1.0])
    with fwAD.dual_level():
        assert (fwAD.unpack_dual(fwAD.make_dual(tp, tt)).tangent is tt) == want
