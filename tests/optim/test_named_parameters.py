"""Optimizers take ``named_parameters()`` as PyTorch 2.x does: the names go to the group's
``"param_names"`` (and into ``state_dict``), the steps are those of the bare tensors, and
named and unnamed parameters do not mix."""

import numpy as np
import pytest

import tapegrad as tg
from tests.conftest import torch_float64_default

NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
         "Rprop", "ASGD"]


def _model(lib):
    m = lib.nn.Linear(3, 2).double()
    with lib.no_grad():
        m.weight.copy_(lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3)))
        m.bias.copy_(lib.tensor([0.3, -0.2], dtype=lib.float64))
    return m


def _run(lib, name, named):
    m = _model(lib)
    params = m.named_parameters() if named else m.parameters()
    opt = getattr(lib.optim, name)(params, lr=0.05)
    x = lib.tensor(np.arange(12.0).reshape(4, 3) / 10)
    for _ in range(3):
        opt.zero_grad()
        (m(x) ** 2).sum().backward()
        opt.step()
    groups = opt.state_dict()["param_groups"]
    return [p.detach().numpy().copy() for p in m.parameters()], groups


@pytest.mark.parametrize("name", NAMES)
def test_named_steps_equal_unnamed_steps(name):
    named, groups = _run(tg, name, True)
    plain, plain_groups = _run(tg, name, False)
    for a, b in zip(named, plain):
        np.testing.assert_array_equal(a, b)
    assert groups[0]["param_names"] == ["weight", "bias"] and groups[0]["params"] == [0, 1]
    assert "param_names" not in plain_groups[0]


@pytest.mark.parametrize("name", NAMES)
def test_named_parameters_match_torch(torch, name):
    with torch_float64_default(torch):
        theirs, their_groups = _run(torch, name, True)
    ours, our_groups = _run(tg, name, True)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert [list(g) for g in our_groups] == [list(g) for g in their_groups]
    assert our_groups[0]["param_names"] == their_groups[0]["param_names"]


def _mixing_errors(lib):
    m = _model(lib)
    out = []
    with pytest.raises(ValueError) as info:
        lib.optim.SGD([("weight", m.weight), m.bias], lr=0.1)
    out.append(str(info.value))
    opt = lib.optim.SGD([("weight", m.weight)], lr=0.1)
    with pytest.raises(ValueError) as info:
        opt.add_param_group({"params": [m.bias]})
    out.append(str(info.value))
    opt.add_param_group({"params": [("bias", m.bias)], "lr": 0.5})
    saved = opt.state_dict()
    fresh = lib.optim.SGD([("w", m.weight)], lr=0.1)
    fresh.add_param_group({"params": [("b", m.bias)]})
    fresh.load_state_dict(saved)  # the saved names replace the optimizer's
    out.append([g["param_names"] for g in fresh.param_groups])
    return out


def test_named_and_unnamed_do_not_mix():
    assert _mixing_errors(tg) == [
        "all optimizer params should be with/without names. Some param names are missing",
        "all optimizer param groups should be with/without names. cannot add param group "
        "without names to the optimizer",
        [["weight"], ["bias"]]]


def test_named_and_unnamed_match_torch(torch):
    assert _mixing_errors(tg) == _mixing_errors(torch)


def test_retained_non_leaf_can_be_optimized(torch):
    for lib in (tg, torch):
        x = lib.ones(2, requires_grad=True) * 2
        x.retain_grad()
        lib.optim.SGD([x], lr=0.1)
        with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
            lib.optim.SGD([lib.ones(2, requires_grad=True) * 3], lr=0.1)
