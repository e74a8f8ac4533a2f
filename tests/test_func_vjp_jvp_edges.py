"""Edge cases of ``tg.func.vjp`` and ``tg.func.jvp`` found by comparing with ``torch.func``:
cotangents that require grad, integer outputs, ``strict`` and PyTorch's messages."""

import numpy as np

import tapegrad as tg

from tests.op_checks import needs_torch, torch


def _f(x):
    return x.sin() * x.sum()


def test_vjp_is_differentiable_in_a_cotangent_that_requires_grad():
    x = tg.tensor([0.5, -1.0, 2.0])
    v = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    _, vjp_fn = tg.func.vjp(_f, x)
    g = vjp_fn(v)[0]
    assert g.requires_grad
    jac = tg.func.jacrev(_f)(x).numpy()
    got = tg.autograd.grad((g ** 2).sum(), v)[0].numpy()
    np.testing.assert_allclose(got, 2 * jac @ jac.T @ v.detach().numpy(), rtol=1e-12)
    with tg.no_grad():
        assert not vjp_fn(v)[0].requires_grad


@needs_torch
def test_vjp_cotangent_gradient_matches_torch():
    def run(lib):
        v = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        _, vjp_fn = lib.func.vjp(_f, lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64))
        return lib.autograd.grad((vjp_fn(v)[0] ** 3).sum(), v)[0].detach().numpy()

    np.testing.assert_allclose(run(tg), run(torch), rtol=1e-12)
