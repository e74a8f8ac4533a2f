"""In-place ops on a dual tensor (``x.mul_(2)``, ``x[1:] *= 3``, ``x.zero_()``) carry its
tangent as ``torch.autograd.forward_ad`` does: the dual made from a tensor that does not require
grad is an ordinary tensor to them (it was a leaf requiring grad, which refused them)."""

import numpy as np
import pytest

import tapegrad as tg

from tests.op_checks import needs_torch, torch

V, TV = [0.5, -1.0, 2.0], [1.0, 2.0, -0.5]

CASES = {
    "mul_": (lambda lib, fw, d: d.mul_(2), lambda v, t: (2 * v, 2 * t)),
    "exp_": (lambda lib, fw, d: d.exp_(), lambda v, t: (np.exp(v), np.exp(v) * t)),
    "zero_": (lambda lib, fw, d: d.zero_(), lambda v, t: (0 * v, 0 * t)),
    "view mul_": (lambda lib, fw, d: (d[1:].mul_(3), d)[1],
                  lambda v, t: (v * [1, 3, 3], t * [1, 3, 3])),
    "setitem": (lambda lib, fw, d: (d.__setitem__(0, 5.0), d)[1],
                lambda v, t: ([5.0, *v[1:]], [0.0, *t[1:]])),
    "square then sin": (lambda lib, fw, d: (d.mul_(d), d.sin())[1],
                        lambda v, t: (np.sin(v * v), np.cos(v * v) * 2 * v * t)),
}


def _run(lib, body):
    fw = lib.autograd.forward_ad
    with fw.dual_level():
        d = fw.make_dual(lib.tensor(V, dtype=lib.float64), lib.tensor(TV, dtype=lib.float64))
        primal, tangent = fw.unpack_dual(body(lib, fw, d))
        return primal.detach().numpy(), tangent.detach().numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_in_place_ops_on_a_dual(name):
    body, analytic = CASES[name]
    primal, tangent = _run(tg, body)
    want_primal, want_tangent = analytic(np.array(V), np.array(TV))
    np.testing.assert_allclose(primal, want_primal, rtol=1e-12)
    np.testing.assert_allclose(tangent, want_tangent, rtol=1e-12, atol=1e-15)


def test_dual_of_a_tensor_requiring_grad_stays_differentiable():
    p = tg.tensor(V, requires_grad=True)
    fw = tg.autograd.forward_ad
    with fw.dual_level():
        tangent = fw.unpack_dual((fw.make_dual(p, tg.tensor(TV)) ** 3).sum()).tangent
    got = tg.autograd.grad(tangent, p)[0].numpy()
    np.testing.assert_allclose(got, 6 * np.array(V) * np.array(TV), rtol=1e-12)


@needs_torch  # (not "square then sin": PyTorch 2.13 gives t * (d + d * d) for d.mul_(d))
@pytest.mark.parametrize("name", [n for n in CASES if n != "square then sin"])
def test_in_place_ops_match_torch(name):
    body = CASES[name][0]
    for a, b in zip(_run(tg, body), _run(torch, body)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
