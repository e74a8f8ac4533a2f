"""Comparisons and logical ops: NumPy's values, bool tensors that never require grad,
broadcasting with PyTorch's shape error."""

import math

import numpy as np
import pytest

import tapegrad as tg

CMP = [(tg.eq, np.equal, "eq"), (tg.ne, np.not_equal, "ne"), (tg.lt, np.less, "lt"),
       (tg.le, np.less_equal, "le"), (tg.gt, np.greater, "gt"), (tg.ge, np.greater_equal, "ge")]
OPERATORS = [(lambda a, b: a == b, np.equal), (lambda a, b: a != b, np.not_equal),
             (lambda a, b: a < b, np.less), (lambda a, b: a <= b, np.less_equal),
             (lambda a, b: a > b, np.greater), (lambda a, b: a >= b, np.greater_equal)]
VALUES = np.array([-1.0, 0.0, -0.0, 0.5, 2.0, math.inf, -math.inf, math.nan])


def _check(out, expect):
    assert isinstance(out, tg.Tensor)
    assert out.dtype == np.bool_
    assert not out.requires_grad and out.grad_fn is None and out.is_leaf
    np.testing.assert_array_equal(out.numpy(), expect)


@pytest.mark.parametrize("f,ref,name", CMP, ids=[c[2] for c in CMP])
def test_comparison_values_and_no_grad(f, ref, name):
    x = tg.tensor(VALUES, requires_grad=True)
    y = tg.tensor(VALUES[::-1].copy(), requires_grad=True)
    _check(f(x, y), ref(VALUES, VALUES[::-1]))
    _check(f(x, 0.5), ref(VALUES, 0.5))
    _check(f(0.5, x), ref(0.5, VALUES))
    _check(f(x, VALUES[::-1]), ref(VALUES, VALUES[::-1]))  # an ndarray operand
    _check(getattr(x, name)(y), ref(VALUES, VALUES[::-1]))  # method form
    # 0-d (the Python-float fast path) against 0-d and arrays
    for v in (0.0, 0.5, math.nan):
        s = tg.tensor(v, requires_grad=True)
        _check(f(s, tg.tensor(0.5)), ref(v, 0.5))
        _check(f(s, x), ref(v, VALUES))


@pytest.mark.parametrize("k", range(len(OPERATORS)))
def test_operators(k):
    f, ref = OPERATORS[k]
    x = tg.tensor(VALUES, requires_grad=True)
    _check(f(x, 0.5), ref(VALUES, 0.5))
    _check(f(0.5, x), ref(0.5, VALUES))
    _check(f(x, tg.tensor(VALUES[::-1].copy())), ref(VALUES, VALUES[::-1]))


def test_comparisons_broadcast():
    a = np.arange(6.0).reshape(2, 3)
    b = np.array([1.0, 4.0, 2.0])
    c = np.array([[2.0], [4.0]])
    for f, ref, _ in CMP:
        _check(f(tg.tensor(a), tg.tensor(b)), ref(a, b))
        _check(f(tg.tensor(c), tg.tensor(b)), ref(c, b))
        _check(f(tg.tensor(2.0), tg.tensor(b)), ref(2.0, b))


def test_comparisons_under_grad_modes():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2  # has history
    _check(y > 3, [False, True])
    with tg.no_grad():
        _check(y > 3, [False, True])
    with tg.enable_grad():
        _check(tg.ge(y, x), [True, True])


def test_comparison_shape_mismatch_uses_pytorch_text():
    msg = r"^The size of tensor a \(3\) must match the size of tensor b \(2\) at non-singleton " \
          r"dimension 1$"
    for f, _, _ in CMP:
        with pytest.raises(RuntimeError, match=msg):
            f(tg.ones(2, 3), tg.ones(2))
        with pytest.raises(RuntimeError, match=msg):
            f(tg.ones(2, 3), np.ones(2))  # the ndarray operand gets the same message
    with pytest.raises(RuntimeError, match=msg):
        tg.ones(2, 3) < tg.ones(2)


def test_logical_ops():
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    ta, tb = tg.tensor(a), tg.tensor(b)
    _check(tg.logical_and(ta, tb), a & b)
    _check(tg.logical_or(ta, tb), a | b)
    _check(tg.logical_not(ta), ~a)
    _check(ta & tb, a & b)
    _check(ta | tb, a | b)
    _check(~ta, ~a)
    x = tg.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    _check((x > 0) & (x < 1), [False, True, False])
    _check(tg.logical_and(x, x > 0), [False, True, True])  # nonzero floats are true


def test_comparison_results_are_not_differentiable_but_usable_as_masks():
    x = tg.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    m = x > 0
    (tg.where(m, x * x, -x)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 1.0, 4.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        m.sum().backward()


def test_comparisons_match_torch(torch):
    t = torch.tensor(VALUES, requires_grad=True)
    x = tg.tensor(VALUES, requires_grad=True)
    for f, _, name in CMP:
        theirs = getattr(torch, name)(t, t.flip(0))
        mine = f(x, tg.tensor(VALUES[::-1].copy()))
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
        assert mine.requires_grad == theirs.requires_grad


def test_comparing_with_a_string_is_python_equality_as_in_pytorch():
    t = tg.tensor([1.0, 2.0])
    assert (t == "a") is False and (t != "a") is True
    with pytest.raises(TypeError, match="'<' not supported between instances of 'Tensor' and "
                                        "'str'"):
        t < "a"  # noqa: B015
