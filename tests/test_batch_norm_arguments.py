"""F.batch_norm/F.instance_norm arguments as PyTorch's: momentum=None is refused (TypeError;
tapegrad took it as 1.0, replacing the running statistics by the batch's), and in evaluation
mode the missing running statistic is named on its own ('running_var must be defined in
evaluation mode'); the checks come in PyTorch's order. Values, running statistics and
gradients of the accepted calls against PyTorch, and by finite differences."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.cos(np.arange(120.0)).reshape(4, 6, 5)
CALLS = {
    "momentum None": lambda L, F, x, s: F.batch_norm(x, *s, training=True, momentum=None),
    "momentum None no stats": lambda L, F, x, s: F.batch_norm(x, None, None, training=True,
                                                              momentum=None),
    "momentum None one value": lambda L, F, x, s: F.batch_norm(x[:1, :, :1], None, None,
                                                               training=True, momentum=None),
    "instance momentum None": lambda L, F, x, s: F.instance_norm(x, momentum=None),
    "eval no running_var": lambda L, F, x, s: F.batch_norm(x, s[0], None),
    "eval no running_mean": lambda L, F, x, s: F.batch_norm(x, None, s[1]),
    "eval no stats": lambda L, F, x, s: F.batch_norm(x, None, None),
    "eval empty no stats": lambda L, F, x, s: F.batch_norm(x[:0], None, None),
    "eval": lambda L, F, x, s: F.batch_norm(x, *s),
    "train momentum 0.3": lambda L, F, x, s: F.batch_norm(x, *s, training=True, momentum=0.3),
    "instance with stats": lambda L, F, x, s: F.instance_norm(x, *s, momentum=0.2),
}


def _outcome(L, call):
    x = L.tensor(X, requires_grad=True)
    stats = (L.tensor(np.linspace(-1, 1, 6)), L.tensor(np.linspace(0.5, 2, 6)))
    try:
        y = CALLS[call](L, L.nn.functional, x, stats)
    except Exception as e:  # noqa: BLE001 (the class and words are compared)
        return type(e).__name__, str(e)
    (y * L.tensor(np.sin(np.arange(float(y.numel()))).reshape(tuple(y.shape)))).sum().backward()
    return "ok", y.detach().numpy(), x.grad.numpy(), stats[0].numpy(), stats[1].numpy()


@pytest.mark.parametrize("call", list(CALLS))
def test_outcome_as_torch(call):
    got, want = _outcome(tg, call), _outcome(torch, call)
    assert got[0] == want[0]
    if want[0] != "ok":
        assert got[1] == want[1]
        return
    for a, b in zip(got[1:], want[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_training_gradcheck():
    x = tg.tensor(X[:3, :2, :4], requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.nn.functional.batch_norm(
        t, None, None, training=True, momentum=0.5) ** 2, (x,))
