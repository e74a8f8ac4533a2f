"""``einsum`` and ``linalg.multi_dot`` of operands of different dtypes with an integer among
them: PyTorch's errors where it contracts through ``bmm`` (a pair sharing a summed index) and
its promotion where it multiplies (int64 with float32 is float32); mixed float32/float64 is
computed in float64 (docs/differences_from_pytorch.md)."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import gradcheck

torch = pytest.importorskip("torch")

CASES = [("i,i->i", "int64 float32"), ("i,j->ij", "int64 float32"), ("i,i->", "int64 float32"),
         ("i,j->", "int64 float32"), ("i,ij,j->", "float32 float32 int64"),
         ("i,ij,j->", "int64 float32 float32"), ("i,i,i->i", "int64 float32 int64"),
         ("i,i->i", "int64 int32"), ("i,i->", "int32 int64"), ("ij,jk->ik", "float64 int64"),
         ("ij,jk->ik", "float32 float32")]


def _run(lib, eq, dtypes):
    ops = [lib.arange(1, 1 + 3 ** len(s), dtype=getattr(lib, d)).reshape((3,) * len(s))
           for s, d in zip(eq.split("->")[0].split(","), dtypes.split())]
    try:
        r = lib.einsum(eq, *ops)
    except RuntimeError as e:
        return str(e)
    return str(r.dtype).replace("torch.", ""), np.asarray(r).tolist()


@pytest.mark.parametrize("eq,dtypes", CASES)
def test_einsum_mixed_dtypes_as_torch(eq, dtypes):
    assert _run(tg, eq, dtypes) == _run(torch, eq, dtypes)


@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("float64", "int32"),
                                    ("int32", "int64"), ("float32", "float32", "int64")])
def test_multi_dot_mixed_dtypes_as_torch(dtypes):
    words = []
    for lib in (tg, torch):
        ops = [lib.ones(2, 2, dtype=getattr(lib, d)) for d in dtypes]
        with pytest.raises(RuntimeError) as e:
            lib.linalg.multi_dot(ops)
        words.append(str(e.value))
    assert words[0] == words[1]


def test_promoted_einsum_gradient():
    a = tg.tensor([1, 2, 3])
    x = tg.tensor([0.5, -1.0, 2.0], dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda v: tg.einsum("i,j->ij", a, v), (x,))
    y = tg.tensor([0.5, -1.0, 2.0], dtype=tg.float32, requires_grad=True)
    t = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    tg.einsum("i,i->i", a, y).sum().backward()
    torch.einsum("i,i->i", torch.tensor([1, 2, 3]), t).sum().backward()
    assert y.grad.dtype == tg.float32
    np.testing.assert_allclose(y.grad.numpy(), t.grad.numpy())
