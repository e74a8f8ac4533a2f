"""Forward mode with complex primals, tangents or outputs (func.jvp, func.linearize,
autograd.forward_ad): PyTorch's tangents, f_z t + f_zbar conj(t). The numeric forward sweep
carries real tangent blocks, so these take the double-vjp trick (they raised 'grad can be
implicitly created only for scalar outputs', make_dual refused complex tensors, and a complex
tangent lost its imaginary part)."""

import numpy as np
import pytest

import tapegrad as tg
from complex_checks import rand

Z, T, X, S = rand((3,)), rand((3,), seed=1), rand((3,), False, 2), rand((3,), False, 3)

CASES = {  # name: (function of (lib, *primals), primals, tangents)
    "holomorphic": (lambda L, v: L.exp(v) * v, (Z,), (T,)),
    "not_holomorphic": (lambda L, v: v.conj() * v.abs() + v.real, (Z,), (T,)),
    "complex_to_real": (lambda L, v: v.abs() ** 2 + v.angle(), (Z,), (T,)),
    "real_to_complex": (lambda L, x: L.exp(1j * x) * x, (X,), (S,)),
    "fft": (lambda L, v: L.fft.ifft(v * v), (Z,), (T,)),
    "mixed": (lambda L, v, x: v * x, (Z, X), (T, S)),
}


def _expected(fn, primals, tangents):
    """f_z t + f_zbar conj(t) by central differences along the tangent (f(p + h t))."""
    h = 1e-6

    def f(shift):
        return fn(tg, *(tg.tensor(p + shift * t) for p, t in zip(primals, tangents))).numpy()

    return (f(h) - f(-h)) / (2 * h)


@pytest.mark.parametrize("name", sorted(CASES))
def test_jvp_linearize_and_dual_tensors(name):
    fn, primals, tangents = CASES[name]
    expect = _expected(fn, primals, tangents)
    ps, ts = tuple(tg.tensor(p) for p in primals), tuple(tg.tensor(t) for t in tangents)
    got = tg.func.jvp(lambda *a: fn(tg, *a), ps, ts)[1]
    np.testing.assert_allclose(got.numpy(), expect, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(tg.func.linearize(lambda *a: fn(tg, *a), *ps)[1](*ts).numpy(),
                               expect, rtol=1e-7, atol=1e-8)
    fw = tg.autograd.forward_ad
    with fw.dual_level():
        dual = fn(tg, *(fw.make_dual(p, t) for p, t in zip(ps, ts)))
        np.testing.assert_allclose(fw.unpack_dual(dual).tangent.numpy(), expect, rtol=1e-7,
                                   atol=1e-8)
    torch = pytest.importorskip("torch")
    want = torch.func.jvp(lambda *a: fn(torch, *a), tuple(torch.tensor(p) for p in primals),
                          tuple(torch.tensor(t) for t in tangents))[1]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)


def test_jvp_of_a_complex64_function_keeps_its_dtype():
    z, t = tg.tensor(Z.astype(np.complex64)), tg.tensor(T.astype(np.complex64))
    out = tg.func.jvp(lambda v: tg.sin(v) * v, (z,), (t,))[1]
    assert out.dtype == tg.complex64
    expect = (np.cos(Z) * Z + np.sin(Z)) * T
    np.testing.assert_allclose(out.numpy(), expect, rtol=1e-5)
