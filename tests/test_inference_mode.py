"""Inference tensors: never recorded, refused where autograd needs them."""

import numpy as np
import pytest

import tapegrad as tg

SAVE_MSG = ("Inference tensors cannot be saved for backward. Please do not use Tensors created "
            "in inference mode in computation tracked by autograd. To work around this, you can "
            "make a clone to get a normal tensor and use it in autograd, or use "
            "`torch.no_grad()` instead of `torch.inference_mode()`.")
INPLACE_MSG = ("Inplace update to inference tensor outside InferenceMode is not allowed.You can "
               "make a clone to get a normal tensor before doing inplace update.See "
               "https://github.com/pytorch/rfcs/pull/17 for more details.")
RG_MSG = "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed."


def test_flags():
    assert not tg.is_inference_mode_enabled()
    with tg.inference_mode():
        assert tg.is_inference_mode_enabled() and not tg.is_grad_enabled()
        with tg.inference_mode(False):
            assert not tg.is_inference_mode_enabled() and tg.is_grad_enabled()

    @tg.inference_mode()
    def f():
        return tg.is_inference_mode_enabled()

    assert f() and not tg.is_inference_mode_enabled()


def test_results_are_inference_tensors():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.inference_mode():
        y = x * 2
        z = tg.ones(2)
        s = (x.exp() + z).sum()
    for t in (y, z, s):
        assert t.is_inference() and not t.requires_grad and t.grad_fn is None
    assert not x.is_inference()
    with tg.no_grad():
        assert not (x * 2).is_inference()
    assert not tg.ones(2).is_inference()


def test_inference_tensor_saved_for_backward_raises_at_the_op():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.inference_mode():
        y = tg.tensor([3.0, 4.0])
        m = tg.ones(2, 2)
    with pytest.raises(RuntimeError) as e:
        y * x  # raised at the op, not at backward
    assert str(e.value) == SAVE_MSG
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        m @ x
    (y + x).sum().backward()  # add saves nothing
    assert x.grad.tolist() == [1.0, 1.0]
    c = y.clone()
    assert not c.is_inference()
    x.grad = None
    (c * x).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


def test_inplace_outside_inference_mode():
    with tg.inference_mode():
        w = tg.ones(2)
        w.add_(1)  # allowed inside
        w[0] = 5.0
    assert w.tolist() == [5.0, 2.0]
    for op in (lambda t: t.add_(1), lambda t: t.zero_(), lambda t: t.__setitem__(0, 1.0)):
        with pytest.raises(RuntimeError) as e:
            op(w)
        assert str(e.value) == INPLACE_MSG
    assert w.tolist() == [5.0, 2.0]


def test_requires_grad_outside_inference_mode():
    with tg.inference_mode():
        it = tg.ones(2)
    with pytest.raises(RuntimeError) as e:
        it.requires_grad_()
    assert str(e.value) == RG_MSG


def test_matches_torch(torch):
    for lib in (tg, torch):
        x = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        with lib.inference_mode():
            y = x * 2
        assert y.is_inference() and not y.requires_grad
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
            y * x
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside "
                                               "InferenceMode is not allowed"):
            y.add_(1)


def test_enable_grad_inside_inference_mode_records_nothing():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    s = tg.tensor(2.0, requires_grad=True)
    with tg.inference_mode():
        with tg.enable_grad():
            assert tg.is_grad_enabled()
            for y in (x * 2, s * s, x @ x, x.sin()):
                assert not y.requires_grad and y.grad_fn is None and y.is_inference()


def test_views_are_inference_tensors_exactly_when_their_base_is():
    x = tg.ones(3)
    with tg.inference_mode():
        c = tg.ones(2, 2)
        v = x[:1]  # a view of a normal tensor, made in inference mode
    assert not v.is_inference()
    for view in (c[:1], c.t(), c[0], c.view(4)):
        assert view.is_inference()
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside "
                                           "InferenceMode"):
        c[:1].add_(1.0)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        tg.ones(2, 2, requires_grad=True) @ c.t()
