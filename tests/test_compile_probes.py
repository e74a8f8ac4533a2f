"""tg.compile against the same program run eagerly, call after call: outputs, parameters and
``.grad`` must be equal (programs as users write them, each once found to differ)."""

import warnings

import numpy as np

import tapegrad as tg


def _same(a, b):
    a, b = (None if t is None else np.asarray(t.detach().numpy()) for t in (a, b))
    assert (a is None) == (b is None)
    if a is not None:
        assert a.dtype == b.dtype and np.array_equal(a, b), (a, b)


def _both(make, inputs):
    """``make()`` -> (fn, tensors to compare); every call's output and tensors, eager and
    compiled (no fallback warning allowed)."""
    trails = []
    for compiled in (False, True):
        fn, watched = make()
        if compiled:
            fn = tg.compile(fn)
        trail = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for args in inputs:
                out = fn(*args)
                trail.append([out] + [t.detach().clone() for t in watched] +
                             [None if t.grad is None else t.grad.clone() for t in watched])
        trails.append(trail)
    for eager, replay in zip(*trails):
        for a, b in zip(eager, replay):
            _same(a, b)
    return fn


def test_backward_into_a_grad_that_exists_when_the_function_starts():
    # backward adds into an existing .grad in place: the program must start from its value
    # before that backward, not after it
    rng = np.random.default_rng(0)

    def make():
        w = tg.tensor(np.full(3, 0.9), requires_grad=True)

        def step(x):
            h = (x * w).tanh()
            h.sum().backward()
            return h.detach()
        return step, [w]

    fn = _both(make, [(tg.tensor(rng.standard_normal(3)),) for _ in range(5)])
    assert fn._count == 2  # .grad None, then a .grad to add into: both replayed
