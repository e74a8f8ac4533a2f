"""A custom autograd.Function's forward runs once per call of jvp/jacfwd and per apply in a
forward_ad dual level, as in PyTorch: its side effects (a counter here) do not repeat."""

import pytest

import tapegrad as tg
from tests.doubling_function import doubling_function


def _counts(L):
    calls = []
    # (jacfwd vmaps over the directions)
    Double = doubling_function(L, lambda x: calls.append(1), jvp=True, generate_vmap_rule=True)
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
