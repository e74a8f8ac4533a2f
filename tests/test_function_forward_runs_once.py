"""A custom autograd.Function's forward runs once per call of jvp/jacfwd and per apply in a
forward_ad dual level, as in PyTorch: its side effects (a counter here) do not repeat."""

import pytest

import tapegrad as tg


def _counts(L):
    calls = []

    class Double(L.autograd.Function):
        generate_vmap_rule = True  # (torch.func.jacfwd vmaps over the directions)

        @staticmethod
        def forward(x):
            calls.append(1)
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, g):
            return g * 2

        @staticmethod
        def jvp(ctx, t):
            return t * 2

    x, t = L.tensor([1.0, 2.0], dtype=L.float64), L.tensor([1.0, -1.0], dtype=L.float64)
    out = {}
    _, tan = L.func.jvp(Double.apply, (x,), (t,))
    out["jvp"], out["jvp_tangent"] = len(calls), tan.tolist()
    del calls[:]
    out["jacfwd_value"] = L.func.jacfwd(Double.apply)(x).tolist()
    out["jacfwd"] = len(calls)
    del calls[:]
    fwAD = L.autograd.forward_ad
    with fwAD.dual_level():
        y = Double.apply(fwAD.make_dual(x, t))
        out["dual_tangent"] = fwAD.unpack_dual(y).tangent.tolist()
    out["dual"] = len(calls)
    return out


def test_forward_runs_once_as_torch():
    torch = pytest.importorskip("torch")
    got, want = _counts(tg), _counts(torch)
    assert got == want
    assert got["jvp"] == got["jacfwd"] == got["dual"] == 1
