"""Adamax, Rprop and ASGD stepping CUDA parameters (their updates call np.abs, np.sign,
np.where, np.clip and ``buf[...] = v`` on the optimizer's device values): PyTorch's CPU steps in
float64, state on the parameters' device; on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

RNG = np.random.default_rng(7)
W0 = RNG.uniform(-0.5, 0.5, (2, 3))
X = RNG.standard_normal((4, 3))

OPTIMIZERS = {
    "adamax": ("Adamax", dict(lr=0.05, weight_decay=0.1)),
    "adamax_maximize": ("Adamax", dict(lr=0.05, maximize=True)),
    "rprop": ("Rprop", dict(lr=0.05, etas=(0.4, 1.3), step_sizes=(1e-3, 0.08))),
    "asgd": ("ASGD", dict(lr=0.05, weight_decay=0.1)),
    "asgd_averaging": ("ASGD", dict(lr=0.05, t0=1.0, lambd=0.1)),
}


def _steps(lib, device, name, kw, steps=4):
    w = lib.tensor(W0, requires_grad=True) if lib.__name__ == "torch" else \
        tg.tensor(W0, device=device, requires_grad=True)
    x = lib.tensor(X) if lib.__name__ == "torch" else tg.tensor(X, device=device)
    opt = getattr(lib.optim, name)([w], **kw)
    for k in range(steps):
        opt.zero_grad()
        ((x @ w.t()).tanh() ** 2 * (1 + k)).sum().backward()  # sign changes for Rprop
        opt.step()
    return w, opt.state[w]


@pytest.mark.parametrize("case", sorted(OPTIMIZERS))
def test_steps_match_pytorch(case, torch):
    name, kw = OPTIMIZERS[case]
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # (tapegrad's default: scalar state rounds so)
    try:
        w_t, st_t = _steps(torch, None, name, kw)
    finally:
        torch.set_default_dtype(default)
    w, st = _steps(tg, "cuda", name, kw)
    assert w.device == "cuda"
    np.testing.assert_allclose(w.detach().cpu().numpy(), w_t.detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    for key, value in st_t.items():
        if value.ndim:  # the per-element buffers, on the parameter's device
            assert st[key].device == "cuda"
            np.testing.assert_allclose(st[key].cpu().numpy(), value.numpy(), rtol=1e-12,
                                       atol=1e-14)
