"""scatter(..., reduce='add'|'multiply') of inputs requiring grad: PyTorch computes the values
and records a node without a derivative, whose backward raises 'derivative for aten::scatter
is not implemented' (aten::scatter_ for the in-place form)."""

import itertools
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

INDEX = [[0, 1, 0], [2, 2, 1]]


def _run(lib, reduce, number, inplace, grads, no_grad):
    rng = np.random.default_rng(7)
    x = lib.tensor(rng.standard_normal((3, 3)), requires_grad="x" in grads)
    s = lib.tensor(rng.standard_normal((2, 3)), requires_grad="s" in grads)
    src = 1.5 if number else s
    i = lib.tensor(INDEX)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with (lib.no_grad() if no_grad else lib.enable_grad()):
            y = (x * 1).scatter_(0, i, src, reduce=reduce) if inplace else \
                x.scatter(0, i, src, reduce=reduce)
    leaves = [t for t in (x, s) if t.requires_grad and not (number and t is s)]
    out = (y.detach().numpy().copy(), y.requires_grad)
    if not y.requires_grad:
        return out, None
    try:
        lib.autograd.grad(y.sum(), leaves)
    except RuntimeError as e:
        return out, str(e)
    return out, "computed"


@pytest.mark.parametrize("reduce,number,inplace,grads,no_grad", list(itertools.product(
    ["add", "multiply"], [False, True], [False, True], ["x", "s", "xs", ""], [False, True])))
def test_reduce_argument_backward_as_pytorch(reduce, number, inplace, grads, no_grad):
    (vt, rt), et = _run(torch, reduce, number, inplace, grads, no_grad)
    (vg, rg), eg = _run(tg, reduce, number, inplace, grads, no_grad)
    np.testing.assert_allclose(vg, vt, rtol=1e-15)
    assert rg == rt
    assert eg == et
