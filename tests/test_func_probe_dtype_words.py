"""Refusals of integer primals, tangents and outputs by ``tg.func``'s transforms and
``forward_ad.make_dual`` name the dtype as PyTorch prints it (``torch.int64``, not NumPy's
``int64``), word for word as torch.func's messages."""

import numpy as np
import pytest

import tapegrad as tg

CALLS = {
    "jvp_int_primal": lambda L, x, i: L.func.jvp(lambda a: a * 2, (i,), (i,)),
    "jvp_int_tangent": lambda L, x, i: L.func.jvp(lambda a: a * 2, (x,), (i,)),
    "jacfwd_int_primal": lambda L, x, i: L.func.jacfwd(lambda a: a * 2)(i),
    "vjp_int_output": lambda L, x, i: L.func.vjp(lambda a: (a > 0).long(), x),
    "jacrev_int_output": lambda L, x, i: L.func.jacrev(lambda a: (a > 0).long())(x),
    "linearize_tangent_dtype": lambda L, x, i: L.func.linearize(lambda a: a * 2, x)[1](
        x.float()),
    "make_dual_int": lambda L, x, i: _make_dual(L, i),
}
WORDS = {
    "jvp_int_primal": "Expected primal to be floating point or complex, but got: torch.int64",
    "jvp_int_tangent": "Expected tangent to be floating point or complex, but got: torch.int64",
    "jacfwd_int_primal": "Expected primal to be floating point or complex, but got: torch.int64",
    "vjp_int_output": "vjp(f, ...): All outputs of f must be floating-point or complex Tensors, "
                      "got Tensor with dtype torch.int64",
    "jacrev_int_output": "vjp(f, ...): All outputs of f must be floating-point or complex "
                         "Tensors, got Tensor with dtype torch.int64",
    "linearize_tangent_dtype": "tangent:0 with dtype torch.float32 in flattened pytree doesn't "
                               "match the dtype torch.float64 of the corresponding primal.",
    "make_dual_int": "Expected primal to be floating point or complex, but got: torch.int64",
}


def _make_dual(L, i):
    with L.autograd.forward_ad.dual_level():
        L.autograd.forward_ad.make_dual(i, i)


def _refusal(L, case):
    x = L.tensor(np.arange(1.0, 4.0), dtype=L.float64)
    i = L.tensor([1, 2, 3])
    with pytest.raises(Exception) as info:
        CALLS[case](L, x, i)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize("case", sorted(CALLS))
def test_dtype_named_as_pytorch_prints_it(case):
    assert _refusal(tg, case)[1] == WORDS[case]


@pytest.mark.parametrize("case", sorted(CALLS))
def test_refusal_matches_torch(case):
    torch = pytest.importorskip("torch")
    assert _refusal(tg, case) == _refusal(torch, case)
