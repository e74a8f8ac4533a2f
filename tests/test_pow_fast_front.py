"""``x ** c`` for a float array and one of PyTorch's own exponents takes a short path in front
of the generic op: same values, same gradients (first and second order), same refusals and
the same fall-back for everything else (views, 0-d tensors, other exponents, integers)."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops import elementwise as E

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("c", [2, 3, -1, -2, 2.0, 3.0, -1.0, -2.0])
def test_matches_torch(dtype, c):
    v = np.random.default_rng(0).uniform(0.5, 2.0, (4, 5)).astype(dtype)
    x = tg.tensor(v, requires_grad=True)
    tx = torch.tensor(v, requires_grad=True)
    y, ty = x ** c, tx ** c
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    g = np.random.default_rng(1).standard_normal((4, 5)).astype(dtype)
    y.backward(tg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5)


def test_gradgradcheck():
    x = tg.tensor(np.random.default_rng(2).uniform(0.5, 2.0, (3, 4)), requires_grad=True)
    for c in (2, 3, -1, -2):
        assert tg.autograd.gradcheck(lambda t: t ** c, (x,))
        assert tg.autograd.gradgradcheck(lambda t: t ** c, (x,))


def test_fast_front_skips_generic_op(monkeypatch):
    calls = []
    generic = E.pow
    monkeypatch.setattr(E, "pow", lambda a, b: calls.append(b) or generic(a, b))
    x = tg.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    y = x ** 2
    assert calls == []
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.arange(1.0, 7.0).reshape(2, 3))
    with tg.no_grad():
        z = x ** 3
    assert calls == [] and not z.requires_grad
    for other in (0.5, 4, True):  # not one of PyTorch's powers: the generic op
        x ** other
    x[0] ** 2  # a view
    tg.tensor(2.0, requires_grad=True) ** 2  # 0-d
    tg.tensor([1, 2]) ** 2  # integers
    assert calls == [0.5, 4, True, 2, 2, 2]


def test_modes_and_refusals():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.inference_mode():
        y = x ** 2
    assert y.is_inference() and not y.requires_grad
    with tg.inference_mode():
        w = tg.tensor([1.0, 2.0], requires_grad=True)
    for r in (E.pow(w, 2), w ** 2):  # inference tensors only: not recorded (as PyTorch's)
        assert not r.requires_grad and r.grad_fn is None and r.tolist() == [1.0, 4.0]
    y = x ** 2
    with tg.no_grad():
        x.mul_(2.0)  # the square saved its input: changed in place, backward refuses
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_other_dtypes_with_the_four_powers_take_the_generic_op(monkeypatch):
    # (the power is looked up before the array's dtype: complex, integer and bool arrays
    # with 2, 3, -1, -2 still reach the generic op and PyTorch's values)
    calls = []
    generic = E.pow
    monkeypatch.setattr(E, "pow", lambda a, b: calls.append(b) or generic(a, b))
    cases = [(np.array([1 + 2j, -0.5j]), 2), (np.array([1 + 2j, 3.0]), -1),
             (np.array([2, -3]), 3), (np.array([2, 3]), 2.0), (np.array([True, False]), 2)]
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # (tapegrad's default: an integer ** 2.0)
    try:
        expected = [torch.tensor(v) ** c for v, c in cases]
    finally:
        torch.set_default_dtype(prev)
    for (v, c), ty in zip(cases, expected):
        y = tg.tensor(v) ** c
        assert str(y.dtype) == str(ty.dtype).split(".")[-1]
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12)
    assert calls == [c for _, c in cases]
