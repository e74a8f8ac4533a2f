"""A ``tg.compile`` function called under ``no_grad`` inside forward mode runs its ops eagerly:
a program traced under plain no_grad (the same grad-mode key) records nothing, and replaying
it gave a zero tangent."""

import warnings

import numpy as np

import tapegrad as tg
from tapegrad.func import jacfwd, jvp

X = [1.0, 2.0]


def _slope(x):
    return np.sin(x) + x * np.cos(x)


def test_program_traced_under_no_grad_is_not_replayed_inside_jvp():
    compiled = tg.compile(lambda a: a.sin() * a)
    w = tg.tensor(X, requires_grad=True)
    with tg.no_grad():
        for _ in range(3):  # (an evaluation loop: traced, then replayed, for grad mode off)
            compiled(w)

    def f(a):
        with tg.no_grad():
            return compiled(a)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no "runs eagerly" warning either)
        _, t = jvp(f, (tg.tensor(X),), (tg.ones(2),))
        np.testing.assert_allclose(t.numpy(), _slope(np.array(X)), rtol=1e-6)
        np.testing.assert_allclose(jacfwd(f)(tg.tensor(X)).numpy(),
                                   np.diag(_slope(np.array(X))), rtol=1e-6)
        with tg.no_grad():  # the program for plain no_grad is still there, still right
            np.testing.assert_allclose(compiled(w).numpy(), np.sin(X) * np.array(X), rtol=1e-6)
