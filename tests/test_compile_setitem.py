"""``x[key] = value`` under ``no_grad`` compiled: on arguments, captured tensors and tensors
made inside, with slices, integers, index tensors and boolean masks, held to eager's values,
gradients and side effects over new inputs and after guards fail."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

R = np.random.default_rng(21)


def _np(t):
    return np.asarray(t.detach().numpy())


def _twins(make, inputs, programs=1):
    """``make()`` -> (fn, state tensors); one copy runs eagerly, one compiled (each on its own
    copy of the inputs: fn writes them); outputs, inputs, states and .grad must agree."""
    fe, se = make()
    fc, sc = make()
    step = tg.compile(fc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager fails the test
        for v in inputs:
            xe, xc = tg.tensor(v), tg.tensor(v)
            for a, b in zip(fe(xe), step(xc)):
                np.testing.assert_allclose(_np(b), _np(a), rtol=1e-12)
            np.testing.assert_array_equal(_np(xc), _np(xe))
            for a, b in zip(se, sc):
                np.testing.assert_allclose(_np(b), _np(a), rtol=1e-12)
                if a.grad is not None:
                    np.testing.assert_allclose(_np(b.grad), _np(a.grad), rtol=1e-12)
    assert step._count == programs
    return step


def test_slices_integers_index_tensors_and_masks():
    def make():
        w = tg.zeros((4, 6))
        rows = tg.tensor([0, 3])

        def f(x):
            with tg.no_grad():
                x[x > 0.5] = 0.0  # an argument, through a mask and a number
                w[1, 1:3] = x[:2] * 2  # a captured tensor, through a slice and a tensor
                w[rows] = x  # an index tensor: broadcast over the rows
                w[w < 0.1] = x[3]  # a 0-d tensor into a mask
                t = tg.ones(6)
                t[::2] = x[1:4]  # a tensor made inside
            return w * 1.0, x + 1, t

        return f, [w]

    _twins(make, [R.random(6) for _ in range(4)])


def test_masked_update_after_backward():
    def make():
        w = tg.tensor(np.random.default_rng(3).standard_normal(8), requires_grad=True)

        def f(x):
            w.grad = None
            loss = (tg.sin(w) * x).sum()
            loss.backward()
            with tg.no_grad():
                w[w.grad > 0.5] = 0.5  # a number: any count of elements
                w[2:5] = (w - 0.1 * w.grad)[2:5]
            return loss.detach(), w * 2.0

        return f, [w]

    _twins(make, [R.standard_normal(8) for _ in range(4)])


def test_a_captured_index_tensor_changed_in_place_is_guarded():
    rows = tg.tensor([0, 1])
    w = tg.zeros(5)

    def f(x):
        with tg.no_grad():
            w.zero_()
            w[rows] = x[:2]
        return w * 1.0

    step = tg.compile(f)
    x = tg.tensor([5.0, 7.0, 9.0])
    np.testing.assert_array_equal(_np(step(x)), [5, 7, 0, 0, 0])
    np.testing.assert_array_equal(_np(step(x)), [5, 7, 0, 0, 0])
    rows[1] = 4  # outside any trace: the baked index no longer matches
    np.testing.assert_array_equal(_np(step(x)), [5, 0, 0, 0, 7])
    np.testing.assert_array_equal(_np(f(x)), [5, 0, 0, 0, 7])
    assert step._count == 2


def test_mask_size_is_guarded_when_the_value_is_a_vector():
    def make():
        w = tg.zeros(4)

        def f(x):
            with tg.no_grad():
                w.zero_()
                w[x > 0] = x[x > 0] * 10.0
            return (w,)

        return f, [w]

    two, three = np.array([1.0, -1.0, 2.0, -2.0]), np.array([1.0, 1.0, 2.0, -2.0])
    _twins(make, [two, two * 3, three, two], programs=2)
    strict = tg.compile(make()[0], fullgraph=True)
    strict(tg.tensor(two))
    with pytest.raises(RuntimeError, match="the size of a mask"):
        strict(tg.tensor(three))


def test_setitem_recorded_for_autograd_or_on_a_view_runs_eagerly():
    def tracked(x):
        y = x * 1.0
        y[0] = 0.0  # under grad mode on a tensor that requires grad: recorded for autograd
        return y.sum()

    step = tg.compile(tracked)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(RuntimeWarning, match="recorded for autograd"):
        assert step(x).item() == 2.0

    def viewed(x):
        v = x[:2]
        with tg.no_grad():
            x[0] = 5.0  # v sees the write
        return v * 1.0

    x = tg.tensor([1.0, 2.0, 3.0])
    with pytest.warns(RuntimeWarning, match="has views"):
        np.testing.assert_array_equal(_np(tg.compile(viewed)(x)), [5.0, 2.0])
