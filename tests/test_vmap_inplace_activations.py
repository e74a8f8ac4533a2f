"""The functional activations' inplace=True on a batched tensor inside vmap (F.relu(h,
inplace=True), nn.ReLU(inplace=True) in a model run by functional_call over stacked
parameters): each example's result written into it, with gradients, as torch.func."""

import numpy as np
import pytest

import tapegrad as tg

CASES = [
    ("relu", lambda F, h: F.relu(h, inplace=True)),
    ("leaky_relu", lambda F, h: F.leaky_relu(h, 0.1, inplace=True)),
    ("hardtanh", lambda F, h: F.hardtanh(h, -0.5, 0.5, inplace=True)),
    ("elu", lambda F, h: F.elu(h, 0.7, True)),  # (inplace given positionally)
]


def _xw():
    rng = np.random.default_rng(1)
    return rng.standard_normal((3, 4)), rng.standard_normal(4) + 0.1


def _f(L, act, w):
    F = L.nn.functional

    def f(v):
        h = v * w
        out = act(F, h)
        assert out is h  # (written into its input, which now holds the result)
        return out * v
    return f


@pytest.mark.parametrize("name,act", CASES)
def test_inplace_activation_on_a_batched_tensor_gradcheck(name, act):
    x, w = _xw()
    wt = tg.tensor(w, requires_grad=True)
    xt = tg.tensor(x, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a, b: tg.vmap(_f(tg, act, b))(a), (xt, wt))
    outplace = tg.vmap(lambda v: getattr(tg.nn.functional, name)(v * wt) * v)
    if name != "relu":
        outplace = tg.vmap(lambda v: act(tg.nn.functional, (v * wt).clone()) * v)
    np.testing.assert_allclose(tg.vmap(_f(tg, act, wt))(xt).detach().numpy(),
                               outplace(xt).detach().numpy(), rtol=1e-12)


def test_per_model_ensemble_with_inplace_relu_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    shapes = {"0.weight": (5, 4), "0.bias": (5,), "2.weight": (2, 5), "2.bias": (2,)}
    stacked = {k: rng.standard_normal((3,) + s) for k, s in shapes.items()}
    x = rng.standard_normal((6, 4))
    res = []
    for L in (torch, tg):
        m = L.nn.Sequential(L.nn.Linear(4, 5), L.nn.ReLU(inplace=True), L.nn.Linear(5, 2))
        params = {k: L.tensor(v, requires_grad=True) for k, v in stacked.items()}

        def loss(p, xx):
            return (L.func.functional_call(m, p, (xx,)) ** 2).sum()

        out = L.func.vmap(loss, in_dims=(0, None))(params, L.tensor(x))
        grads = L.autograd.grad(out.sum(), [params[k] for k in shapes])
        res.append([out.detach().numpy()] + [g.numpy() for g in grads])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-10)
