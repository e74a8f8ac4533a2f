"""``z.real`` / ``z.imag`` are views of a complex tensor's storage, as in PyTorch: writes into
them change ``z`` (they were copies, so ``z.real[0] = 1`` was silently lost), and gradients
through such writes are checked against finite differences and PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from complex_checks import check_complex, rand


def _set(view, key, value):
    view[key] = value


WRITES = {  # fn(lib, z, x): z complex (3, 2), x real (3, 2); the result is complex
    "real_item": lambda L, z, x: (lambda w: (_set(w.real, (0, 1), 1.5), w)[1])(z * x),
    "imag_slice": lambda L, z, x: (lambda w: (_set(w.imag, slice(1, 3), x[:2] * 2), w)[1])(
        z * 1),
    "real_copy": lambda L, z, x: (lambda w: (w.real.copy_(x * x), w)[1])(z * z),
    "imag_mul": lambda L, z, x: (lambda w: (w.imag.mul_(x), w)[1])(z * 1),
    "transposed_real_add": lambda L, z, x: (lambda w: (w.t().real[1].add_(x[:, 0]), w)[1])(
        z * 1),
    "imag_of_slice_zero": lambda L, z, x: (lambda w: (w[1:].imag.zero_(), w)[1])(z * x),
    "mask": lambda L, z, x: (lambda w: (_set(w.imag, x > 0, 0.5), w)[1])(z * x),
    # a view made before a write through another view of the same tensor sees it
    "stale_view": lambda L, z, x: (lambda w, r: (_set(w.imag, 0, x[0]), r * w)[1])(
        *(lambda w: (w, w.real))(z * 1)),
    "base_changed": lambda L, z, x: (lambda w, r: (w.mul_(x * 1j), r * w)[1])(
        *(lambda w: (w, w.real))(z * 1)),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_writes_through_real_and_imag(name):
    check_complex(WRITES[name], [rand((3, 2)), rand((3, 2), cplx=False, seed=1)])


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_real_and_imag_share_storage(dtype):
    z = tg.tensor(np.array([1 + 2j, 3 - 4j, 5 + 6j], dtype))
    re, im = z.real, z.imag
    assert re.dtype == im.dtype == np.dtype(dtype).type(0).real.dtype
    z.real[0] = 10
    z.imag[1:] = -1
    assert np.array_equal(z.numpy(), np.array([10 + 2j, 3 - 1j, 5 - 1j], dtype))
    assert np.array_equal(re.numpy(), [10, 3, 5]) and np.array_equal(im.numpy(), [2, -1, -1])
    re.mul_(2)
    assert re._version == z._version == im._version == 3
    assert np.array_equal(z.numpy(), np.array([20 + 2j, 6 - 1j, 10 - 1j], dtype))
    assert re.stride() == (2,) and not re.is_contiguous()


def test_write_into_a_part_of_a_leaf_that_requires_grad_is_refused():
    z = tg.tensor([1 + 2j], requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        z.real[0] = 1.0


def test_gradient_against_pytorch_spelled_out():
    """w = z * z with w.real[0] = 1: the first element's real part gets no gradient from z."""
    torch = pytest.importorskip("torch")
    z0 = rand((3,))
    res = []
    for L in (torch, tg):
        z = L.tensor(z0, requires_grad=True)
        w = z * z
        w.real[0] = 1.0
        (w.abs() ** 2).sum().backward()
        res.append((w.detach().numpy(), z.grad.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-12)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-12)


def test_in_place_changes_of_values_complex_rules_read():
    """A complex rule's record stamps what it reads, as PyTorch's nodes save: exp, tanh, sqrt,
    pow... their output (changing it in place raises at backward; it gave the gradient of the
    changed value), and not their input (changing it is allowed: it raised); abs, div and c / z
    read their inputs only, as PyTorch's, so their outputs may change."""
    z0 = rand((3,))
    for f in (tg.exp, tg.tanh, tg.sqrt, tg.sigmoid, lambda v: v ** tg.tensor(2 + 1j),
              lambda v: 2 ** v):
        z = tg.tensor(z0, requires_grad=True)
        y = f(z)
        y.mul_(2)
        with pytest.raises(RuntimeError, match=r"modified by an inplace operation: "
                                               r"\[tapegrad.ComplexDoubleTensor \[3\]\]"):
            tg.autograd.grad(y.abs().sum(), z)
    torch = pytest.importorskip("torch")
    for f in (lambda L, v: (lambda w: (L.exp(w) * 1, w.imag.mul_(2))[0])(v * 1),
              lambda L, v: v.abs(), lambda L, v: v / (v + 1j), lambda L, v: 3 / v):
        got = []
        for L in (torch, tg):
            z = L.tensor(z0, requires_grad=True)
            y = f(L, z)
            y.mul_(2)
            got.append(L.autograd.grad(y.abs().sum(), z)[0].numpy())
        np.testing.assert_allclose(got[1], got[0], rtol=1e-12)
