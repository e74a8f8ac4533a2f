"""``tg.autograd.functional.jacobian`` / ``hessian`` inside a compiled function: traced through
(their rows are ``autograd.grad`` calls), held to eager's values and gradients, to PyTorch's
when it is installed, and over new inputs and a failed guard."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

AF = tg.autograd.functional
R = np.random.default_rng(31)


def _tuple(r):
    return r if isinstance(r, tuple) else (r,)


def _agree(fn, shapes, calls=3, rg=False, programs=1):
    """``fn`` eagerly and compiled (fullgraph: nothing may fall back) on fresh inputs."""
    step = tg.compile(fn, fullgraph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(calls):
            vals = [R.standard_normal(s) for s in shapes]
            want = _tuple(fn(*[tg.tensor(v, requires_grad=rg) for v in vals]))
            got = _tuple(step(*[tg.tensor(v, requires_grad=rg) for v in vals]))
            assert len(want) == len(got)
            for a, b in zip(want, got):
                assert a.shape == b.shape
                np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(),
                                           rtol=1e-10, atol=1e-13)
    assert step._count == programs
    return step


def test_jacobian_of_a_vector_function():
    _agree(lambda x: AF.jacobian(lambda a: a.sin() * a + a.sum(), x), [(5,)])


def test_hessian_of_a_scalar_function():
    _agree(lambda x: AF.hessian(lambda a: (a.exp() * a.cos()).sum(), x), [(4,)])


def test_hessian_over_two_inputs_and_a_matrix():
    def fn(x, w):
        h = AF.hessian(lambda a, b: ((a @ b).tanh() ** 2).sum(), (x, w))
        return h[0][0], h[0][1], h[1][0], h[1][1]

    _agree(fn, [(3,), (3, 2)])


def test_jacobian_with_create_graph_then_backward():
    def fn(x):
        x.grad = None
        J = AF.jacobian(lambda a: a.tanh() * a, x, create_graph=True)
        (J * J).sum().backward()
        return J.detach(), x.grad * 1.0

    _agree(fn, [(4,)], rg=True)


def test_branch_on_the_hessian_is_guarded():
    def fn(x):
        h = AF.hessian(lambda a: (a ** 3).sum(), x)
        return h * 2.0 if h.sum() > 0 else h - 1.0

    step = tg.compile(fn)
    for v in ([1.0, 2.0], [3.0, 1.0], [-5.0, 1.0], [-1.0, -2.0], [1.0, 1.0]):
        np.testing.assert_allclose(step(tg.tensor(v)).numpy(), fn(tg.tensor(v)).numpy())
    assert step._count == 2


def test_hessian_matches_torch():
    torch = pytest.importorskip("torch")
    v = R.standard_normal(4)

    def f(a):
        return (a.sin() * a * a).sum()

    step = tg.compile(lambda x: AF.hessian(f, x))
    step(tg.tensor(v))
    got = step(tg.tensor(v)).numpy()
    want = torch.autograd.functional.hessian(f, torch.tensor(v)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert step._count == 1


def test_vectorized_jacobian_is_refused_with_its_reason():
    step = tg.compile(lambda x: AF.jacobian(lambda a: a.sin(), x, vectorize=True),
                      fullgraph=True)
    with pytest.raises(RuntimeError, match="tg.compile"):
        step(tg.tensor([1.0, 2.0]))
