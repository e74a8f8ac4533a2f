"""A KeyboardInterrupt (Ctrl-C) that lands in the middle of a backward leaves the tape usable.

Python raises a signal's exception when a call returns (or at a loop's jump), so one can land
after any call tapegrad makes. These tests raise it after each call that returns inside
tapegrad's own functions during a backward (``sys.setprofile``'s ``c_return`` events), one
point per run, then check that grad mode is as before and that the next backward on the same
thread gives the right gradients (an interrupted flush once left a segment's records neither
pending nor flushed: every later backward on that thread raised IndexError)."""

import os
import sys

import numpy as np

import tapegrad as tg

_ROOT = os.path.dirname(tg.__file__)


def _interrupt_after_call(k):
    """A profile function raising KeyboardInterrupt when the ``k``-th call made by tapegrad's
    code returns; ``hit[0]`` tells whether it did."""
    count, hit = [0], [False]

    def prof(frame, event, arg):
        if event == "c_return" and frame.f_code.co_filename.startswith(_ROOT):
            count[0] += 1
            if count[0] == k:
                sys.setprofile(None)
                hit[0] = True
                raise KeyboardInterrupt
    return prof, hit


def _every_interrupt(step, check):
    """Runs ``step`` interrupted after its 1st, 2nd, ... call, ``check()`` after each; returns
    how many points were tried."""
    k = 0
    while True:
        k += 1
        prof, hit = _interrupt_after_call(k)
        sys.setprofile(prof)
        try:
            step()
        except KeyboardInterrupt:
            pass
        finally:
            sys.setprofile(None)
        if not hit[0]:
            return k - 1
        assert tg.is_grad_enabled(), k
        check()


def test_interrupted_small_backward_then_backward_again():
    av, bv = np.arange(4.0), np.arange(4.0) + 1
    a = tg.tensor(av, requires_grad=True)
    b = tg.tensor(bv, requires_grad=True)

    def step():
        a.grad = b.grad = None
        (a * b).sin().sum().backward()

    def check():
        step()
        c = np.cos(av * bv)
        np.testing.assert_allclose(a.grad.numpy(), bv * c, rtol=1e-14)
        np.testing.assert_allclose(b.grad.numpy(), av * c, rtol=1e-14)

    assert _every_interrupt(step, check) > 20


def test_interrupted_double_backward_restores_grad_mode():
    xv = np.linspace(-1.0, 1.0, 5)
    x = tg.tensor(xv, requires_grad=True)

    def step():
        x.grad = None
        g, = tg.autograd.grad((x.sin() * x).sum(), x, create_graph=True)
        g.sum().backward()

    def check():
        step()  # d/dx of sin(x) + x cos(x): 2 cos(x) - x sin(x)
        np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(xv) - xv * np.sin(xv),
                                   rtol=1e-13, atol=1e-15)

    assert _every_interrupt(step, check) > 20
