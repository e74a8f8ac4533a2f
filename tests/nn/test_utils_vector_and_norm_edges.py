"""``nn.utils`` edges as PyTorch: ``vector_to_parameters`` with too short a vector raises
PyTorch's RuntimeError after filling the parameters that fit; the total norm of no gradients
is a zero of the default dtype; complex gradients are measured by their moduli (and refused by
``clip_grad_value_``), and gradients of mixed dtypes give a norm of their promoted (real)
dtype."""

import numpy as np
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


def _mixed_and_complex_norms(lib):
    out = []
    for grads, norm_type in [([lib.tensor([3 + 4j, 1j], dtype=lib.complex64)], 2.0),
                             ([lib.tensor([3 + 4j, 1j], dtype=lib.complex128)], float("inf")),
                             ([lib.tensor([3.0, 4.0], dtype=lib.float16),
                               lib.tensor([1.0, 2.0], dtype=lib.float64)], 2.0),
                             ([lib.tensor([3.0, 4.0], dtype=lib.float16),
                               lib.tensor([1.0, 2.0], dtype=lib.float32)], 1.0)]:
        params = []
        for g in grads:
            p = lib.nn.Parameter(lib.zeros(g.shape, dtype=g.dtype))
            p.grad = g
            params.append(p)
        total = lib.nn.utils.clip_grad_norm_(params, 1.0, norm_type=norm_type)
        out.append((str(total.dtype).replace("torch.", ""), round(total.item(), 4),
                    [[round(abs(complex(v)), 4) for v in p.grad.tolist()] for p in params]))
    return out


def test_norm_of_complex_and_mixed_gradients():
    out = _mixed_and_complex_norms(tg)
    assert out[0] == ("float32", 5.099, [[0.9806, 0.1961]])  # (the moduli: 5 and 1)
    assert out[1] == ("float64", 5.0, [[1.0, 0.2]])
    assert out[2][0] == "float64" and out[3][0] == "float32"


def test_norm_of_complex_and_mixed_gradients_matches_torch(torch):
    assert _mixed_and_complex_norms(tg) == _mixed_and_complex_norms(torch)


def _clip_complex_values(lib):
    p = lib.nn.Parameter(lib.zeros(2, dtype=lib.complex64))
    p.grad = lib.tensor([3 + 4j, 0.1j], dtype=lib.complex64)
    with pytest.raises(NotImplementedError) as info:
        lib.nn.utils.clip_grad_value_([p], 1.0)
    return str(info.value), p.grad.tolist()


def test_clip_value_refuses_complex_gradients():
    message, grad = _clip_complex_values(tg)
    assert message == "clamp is not supported for complex types"
    np.testing.assert_allclose(grad, [3 + 4j, 0.1j], rtol=1e-6)  # left as it was


def test_clip_value_refuses_complex_gradients_as_torch(torch):
    ours, theirs = _clip_complex_values(tg), _clip_complex_values(torch)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
