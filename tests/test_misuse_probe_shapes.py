"""Misused shapes, dims and indices get PyTorch's exception and words, never a wrong value.

Each case runs on tapegrad and, where installed, on PyTorch: the same program, the same error.
"""

import pytest

import tapegrad as tg
from tests.op_checks import needs_torch, torch

LIBS = ["tapegrad", pytest.param("torch", marks=needs_torch)]


def lib(name):
    return tg if name == "tapegrad" else torch


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("call", [lambda x: x.flatten(2, 1), lambda x: x.flatten(-1, 0),
                                  lambda x: x.flatten(start_dim=1, end_dim=0)])
def test_flatten_start_after_end_raises(name, call):
    L = lib(name)
    with pytest.raises(RuntimeError, match="^flatten\\(\\) has invalid args: start_dim cannot "
                                           "come after end_dim$"):
        call(L.ones(2, 3, 4))


@pytest.mark.parametrize("name", LIBS)
def test_flatten_one_dim_is_the_same_shape(name):
    L = lib(name)
    assert tuple(L.ones(2, 3, 4).flatten(1, 1).shape) == (2, 3, 4)
    assert tuple(L.flatten(L.ones(2, 3, 4), 1, 2).shape) == (2, 12)


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("call", [lambda L, x, i: L.index_select(x, 0, i),
                                  lambda L, x, i: x.index_select(1, i)])
def test_index_select_refuses_an_index_of_two_dims(name, call):
    L = lib(name)
    x = L.ones(3, 4, requires_grad=True)
    with pytest.raises(IndexError, match="^index_select\\(\\): Index is supposed to be a vector$"):
        call(L, x, L.zeros(2, 2, dtype=L.int64))
    assert tuple(call(L, x, L.tensor(1)).shape) in {(1, 4), (3, 1)}  # (a 0-d index is one)
