"""``embedding`` and ``embedding_bag`` name their node as PyTorch's (``EmbeddingBackward0``,
``EmbeddingBagBackward0``, next functions the weight's and the sample weights'), with PyTorch's
values and gradients, and finite differences in float64."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

W = np.random.default_rng(0).standard_normal((7, 3))
IDX = np.array([[1, 2, 0, 2], [6, 0, 2, 5]])
FLAT = np.array([1, 2, 4, 5, 4, 3, 2, 6])
OFFSETS = np.array([0, 2, 2, 5])


def _next(node):
    return [None if f is None else type(f).__name__ for f, _ in node.next_functions]


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 0}, {"padding_idx": -1}, {"max_norm": 1.0},
                                {"scale_grad_by_freq": True}])
def test_embedding_node(kw):
    tw = torch.tensor(W, requires_grad=True)
    gw = tg.tensor(W.copy(), requires_grad=True)
    to = torch.nn.functional.embedding(torch.tensor(IDX), tw, **kw)
    go = tg.nn.functional.embedding(tg.tensor(IDX), gw, **kw)
    assert type(go.grad_fn).__name__ == type(to.grad_fn).__name__ == "EmbeddingBackward0"
    assert _next(go.grad_fn) == _next(to.grad_fn) == ["AccumulateGrad"]
    assert go.grad_fn.next_functions[0][0].variable is gw
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-12)
    c = np.arange(3.0)
    (to * torch.tensor(c)).sum().backward()
    (go * tg.tensor(c)).sum().backward()
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    if not kw:  # (the others change the gradient or the weight on purpose)
        assert tg.autograd.gradcheck(
            lambda w: tg.nn.functional.embedding(tg.tensor(IDX), w, **kw), (tg.tensor(W, requires_grad=True),))


def test_embedding_without_grad_has_no_node():
    assert tg.nn.functional.embedding(tg.tensor(IDX), tg.tensor(W)).grad_fn is None


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"include_last_offset": True}])
def test_embedding_bag_node(mode, kw):
    tw = torch.tensor(W, requires_grad=True)
    gw = tg.tensor(W.copy(), requires_grad=True)
    to = torch.nn.functional.embedding_bag(torch.tensor(FLAT), tw, torch.tensor(OFFSETS), mode=mode, **kw)
    go = tg.nn.functional.embedding_bag(tg.tensor(FLAT), gw, tg.tensor(OFFSETS), mode=mode, **kw)
    assert type(go.grad_fn).__name__ == type(to.grad_fn).__name__ == "EmbeddingBagBackward0"
    assert _next(go.grad_fn) == _next(to.grad_fn) == ["AccumulateGrad", None]
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-12)
    (to ** 2).sum().backward()
    (go ** 2).sum().backward()
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    assert "padding_idx" in kw or tg.autograd.gradcheck(
        lambda w: tg.nn.functional.embedding_bag(tg.tensor(FLAT), w, tg.tensor(OFFSETS), mode=mode, **kw),
        (tg.tensor(W, requires_grad=True),))


def test_embedding_bag_per_sample_weights():
    psw = np.linspace(-1.0, 1.0, len(FLAT))
    tw = torch.tensor(W, requires_grad=True)
    gw = tg.tensor(W.copy(), requires_grad=True)
    # sample weights without grad: one node, as PyTorch's
    to = torch.nn.functional.embedding_bag(torch.tensor(FLAT), tw, torch.tensor(OFFSETS), mode="sum",
                                           per_sample_weights=torch.tensor(psw))
    go = tg.nn.functional.embedding_bag(tg.tensor(FLAT), gw, tg.tensor(OFFSETS), mode="sum",
                                        per_sample_weights=tg.tensor(psw))
    assert type(go.grad_fn).__name__ == type(to.grad_fn).__name__
    assert _next(go.grad_fn) == _next(to.grad_fn)
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-12)
    # with grad: values and both gradients
    tp = torch.tensor(psw, requires_grad=True)
    gp = tg.tensor(psw, requires_grad=True)
    to = torch.nn.functional.embedding_bag(torch.tensor(FLAT), tw, torch.tensor(OFFSETS), mode="sum",
                                           per_sample_weights=tp)
    go = tg.nn.functional.embedding_bag(tg.tensor(FLAT), gw, tg.tensor(OFFSETS), mode="sum",
                                        per_sample_weights=gp)
    (to ** 2).sum().backward()
    (go ** 2).sum().backward()
    np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    assert tg.autograd.gradcheck(
        lambda w, p: tg.nn.functional.embedding_bag(tg.tensor(FLAT), w, tg.tensor(OFFSETS), mode="sum",
                                                    per_sample_weights=p),
        (tg.tensor(W, requires_grad=True), tg.tensor(psw, requires_grad=True)))


def test_embedding_bag_empty_bags_and_max():
    gw = tg.tensor(W, requires_grad=True)
    tw = torch.tensor(W, requires_grad=True)
    for mode in ("sum", "mean", "max"):
        to = torch.nn.functional.embedding_bag(torch.tensor([2, 2]), tw, torch.tensor([0]), mode=mode, padding_idx=2)
        go = tg.nn.functional.embedding_bag(tg.tensor([2, 2]), gw, tg.tensor([0]), mode=mode, padding_idx=2)
        np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy())
    to = torch.nn.functional.embedding_bag(torch.tensor(FLAT), tw, torch.tensor(OFFSETS), mode="max")
    go = tg.nn.functional.embedding_bag(tg.tensor(FLAT), gw, tg.tensor(OFFSETS), mode="max")
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy())
    (to ** 2).sum().backward()
    (go ** 2).sum().backward()
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
