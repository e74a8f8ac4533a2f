"""tg.func.jvp and linearize of a function that moves its CPU inputs to CUDA: the tangents
are pushed on the device and the results are CUDA tensors, as PyTorch's (against the same
function on the CPU and finite differences)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

X = np.array([0.3, -1.2, 2.0])
T = np.array([1.0, -0.5, 0.25])


def g(a):
    return (a * 3.0).sin() * a.sum()


def _fd():
    eps = 1e-6

    def h(v):
        return np.sin(v * 3.0) * v.sum()

    return (h(X + eps * T) - h(X - eps * T)) / (2 * eps)


def test_jvp_of_a_function_moving_its_input_to_cuda():
    x, t = tg.tensor(X), tg.tensor(T)
    out, tan = tg.func.jvp(lambda a: g(a.cuda()), (x,), (t,))
    assert out.is_cuda and tan.is_cuda
    assert not out.requires_grad and not tan.requires_grad
    cpu_out, cpu_tan = tg.func.jvp(g, (x,), (t,))
    np.testing.assert_allclose(out.cpu().numpy(), cpu_out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tan.cpu().numpy(), cpu_tan.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tan.cpu().numpy(), _fd(), rtol=1e-7)


def test_linearize_of_a_function_moving_its_input_to_cuda():
    out, jvp_fn = tg.func.linearize(lambda a: g(a.cuda()), tg.tensor(X))
    tan = jvp_fn(tg.tensor(T))
    assert out.is_cuda and tan.is_cuda
    np.testing.assert_allclose(tan.cpu().numpy(), _fd(), rtol=1e-7)
