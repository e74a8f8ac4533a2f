"""``optim.Adafactor`` against PyTorch's: float64 trajectories of matrices (factored second
moments), a batch of matrices and vectors, with weight decay, maximize, a given eps1 and a
clipping threshold; its state layout and errors."""

import numpy as np
import pytest

import tapegrad as tg
from tests.conftest import torch_float64_default

CONFIGS = [dict(), dict(lr=0.05, weight_decay=0.1), dict(maximize=True, beta2_decay=-0.5),
           dict(eps=(1e-20, 1e-2), d=1.5), dict(lr=0.5, d=1.0)]


def _run(lib, kw, steps=6):
    rng = np.random.default_rng(0)
    params = [lib.nn.Parameter(lib.tensor(rng.standard_normal(s) * 0.5))
              for s in [(4, 3), (2, 3, 2), (5,)]]
    opt = lib.optim.Adafactor(params, **kw)
    for i in range(steps):
        opt.zero_grad()
        loss = sum(((p - 0.3 * i) ** 2).sum() * (k + 1) for k, p in enumerate(params))
        loss.backward()
        opt.step()
    state = opt.state_dict()["state"]
    layout = [sorted((k, tuple(v.shape)) for k, v in s.items()) for s in state.values()]
    return [p.detach().numpy().copy() for p in params], layout


@pytest.mark.parametrize("kw", CONFIGS, ids=[str(k) for k in CONFIGS])
def test_trajectory_matches_torch(torch, kw):
    ours, our_layout = _run(tg, kw)
    with torch_float64_default(torch):
        theirs, their_layout = _run(torch, kw)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert our_layout == their_layout


def test_state_layout_and_progress():
    params, layout = _run(tg, {})
    assert layout[0] == [("col_var", (1, 3)), ("row_var", (4, 1)), ("step", ())]
    assert layout[1] == [("col_var", (2, 1, 2)), ("row_var", (2, 3, 1)), ("step", ())]
    assert layout[2] == [("step", ()), ("variance", (5,))]
    assert all(np.isfinite(p).all() for p in params)


def test_errors():
    p = [tg.nn.Parameter(tg.ones(2))]
    for kwargs, message in [(dict(lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
                            (dict(beta2_decay=0.5), "beta2_decay should be <= 0 but is: 0.5"),
                            (dict(eps=(-1.0, 1e-3)), "epsilon1 should be >= 0 but is: -1.0"),
                            (dict(d=0.5), "Clipping threshold d should be >= 1 but is: 0.5"),
                            (dict(weight_decay=-0.1), "weight_decay should be >= 0 but is: -0.1")]:
        with pytest.raises(ValueError, match=message):
            tg.optim.Adafactor(p, **kwargs)
    z = tg.nn.Parameter(tg.ones(2, dtype=tg.complex128))
    z.grad = tg.ones(2, dtype=tg.complex128)
    with pytest.raises(RuntimeError, match="Adafactor does not support complex parameters"):
        tg.optim.Adafactor([z]).step()
