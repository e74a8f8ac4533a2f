"""Elementwise runs over large arrays replay a chunk at a time: the same values as eager (sums
up to rounding), with the plain lines taken where an input is not contiguous."""

import numpy as np

import tapegrad as tg
from tapegrad.compile import chunking
from test_compile_trace_cost import _twins

N = 3 * chunking.MIN_SIZE + 123  # not a multiple of the chunk: the last chunk is longer
R = np.random.default_rng(11)


def _chunked(step):
    return any("for _c in range(" in p.source for progs in step._cache.values()
               for p in progs)


def test_value_and_gradient_of_a_big_elementwise_function():
    def make():
        w = tg.tensor(np.random.default_rng(12).standard_normal(N), requires_grad=True)

        def f(x):
            w.grad = None
            y = (tg.sin(w) * tg.exp(-(w * x)) + tg.tanh(w) / 3.0).sum()
            y.backward()
            return y.detach(), w.grad * 1.0

        return f, [w]

    step = _twins(make, [(tg.tensor(R.standard_normal(N)),) for _ in range(3)])
    assert _chunked(step)


def test_a_sum_read_inside_the_run_and_values_used_after_it():
    def make():
        def f(x):
            a = tg.exp(x * 0.5) - 1.0
            s = a.sum()  # a chunk's sum must not stand for the whole sum
            b = a * s + tg.cos(x)
            c = tg.sqrt(tg.abs(b) + 1.0)
            return b, c, s, c.sum(), a

        return f, []

    step = _twins(make, [(tg.tensor(R.standard_normal(N)),) for _ in range(3)])
    assert _chunked(step)


def test_float32_two_dimensional_and_a_0d_operand():
    def make():
        k = tg.tensor(np.float32(0.75))

        def f(x, y):
            z = tg.sin(x) * k + y * y - tg.exp(-x)
            return z, z * 2.0

        return f, []

    shape = (4, N // 4)
    inputs = [(tg.tensor(R.standard_normal(shape).astype(np.float32)),
               tg.tensor(R.standard_normal(shape).astype(np.float32))) for _ in range(3)]
    step = _twins(make, inputs)
    assert _chunked(step)


def test_a_non_contiguous_input_takes_the_plain_lines():
    w = tg.tensor(R.standard_normal((N // 4, 4)), requires_grad=True)

    def f(x):
        w.grad = None
        y = (tg.sin(x) * tg.exp(-(x * x)) * w).sum()
        y.backward()
        return y.detach(), w.grad * 1.0

    step = tg.compile(f)
    base = R.standard_normal((4, N // 4))
    contiguous = tg.tensor(np.ascontiguousarray(base.T))
    step(contiguous)
    assert _chunked(step)
    for x in (tg.tensor(base).t(), contiguous):  # a transposed view, then contiguous again
        got = step(x)
        want = f(x)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
