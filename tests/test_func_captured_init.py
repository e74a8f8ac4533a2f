"""nn.init on a tensor the function captured, inside grad/jvp, raises PyTorch's captured-tensor
error naming the op PyTorch's init runs (it silently overwrote the tensor); on a tensor the
function made it runs, and eye_ (an out= op PyTorch does not check) runs."""

import re

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

INITS = {
    "zeros_": lambda I, c: I.zeros_(c),
    "ones_": lambda I, c: I.ones_(c),
    "constant_": lambda I, c: I.constant_(c, 2.0),
    "uniform_": lambda I, c: I.uniform_(c),
    "normal_": lambda I, c: I.normal_(c),
    "xavier_uniform_": lambda I, c: I.xavier_uniform_(c),
    "kaiming_normal_": lambda I, c: I.kaiming_normal_(c),
    "trunc_normal_": lambda I, c: I.trunc_normal_(c),
    "orthogonal_": lambda I, c: I.orthogonal_(c),
    "sparse_": lambda I, c: I.sparse_(c, 0.5),
    "dirac_": lambda I, c: I.dirac_(c.reshape(3, 3, 1)),
    "eye_": lambda I, c: I.eye_(c),
}


def _outcome(L, init):
    c = L.ones(3, 3)

    def f(x):
        init(L.nn.init, c)
        return (x * x).sum()

    try:
        L.func.grad(f)(L.ones(3))
    except RuntimeError as e:
        assert c.tolist() == [[1.0] * 3] * 3
        return re.search(r"in-place operation \((\S+)\)", str(e)).group(1)
    return "ran"


@pytest.mark.parametrize("name", list(INITS))
def test_captured_init_as_torch(name):
    assert _outcome(tg, INITS[name]) == _outcome(torch, INITS[name])


@pytest.mark.parametrize("name", list(INITS))
def test_init_of_a_tensor_made_inside_runs(name):
    def f(x):
        w = tg.empty(3, 3)
        INITS[name](tg.nn.init, w)
        return (x * x).sum()

    assert tg.func.grad(f)(tg.ones(3)).tolist() == [2.0, 2.0, 2.0]
