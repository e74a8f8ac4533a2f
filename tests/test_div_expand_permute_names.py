"""x / c is PyTorch's DivBackward0 (saving the divisor), broadcast_to is a new view
(ExpandBackward0) even to the tensor's own shape, and permute() needs its dims."""

import numpy as np
import pytest

import tapegrad as tg


def _leaf(lib, dtype, scalar=False):
    return lib.tensor(2.5 if scalar else [1.0, -2.0, 3.0], dtype=dtype, requires_grad=True)


@pytest.mark.parametrize("scalar", [False, True])
@pytest.mark.parametrize("make", [lambda x: x / 2, lambda x: x / 0.75, lambda x: (x * 1) / 3,
                                  lambda x: x.div(4), lambda x: x.true_divide(-2.0),
                                  lambda x: x / 0.0])
def test_division_by_a_number_is_div_backward(make, scalar):
    torch = pytest.importorskip("torch")
    for dtype in ("float32", "float64"):
        got, want = make(_leaf(tg, getattr(tg, dtype), scalar)), \
            make(_leaf(torch, getattr(torch, dtype), scalar))
        assert got.grad_fn.name() == want.grad_fn.name() == "DivBackward0"
        assert got.grad_fn._saved_self is None and want.grad_fn._saved_self is None
        assert float(got.grad_fn._saved_other) == float(want.grad_fn._saved_other)
        assert len(got.grad_fn.next_functions) == len(want.grad_fn.next_functions) == 2


def test_division_gradient_unchanged():
    for x in (tg.tensor([1.0, -2.0, 3.0], requires_grad=True), tg.tensor(2.0, requires_grad=True)):
        (x / 4).sum().backward()
        np.testing.assert_allclose(np.asarray(x.grad.numpy()), np.full(x.shape, 0.25))
        assert tg.autograd.gradcheck(lambda a: a / 3.0, (x.detach().requires_grad_(),))
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert (x * 0.5).grad_fn.name() == "MulBackward0"
    with tg.no_grad():
        assert (x / 2).grad_fn is None


@pytest.mark.parametrize("call", [lambda lib, v: lib.broadcast_to(v, v.shape),
                                  lambda lib, v: v.broadcast_to(v.shape),
                                  lambda lib, v: v.broadcast_to((2, 3)),
                                  lambda lib, v: lib.broadcast_to(v, (-1,))])
def test_broadcast_to_is_a_new_view(call):
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v = x * 1
        b = call(lib, v)
        assert b is not v and b.grad_fn.name() == "ExpandBackward0"
        assert b._base is v
        b.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full(3, b.numel() / 3))
        with lib.no_grad():
            c = call(lib, x)
        assert c is not x and c._base is x


def test_permute_without_dims():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        s, x = lib.tensor(1.0), lib.ones(2, 3)
        for f in (lambda: s.permute(), lambda: x.permute(), lambda: lib.permute(s)):
            with pytest.raises(TypeError, match='permute\\(\\) missing 1 required positional '
                                                'arguments: "dims"'):
                f()
        assert s.permute(()).shape == s.permute([]).shape == lib.permute(s, ()).shape == ()
        assert x.permute(1, 0).shape == (3, 2)
