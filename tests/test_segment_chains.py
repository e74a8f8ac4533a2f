"""Graphs that span many tape segments: every walk over their segments must be iterative."""

import numpy as np

import tapegrad as tg


def _chain(n):
    """h <- tanh(h * w) + 0.1, n times, with the backward of a small side loss after each
    step: every backward closes the segment it swept, so the graph of h spans n segments."""
    x = tg.tensor([0.3, 0.4], requires_grad=True)
    w = tg.tensor([0.9, 1.1], requires_grad=True)
    h = x
    for _ in range(n):
        h = (h * w).tanh() + 0.1
        (w * 2.0).sum().backward()
    return x, h


def _expected_grad_x(n):
    """d sum(h_n) / dx of ``_chain(n)``, by the chain rule."""
    w = np.array([0.9, 1.1])
    h = np.array([0.3, 0.4])
    slopes = []
    for _ in range(n):
        t = np.tanh(h * w)
        slopes.append((1 - t * t) * w)
        h = t + 0.1
    return np.prod(slopes, axis=0)


def test_grad_with_inputs_through_more_segments_than_the_recursion_limit():
    n = 1200  # (above Python's default recursion limit of 1000)
    x, h = _chain(n)
    assert tg.autograd.tape_stats()["segments"] >= n
    expected = _expected_grad_x(n)
    (gx,) = tg.autograd.grad(h.sum(), x, retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), expected, rtol=1e-12)
    h.sum().backward(inputs=[x])
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
