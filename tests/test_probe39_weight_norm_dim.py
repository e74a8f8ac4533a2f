"""weight_norm (the parametrization and the older hook) with ``dim`` out of range raises
PyTorch's IndexError at registration; in-range negative dims give PyTorch's values and
gradients."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _register(lib, kind, module, name, dim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if kind == "parametrization":
            return lib.nn.utils.parametrizations.weight_norm(module, name, dim=dim)
        return lib.nn.utils.weight_norm(module, name, dim=dim)


def _outcome(lib, kind, layer, name, dim):
    module = layer(lib)
    try:
        _register(lib, kind, module, name, dim)
    except Exception as e:  # noqa: BLE001 (the refusal is the result compared)
        return type(e).__name__, str(e)
    return "ok", [tuple(p.shape) for p in module.parameters()]


LAYERS = [(lambda L: L.nn.Linear(2, 3), "weight"), (lambda L: L.nn.Conv2d(2, 4, 3), "weight"),
          (lambda L: L.nn.Linear(2, 5), "bias")]


@pytest.mark.parametrize("kind", ["parametrization", "hook"])
@pytest.mark.parametrize("layer, name", LAYERS)
@pytest.mark.parametrize("dim", [5, 4, 2, 1, 0, -1, -2, -3, -4, -5, None])
def test_dims_as_pytorch(kind, layer, name, dim):
    assert _outcome(tg, kind, layer, name, dim) == _outcome(torch, kind, layer, name, dim)


@pytest.mark.parametrize("dim", [-2, -3, 1])
def test_negative_dim_values_and_gradients(dim):
    w = np.random.default_rng(0).standard_normal((4, 2, 3, 3))
    x = np.random.default_rng(1).standard_normal((2, 2, 5, 5))
    got = []
    for lib in (torch, tg):
        conv = lib.nn.Conv2d(2, 4, 3, bias=False, dtype=lib.float64)
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(w))
        _register(lib, "parametrization", conv, "weight", dim)
        y = conv(lib.tensor(x))
        (y ** 2).sum().backward()
        g, v = conv.parametrizations.weight.original0, conv.parametrizations.weight.original1
        got.append([t.detach().numpy() for t in (y, g, v, g.grad, v.grad)])
    for a, b in zip(*got):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)

    conv = tg.nn.Conv2d(2, 4, 3, bias=False)
    _register(tg, "parametrization", conv, "weight", dim)
    g0 = conv.parametrizations.weight.original0.detach()
    v0 = conv.parametrizations.weight.original1.detach()
    fn = conv.parametrizations.weight[0]
    assert tg.autograd.gradcheck(lambda g, v: fn(g, v),
                                 (g0.clone().requires_grad_(), v0.clone().requires_grad_()))
