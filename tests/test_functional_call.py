"""``tg.func.functional_call``: a module called with parameters and buffers given by name, as
``torch.func.functional_call``: per-example gradients under vmap(grad(...)) equal a loop of
backwards (and PyTorch's), the module's own tensors come back also when the call raises, tied
weights, buffers, and PyTorch's errors for keys."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

FC = tg.func.functional_call


def _model():
    m = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.Tanh(), tg.nn.Linear(4, 1))
    weights = {n: np.random.default_rng(k).standard_normal(tuple(p.shape))
               for k, (n, p) in enumerate(m.named_parameters())}
    return m, weights


def test_per_example_gradients_and_the_modules_own_parameters_back():
    m, weights = _model()
    own = {n: p.detach().numpy().copy() for n, p in m.named_parameters()}
    params = {n: tg.tensor(w) for n, w in weights.items()}
    X = np.random.default_rng(9).standard_normal((5, 3))
    Y = np.random.default_rng(8).standard_normal((5, 1))

    def loss(p, x, y):
        return ((FC(m, p, (x[None],)) - y[None]) ** 2).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a batching rule vmap falls back from, if any)
        per_example = tg.func.vmap(tg.func.grad(loss), in_dims=(None, 0, 0))(
            params, tg.tensor(X), tg.tensor(Y))
    for i in range(5):  # one backward per example, on leaves holding the given weights
        leaves = {n: tg.tensor(w, requires_grad=True) for n, w in weights.items()}
        loss(leaves, tg.tensor(X[i]), tg.tensor(Y[i])).backward()
        for n, t in leaves.items():
            np.testing.assert_allclose(per_example[n].numpy()[i], t.grad.numpy(), rtol=1e-13)
    for n, p in m.named_parameters():  # the module's own weights, untouched and in place
        assert type(p).__name__ == "Parameter"
        np.testing.assert_array_equal(p.detach().numpy(), own[n])
    torch = pytest.importorskip("torch")
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    tp = {n: torch.tensor(w) for n, w in weights.items()}
    want = torch.func.vmap(torch.func.grad(
        lambda p, x, y: ((torch.func.functional_call(tm, p, (x[None],)) - y[None]) ** 2).sum()),
        in_dims=(None, 0, 0))(tp, torch.tensor(X), torch.tensor(Y))
    for n in weights:
        np.testing.assert_allclose(per_example[n].numpy(), want[n].numpy(), rtol=1e-12)


def test_restored_when_the_call_raises_tied_weights_and_buffers():
    m, _ = _model()
    own = m[0].weight
    with pytest.raises(RuntimeError):
        FC(m, {"0.weight": tg.zeros(4, 5)}, (tg.ones(2, 3),))  # a wrong shape: matmul raises
    assert m[0].weight is own

    class Tied(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = tg.nn.Linear(2, 2, bias=False)
            self.b = tg.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    t = Tied()
    w = tg.tensor([[2.0, 0.0], [0.0, 3.0]])
    np.testing.assert_array_equal(FC(t, {"a.weight": w}, tg.ones(1, 2)).detach().numpy(),
                                  [[4.0, 9.0]])
    untied = FC(t, {"a.weight": w}, tg.ones(1, 2), tie_weights=False).detach().numpy()
    np.testing.assert_allclose(untied, (tg.ones(1, 2) @ w.T @ t.b.weight.T).detach().numpy())
    bn = tg.nn.BatchNorm1d(2).eval()
    out = FC(bn, {"running_mean": tg.tensor([1.0, -1.0])}, tg.zeros(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.tile([-1.0, 1.0], (3, 1)) / np.sqrt(
        1.0 + 1e-5), rtol=1e-12)
    assert bn.running_mean.tolist() == [0.0, 0.0]


def test_key_errors_in_pytorchs_words():
    m = tg.nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="Error\\(s\\) in reparametrizing for Linear:\n\t"
                                           "Missing key\\(s\\): 'bias'."):
        FC(m, {"weight": tg.zeros(2, 2)}, tg.ones(1, 2), strict=True)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        FC(m, ({"weight": tg.zeros(2, 2)}, {"weight": tg.zeros(2, 2)}), tg.ones(1, 2))
    # not strict: a key the module does not have is passed over, as PyTorch
    assert tuple(FC(m, {"weight": tg.zeros(2, 2), "other": tg.zeros(1)}, tg.ones(1, 2))
                 .shape) == (1, 2)
