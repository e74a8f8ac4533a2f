"""Tracing big elementwise ops does not recompute them: the op runs on a strided sample of its
inputs, which must match the eager result there, and the eager array becomes the value. These
tests hold that to eager's answers (values, gradients, side effects, new inputs, a failed
guard) and check the cases where the eager array is written later: in-place updates of the
result or of an argument, and a second backward accumulating into ``.grad``."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.compile import ir
from tapegrad.compile.trace import BORROW_MIN

N = 2 * BORROW_MIN  # big enough to be sampled
R = np.random.default_rng(5)


def _np(t):
    return None if t is None else np.asarray(t.detach().numpy())


def _same(a, b):
    np.testing.assert_allclose(_np(b), _np(a), rtol=1e-12, atol=1e-14)


def _twins(make, inputs, programs=1):
    """``make()`` -> (fn, state tensors); one copy runs eagerly, one compiled, on each input;
    outputs, states and their .grad must agree."""
    fe, se = make()
    fc, sc = make()
    step = tg.compile(fc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager fails the test
        for args in inputs:
            fresh = [tg.tensor(a.numpy().copy()) for a in args]  # f may write its arguments
            re, rc = fe(*args), step(*fresh)
            for a, b in zip(args, fresh):
                _same(a, b)
            for a, b in zip(re, rc):
                _same(a, b)
            for a, b in zip(se, sc):
                _same(a, b)
                assert (a.grad is None) == (b.grad is None)
                if a.grad is not None:
                    _same(a.grad, b.grad)
    assert step._count == programs
    return step


def _inputs(k=3):
    return [(tg.tensor(R.standard_normal(N)),) for _ in range(k)]


def _count_full_size(monkeypatch, op):
    """Counts the calls of ``op``'s trace-time implementation on full-size arrays."""
    calls = []
    impl = ir.IMPL[op]

    def counted(p, *xs):
        if any(np.size(x) >= N for x in xs):
            calls.append(op)
        return impl(p, *xs)

    monkeypatch.setitem(ir.IMPL, op, counted)
    return calls


def test_sin_exp_value_and_gradient_without_recomputing_the_forward(monkeypatch):
    sins = _count_full_size(monkeypatch, "sin")
    exps = _count_full_size(monkeypatch, "exp")

    def make():
        w = tg.tensor(np.random.default_rng(1).standard_normal(N), requires_grad=True)

        def f(x):
            w.grad = None
            y = (tg.sin(w * x) * tg.exp(-(w * w))).sum()
            y.backward()
            return y.detach(), tg.sin(x) > 0.5

        return f, [w]

    _twins(make, _inputs())
    assert sins == [] and exps == []  # each traced on a sample only


def test_a_handler_that_disagrees_with_eager_is_still_rejected(monkeypatch):
    monkeypatch.setitem(ir.IMPL, "sin", lambda p, a: np.sin(a) * (1 + 1e-6))
    step = tg.compile(lambda x: tg.sin(x) * 2.0)
    x = tg.tensor(R.standard_normal(N))
    with pytest.warns(RuntimeWarning, match="sin: the program's value differs from eager"):
        step(x)
    with pytest.raises(RuntimeError, match="differs from eager"):
        tg.compile(lambda x: tg.sin(x) * 2.0, fullgraph=True)(x)


def test_in_place_update_of_a_big_result_after_it_was_used():
    def make():
        def f(x):
            y = tg.sin(x)
            z = y * 2.0  # reads y before the update
            with tg.no_grad():
                y.mul_(3.0)
            return y, z, z + y

        return f, []

    _twins(make, _inputs())


def test_two_in_place_updates_of_big_results_and_of_an_argument():
    def make():
        def f(x):
            y = tg.exp(x * 0.5)
            before = y + 1.0
            with tg.no_grad():
                y.add_(before)  # y's array is written: ``before`` was computed from the old one
                x.mul_(y)  # an argument, written with the new y
                before.sub_(x)
            return y, before, y * before

        return f, []

    _twins(make, _inputs())


