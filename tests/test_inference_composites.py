"""lerp, addcmul and addcdiv (one op in PyTorch, compositions here) over every mix of
inference tensors (requiring grad or not) and normal tensors (requiring grad or not), outside
inference mode, against PyTorch: its LerpBackward1/AddcmulBackward0/AddcdivBackward0 save an
operand only for the gradients that read it, so an inference operand raises 'Inference
tensors cannot be saved for backward' exactly where one of those requires grad."""

import itertools

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

KINDS = ["inference_rg", "inference", "normal", "normal_rg"]
OPS = {
    "lerp": lambda L, x, y, z: L.lerp(x, y, z),
    "addcmul": lambda L, x, y, z: L.addcmul(x, y, z, value=0.5),
    "addcdiv": lambda L, x, y, z: L.addcdiv(x, y, z, value=2),
    "Tensor.addcmul": lambda L, x, y, z: x.addcmul(y, z),
}


def _make(L, kind, k):
    v = np.array([0.3, 0.7, 1.4]) + k / 10
    if kind.startswith("inference"):
        with L.inference_mode():
            return L.tensor(v, requires_grad=kind.endswith("rg"))
    return L.tensor(v, requires_grad=kind.endswith("rg"))


def _run(L, op, kinds, scalar_weight=False):
    ts = [_make(L, kind, k) for k, kind in enumerate(kinds)]
    args = ts[:2] + [0.3] if scalar_weight else ts
    try:
        r = OPS[op](L, *args)
    except RuntimeError as e:
        return str(e)
    out = [r.detach().numpy().tolist(), r.requires_grad, r.is_inference()]
    if r.requires_grad:
        (r * r).sum().backward()
        out += [None if t.grad is None else t.grad.numpy() for t in ts]
    return out


def _check(got, want):
    if isinstance(want, str):
        assert got == want
        return
    assert not isinstance(got, str), got
    assert got[1:3] == want[1:3]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-14)
    assert len(got) == len(want)
    for g, w in zip(got[3:], want[3:]):
        assert (g is None) == (w is None)
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-13)


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("kinds", list(itertools.product(KINDS, repeat=3)),
                         ids=lambda k: "-".join(k))
def test_composite_saves_as_pytorch(op, kinds):
    _check(_run(tg, op, kinds), _run(torch, op, kinds))


@pytest.mark.parametrize("kinds", list(itertools.product(KINDS, repeat=2)),
                         ids=lambda k: "-".join(k))
def test_lerp_number_weight_saves_nothing(kinds):
    _check(_run(tg, "lerp", kinds + ("normal",), True),
           _run(torch, "lerp", kinds + ("normal",), True))
