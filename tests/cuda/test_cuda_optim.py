"""Optimizers stepping CUDA parameters against the same steps on the CPU (float64, to 1e-12),
their state on the parameters' device, on numba-cuda's simulator (see conftest.py)."""

import copy

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F

RNG = np.random.default_rng(4)
X = RNG.standard_normal((5, 3))
Y = RNG.standard_normal((5, 2))

OPTIMIZERS = {  # each with the options that change its update (the simulator is slow)
    "sgd": lambda p: tg.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1,
                                           weight_decay=0.01),
    "sgd_nesterov": lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                           maximize=True),
    "adam_amsgrad": lambda p: tg.optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.1),
    "adamw": lambda p: tg.optim.AdamW(p, lr=0.01, weight_decay=0.1),
    "rmsprop_centered": lambda p: tg.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True,
                                                   weight_decay=0.1),
    "adagrad": lambda p: tg.optim.Adagrad(p, lr=0.1, lr_decay=0.1, weight_decay=0.1,
                                          initial_accumulator_value=0.2),
}


def model(device):
    tg.manual_seed(0)
    return nn.Linear(3, 2, bias=False).to(device)  # one parameter: the simulator is slow


def loss_of(m, device):
    """A least-squares loss (one reduction: the simulator is slow; test_cuda_nn.py has
    cross_entropy)."""
    return F.mse_loss(tg.tanh(m(tg.tensor(X, device=device))), tg.tensor(Y, device=device))


def train(device, make, steps=3):
    m = model(device)
    opt = make(m.parameters())
    for _ in range(steps):
        opt.zero_grad()
        loss_of(m, device).backward()
        opt.step()
    return m, opt


def assert_params_match(m_dev, m_cpu, tol=1e-12):
    for pd, pc in zip(m_dev.parameters(), m_cpu.parameters()):
        assert pd.device == "cuda"
        np.testing.assert_allclose(pd.detach().cpu().numpy(), pc.detach().numpy(),
                                   rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_three_steps_on_cuda_match_cpu(name):
    m_cpu, opt_cpu = train("cpu", OPTIMIZERS[name])
    m_dev, opt_dev = train("cuda", OPTIMIZERS[name])
    assert_params_match(m_dev, m_cpu)
    for p_dev, p_cpu in zip(m_dev.parameters(), m_cpu.parameters()):
        st_dev, st_cpu = opt_dev.state[p_dev], opt_cpu.state[p_cpu]
        assert st_dev.keys() == st_cpu.keys()
        for key, v in st_dev.items():
            if key == "step":  # a CPU scalar, as PyTorch's (non-capturable) step counters
                assert v.device == "cpu" and float(v) == float(st_cpu[key])
                continue
            assert v.device == "cuda", key  # state lives on the parameter's device
            np.testing.assert_allclose(v.cpu().numpy(), st_cpu[key].numpy(), rtol=1e-12,
                                       atol=1e-12)


def test_parameters_keep_storage_and_identity():
    m = model("cuda")
    params = list(m.parameters())
    storage = [p._data for p in params]
    opt = tg.optim.Adam(m.parameters(), lr=0.1)
    loss_of(m, "cuda").backward()
    versions = [p._version for p in params]
    opt.step()
    assert [p._data for p in m.parameters()] == storage  # updated in place
    assert all(p._version > v for p, v in zip(params, versions))
    opt.zero_grad(set_to_none=False)
    for p in params:
        assert p.grad.device == "cuda" and not p.grad.cpu().numpy().any()
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_state_dict_round_trip_continues_on_cuda():
    """Two steps, save, load into a fresh optimizer (state copied onto the device), one more
    step: the same as three uninterrupted steps on the CPU."""
    m_cpu, _ = train("cpu", OPTIMIZERS["adam_amsgrad"])
    m_dev, opt = train("cuda", OPTIMIZERS["adam_amsgrad"], steps=2)
    saved = copy.deepcopy(opt.state_dict())
    fresh = OPTIMIZERS["adam_amsgrad"](m_dev.parameters())
    fresh.load_state_dict(saved)
    for st in fresh.state.values():
        assert st["exp_avg"].device == "cuda" and st["max_exp_avg_sq"].device == "cuda"
    fresh.zero_grad()
    loss_of(m_dev, "cuda").backward()
    fresh.step()
    assert_params_match(m_dev, m_cpu)


def test_cpu_state_loads_onto_cuda_parameters():
    m_cpu, opt_cpu = train("cpu", OPTIMIZERS["sgd_momentum"], steps=2)
    m_dev = model("cpu")
    m_dev.load_state_dict(m_cpu.state_dict())
    m_dev.cuda()
    opt = OPTIMIZERS["sgd_momentum"](m_dev.parameters())
    opt.load_state_dict(opt_cpu.state_dict())
    assert all(st["momentum_buffer"].device == "cuda" for st in opt.state.values())
    for m, o, dev in ((m_cpu, opt_cpu, "cpu"), (m_dev, opt, "cuda")):
        o.zero_grad()
        loss_of(m, dev).backward()
        o.step()
    assert_params_match(m_dev, m_cpu)


def test_lbfgs_on_cuda_follows_cpu():
    def run(device):
        m = model(device)
        opt = tg.optim.LBFGS(m.parameters(), lr=0.5, max_iter=2,
                             line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = loss_of(m, device)
            loss.backward()
            return loss

        opt.step(closure)
        return m

    assert_params_match(run("cuda"), run("cpu"), tol=1e-10)


def test_numpy_scalar_options_on_cuda():
    """Options given as NumPy scalars meet device values through NumPy's operators."""
    def run(device):
        w = tg.tensor([1.0, -2.0], device=device, requires_grad=True)
        opt = tg.optim.Adam([w], lr=np.float64(0.1), betas=(np.float64(0.9), 0.999),
                            weight_decay=np.float64(0.1))
        for _ in range(2):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        return w

    np.testing.assert_allclose(run("cuda").detach().cpu().numpy(), run("cpu").detach().numpy(),
                               rtol=1e-12, atol=1e-12)
