"""Valid programs that argument checks must keep accepting, and the words of their refusals:
each case runs on tapegrad and, where installed, on PyTorch, with the same result."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import needs_torch, torch

LIBS = ["tapegrad", pytest.param("torch", marks=needs_torch)]


def lib(name):
    return tg if name == "tapegrad" else torch


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("f", ["dropout2d", "dropout3d"])
@pytest.mark.parametrize("shape", [(), (3,)])
def test_feature_dropout_p1_zeroes_inputs_of_any_rank(name, f, shape):
    L = lib(name)
    x = L.full(shape, 2.0, dtype=L.float64, requires_grad=True)
    y = getattr(L.nn.functional, f)(x, p=1.0, training=True)
    assert y.shape == x.shape and not y.detach().numpy().any()
    y.sum().backward()
    assert x.grad.shape == x.shape and not x.grad.numpy().any()
