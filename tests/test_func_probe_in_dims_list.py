"""``vmap``'s ``in_dims`` is an int or a tuple with one entry per positional argument, as in
``torch.func`` (and JAX): a list at the top (``in_dims=[0]``) is refused in PyTorch's words
instead of being read as that tuple; lists inside the tuple still match list arguments."""

import numpy as np
import pytest

import tapegrad as tg

MISUSES = {
    "one_list": lambda L, x: L.func.vmap(lambda a: a, in_dims=[0])(x),
    "list_of_two": lambda L, x: L.func.vmap(lambda a, b: a + b, in_dims=[0, None])(x, x[0]),
}


def _error(f):
    with pytest.raises(ValueError) as info:
        f()
    return str(info.value)


@pytest.mark.parametrize("case", sorted(MISUSES))
def test_top_level_list_is_refused(case):
    x = tg.tensor(np.arange(6.0).reshape(3, 2))
    msg = _error(lambda: MISUSES[case](tg, x))
    assert "expected `in_dims` to be int or a (potentially nested) tuple matching the " \
           "structure of inputs, got: <class 'list'>." in msg


@pytest.mark.parametrize("case", sorted(MISUSES))
def test_message_is_torch_funcs(case):
    torch = pytest.importorskip("torch")
    x = np.arange(6.0).reshape(3, 2)
    assert _error(lambda: MISUSES[case](tg, tg.tensor(x))) == \
        _error(lambda: MISUSES[case](torch, torch.tensor(x)))


def test_list_inside_the_tuple_matches_a_list_argument():
    x = np.arange(6.0).reshape(3, 2)
    out = tg.func.vmap(lambda v: v[0] * v[1], in_dims=([0, 1],))([tg.tensor(x), tg.tensor(x.T)])
    np.testing.assert_array_equal(out.numpy(), x * x)
