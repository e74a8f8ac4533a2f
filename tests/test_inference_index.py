"""Index tensors made in inference mode, used outside it, against PyTorch: its indexing
backwards save the index, so indexing a tensor requiring grad with an inference index raises
'Inference tensors cannot be saved for backward' (x[:, i], x[i], x[i, j], a mask,
index_select, gather, take), an index op of inference tensors only records nothing, and a
normal index (a list, a normal tensor, a 0-d integer tensor) records as before."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = {
    "x[:, i]": lambda L, x, i, j, mask, s: x[:, i],
    "x[i]": lambda L, x, i, j, mask, s: x[i],
    "x[i, j]": lambda L, x, i, j, mask, s: x[i, j],
    "x[j, i]": lambda L, x, i, j, mask, s: x[j, i],
    "x[i, :2]": lambda L, x, i, j, mask, s: x[i, :2],
    "x[..., i]": lambda L, x, i, j, mask, s: x[..., i],
    "x[mask]": lambda L, x, i, j, mask, s: x[mask],
    "x[j]": lambda L, x, i, j, mask, s: x[j],
    "x[[0, 2]]": lambda L, x, i, j, mask, s: x[[0, 2]],
    "x[i, [0, 1]]": lambda L, x, i, j, mask, s: x[i, [0, 1]],
    "x[1:, i]": lambda L, x, i, j, mask, s: x[1:, i],
    "x[None, i]": lambda L, x, i, j, mask, s: x[None, i],
    "index_select": lambda L, x, i, j, mask, s: L.index_select(x, 0, i),
    "index_select_1": lambda L, x, i, j, mask, s: x.index_select(1, i),
    "index_select_s": lambda L, x, i, j, mask, s: x.index_select(0, s),
    "index_select_j": lambda L, x, i, j, mask, s: x.index_select(0, j),
    "gather": lambda L, x, i, j, mask, s: x.gather(0, i.expand(3, 2)),
    "gather_j": lambda L, x, i, j, mask, s: L.gather(x, 1, j.expand(3, 2)),
    "take": lambda L, x, i, j, mask, s: L.take(x, i),
}
X = {"normal": "normal", "inference": "inference"}


def _run(L, f, x_kind, requires_grad):
    base = np.arange(1.0, 10.0).reshape(3, 3) / 4
    with L.inference_mode():
        i = L.tensor([0, 2])
        mask = L.tensor([True, False, True])
        s = L.tensor(1)
        xi = L.tensor(base, requires_grad=requires_grad)
    j = L.tensor([2, 1])
    x = xi if x_kind == "inference" else L.tensor(base, requires_grad=requires_grad)
    try:
        r = f(L, x, i, j, mask, s)
    except RuntimeError as e:
        return ("raise", str(e))
    out = [r.detach().numpy().copy(), r.requires_grad, r.is_inference()]
    if r.requires_grad:
        (g,) = L.autograd.grad((r * r).sum(), x)
        out.append(g.numpy().copy())
    return out


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("x_kind", list(X))
@pytest.mark.parametrize("requires_grad", [True, False])
def test_inference_index_as_pytorch(name, x_kind, requires_grad):
    want = _run(torch, CASES[name], x_kind, requires_grad)
    got = _run(tg, CASES[name], x_kind, requires_grad)
    if isinstance(want, tuple):
        assert got == want
        return
    assert not isinstance(got, tuple), got
    assert (got[1], got[2], len(got)) == (want[1], want[2], len(want))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-15)
    if len(want) == 4:  # the gradient
        np.testing.assert_allclose(got[3], want[3], rtol=1e-15)


def test_inside_inference_mode_nothing_raises():
    with tg.inference_mode():
        i = tg.tensor([0, 2])
    x = tg.ones(3, 3, requires_grad=True)
    with tg.inference_mode():
        r = x[:, i]
    assert not r.requires_grad and r.is_inference()
    with tg.no_grad():
        assert not tg.index_select(x, 0, i).requires_grad



@pytest.mark.parametrize("key", ["array_first", "array_last", "array_only"])
def test_array_keys_with_an_inference_index(key):
    def run(L):
        with L.inference_mode():
            i = L.tensor([0, 2])
            x = L.ones(3, 3, requires_grad=True)
        k = {"array_first": (np.array([0, 1]), i), "array_last": (i, np.array([0, 1])),
             "array_only": (slice(None), np.array([0, 1]))}[key]
        try:
            r = x[k]
        except RuntimeError as e:
            return str(e)
        return r.requires_grad, r.is_inference(), r.detach().numpy().tolist()

    assert run(tg) == run(torch)
