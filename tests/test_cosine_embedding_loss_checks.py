"""cosine_embedding_loss's shape checks as PyTorch's: a target of 2 or more dims is refused
('0D or 1D target tensor expected, multi-target not supported'), the input ranks are checked
against the target's ('1D target tensor expects 2D input tensors, ...', '0D target tensor
expects 1D ...') without tapegrad's 'cosine_embedding_loss : ' prefix, and inputs of other
sizes fail in their product as in PyTorch (broadcasting ones are accepted). Values and
gradients of the accepted calls against PyTorch, and by finite differences."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = [((2, 3, 4), (2, 3, 4), (2,)), ((2, 3), (2, 4), (2,)), ((2, 3), (2, 3), (3,)),
         ((3,), (3,), (1,)), ((2, 3), (2, 3), (2, 1)), ((2, 3), (3,), (2,)), ((3,), (3,), ()),
         ((2, 3), (2, 3), ()), ((2, 3), (1, 3), (2,)), ((2, 3), (2, 3), (2,)), ((4,), (4,), ())]


def _arr(shape, k):
    return np.cos(np.arange(float(np.prod(shape))) + k).reshape(shape)


def _outcome(L, a, b, t):
    x1, x2 = L.tensor(_arr(a, 0), requires_grad=True), L.tensor(_arr(b, 1), requires_grad=True)
    y = L.tensor(np.where(_arr(t, 2) > 0, 1, -1))
    try:
        loss = L.nn.functional.cosine_embedding_loss(x1, x2, y, margin=0.1)
    except RuntimeError as e:
        return str(e)
    loss.backward()
    return loss.item(), x1.grad.numpy(), x2.grad.numpy()


@pytest.mark.parametrize("a,b,t", CASES, ids=str)
def test_as_torch(a, b, t):
    got, want = _outcome(tg, a, b, t), _outcome(torch, a, b, t)
    if isinstance(want, str):
        assert got == want
        return
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)


def test_gradcheck():
    x1 = tg.tensor(_arr((3, 4), 0), requires_grad=True)
    x2 = tg.tensor(_arr((3, 4), 1), requires_grad=True)
    assert tg.autograd.gradcheck(lambda a, b: tg.nn.functional.cosine_embedding_loss(
        a, b, tg.tensor([1, -1, -1]), margin=-0.5), (x1, x2))
