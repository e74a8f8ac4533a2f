"""Adam's and AdamW's checks of ``betas`` (both floats or both tensors, one-element tensors,
not with foreach unless capturable) and the steps with tensor betas, against PyTorch's."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

BETAS = [
    lambda L: (0, 0.999), lambda L: (0.5, 0), lambda L: (0.0, 0.9), lambda L: [0.9, 0.99],
    lambda L: (L.tensor(0.9), L.tensor(0.99)), lambda L: (L.tensor([0.9]), L.tensor([[0.99]])),
    lambda L: (L.tensor(0.9), 0.99), lambda L: (0.9, L.tensor(0.99)),
    lambda L: (L.tensor([0.9, 0.8]), L.tensor(0.9)), lambda L: (L.tensor([0.5]), L.tensor([0.5, 0.6])),
    lambda L: (1.0, 0.5), lambda L: (0.9, 0.999, 0.5),
]


def _outcome(lib, name, betas, foreach):
    try:
        opt = getattr(lib.optim, name)([lib.zeros(1, requires_grad=True)], betas=betas(lib),
                                       foreach=foreach)
    except Exception as e:  # noqa: BLE001 (the refusal is the result compared)
        return type(e).__name__, str(e)
    return "ok", [tuple(np.shape(b)) if hasattr(b, "shape") else b
                  for b in opt.param_groups[0]["betas"]]


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("betas", BETAS)
@pytest.mark.parametrize("foreach", [None, True])
def test_betas_checks_match_pytorch(name, betas, foreach):
    assert _outcome(tg, name, betas, foreach) == _outcome(torch, name, betas, foreach)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_tensor_betas_step_as_pytorch(name):
    got = []
    for lib in (torch, tg):
        w = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        betas = (lib.tensor([0.8], dtype=lib.float64), lib.tensor(0.9, dtype=lib.float64))
        opt = getattr(lib.optim, name)([w], lr=0.1, betas=betas, weight_decay=0.1, amsgrad=True)
        for _ in range(4):
            opt.zero_grad()
            (w ** 3).sum().backward()
            opt.step()
        got.append(w.detach().numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-12)
