"""binary_cross_entropy(_with_logits) with a weight or pos_weight that broadcasts the loss to
more elements than the input has ((4, 1, 3) against (4, 3)) returned a loss of that shape
(or its reduction over it), where PyTorch's kernels refuse it: 'output with shape [4, 3]
doesn't match the broadcast shape [4, 4, 3]'; binary_cross_entropy's weight is broadcast with
torch.broadcast_shapes' words, as PyTorch expands it. Values and gradients of the accepted
shapes against PyTorch, and by finite differences."""
import ast
import re

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

P = 1 / (1 + np.exp(-np.cos(np.arange(12.0)).reshape(4, 3)))
T = (np.sin(np.arange(12.0)).reshape(4, 3) > 0).astype(np.float64)
CALLS = {
    "bce weight (2,)": ("bce", dict(weight=(2,))),
    "bce weight (4, 1, 3)": ("bce", dict(weight=(4, 1, 3))),
    "bce weight (4, 1)": ("bce", dict(weight=(4, 1))),
    "bce weight (3,) none": ("bce", dict(weight=(3,), reduction="none")),
    "logits weight (2,)": ("logits", dict(weight=(2,))),
    "logits weight (4, 1, 3)": ("logits", dict(weight=(4, 1, 3))),
    "logits pos_weight (4, 1, 3)": ("logits", dict(pos_weight=(4, 1, 3))),
    "logits pos_weight (2,)": ("logits", dict(pos_weight=(2,))),
    "logits both": ("logits", dict(pos_weight=(4, 1), weight=(1, 3), reduction="none")),
    "logits pos_weight (3,) sum": ("logits", dict(pos_weight=(3,), reduction="sum")),
}


def _outcome(L, call):
    kind, kw = CALLS[call]
    kw = {k: (L.tensor(np.linspace(0.5, 2.0, int(np.prod(v))).reshape(v))
              if isinstance(v, tuple) else v) for k, v in kw.items()}
    x = L.tensor(P if kind == "bce" else np.log(P / (1 - P)), requires_grad=True)
    f = L.nn.functional.binary_cross_entropy if kind == "bce" else \
        L.nn.functional.binary_cross_entropy_with_logits
    try:
        loss = f(x, L.tensor(T), **kw)
    except RuntimeError as e:
        # (tapegrad's sizes are plain tuples, a documented difference: printed as tuples)
        return re.sub(r"torch\.Size\((\[[^]]*\])\)", lambda m: str(tuple(ast.literal_eval(m[1]))), str(e))
    loss.sum().backward()
    return loss.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("call", list(CALLS))
def test_as_torch(call):
    got, want = _outcome(tg, call), _outcome(torch, call)
    if isinstance(want, str):
        assert got == want
        return
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_gradcheck():
    x = tg.tensor(np.log(P / (1 - P)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.nn.functional.binary_cross_entropy_with_logits(
        t, tg.tensor(T), weight=tg.tensor([0.5, 1.0, 2.0]),
        pos_weight=tg.tensor([[2.0], [1.0], [3.0], [0.5]])), (x,))
