"""kl_div (log_target=False) computes PyTorch's ``xlogy(target, target) - target * input``: the
gradient of a target of 0 is nan (xlogy's 0/0), and a negative target gives nan, where
tapegrad masked ``target > 0`` and gave a finite gradient (-input) and a 0 loss there. Values
and gradients against PyTorch, and by finite differences at positive targets."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.array([[1.0, 1.0, -0.5, 2.0], [0.3, -1.2, 0.7, 0.1]])
Y = np.array([[0.0, 2.0, 0.3, -1.0], [0.25, 0.0, 0.5, 1e-300]])


def _run(L, reduction):
    x, y = L.tensor(X, requires_grad=True), L.tensor(Y, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the 'mean' reduction's warning)
        loss = L.nn.functional.kl_div(x, y, reduction=reduction)
    loss.sum().backward()
    return loss.detach().numpy(), x.grad.numpy(), y.grad.numpy()


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
def test_as_torch(reduction):
    for got, want in zip(_run(tg, reduction), _run(torch, reduction)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


def test_gradcheck_positive_targets():
    x = tg.tensor(X, requires_grad=True)
    y = tg.tensor(np.abs(Y) + 0.1, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a, b: tg.nn.functional.kl_div(
        a, b, reduction="batchmean"), (x, y))
