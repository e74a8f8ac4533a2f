"""A Python int that no 64-bit number holds, as the operand of an arithmetic operator or a
comparison, raises PyTorch's OverflowError (its words for a positive and a negative one)."""

import operator

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
       operator.lt, operator.eq, operator.ge, lambda x, v: v + x, lambda x, v: v - x,
       lambda x, v: v * x, lambda x, v: v / x]
VALUES = [2 ** 70, 2 ** 64, -2 ** 70, -2 ** 63 - 1]


def _error(f):
    try:
        f()
    except Exception as e:  # (the outcome compared: type and words)
        return type(e), str(e)
    return None


@pytest.mark.parametrize("dtype,requires_grad", [
    ("float32", False), ("float32", True), ("float64", False), ("float64", True),
    ("int64", False), ("int32", False), ("uint8", False)])
@pytest.mark.parametrize("shape", [(3,), ()])
def test_big_int_operand_raises_as_torch(dtype, shape, requires_grad):
    x = tg.ones(shape, dtype=getattr(tg, dtype), requires_grad=requires_grad)
    t = torch.ones(shape, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    for op in OPS:
        for v in VALUES:
            expected = _error(lambda: op(t, v))
            assert expected is not None and expected[0] is OverflowError
            assert _error(lambda: op(x, v)) == expected, (dtype, shape, op, v)


def test_ints_that_fit_still_compute():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    for v in [2 ** 63, 2 ** 64 - 1, -2 ** 63]:
        y, u = (x * v + v).sum(), (t * v + v).sum()
        assert y.item() == pytest.approx(u.item())
        y.backward()
        u.backward()
    assert x.grad.tolist() == pytest.approx(t.grad.tolist())
    s = tg.tensor(1.5, requires_grad=True)
    assert (s + 2 ** 63).item() == 1.5 + 2 ** 63
