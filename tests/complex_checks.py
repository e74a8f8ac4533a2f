"""check_complex: the oracle of the complex and FFT op tables (test_complex.py, test_fft.py).

``fn(lib, *xs)`` is written once for tapegrad and PyTorch (``lib`` is the module). For complex
or real float64 inputs it checks:
1. the value against PyTorch (when importable) or ``ref``;
2. first and second order against finite differences (``gradcheck``/``gradgradcheck``, which
   perturb real and imaginary parts separately), which also compares the numeric sweep with
   the re-taping one;
3. the gradient of a real loss ``Re(sum(out * w))`` (random complex ``w``) and the gradient of
   that gradient (``create_graph``) against PyTorch.
"""

import numpy as np

import tapegrad as tg

try:
    import torch
except ImportError:
    torch = None


def rand(shape, cplx=True, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) + 0.1
    if cplx:
        a = a + 1j * rng.standard_normal(shape)
    return a


def _loss(lib, out, w):
    if out.dtype.is_complex if lib is torch else out.dtype.kind == "c":
        return (out * w).real.sum()
    return (out * w.real).sum()


def _weights(lib, out):
    rng = np.random.default_rng(7)
    w = rng.standard_normal(tuple(out.shape)) + 1j * rng.standard_normal(tuple(out.shape))
    return torch.tensor(w) if lib is torch else tg.tensor(w)


def _np(t):
    return t.detach().resolve_conj().numpy()


def _grads(lib, fn, arrays, order):
    if lib is torch:
        xs = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = fn(torch, *xs)
        gs = torch.autograd.grad(_loss(torch, out, _weights(torch, out)), xs, create_graph=True)
        second = None
        if order >= 2:
            s = sum((g * _weights(torch, g)).real.sum() for g in gs)
            # a gradient that does not depend on the inputs (a linear op): no second order
            second = torch.autograd.grad(s, xs, allow_unused=True) if s.requires_grad else \
                [None] * len(xs)
        return _np(out), [_np(g) for g in gs], \
            None if second is None else [None if g is None else _np(g) for g in second]
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(tg, *xs)
    loss = _loss(tg, out, _weights(tg, out))
    plain = tg.autograd.grad(loss, xs, retain_graph=True)
    gs = tg.autograd.grad(loss, xs, create_graph=True)
    for p, g in zip(plain, gs):  # numeric sweep == re-taping sweep
        np.testing.assert_allclose(p.detach().numpy(), g.detach().numpy(), rtol=1e-9,
                                   atol=1e-12)
    second = None
    if order >= 2:
        s = sum((g * _weights(tg, g)).real.sum() for g in gs)
        second = tg.autograd.grad(s, xs, allow_unused=True) if s.requires_grad else \
            [None] * len(xs)
    return out.detach().numpy(), [g.detach().numpy() for g in gs], \
        None if second is None else [None if g is None else g.numpy() for g in second]


def check_complex(fn, arrays, ref=None, order=2, fd=True, rtol=1e-7, atol=1e-9,
                  torch_check=True):
    arrays = [np.asarray(a) for a in arrays]
    out, g1, g2 = _grads(tg, fn, arrays, order)
    for a, g in zip(arrays, g1):
        assert g.shape == a.shape and g.dtype == a.dtype, (g.shape, g.dtype, a.dtype)
    if ref is not None:
        np.testing.assert_allclose(out, ref(*arrays), rtol=rtol, atol=atol)
    if fd:
        xs = [tg.tensor(a, requires_grad=True) for a in arrays]
        assert tg.autograd.gradcheck(lambda *v: fn(tg, *v), xs)
        if order >= 2:
            assert tg.autograd.gradgradcheck(lambda *v: fn(tg, *v), xs)
    if torch is None or not torch_check:
        return
    t_out, t_g1, t_g2 = _grads(torch, fn, arrays, order)
    np.testing.assert_allclose(out, t_out, rtol=rtol, atol=atol)
    for a, b in zip(g1, t_g1):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    if order >= 2:
        for a, b in zip(g2, t_g2):
            if b is None:
                assert a is None or np.allclose(a, 0)
            else:
                np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
