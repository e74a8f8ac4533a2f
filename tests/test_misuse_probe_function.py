"""Custom Function mistakes get PyTorch's errors: the same program on tapegrad and, where
installed, on PyTorch raises the same words."""

import warnings

import pytest

import tapegrad as tg
from tests.op_checks import needs_torch, torch

LIBS = ["tapegrad", pytest.param("torch", marks=needs_torch)]


def lib(name):
    return tg if name == "tapegrad" else torch


def function(L, forward):
    class Fn(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return forward(ctx, x)

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return Fn


def _not_returned(ctx, x):
    x.mul_(2)
    ctx.mark_dirty(x)
    return x * 1


def _not_a_tensor(ctx, x):
    ctx.mark_dirty(x, 3)
    return x.mul_(2)


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("forward,words", [
    (_not_returned, "^Some elements marked as dirty during the forward method were not returned "
                    "as output. The inputs that are modified inplace must all be outputs of "
                    "the Function.$"),
    (_not_a_tensor, "^mark_dirty can only accept variables, but argument")])
def test_mark_dirty_misuse_raises(name, grad, forward, words):
    L = lib(name)
    x = L.ones(3, requires_grad=True) * 1 if grad else L.ones(3)
    with pytest.raises(RuntimeError, match=words):
        function(L, forward).apply(x)


@pytest.mark.parametrize("name", LIBS)
def test_mark_dirty_of_a_tensor_not_an_input_warns_and_works(name):
    L = lib(name)
    x = L.ones(3, requires_grad=True)

    def forward(ctx, x):
        y = x * 3
        ctx.mark_dirty(y)
        return y

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        y = function(L, forward).apply(x)
    assert any("mark_dirty() received a tensor that was not an input" in str(w.message)
               for w in seen)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("name", LIBS)
def test_mark_dirty_returned_input_still_works(name):
    L = lib(name)
    x = L.ones(3, requires_grad=True)

    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = function(L, forward).apply(x * 1)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
