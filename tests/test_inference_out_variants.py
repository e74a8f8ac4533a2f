"""Ops PyTorch computes through an out= variant, on an inference tensor requiring grad used
outside inference mode with grad on: PyTorch raises "<op>(): functions with out=... arguments
don't support automatic differentiation, but one of the arguments requires grad." (abs and
what calls it, hardtanh/relu6, logsumexp, a number to a tensor power, var/std over every
dimension), while the same ops per dimension, var_mean/std_mean, exp2 and other ops of
inference tensors only record nothing. Inside the mode, under no_grad or without requires_grad
none raises."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

FORMS = {
    "abs": lambda L, n: n.abs(),
    "L.abs": lambda L, n: L.abs(n),
    "absolute": lambda L, n: L.absolute(n),
    "softsign": lambda L, n: L.nn.functional.softsign(n),
    "hardtanh": lambda L, n: L.nn.functional.hardtanh(n),
    "hardtanh(-.5,.5)": lambda L, n: L.nn.functional.hardtanh(n, -0.5, 0.5),
    "relu6": lambda L, n: L.nn.functional.relu6(n),
    "Hardtanh": lambda L, n: L.nn.Hardtanh()(n),
    "logsumexp(0)": lambda L, n: n.logsumexp(0),
    "logsumexp(1, keepdim)": lambda L, n: L.logsumexp(n, 1, keepdim=True),
    "logsumexp((0, 1))": lambda L, n: n.logsumexp((0, 1)),
    "2**n": lambda L, n: 2 ** n,
    "pow(2.5, n)": lambda L, n: L.pow(2.5, n),
    "exp2": lambda L, n: L.exp2(n),
    "var()": lambda L, n: n.var(),
    "std()": lambda L, n: n.std(),
    "var((0, 1))": lambda L, n: n.var((0, 1)),
    "var(None, keepdim)": lambda L, n: n.var(None, keepdim=True),
    "std(correction=0)": lambda L, n: L.std(n, correction=0),
    "flat.var(0)": lambda L, n: L.var(n.reshape(-1), 0),
    "var(0)": lambda L, n: n.var(0),
    "std(-1)": lambda L, n: n.std(-1),
    "var_mean": lambda L, n: L.var_mean(n)[0],
    "std_mean": lambda L, n: L.std_mean(n, 0)[1],
    "nan_to_num": lambda L, n: n.nan_to_num(),
    "deg2rad": lambda L, n: n.deg2rad(),
    "rad2deg": lambda L, n: L.rad2deg(n),
    "cummax": lambda L, n: n.cummax(1)[0],
    "cummin": lambda L, n: L.cummin(n, 0)[0],
    "sum": lambda L, n: n.sum(),
    "sin": lambda L, n: n.sin(),
    "n**2": lambda L, n: n ** 2,
}
MODES = ["outside", "inside", "no_grad", "no_requires_grad"]


def _run(L, f, mode):
    base = np.array([[0.7, -0.3, 0.9], [-0.6, 0.8, 0.1]])
    with L.inference_mode():
        n = L.tensor(base, requires_grad=mode != "no_requires_grad")
    try:
        if mode == "inside":
            with L.inference_mode():
                r = f(L, n)
        elif mode == "no_grad":
            with L.no_grad():
                r = f(L, n)
        else:
            r = f(L, n)
    except RuntimeError as e:
        return str(e)
    return r.detach().numpy().tolist(), r.requires_grad, r.is_inference(), r.grad_fn is None


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("mode", MODES)
def test_out_variants_as_pytorch(form, mode):
    want = _run(torch, FORMS[form], mode)
    got = _run(tg, FORMS[form], mode)
    if isinstance(want, str):
        assert got == want
    else:
        assert not isinstance(got, str), got
        assert got[1:] == want[1:]
        np.testing.assert_allclose(got[0], want[0], rtol=1e-14)


def test_normal_tensors_still_record():
    x = tg.tensor([[0.7, -0.3], [0.2, 0.5]], requires_grad=True)
    (x.abs().sum() + x.var() + x.logsumexp((0, 1)) + (2 ** x).sum()).backward()
    t = torch.tensor([[0.7, -0.3], [0.2, 0.5]], dtype=torch.float64, requires_grad=True)
    (t.abs().sum() + t.var() + t.logsumexp((0, 1)) + (2 ** t).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-14)
