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


_SCATTERS = [lambda x, i, s: x.scatter(1, i, s), lambda x, i, s: x.scatter_add(1, i, s),
             lambda x, i, s: x.scatter_reduce(1, i, s, "sum"),
             lambda x, i, s: x.clone().scatter_(1, i, s)]


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("f", _SCATTERS)
@pytest.mark.parametrize("ishape,sshape", [((3, 2), (3, 1)), ((3, 2), (2, 5)), ((4, 2), (4, 2))])
def test_scatter_index_larger_than_src_or_self_raises(name, f, ishape, sshape):
    L = lib(name)
    words = (f"^Expected index \\[{ishape[0]}, 2\\] to be no larger than self \\[3, 4\\] apart "
             f"from dimension 1 and to be no larger size than src \\[{sshape[0]}, {sshape[1]}\\]$")
    with pytest.raises(RuntimeError, match=words):
        f(L.zeros(3, 4, requires_grad=True), L.zeros(ishape, dtype=L.int64), L.ones(sshape))


@pytest.mark.parametrize("name", LIBS)
def test_scatter_src_of_another_rank_and_gather_words(name):
    L = lib(name)
    x, i = L.zeros(3, 4), L.zeros(3, 2, dtype=L.int64)
    with pytest.raises(RuntimeError, match="^Index tensor must have the same number of "
                                           "dimensions as src tensor$"):
        x.scatter(1, i, L.ones(3, 1, 1))
    with pytest.raises(IndexError, match="^Dimension out of range"):
        x.scatter(1, i, L.ones(3))
    with pytest.raises(RuntimeError, match="^Expected index \\[5, 1\\] to be no larger than self "
                                           "\\[3, 4\\] apart from dimension 1$"):
        x.scatter(1, L.zeros(5, 1, dtype=L.int64), 1.0)
    with pytest.raises(RuntimeError, match="^Size does not match at dimension 0 expected index "
                                           "\\[5, 1\\] to be no larger than self \\[3, 4\\] apart "
                                           "from dimension 1$"):
        x.gather(1, L.zeros(5, 1, dtype=L.int64))
    # a src larger than the index is fine: its leading block is scattered
    y = L.zeros(2, 3).scatter(1, L.tensor([[2], [0]]), L.arange(1.0, 7.0).reshape(2, 3))
    assert y.tolist() == [[0.0, 0.0, 1.0], [4.0, 0.0, 0.0]]


_MASKED = [lambda L, x, m: x.masked_fill(m, 0.0), lambda L, x, m: L.masked_select(x, m),
           lambda L, x, m: x.masked_scatter(m, L.ones(12))]


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("f", _MASKED)
def test_masks_that_do_not_broadcast_raise_torch_words(name, f):
    L = lib(name)
    with pytest.raises(RuntimeError, match="^The size of tensor a \\(3\\) must match the size of "
                                           "tensor b \\(4\\) at non-singleton dimension 1$"):
        f(L, L.ones(3, 4, requires_grad=True), L.ones(3, dtype=L.bool))


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("f,grad", zip(_MASKED, [[4.0, 2.0, 3.0], [1.0, 2.0, 3.0],
                                                 [4.0, 2.0, 3.0]]))
def test_a_mask_of_more_dims_broadcasts_the_input(name, f, grad):
    L = lib(name)
    x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = f(L, x, L.tensor([[True, False, False], [False, True, True]]))
    (y * L.arange(1.0, y.numel() + 1).reshape(y.shape)).sum().backward()
    assert x.grad.tolist() == grad


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("call,dim", [(lambda L, x: x.expand(-1, 3), 0),
                                      (lambda L, x: x.expand(2, -1, 3), 1),
                                      (lambda L, x: L.broadcast_to(x, (-1, 3)), 0)])
def test_expand_minus_one_in_a_new_dim_raises(name, call, dim):
    L = lib(name)
    with pytest.raises(RuntimeError, match=f"^The expanded size of the tensor \\(-1\\) isn't "
                                           f"allowed in a leading, non-existing dimension {dim}$"):
        call(L, L.ones(3, requires_grad=True))


@pytest.mark.parametrize("name", LIBS)
def test_minus_one_keeps_an_existing_size(name):
    L = lib(name)
    x = L.tensor([[1.0], [2.0]], requires_grad=True)
    y = L.broadcast_to(x, (-1, 3))
    z = x.expand(4, -1, -1)
    assert tuple(y.shape) == (2, 3) and tuple(z.shape) == (4, 2, 1)
    (y.sum() + z.sum()).backward()
    assert x.grad.tolist() == [[7.0], [7.0]]


@pytest.mark.parametrize("name", LIBS)
def test_expand_other_negative_sizes_raise_runtime_errors(name):
    L = lib(name)
    for x, size in [(L.ones(3), (-2, 3)), (L.ones(1, 3), (-2, 3)), (L.ones(2, 3), (2, -2))]:
        with pytest.raises(RuntimeError):
            x.expand(*size)


_UNPACK2 = "failed to unpack the object at pos 2 with error \"type must be tuple of ints,but " \
           "got float\"$"


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("call,words", [
    (lambda L, x: x.reshape((2.0, 3)), "^reshape\\(\\): argument 'shape' \\(position 1\\) must be "
                                       "tuple of ints, but found element of type float at pos 0$"),
    (lambda L, x: x.reshape(2, 3.0), "^reshape\\(\\): argument 'shape' " + _UNPACK2),
    (lambda L, x: x[None].expand((2, 6.0)), "^expand\\(\\): argument 'size' " + _UNPACK2),
    (lambda L, x: x.repeat(2.0), "^repeat\\(\\): argument 'repeats' \\(position 1\\) must be "
                                 "tuple of ints, not float$"),
    (lambda L, x: x.reshape(2, 3).permute(1.0, 0), None)])
def test_float_sizes_are_refused_not_truncated(name, call, words):
    L = lib(name)
    with pytest.raises(TypeError, match=words):
        call(L, L.ones(6, requires_grad=True))


@pytest.mark.parametrize("name", LIBS)
def test_repeat_by_a_negative_count_raises(name):
    L = lib(name)
    with pytest.raises(RuntimeError, match="^Trying to create tensor with negative dimension -3: "
                                           "\\[2, -3\\]$"):
        L.ones(3).repeat(2, -1)
    assert tuple(L.ones(6).reshape(L.tensor(2), 3).shape) == (2, 3)  # (an integer tensor is one)
    assert tuple(L.ones(3).repeat(0).shape) == (0,)


_NOT_AN_INDEX = "^only integers, slices \\(`:`\\), ellipsis \\(`...`\\), None and long or byte " \
                "Variables are valid indices \\(got {}\\)$"


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("key,what", [(1.0, "float"), ((0, 1.5), "float"), ({1}, "set")])
@pytest.mark.parametrize("grad", [False, True])
def test_a_key_that_is_no_index_names_its_type(name, key, what, grad):
    L = lib(name)
    x = L.ones(3, 4, requires_grad=grad) * 1
    with pytest.raises(IndexError, match=_NOT_AN_INDEX.format(what)):
        x[key]
    with pytest.raises(IndexError, match=_NOT_AN_INDEX.format(what)):
        x[key] = 2.0


@pytest.mark.parametrize("name", LIBS)
def test_float_dims_refused_after_the_same_int_dims_were_kept(name):
    # (a kept permutation plan is looked up by (shape, dims), and (1.0, 0) == (1, 0))
    L = lib(name)
    x = L.ones(2, 3)
    assert tuple(x.permute(1, 0).shape) == (3, 2)
    with pytest.raises(TypeError):
        x.permute(1.0, 0)
