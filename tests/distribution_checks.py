"""Comparisons of tg.distributions with torch.distributions shared by the distribution tests:
values and parameter gradients of every statistic, shapes, supports, constraints and expand,
and validation errors in PyTorch's words."""

import re

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import torch

WHATS = ("log_prob", "cdf", "icdf", "entropy", "mean", "mode", "variance", "stddev")
DIFFERENTIATED = ("log_prob", "entropy", "cdf", "icdf", "mean", "variance")


def as_np(t):
    return np.asarray(t.detach().numpy(), np.float64)


def call(d, what, lib, value):
    """``d``'s statistic ``what`` (log_prob and cdf at ``value``, icdf at quantiles spread over
    the batch)."""
    if what in ("log_prob", "cdf"):
        return getattr(d, what)(lib.tensor(value))
    if what == "icdf":
        q = np.linspace(0.05, 0.95, int(np.prod(d.batch_shape))).reshape(d.batch_shape)
        return d.icdf(lib.tensor(q))
    if what == "entropy":
        return d.entropy()
    return getattr(d, what)


def assert_values_and_gradients_match(make, value, torch_value, rtol, atol, grad_rtol, grad_atol,
                                      loose=None):
    """Every statistic of ``make(lib) -> (distribution, differentiated leaves)`` of both
    libraries, and (of the differentiable ones) the gradient of a random weighting of its
    finite entries; ``loose``: what -> rtol. A statistic PyTorch does not implement must raise
    NotImplementedError here too; a gradient PyTorch cannot take (its igamma in its first
    argument) is skipped."""
    rng = np.random.default_rng(0)
    for what in WHATS:
        dt, lt = make(torch)
        dg, lg = make(tg)
        try:
            a = call(dt, what, torch, torch_value)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                call(dg, what, tg, value)
            continue
        b = call(dg, what, tg, value)
        assert tuple(b.shape) == tuple(a.shape), (what, b.shape, a.shape)
        np.testing.assert_allclose(as_np(b), as_np(a), rtol=(loose or {}).get(what, rtol),
                                   atol=atol, err_msg=what)
        if what not in DIFFERENTIATED or not a.requires_grad:
            continue
        # (flattened: a 0-d output indexed by a 0-d mask would be its own case)
        a, b = a.reshape(-1), b.reshape(-1)
        w = rng.standard_normal(tuple(a.shape))
        finite = np.isfinite(as_np(a))
        try:
            ga = torch.autograd.grad((a[torch.tensor(finite)] * torch.tensor(
                w[finite], dtype=a.dtype)).sum(), lt, allow_unused=True)
        except (NotImplementedError, RuntimeError):
            continue
        gb = tg.autograd.grad((b[tg.tensor(finite)] * tg.tensor(w[finite])).sum(), lg,
                              allow_unused=True)
        for x, y in zip(gb, ga):
            if y is None:
                assert x is None or not np.any(as_np(x))
            else:
                np.testing.assert_allclose(as_np(x), y.numpy(), rtol=grad_rtol, atol=grad_atol,
                                           err_msg=f"d {what}")


def assert_shapes_support_and_expand_match(dt, dg, torch_dtype, rtol):
    """Shapes, rsample, support and argument constraints of ``dt`` (PyTorch's) and ``dg``; of
    both expanded over a new batch dim, the shape of draws and their log_prob (the draws given
    to PyTorch in ``torch_dtype``)."""
    assert dg.batch_shape == tuple(dt.batch_shape) and dg.event_shape == tuple(dt.event_shape)
    assert dg.has_rsample == dt.has_rsample
    assert repr(dg.support) == repr(dt.support).replace(", dtype=torch.float64", "")
    assert dg.support.is_discrete == dt.support.is_discrete
    assert dg.support.event_dim == dt.support.event_dim
    assert list(dg.arg_constraints) == list(dt.arg_constraints)
    for k, c in dt.arg_constraints.items():
        assert repr(dg.arg_constraints[k]) == repr(c)
    big_t, big_g = dt.expand((5,) + dt.batch_shape), dg.expand((5,) + dg.batch_shape)
    assert big_g.batch_shape == tuple(big_t.batch_shape) == (5,) + dg.batch_shape
    tg.manual_seed(2)
    s = big_g.sample((2,))
    assert s.shape == (2, 5) + dg.batch_shape + dg.event_shape
    st = torch.tensor(as_np(s).astype(torch_dtype))
    np.testing.assert_allclose(as_np(big_g.log_prob(s)), big_t.log_prob(st).numpy(), rtol=rtol,
                               atol=1e-12)
    assert type(big_g) is type(dg)


def assert_same_error(make):
    """``make(lib)`` raises the same exception type with the same words in both libraries
    (PyTorch's ``torch.Size([2, 3])`` read as the tuple ``(2, 3)``)."""
    with pytest.raises(Exception) as et:
        make(torch)
    with pytest.raises(type(et.value)) as eg:
        make(tg)
    expect = re.sub(r"torch\.Size\(\[(\d+)\]\)", r"(\1,)", str(et.value))
    expect = re.sub(r"torch\.Size\(\[([\d, ]+)\]\)", r"(\1)", expect)
    assert str(eg.value) == expect.replace(", dtype=torch.float64", "")
