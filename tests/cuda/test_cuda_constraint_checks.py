"""Constraint checks of CUDA values: a bool tensor on the value's device, and the distributions
whose validation nests checks (Dirichlet, MixtureSameFamily, cat/stack) still validate there
(see conftest.py: numba-cuda's simulator)."""

import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

C = tg.distributions.constraints


def test_checks_return_device_tensors_and_nest():
    c = tg.tensor([0.5, 1.5], device="cuda")
    for constraint in (C.positive, C.independent(C.positive, 1),
                       C.cat([C.positive, C.real], 0, [1, 1]), C.stack([C.positive, C.real])):
        ok = constraint.check(c)
        assert ok.device == c.device and ok.dtype == tg.bool and bool(ok.all())
    assert bool(C.corr_cholesky.check(tg.eye(2, device="cuda")))


def test_nested_validation_of_cuda_distributions():
    d = tg.distributions.Dirichlet(tg.tensor([0.5, 1.5], device="cuda"))
    x = d.sample()
    assert d.log_prob(x).device == x.device
    mix = tg.distributions.MixtureSameFamily(
        tg.distributions.Categorical(tg.tensor([0.3, 0.7], device="cuda")),
        tg.distributions.Normal(tg.zeros(2, device="cuda"), 1.0))
    cpu = tg.distributions.MixtureSameFamily(
        tg.distributions.Categorical(tg.tensor([0.3, 0.7])),
        tg.distributions.Normal(tg.zeros(2), 1.0))
    assert abs(float(mix.log_prob(tg.tensor(0.5, device="cuda")).cpu()) -
               float(cpu.log_prob(tg.tensor(0.5)))) < 1e-12
