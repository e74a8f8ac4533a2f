"""``nn.utils`` edges as PyTorch: ``vector_to_parameters`` with too short a vector raises
PyTorch's RuntimeError after filling the parameters that fit; the total norm of no gradients
is a zero of the default dtype."""

import pytest

import tapegrad as tg


def _short_vector(lib):
    params = [lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(2, 2))]
    with pytest.raises(RuntimeError) as info:
        lib.nn.utils.vector_to_parameters(lib.arange(4.0), params)
    return str(info.value), params[0].tolist(), params[1].tolist()


def test_short_vector_raises_runtime_error():
    assert _short_vector(tg) == ("shape '[2, 2]' is invalid for input of size 2", [0.0, 1.0],
                                 [[0.0, 0.0], [0.0, 0.0]])


def test_short_vector_matches_torch(torch):
    assert _short_vector(tg) == _short_vector(torch)


def _empty_norms(lib):
    default = lib.get_default_dtype()
    lib.set_default_dtype(lib.float32)
    try:
        no_grad = lib.nn.Parameter(lib.ones(2))
        norms = [lib.nn.utils.clip_grad_norm_([], 1.0), lib.nn.utils.clip_grad_norm_([no_grad], 1.0),
                 lib.nn.utils.get_total_norm([])]
    finally:
        lib.set_default_dtype(default)
    return [(str(n.dtype).replace("torch.", ""), n.item()) for n in norms]


def test_norm_of_no_gradients_takes_the_default_dtype():
    assert _empty_norms(tg) == [("float32", 0.0)] * 3
    assert tg.nn.utils.get_total_norm([]).dtype == tg.get_default_dtype()


def test_norm_of_no_gradients_matches_torch(torch):
    assert _empty_norms(tg) == _empty_norms(torch)
