"""clamp_min/clamp_max by a number are PyTorch's ClampMinBackward0/ClampMaxBackward0 nodes
(tapegrad named them as clamp(min=...)'s ClampBackward1), and so are the hinge of
margin_ranking_loss and triplet_margin_loss with reduction='none' (PyTorch's clamp_min);
clamp(min=...) and clip stay ClampBackward1. Names, next functions, values and gradients
against PyTorch, and by finite differences."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.array([-1.0, 0.5, 2.0, 0.2])
CALLS = {
    "clamp_min": lambda L, x: x.clamp_min(0.2),
    "clamp_max": lambda L, x: x.clamp_max(0.7),
    "torch.clamp_min": lambda L, x: L.clamp_min(x * 2, 0),
    "torch.clamp_max": lambda L, x: L.clamp_max(x, 1),
    "clamp min": lambda L, x: x.clamp(min=0.2),
    "clip": lambda L, x: x.clip(min=0.2, max=1.0),
    "float32 clamp_min": lambda L, x: x.float().clamp_min(0),
    "margin_ranking_loss": lambda L, x: L.nn.functional.margin_ranking_loss(
        x, x.flip(0), L.tensor([1.0, -1.0, 1.0, -1.0], dtype=L.float64), margin=0.3,
        reduction="none"),
    "triplet_margin_loss": lambda L, x: L.nn.functional.triplet_margin_loss(
        x[None], x[None] * 2, x[None].flip(1), reduction="none"),
}


def _outcome(L, call):
    x = L.tensor(X, requires_grad=True)
    y = CALLS[call](L, x)
    node = y.grad_fn
    graph = node.name(), [f.name() if f else None for f, _ in node.next_functions]
    if call.endswith("_loss"):  # (the margin's AddBackward1: tapegrad's x + c is AddBackward0)
        graph = graph[0]
    (y * L.tensor(np.arange(1.0, y.numel() + 1), dtype=y.dtype)).sum().backward()
    return graph, y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("call", list(CALLS))
def test_as_torch(call):
    got, want = _outcome(tg, call), _outcome(torch, call)
    assert got[0] == want[0]
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-6)


def test_gradcheck():
    x = tg.tensor(X, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: t.clamp_min(0.3) * t.clamp_max(0.6), (x,))
