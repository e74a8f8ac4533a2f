"""cross_entropy's label_smoothing outside [0, 1]: PyTorch refuses only an amount above 1
('label_smoothing must be between 0.0 and 1.0. Got: 1.5', the number as C++ prints it) and
smooths nothing for a negative one or nan, where tapegrad refused those too. Values and
gradients against PyTorch (class indices and probabilities, with and without weights), and
by finite differences."""
import math

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 3))
TARGETS = {"indices": np.array([0, 2, 1, 2]), "probabilities": rng.dirichlet(np.ones(3), 4)}
W = np.array([1.0, 2.0, 3.0])


def _outcome(L, smoothing, target, weighted):
    x = L.tensor(X, requires_grad=True)
    try:
        loss = L.nn.functional.cross_entropy(x, L.tensor(TARGETS[target]),
                                             weight=L.tensor(W) if weighted else None,
                                             label_smoothing=smoothing)
    except RuntimeError as e:
        return str(e)
    loss.backward()
    return loss.item(), x.grad.numpy()


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("smoothing", [-0.1, -2.0, math.nan, 0.0, 0.3, 1.0, 1.5, 1.0000001, 2,
                                       1e10])
def test_smoothing_as_torch(smoothing, target, weighted):
    got, want = _outcome(tg, smoothing, target, weighted), _outcome(torch, smoothing, target,
                                                                     weighted)
    if isinstance(want, str):
        assert got == want
        return
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("target", list(TARGETS))
def test_negative_smoothing_gradcheck(target):
    x = tg.tensor(X, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.nn.functional.cross_entropy(
        t, tg.tensor(TARGETS[target]), weight=tg.tensor(W), label_smoothing=-0.5), (x,))
