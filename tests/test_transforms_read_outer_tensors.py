"""Jacobians and Hessians of a function that reads tensors requiring grad from outside (a
closure, a global, an attribute reached through a helper): the results stay differentiable in
them, as torch.func's, whatever the function looks like (a PINN's loss on a Laplacian)."""

import numpy as np
import pytest

import tapegrad as tg

W = tg.tensor(2.0, requires_grad=True)  # a module-level parameter


class _Holder:
    w = tg.tensor(2.0, requires_grad=True)


def _helper(v):
    return _Holder.w * v ** 3


READERS = {
    "closure": lambda w: (lambda v: (w * v ** 3).sum(), w),
    "global": lambda w: (lambda v: (W * v ** 3).sum(), W),
    "attribute via a helper": lambda w: (lambda v: _helper(v).sum(), _Holder.w),
}


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("transform", ["hessian", "jacrev", "jacfwd"])
def test_outer_tensor_gets_its_gradient(reader, transform):
    f, w = READERS[reader](tg.tensor(2.0, requires_grad=True))
    w.grad = None
    x = tg.tensor([1.0, 3.0])
    out = getattr(tg.func, transform)(f)(x)
    assert out.requires_grad
    (out.sum() if transform != "hessian" else out.diagonal().sum()).backward()
    # d/dw of sum(3 w x^2) = 30; of trace(diag(6 w x)) = 24
    assert float(w.grad) == pytest.approx(24.0 if transform == "hessian" else 30.0)


def test_plain_functions_stay_plain():
    """No tensor from outside: the results carry no history (no graph kept)."""
    x = tg.tensor([1.0, 3.0])
    for transform in ("hessian", "jacrev", "jacfwd"):
        assert not getattr(tg.func, transform)(lambda v: (v ** 3).sum())(x).requires_grad
    J = tg.autograd.functional.jacobian(lambda v: v ** 3, x, vectorize=True, create_graph=True)
    assert J.requires_grad  # (create_graph: differentiable in the inputs, as PyTorch's)


def test_pinn_laplacian_loss_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = (rng.standard_normal((8, 2)), rng.standard_normal(8), rng.standard_normal((1, 8)))
    X = rng.standard_normal((5, 2))

    def run(L, dtype):
        w1, b1, w2 = [L.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]

        def u(x):
            return (w2 @ L.tanh(w1 @ x + b1)).sum()

        H = L.func.vmap(L.func.hessian(u))(L.tensor(X, dtype=dtype))
        loss = ((H.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) ** 2).mean()
        loss.backward()
        return loss.item(), [p.grad.numpy() for p in (w1, b1, w2)]

    ours, theirs = run(tg, tg.float64), run(torch, torch.float64)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        tg.autograd.functional.jacobian(lambda v: v, tg.zeros(2), create_graph=True,
                                        vectorize=True, strategy="forward-mode")
