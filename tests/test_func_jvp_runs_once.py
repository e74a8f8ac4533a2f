"""``tg.func.jvp`` and ``linearize`` run the function once, also where it reads a tensor
requiring grad from outside (the result then stays differentiable in it), as
``torch.func.jvp`` does."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


class _Holder:
    """Where the functions below find their weight: an attribute read by a helper, which
    no look at the function's closure sees (only its run shows it)."""


_HOLDER = _Holder()


def _scaled(x):
    return x * _HOLDER.w


def _jvp_of_closure(lib):
    w = _HOLDER.w = lib.tensor([1.5, -0.5], dtype=lib.float64, requires_grad=True)
    calls = [0]

    def f(x):
        calls[0] += 1
        return _scaled(x).sin()

    x = lib.tensor([0.3, 0.7], dtype=lib.float64)
    t = lib.tensor([1.0, 2.0], dtype=lib.float64)
    out, jv = lib.func.jvp(f, (x,), (t,))
    jv.sum().backward()
    return calls[0], out.detach().numpy(), jv.detach().numpy(), w.grad.numpy()


def test_jvp_reading_a_tensor_requiring_grad_runs_once_as_pytorch():
    ours, theirs = _jvp_of_closure(tg), _jvp_of_closure(torch)
    assert ours[0] == theirs[0] == 1
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_jvp_with_random_draws_is_the_jvp_of_the_run_it_returns():
    w = _HOLDER.w = tg.tensor([2.0, 3.0], dtype=tg.float64, requires_grad=True)
    draws = []

    def f(x):
        noise = tg.rand(2, dtype=tg.float64)
        draws.append(noise)
        return x * _scaled(x) + noise

    x = tg.tensor([1.0, -2.0], dtype=tg.float64)
    t = tg.tensor([1.0, 1.0], dtype=tg.float64)
    out, jv = tg.func.jvp(f, (x,), (t,))
    assert len(draws) == 1
    np.testing.assert_allclose(out.detach().numpy(),
                               (x * x * w.detach() + draws[0]).numpy())
    np.testing.assert_allclose(jv.detach().numpy(), (2 * x * t * w.detach()).numpy())


def test_linearize_reading_a_tensor_requiring_grad_runs_once():
    _HOLDER.w = tg.tensor([1.5, -0.5], dtype=tg.float64, requires_grad=True)
    calls = [0]

    def f(x):
        calls[0] += 1
        return _scaled(x).sin()

    x = tg.tensor([0.3, 0.7], dtype=tg.float64)
    out, jfn = tg.func.linearize(f, x)
    jv = jfn(tg.tensor([1.0, 2.0], dtype=tg.float64))
    assert calls[0] == 1
    # against finite differences of the same function
    eps = 1e-6
    xs, ws, ts = np.array([0.3, 0.7]), np.array([1.5, -0.5]), np.array([1.0, 2.0])
    fd = (np.sin((xs + eps * ts) * ws) - np.sin((xs - eps * ts) * ws)) / (2 * eps)
    np.testing.assert_allclose(jv.detach().numpy(), fd, rtol=1e-7)
    assert jv.requires_grad  # (differentiable in w, which f read from outside)
