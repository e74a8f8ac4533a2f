"""Compositions that are one op in PyTorch, on inference tensors only, outside inference mode:
PyTorch's op records nothing (its result requires no grad), where the composition's steps with
a wrapped number recorded (or refused to save an inference tensor). Against PyTorch: values,
requires_grad, is_inference, grad_fn; inputs requiring grad or not, grad on or no_grad; and
the same ops on normal tensors keep PyTorch's gradients."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

FORMS = {
    "hardsigmoid": lambda L, n, w: L.nn.functional.hardsigmoid(n),
    "hardswish": lambda L, n, w: L.nn.functional.hardswish(n),
    "softshrink": lambda L, n, w: L.nn.functional.softshrink(n),
    "hardshrink": lambda L, n, w: L.nn.functional.hardshrink(n),
    "threshold": lambda L, n, w: L.nn.functional.threshold(n, 0.5, 0.0),
    "celu(2)": lambda L, n, w: L.nn.functional.celu(n, 2.0),
    "selu": lambda L, n, w: L.nn.functional.selu(n),
    "mish": lambda L, n, w: L.nn.functional.mish(n),
    "prelu": lambda L, n, w: L.nn.functional.prelu(n, w),
    "pdist": lambda L, n, w: L.nn.functional.pdist(n),
    "frac": lambda L, n, w: n.frac(),
    "sinc": lambda L, n, w: n.sinc(),
    "float_power": lambda L, n, w: n.float_power(2),
    "heaviside": lambda L, n, w: L.heaviside(n, w),
    "hypot": lambda L, n, w: L.hypot(n, n),
    "logaddexp": lambda L, n, w: L.logaddexp(n, n),
    "logaddexp2": lambda L, n, w: L.logaddexp2(n, w),
    "copysign(n, -1)": lambda L, n, w: L.copysign(n, -1.0),
    "copysign(n, w)": lambda L, n, w: L.copysign(n, w),
    "fmod(n, n)": lambda L, n, w: L.fmod(n, n),
    "fmod(n, w)": lambda L, n, w: n.fmod(w),
    "remainder(n, w)": lambda L, n, w: L.remainder(n, w),
    "remainder(w, n)": lambda L, n, w: L.remainder(w, n),
    "clamp(n, min=w)": lambda L, n, w: L.clamp(n, min=w),
    "clamp(n, max=n)": lambda L, n, w: n.clamp(max=n),
    "clamp(n, w, w)": lambda L, n, w: L.clamp(n, w, w),
    "tril": lambda L, n, w: n.tril(),
    "triu": lambda L, n, w: L.triu(n, 1),
}


def _run(L, f, requires_grad, mode, inference=True):
    base = np.array([[0.7, -0.3, 0.9], [-0.6, 0.8, 0.1]])
    if inference:
        with L.inference_mode():
            n = L.tensor(base, requires_grad=requires_grad)
            w = L.tensor([0.25], dtype=L.float64)
    else:
        n = L.tensor(base, requires_grad=requires_grad)
        w = L.tensor([0.25], dtype=L.float64)
    try:
        if mode == "no_grad":
            with L.no_grad():
                r = f(L, n, w)
        else:
            r = f(L, n, w)
    except RuntimeError as e:
        return str(e)
    out = [r.detach().numpy().tolist(), r.requires_grad, r.is_inference(), r.grad_fn is None]
    if r.requires_grad:
        (g,) = L.autograd.grad(r.sum(), n)
        out.append(g.numpy().tolist())
    return out


def _check(got, want):
    assert type(got) is type(want)
    if isinstance(want, str):
        assert got == want
        return
    assert got[1:4] == want[1:4] and len(got) == len(want)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-7, atol=1e-7)
    if len(want) == 5:
        np.testing.assert_allclose(got[4], want[4], rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("name", list(FORMS))
@pytest.mark.parametrize("requires_grad", [True, False])
@pytest.mark.parametrize("mode", ["grad", "no_grad"])
def test_one_op_on_inference_tensors_as_pytorch(name, requires_grad, mode):
    _check(_run(tg, FORMS[name], requires_grad, mode), _run(torch, FORMS[name], requires_grad,
                                                             mode))


@pytest.mark.parametrize("name", [n for n in FORMS if n != "heaviside"])  # (no derivative
def test_normal_tensors_still_record(name):  # in PyTorch: tapegrad's is zero)
    _check(_run(tg, FORMS[name], True, "grad", inference=False),
           _run(torch, FORMS[name], True, "grad", inference=False))
