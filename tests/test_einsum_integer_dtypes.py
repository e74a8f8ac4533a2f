"""einsum of integer and bool operands as PyTorch's: letters only one operand has (and the output
lacks) are summed first in int64, so counts do not wrap in int8/uint8; bool operands contracted
with each other are refused as by its bmm. NumPy's np.einsum on such tensors stays NumPy's."""

import numpy as np
import pytest

import tapegrad as tg

EQUATIONS = [("ij->i", [(2, 3)]), ("ii->", [(2, 2)]), ("ij->ji", [(2, 3)]), ("ii->i", [(2, 2)]),
             ("ij->", [(2, 3)]), ("bij->bj", [(2, 2, 3)]), ("ij,ij->i", [(2, 3), (2, 3)]),
             ("ij,jk->ik", [(2, 3), (3, 2)]), ("ij,ij->ij", [(2, 3), (2, 3)]),
             ("ij,->ij", [(2, 3), ()]), ("ij,k->ijk", [(2, 3), (4,)]), ("i,i->", [(3,), (3,)]),
             ("ij,k->i", [(2, 3), (4,)]), ("ij,k->ik", [(2, 3), (4,)]),
             ("ij,kl->ik", [(2, 3), (4, 5)]), ("ii,j->j", [(2, 2), (3,)]),
             ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)])]
DTYPES = ["bool", "int8", "uint8", "int32", "int64"]


def _run(L, dtype, equation, shapes):
    fill = 1 if dtype == "bool" else 100
    ops = [L.full(s, fill, dtype=getattr(L, dtype)) for s in shapes]
    try:
        r = L.einsum(equation, *ops)
    except (NotImplementedError, RuntimeError) as e:
        return type(e).__name__, str(e)
    return str(r.dtype).split(".")[-1], r.tolist()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("equation,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_integer_einsum_as_torch(dtype, equation, shapes):
    torch = pytest.importorskip("torch")
    assert _run(tg, dtype, equation, shapes) == _run(torch, dtype, equation, shapes)


def test_private_sums_count_in_int64():
    x = tg.full((2, 3), 100, dtype=tg.int8)
    r = tg.einsum("ij->i", x)
    assert r.dtype == tg.int64 and r.tolist() == [300, 300]
    assert tg.einsum("ii->", tg.ones(2, 2, dtype=tg.bool)).tolist() == 2
    with pytest.raises(NotImplementedError, match="\"bmm\" not implemented for 'Bool'"):
        tg.einsum("ij,jk->ik", tg.ones(2, 3, dtype=tg.bool), tg.ones(3, 2, dtype=tg.bool))


def test_numpy_einsum_on_tensors_keeps_numpys_integer_dtypes():
    a = tg.full((2, 3), 100, dtype=tg.int8)
    b = tg.ones(2, 3, dtype=tg.bool)
    for args, np_args in [(("ij->i", a), ("ij->i", a.numpy())),
                          ((a, [0, 1], a, [0, 1], [0]), (a.numpy(), [0, 1], a.numpy(), [0, 1], [0])),
                          (("ij,kj->ik", b, b), ("ij,kj->ik", b.numpy(), b.numpy()))]:
        got, want = np.einsum(*args), np.einsum(*np_args)
        assert np.asarray(got).dtype == want.dtype
        np.testing.assert_array_equal(np.asarray(got), want)
    x = tg.ones(2, 3, dtype=tg.float64, requires_grad=True)
    np.einsum("ij->i", x).sum().backward()  # floating operands still go through tg.einsum
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
