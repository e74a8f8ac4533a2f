"""``linalg.vector_norm`` with an ``ord`` that is not a number: PyTorch's TypeError, whose words
name the argument's position only when it was passed positionally."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _outcome(f):
    try:
        return f()
    except TypeError as e:
        return str(e)


@pytest.mark.parametrize("ord", ["fro", "nuc", [2], None, (1,)])
def test_non_number_ord_as_torch(ord):
    x, t = tg.ones(3), torch.ones(3)
    for call in (lambda lib, v: lib.linalg.vector_norm(v, ord=ord),
                 lambda lib, v: lib.linalg.vector_norm(v, ord),
                 lambda lib, v: lib.linalg.vector_norm(v, ord, 0),
                 lambda lib, v: lib.linalg.vector_norm(v, ord=ord, dim=0)):
        assert _outcome(lambda: call(tg, x)) == _outcome(lambda: call(torch, t))


def test_number_ords_still_compute():
    x = tg.tensor([3.0, -4.0, 1.0], requires_grad=True)
    t = torch.tensor([3.0, -4.0, 1.0], dtype=torch.float64, requires_grad=True)
    for ord in (2, 1.5, np.float64(3), float("inf"), True):
        y, u = tg.linalg.vector_norm(x, ord=ord), torch.linalg.vector_norm(t, ord=ord)
        assert y.item() == pytest.approx(u.item())
    tg.linalg.vector_norm(x, 3).backward()
    torch.linalg.vector_norm(t, 3).backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
