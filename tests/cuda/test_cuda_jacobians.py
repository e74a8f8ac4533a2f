"""Jacobians and Hessians of functions of CUDA tensors (tg.func and tg.autograd.functional with
vectorize=True): their identity seeds go to the device of the tensor they seed, and the results
stay there; against PyTorch's CPU; on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

A = np.linspace(0.1, 1.0, 4)
B = np.array([0.3, -0.2, 0.7])


def _cases(lib):
    f = lambda t: t.exp() * t.sum()  # noqa: E731
    g = lambda t, u: (t.sum() * u, u.exp())  # noqa: E731
    s = lambda t: (t ** 3).sum() + t.prod()  # noqa: E731
    af = lib.autograd.functional
    return {
        "jacrev": lambda x, y: lib.func.jacrev(f)(x),
        "jacfwd": lambda x, y: lib.func.jacfwd(f)(x),
        "hessian": lambda x, y: lib.func.hessian(s)(x),
        "jacrev_of_jacrev": lambda x, y: lib.func.jacrev(lib.func.jacrev(lambda t: t.sin().sum()))(x),
        "jacrev_two_args": lambda x, y: lib.func.jacrev(g, argnums=(0, 1))(x, y)[0][1],
        "jacobian_vectorized": lambda x, y: af.jacobian(f, x, vectorize=True),
        "jacobian_vectorized_pairs": lambda x, y: af.jacobian(g, (x, y), vectorize=True)[0][1],
        "hessian_vectorized": lambda x, y: af.hessian(s, x, vectorize=True),
    }


@pytest.mark.parametrize("name", sorted(_cases(tg)))
def test_jacobians_of_cuda_functions(name, torch):
    expected = _cases(torch)[name](torch.tensor(A), torch.tensor(B))
    got = _cases(tg)[name](tg.tensor(A, device="cuda"), tg.tensor(B, device="cuda"))
    assert got.device == "cuda"
    np.testing.assert_allclose(got.cpu().numpy(), expected.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("chunk_size", [None, 2])
def test_jacrev_block_of_an_unused_cuda_argument_is_zeros_on_the_device(chunk_size, torch):
    x, y = np.array([0.5, 1.0, 2.0]), np.array([[1.0, -2.0]])
    got = tg.func.jacrev(lambda a, b: a * 2, argnums=(0, 1), chunk_size=chunk_size)(
        tg.tensor(x, device="cuda"), tg.tensor(y, device="cuda"))
    want = torch.func.jacrev(lambda a, b: a * 2, argnums=(0, 1), chunk_size=chunk_size)(
        torch.tensor(x), torch.tensor(y))
    for g, w in zip(got, want):
        assert g.device == "cuda" and tuple(g.shape) == tuple(w.shape)
        np.testing.assert_array_equal(g.cpu().numpy(), w.numpy())


def test_rows_of_a_cuda_input_through_a_cpu_copy_stay_on_its_device(torch):
    # the function copies its CUDA input to the CPU: the input's gradient is on the device
    x = tg.tensor(B, device="cuda", requires_grad=True)
    (rows,) = tg.autograd.grad(x.cpu().sin(), x, tg.eye(3), is_grads_batched=True)
    jac = tg.func.jacrev(lambda t: t.cpu().sin())(x.detach())
    want = torch.func.jacrev(torch.sin)(torch.tensor(B))
    for got in (rows, jac):
        assert got.device == "cuda"
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-14)
