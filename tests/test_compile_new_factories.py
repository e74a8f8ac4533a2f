"""tg.compile traces a tensor's ``new_zeros``/``new_ones``/``new_empty``/``new_full``/
``new_tensor`` as factories (like ``tg.zeros``/``tg.tensor``): the compiled function replays
them (``fullgraph=True`` raises where a call would run eagerly) and agrees with PyTorch."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:To copy construct from a tensor")

CASES = {
    "new_zeros": lambda m, x: x.new_zeros(3) + x,
    "new_zeros_size_kw": lambda m, x: x.new_zeros(size=(2, 3)) - x,
    "new_ones": lambda m, x: x.new_ones((2, 3)) * x,
    "new_ones_dtype": lambda m, x: x.new_ones(3, dtype=m.float64) * x,
    "new_empty": lambda m, x: x.new_empty(3).zero_() + x,
    "new_full": lambda m, x: x.new_full((2, 3), 2.5) * x,
    "new_tensor_list": lambda m, x: x.new_tensor([1.0, 2.0, 3.0]) * x,
    "new_tensor_of_argument": lambda m, x: x.new_tensor(x) * 2 + x,
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_new_factories_compile_and_match_torch(name, dtype):
    fn = CASES[name]
    step = tg.compile(lambda x: fn(tg, x), fullgraph=True)
    for k in range(3):  # the first call traces, the others replay
        a = np.arange(6.0).reshape(2, 3)[:, :3] * (k + 1) - 2.0
        if name in ("new_zeros", "new_ones_dtype", "new_empty", "new_tensor_list"):
            a = a[0]
        got = step(tg.tensor(a.astype(dtype)))
        want = fn(torch, torch.tensor(a.astype(dtype)))
        assert got.dtype == getattr(tg, str(want.dtype).split(".")[1])
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert step._count == 1


def test_new_full_gradient_compiles_and_matches_torch():
    def fn(m, x):
        y = (x.new_full(x.shape, 3.0) * x * x).sum()
        y.backward()
        return y.detach()

    step = tg.compile(lambda x: fn(tg, x), fullgraph=True)
    for k in range(3):
        a = np.linspace(-1.0, 2.0, 5) + k
        x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        np.testing.assert_allclose(step(x).item(), fn(torch, xt).item(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    assert step._count == 1


def test_new_tensor_of_a_tensor_requiring_grad_carries_no_history():
    def fn(m, x):
        y = (x.new_tensor(x) * x).sum()  # new_tensor copies without history: d/dx = x
        y.backward()
        return y.detach()

    step = tg.compile(lambda x: fn(tg, x), fullgraph=True)
    for k in range(2):
        a = np.array([1.0, -2.0, 0.5]) * (k + 1)
        x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        got = step(x)
        np.testing.assert_allclose(got.item(), fn(torch, xt).item(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    assert step._count == 1

