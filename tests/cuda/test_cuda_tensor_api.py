"""Tensor constructors and conversions that keep a CUDA tensor's device (new_*, type_as,
fill_diagonal_), autograd.functional and gradcheck on CUDA inputs, against the CPU path, on
numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
from test_cuda_sim import check_exact

RNG = np.random.default_rng(7)
X = RNG.uniform(-1.0, 1.0, 3)

NEW = {
    "new_zeros": lambda x: x.new_zeros(2, 2), "new_ones": lambda x: x.new_ones((3,)),
    "new_empty": lambda x: x.new_empty(2).fill_(0.0), "new_full": lambda x: x.new_full((2,), 3.0),
    "new_tensor": lambda x: x.new_tensor([1.0, 2.0]),
    "new_tensor_of_a_tensor": lambda x: x.new_tensor(x * 2),
    "new_zeros_dtype": lambda x: x.new_zeros(2, dtype=tg.float32),
    "type_as": lambda x: tg.tensor([1, 2]).type_as(x),
    "type_as_same_dtype": lambda x: tg.zeros(2, dtype=x.dtype).type_as(x),
    "fill_diagonal_": lambda x: x.new_zeros(3, 3).fill_diagonal_(5.0),
}


@pytest.mark.parametrize("name", sorted(NEW))
def test_new_tensors_take_the_device(name):
    check_exact(lambda t: NEW[name](t(X)))


def test_new_tensors_follow_an_explicit_device():
    x = tg.tensor(X, device="cuda")
    assert x.new_zeros(2, device="cpu").device == "cpu"
    assert tg.tensor(X).new_ones(2, device="cuda").device == "cuda"


def test_type_as_a_cpu_tensor_leaves_the_device():
    y = tg.tensor(X, device="cuda", dtype=tg.float32).type_as(tg.tensor(X))
    assert y.device == "cpu" and y.dtype == np.float64


def test_autograd_functional_on_cuda():
    F = tg.autograd.functional
    out = {}
    for dev in ("cpu", "cuda"):
        x, v = tg.tensor(X, device=dev), tg.ones(3, device=dev)
        cube = lambda x: (x ** 3).sum()  # noqa: E731
        out[dev] = [F.jacobian(lambda x: x.sin() * 2, x), F.hessian(cube, x),
                    F.vjp(lambda x: x.exp(), x, v)[1], F.jvp(lambda x: x.exp(), x, v)[1],
                    F.hvp(cube, x, v)[1]]
    for c, d in zip(out["cpu"], out["cuda"]):
        assert d.device == "cuda"
        np.testing.assert_allclose(d.cpu().numpy(), c.numpy(), rtol=1e-12)


def test_gradcheck_on_cuda_inputs():
    a = tg.tensor(RNG.uniform(-1.0, 1.0, (2, 3)), device="cuda", requires_grad=True)
    b = tg.tensor(RNG.uniform(-1.0, 1.0, (3, 2)), device="cuda", requires_grad=True)
    before = a.cpu().detach().numpy()
    assert tg.autograd.gradcheck(lambda a, b: tg.softmax(a @ b, 1).cumsum(0), (a, b))
    assert tg.autograd.gradgradcheck(lambda a: (a ** 3).sum(1), (a,))
    np.testing.assert_array_equal(a.cpu().detach().numpy(), before)  # perturbations undone

    class Wrong(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    assert not tg.autograd.gradcheck(Wrong.apply, (a,), raise_exception=False)


def test_an_in_place_method_through_the_host_changes_the_cuda_tensor():
    # (copysign_ had no CUDA path and named itself; it takes the host round trip now)
    x, y = tg.tensor(X, device="cuda"), tg.tensor(-np.abs(X[::-1]), device="cuda")
    out = x.copysign_(y)
    assert out is x and x.device == "cuda"
    np.testing.assert_array_equal(x.cpu().numpy(), np.copysign(X, -np.abs(X[::-1])))


def test_to_another_tensor_takes_its_device_and_dtype():
    y = tg.zeros(2, dtype=tg.float32, requires_grad=True)
    z = y.to(tg.ones(2, device="cuda"))
    assert z.device == "cuda" and z.dtype == np.float64
    z.sum().backward()
    assert y.grad.device == "cpu" and y.grad.dtype == np.float32
    assert tg.ones(2, device="cuda").to(y).device == "cpu"


def test_to_takes_non_blocking_and_copy_as_pytorch():
    x = tg.tensor(X)
    assert x.to("cuda", non_blocking=True).device == "cuda"
    assert x.to("cuda", tg.float32, True, False).dtype == np.float32  # (device, dtype, nb, copy)
    assert x.to("cpu", tg.float64, False, True) is not x and x.to("cpu", tg.float64) is x
    assert x.to(device="cuda", dtype=tg.float32, non_blocking=True).device == "cuda"


def test_cuda_seeding_and_cache():
    tg.cuda.manual_seed(3)
    a = tg.rand(3, device="cuda")
    tg.cuda.manual_seed_all(3)
    np.testing.assert_array_equal(tg.rand(3, device="cuda").cpu().numpy(), a.cpu().numpy())
    tg.cuda.empty_cache()
