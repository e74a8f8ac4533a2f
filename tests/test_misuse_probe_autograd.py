"""Autograd state misuse gets PyTorch's errors: the same program on tapegrad and, where
installed, on PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import needs_torch, torch

LIBS = ["tapegrad", pytest.param("torch", marks=needs_torch)]


def lib(name):
    return tg if name == "tapegrad" else torch


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("flag,what", [(1, "int"), ("yes", "str"), (None, "NoneType"),
                                       (np.True_, "numpy.bool")])
def test_requires_grad_takes_a_bool_only(name, flag, what):
    L = lib(name)
    x = L.ones(3)
    with pytest.raises(TypeError, match=f"^requires_grad_\\(\\): argument 'requires_grad' "
                                        f"\\(position 1\\) must be bool, not {what}$"):
        x.requires_grad_(flag)
    with pytest.raises(RuntimeError, match="^requires_grad must be a bool$"):
        x.requires_grad = flag
    assert x.requires_grad is False
    assert x.requires_grad_(True).requires_grad is True


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("value,what", [([1.0, 2.0, 3.0], "list"), (3.0, "float"),
                                        (np.ones(3), "numpy.ndarray")])
def test_data_takes_a_tensor_only(name, value, what):
    L = lib(name)
    x = L.ones(3, requires_grad=True)
    with pytest.raises(TypeError, match=f"^Variable data has to be a tensor, but got {what}$"):
        x.data = value
    x.data = L.zeros(3)
    (x * 2).sum().backward()
    assert x.tolist() == [0.0, 0.0, 0.0] and x.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("name", LIBS)
def test_batched_grad_outputs_of_the_wrong_shape(name):
    L = lib(name)
    x = L.ones(3, requires_grad=True)
    y = x * 2
    for bad in (L.ones(3), L.ones(2, 4)):
        with pytest.raises(RuntimeError, match="^If `is_grads_batched=True`, we interpret the "
                                               "first dimension of each grad_output as the batch "
                                               "dimension.*mismatch was detected: grad_output"
                                               "\\[0\\].*consider using vmap.$"):
            L.autograd.grad(y, x, grad_outputs=bad, is_grads_batched=True, retain_graph=True)
    g, = L.autograd.grad(y, x, grad_outputs=L.eye(3), is_grads_batched=True)
    assert g.tolist() == [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]
