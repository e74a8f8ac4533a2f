"""``tg.autograd.grad`` of one output tensor with respect to one input tensor (not lists):
the same gradients, errors and graph as PyTorch's, with and without ``grad_outputs``."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _pair(a, requires_grad=True):
    return tg.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def test_hessian_vector_product_and_third_order_match_torch():
    r = np.random.default_rng(0)
    A, xv, vv = r.standard_normal((6, 6)), r.standard_normal(6), r.standard_normal(6)
    out = []
    for lib, (x, _) in ((tg, _pair(xv)), (torch, (None, None))):
        if lib is torch:
            x = torch.tensor(xv, requires_grad=True)
        At, v = lib.tensor(A), lib.tensor(vv)
        (g,) = lib.autograd.grad((lib.tanh(At @ x) ** 2).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g, x, v, create_graph=True)
        (t,) = lib.autograd.grad(h.sum(), x)
        out.append((g.detach().numpy(), h.detach().numpy(), t.numpy(), g.requires_grad,
                    h.requires_grad, t.requires_grad))
    (g1, h1, t1, *f1), (g2, h2, t2, *f2) = out
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h1, h2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t1, t2, rtol=1e-10, atol=1e-12)
    assert f1 == f2 == [True, True, False]


def test_grad_outputs_of_another_dtype_gives_the_input_dtype():
    xv = np.linspace(-1, 1, 5).astype(np.float32)
    res = []
    for lib in (tg, torch):
        x = lib.tensor(xv, requires_grad=True)
        (g,) = lib.autograd.grad(x * x, x, lib.tensor(np.arange(5.0)))  # float64 seed
        res.append((str(g.dtype).split(".")[-1], g.detach().numpy()))
    assert res[0][0] == res[1][0] == "float32"
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6)


def _errors(make):
    got = []
    for lib in (tg, torch):
        with pytest.raises(Exception) as e:
            make(lib)
        got.append((type(e.value), str(e.value).split("\n")[0]))
    return got


@pytest.mark.parametrize("case", ["unused", "no_history", "input_no_grad", "shape", "freed",
                                  "non_scalar"])
def test_errors_match_torch(case):
    def make(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        if case == "unused":
            y = lib.tensor([3.0], requires_grad=True)
            return lib.autograd.grad((y * 2).sum(), x)
        if case == "no_history":
            return lib.autograd.grad(lib.tensor([1.0, 2.0]).sum(), x)
        if case == "input_no_grad":
            return lib.autograd.grad((x * 2).sum(), lib.tensor([1.0, 2.0]))
        if case == "shape":
            return lib.autograd.grad(x * 2, x, lib.tensor([1.0, 2.0, 3.0]))
        if case == "freed":
            y = (x.exp() * x).sum()
            lib.autograd.grad(y, x)
            return lib.autograd.grad(y, x)
        return lib.autograd.grad(x * 2, x)

    (t1, m1), (t2, m2) = _errors(make)
    assert t1 is t2
    if case == "shape":  # (PyTorch prints the sizes as torch.Size([3]))
        m1, m2 = m1.split(" has a shape")[0], m2.split(" has a shape")[0]
    if case != "freed":  # (the freed-graph message names the node in PyTorch)
        assert m1 == m2


def test_unused_input_allowed_gives_none():
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0], requires_grad=True)
        assert lib.autograd.grad((y * 2).sum(), x, allow_unused=True) == (None,)
