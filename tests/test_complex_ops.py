"""Complex rules of joins, running sums, products, variances and norms: values, gradients and
second order against finite differences (real and imaginary parts perturbed separately) and
PyTorch (tests/complex_checks.py)."""

import numpy as np
import pytest

from complex_checks import check_complex, rand

JOINS = {
    "cat": (lambda L, a, b: L.cat([a * a, b], 1), [(2, 3), (2, 2)]),
    "cat_negative_dim": (lambda L, a, b: L.cat([a, b * b], -1), [(2, 3), (2, 2)]),
    "stack": (lambda L, a, b: L.stack([a * a, b], -1), [(2, 3), (2, 3)]),
    "split_sizes": (lambda L, a: L.split(a * a, [1, 2], 1)[1] * L.split(a, 2, 1)[0], [(2, 3)]),
    "chunk": (lambda L, a: L.chunk(a * a, 2, 0)[1] * 2j, [(4, 3)]),
    "unbind": (lambda L, a: L.unbind(a * a, 1)[2], [(2, 3)]),
    "cumsum_rows": (lambda L, a: L.cumsum(a * a, 1), [(2, 3)]),
    "cumsum_cols": (lambda L, a: L.cumsum(a * a, 0), [(3, 2)]),
}


@pytest.mark.parametrize("name", sorted(JOINS))
def test_joins_and_running_sums(name):
    fn, shapes = JOINS[name]
    check_complex(fn, [rand(s, seed=i) for i, s in enumerate(shapes)])


def test_cat_of_real_and_complex_tensors():
    """A real input of a complex cat takes the real part of its cotangent slice."""
    check_complex(lambda L, a, b: L.cat([a, b * b]), [rand((2, 3), cplx=False), rand((1, 3))])
    check_complex(lambda L, a, b: L.stack([a, b]), [rand((3,)), rand((3,), cplx=False)])


def test_cat_without_grad_keeps_complex_values():
    import tapegrad as tg

    out = tg.cat([tg.tensor([1j]), tg.tensor([2.0])])
    assert out.dtype == tg.complex128 and np.allclose(out.numpy(), [1j, 2])