def test_two_backward_passes_accumulate_over_big_results():
    def make():
        w = tg.tensor(np.random.default_rng(2).standard_normal(N), requires_grad=True)

        def f(x):
            w.grad = None
            y = tg.sin(w) * x
            y.sum().backward(retain_graph=True)
            first = w.grad * 1.0
            (y * tg.cos(w)).sum().backward()  # adds into w.grad in place
            return first, y.detach(), w.grad * 1.0

        return f, [w]

    _twins(make, _inputs())


def test_big_results_after_a_guard_fails():
    def make():
        def f(x):
            y = tg.exp(x * 0.25)
            if y.sum() > N:
                return y * 2.0, y
            return y - 1.0, y

        return f, []

    big = (tg.tensor(np.abs(R.standard_normal(N)) + 1.0),)
    small = (tg.tensor(-np.abs(R.standard_normal(N)) - 1.0),)
    _twins(make, [big, small, big, small], programs=2)


def test_float32_and_a_0d_operand():
    def make():
        s = tg.tensor(np.float32(1.5))

        def f(x):
            y = tg.sin(x) * s + tg.tanh(x)
            return y, y > 0.25

        return f, []

    _twins(make, [(tg.tensor(R.standard_normal((4, N // 4)).astype(np.float32)),)
                  for _ in range(3)])


@pytest.mark.parametrize("family", ["unary", "binary", "pow", "reduce"])
def test_op_families_at_sampled_size_match_eager(family):
    from test_compile import _OPS

    f = _OPS[family]

    def make():
        def step(x, y):
            x.grad = y.grad = None
            out = f(x, y)
            out.sum().backward()
            return out.detach(), x.grad * 1.0, y.grad * 1.0

        return step, []

    fe, _ = make()
    step = tg.compile(make()[0], fullgraph=True)
    for _ in range(3):
        xe, ye = (tg.tensor(R.standard_normal(N), requires_grad=True) for _ in range(2))
        xc, yc = (tg.tensor(t.detach().numpy().copy(), requires_grad=True) for t in (xe, ye))
        for a, b in zip(fe(xe, ye), step(xc, yc)):
            np.testing.assert_allclose(_np(b), _np(a), rtol=1e-9, atol=1e-12)
    assert step._count == 1


def test_the_reverse_pass_is_not_recomputed_while_tracing(monkeypatch):
    """The gradient nodes of a big elementwise backward are checked on the sample alone: no
    full-size ``cos`` (sin's derivative) and no deferred value computed whole."""
    coss = _count_full_size(monkeypatch, "cos")
    forced = []
    force = ir.Graph.force
    monkeypatch.setattr(ir.Graph, "force", lambda g, v: forced.append(v) or force(g, v))

    def make():
        w = tg.tensor(np.random.default_rng(3).standard_normal(N), requires_grad=True)

        def f(x):
            w.grad = None
            y = (tg.sin(w) * tg.exp(-(w * x))).sum()
            y.backward()
            return y.detach(), w.grad * 1.0

        return f, [w]

    _twins(make, _inputs())
    assert coss == [] and forced == []


def test_a_wrong_gradient_rule_is_caught_on_the_sample(monkeypatch):
    from tapegrad.compile import vjp

    wrong = lambda b, n, g: [b.e("mul", g, b.e("sin", n.ins[0]))]  # noqa: E731 (sin' is cos)
    monkeypatch.setitem(vjp.RULES, "sin", wrong)
    w = tg.tensor(R.standard_normal(N), requires_grad=True)

    def f(x):
        w.grad = None
        (tg.sin(w) * x).sum().backward()
        return w.grad * 1.0

    with pytest.warns(RuntimeWarning, match="a gradient: the program's value differs"):
        first = tg.compile(f)(tg.tensor(np.ones(N)))
    np.testing.assert_allclose(first.numpy(), np.cos(w.detach().numpy()), rtol=1e-12)


def test_deferred_gradients_read_by_later_ops():
    """``autograd.grad`` results (taken as eager's arrays) and an intermediate adjoint that a
    later op reads are used with their true values."""
    def make():
        w = tg.tensor(np.random.default_rng(4).standard_normal(N), requires_grad=True)

        def f(x):
            y = (tg.exp(w * 0.5) * x).sum()
            (g,) = tg.autograd.grad(y, w)
            z = tg.sin(g) * x + g
            with tg.no_grad():
                w.sub_(0.01 * g)
            return z, g * 2.0

        return f, [w]

    _twins(make, _inputs())
