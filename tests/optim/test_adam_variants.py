"""NAdam, RAdam, Adamax and Adadelta: an MLP trained step by step against PyTorch (float64
parameters to 1e-12, state keys, option errors), and each one's update by hand."""

import numpy as np
import pytest

import tapegrad as tg
from tests.conftest import torch_float64_default

_rng = np.random.default_rng(0)
W1, B1, W2 = _rng.standard_normal((5, 8)), _rng.standard_normal(8), _rng.standard_normal((8, 3))
X, Y = _rng.standard_normal((16, 5)), _rng.integers(0, 3, 16)

CASES = [
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.9))),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1)),
]


def _train(lib, name, kw, steps=15):
    w1, b1, w2 = (lib.tensor(a, requires_grad=True) for a in (W1, B1, W2))
    opt = getattr(lib.optim, name)([{"params": [w1, b1]}, {"params": [w2], "lr": kw["lr"] / 2}],
                                   **kw)
    x, y = lib.tensor(X), lib.tensor(Y)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(lib.tanh(x @ w1 + b1) @ w2, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    keys = {k: list(v) for k, v in opt.state_dict()["state"].items()}
    return losses, [np.asarray(p.tolist()) for p in (w1, b1, w2)], keys


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_training_matches_torch(torch, name, kw):
    losses, params, keys = _train(tg, name, kw)
    with torch_float64_default(torch):  # (NAdam's mu_product: a scalar of the default dtype)
        t_losses, t_params, t_keys = _train(torch, name, kw)
    np.testing.assert_allclose(losses, t_losses, rtol=1e-12)
    for a, b in zip(params, t_params):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert keys == t_keys


@pytest.mark.parametrize("make", [
    lambda L, p: L.NAdam(p, momentum_decay=-1), lambda L, p: L.Adadelta(p, rho=1.5),
    lambda L, p: L.RAdam(p, betas=(0.9, 1.0)), lambda L, p: L.Adamax(p, lr=-1),
])
def test_option_errors_match_torch(torch, make):
    def error(lib):
        with pytest.raises(ValueError) as info:
            make(lib.optim, [lib.nn.Parameter(lib.ones(1))])
        return str(info.value)

    assert error(tg) == error(torch)


def _one_step(name, **kw):
    w = tg.tensor([1.0, -2.0], dtype=tg.float64, requires_grad=True)
    opt = getattr(tg.optim, name)([w], **kw)
    (w * tg.tensor([3.0, 0.5], dtype=tg.float64)).sum().backward()
    opt.step()
    return np.asarray(w.tolist()), np.array([3.0, 0.5])


def test_first_steps_by_hand():
    w, g = _one_step("Adamax", lr=0.1)  # m = 0.1 g, u = |g| + eps, step lr / 0.1 * m / u
    np.testing.assert_allclose(w, [1.0, -2.0] - 0.1 * np.sign(g) * g / (g + 1e-8))
    w, g = _one_step("RAdam", lr=0.1)  # rho_1 <= 5: bias-corrected momentum SGD
    np.testing.assert_allclose(w, [1.0 - 0.3, -2.0 - 0.05])
    w, g = _one_step("Adadelta", lr=1.0, rho=0.9, eps=1e-6)
    delta = np.sqrt(1e-6) / np.sqrt(0.1 * g * g + 1e-6) * g
    np.testing.assert_allclose(w, [1.0, -2.0] - delta)
    w, g = _one_step("NAdam", lr=0.1)
    b1, b2, mu = 0.9, 0.999, 0.9 * (1 - 0.5 * 0.96 ** 0.004)
    mu_next = 0.9 * (1 - 0.5 * 0.96 ** 0.008)
    mu_product = mu  # (kept in the default dtype, float64)
    denom = np.sqrt((1 - b2) * g * g / (1 - b2)) + 1e-8
    expect = np.array([1.0, -2.0]) - 0.1 * (1 - mu) / (1 - mu_product) * g / denom \
        - 0.1 * mu_next / (1 - mu_product * mu_next) * (1 - b1) * g / denom
    np.testing.assert_allclose(w, expect, rtol=1e-14)
