"""Factories given a size that is not one: PyTorch's TypeError/RuntimeError, never a
truncated float or NumPy's words. Each case runs on tapegrad and, where installed, PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import needs_torch, torch

LIBS = ["tapegrad", pytest.param("torch", marks=needs_torch)]
_NOT = "argument 'size' \\(position 1\\) must be tuple of ints, not "
_POS0 = "argument 'size' \\(position 1\\) must be tuple of ints, but found element of type "
_UNPACK = "argument 'size' failed to unpack the object at pos 2 with error \"type must be " \
          "tuple of ints,but got "


def lib(name):
    return tg if name == "tapegrad" else torch


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("factory", ["zeros", "ones", "empty", "rand", "randn"])
@pytest.mark.parametrize("args,words", [
    ((2.5,), _NOT + "float$"), ((2.0,), _NOT + "float$"), ((None,), _NOT + "NoneType$"),
    ((True,), _NOT + "bool$"), ((np.float64(2),), _NOT + "numpy.float64$"),
    (([2.5],), _POS0 + "float at pos 0$"), (((2, 2.0),), _UNPACK + 'float"$'),
    ((2, 3.0), _UNPACK + 'float"$'), (((2, np.float32(2)),), _UNPACK + 'numpy.float32"$')])
def test_a_size_that_is_not_an_int_is_refused(name, factory, args, words):
    L = lib(name)
    with pytest.raises(TypeError, match=f"^{factory}\\(\\): {words}"):
        getattr(L, factory)(*args)


@pytest.mark.parametrize("name", LIBS)
def test_integer_sizes_of_every_kind_are_taken(name):
    L = lib(name)
    for args in [(np.int64(2), 3), ((2, L.tensor(3)),), ([2, 3],), ((2, True, 3),)]:
        shape = tuple(s for s in args[0]) if len(args) == 1 else args
        assert tuple(L.zeros(*args).shape) == tuple(int(s) for s in shape)
        assert tuple(L.randn(*args).shape) == tuple(int(s) for s in shape)
    assert tuple(L.full((2, 3), 1.0).shape) == (2, 3)
    with pytest.raises(TypeError, match="^full\\(\\): " + _POS0 + "float at pos 0$"):
        L.full((2.0,), 1.0)
    with pytest.raises(TypeError, match="^empty\\(\\): " + _UNPACK + 'float"$'):
        L.empty((3, 2.5))


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("factory", ["rand", "randn"])
def test_random_factories_refuse_negative_sizes_in_torch_words(name, factory):
    L = lib(name)
    with pytest.raises(RuntimeError, match="^Trying to create tensor with negative dimension "
                                           "-2: \\[2, -2\\]$"):
        getattr(L, factory)(2, -2)


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("data,what", [(None, "NoneType"), ([1.0, None], "NoneType"),
                                       ({1: 2}, "dict"), ({1, 2}, "set"), (object(), "object")])
@pytest.mark.parametrize("make", ["tensor", "as_tensor"])
def test_data_of_no_numeric_type_cannot_infer_a_dtype(name, data, what, make):
    L = lib(name)
    with pytest.raises(RuntimeError, match=f"^Could not infer dtype of {what}$"):
        getattr(L, make)(data)


_NEG = "^Trying to create tensor with negative dimension -1: \\[2, -1\\]$"


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("make", [lambda L: L.ones(3).new_zeros((2, -1)),
                                  lambda L: L.ones(3).new_ones(2, -1),
                                  lambda L: L.ones(3).new_empty((2, -1)),
                                  lambda L: L.ones(3).new_full((2, -1), 1.0),
                                  lambda L: L.randint(5, (2, -1)),
                                  lambda L: L.randint(0, 5, (2, -1)),
                                  lambda L: L.normal(0.0, 1.0, (2, -1))])
def test_more_factories_refuse_negative_sizes(name, make):
    with pytest.raises(RuntimeError, match=_NEG):
        make(lib(name))


@pytest.mark.parametrize("name", LIBS)
def test_new_factories_and_randperm_refuse_float_sizes(name):
    L = lib(name)
    x = L.ones(3)
    with pytest.raises(TypeError, match="^new_zeros\\(\\): " + _NOT + "float$"):
        x.new_zeros(2.5)
    with pytest.raises(TypeError, match="^new_full\\(\\): " + _POS0 + "float at pos 0$"):
        x.new_full((2.5,), 1.0)
    with pytest.raises(TypeError, match="^new_empty\\(\\): " + _UNPACK + 'float"$'):
        x.new_empty((2, 2.0))
    with pytest.raises(TypeError, match="^randperm\\(\\): argument 'n' \\(position 1\\) must be "
                                        "int, not float$"):
        L.randperm(2.5)
    with pytest.raises(RuntimeError, match="^Trying to create tensor with negative dimension "
                                           "-1: \\[-1\\]$"):
        L.randperm(-1)
    assert tuple(x.new_zeros(size=(2,)).shape) == (2,)
    assert tuple(x.new_ones(size=[2, 3]).shape) == (2, 3)
    assert sorted(L.randperm(L.tensor(4)).tolist()) == [0, 1, 2, 3]


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("make", ["zeros_like", "ones_like", "empty_like", "rand_like",
                                  "randn_like"])
@pytest.mark.parametrize("data,what", [([1.0, 2.0], "list"), (3.0, "float"),
                                       (np.ones(2), "numpy.ndarray"), (None, "NoneType")])
def test_like_factories_take_a_tensor(name, make, data, what):
    L = lib(name)
    with pytest.raises(TypeError, match=f"^{make}\\(\\): argument 'input' \\(position 1\\) must "
                                        f"be Tensor, not {what}$"):
        getattr(L, make)(data)
    assert tuple(getattr(L, make)(L.ones(2, 3)).shape) == (2, 3)


@pytest.mark.parametrize("name", LIBS)
def test_arange_of_a_non_finite_range(name):
    L = lib(name)
    nan, inf = float("nan"), float("inf")
    for args, words in [((0, nan), "unsupported range: 0 -> nan"),
                        ((0, inf), "unsupported range: 0 -> inf"),
                        ((-inf, 0), "unsupported range: -inf -> 0"),
                        ((0.5, nan), "unsupported range: 0.5 -> nan"),
                        ((0, 10, nan), "step must be nonzero")]:
        with pytest.raises(RuntimeError, match=f"^{words}$"):
            L.arange(*args)
    assert L.arange(0.0, 2.0, 0.5).tolist() == [0.0, 0.5, 1.0, 1.5]
