"""mse_loss/l1_loss/huber_loss with weight=, as PyTorch 2.13's: the weight must have the
input's size (ValueError 'Weights and input must have the same size.'; tapegrad broadcast it,
returning a loss of another shape), and the mean of mse_loss and l1_loss is the weighted sum
over the weights' sum (tapegrad divided by the element count; huber_loss's mean is the count's,
as PyTorch's). Values and gradients (input and weight) against PyTorch, and by finite
differences."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _arr(*shape):
    return np.linspace(0.5, 2.0, int(np.prod(shape))).reshape(shape)


def _outcome(L, name, weight_shape, reduction, target_shape):
    x = L.tensor(_arr(4, 3), requires_grad=True)
    w = L.tensor(_arr(*weight_shape) ** 2, requires_grad=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the target-size warning)
            loss = getattr(L.nn.functional, name)(x, L.tensor(_arr(*target_shape) * 0.3),
                                                  weight=w, reduction=reduction)
    except ValueError as e:
        return str(e)
    loss.sum().backward()
    return loss.detach().numpy(), x.grad.numpy(), w.grad.numpy()


@pytest.mark.parametrize("target_shape", [(4, 3), (3,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight_shape", [(4, 3), (3,), (4, 1, 3), (2,)])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_as_torch(name, weight_shape, reduction, target_shape):
    got = _outcome(tg, name, weight_shape, reduction, target_shape)
    want = _outcome(torch, name, weight_shape, reduction, target_shape)
    if isinstance(want, str):
        assert got == want
        return
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_gradcheck(name):
    x = tg.tensor(_arr(4, 3), requires_grad=True)
    w = tg.tensor(_arr(4, 3) ** 2, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a, b: getattr(tg.nn.functional, name)(
        a, tg.tensor(_arr(4, 3)[::-1].copy()), weight=b), (x, w))
