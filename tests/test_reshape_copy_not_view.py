"""A reshape that has to copy (of a transposed, sliced or expanded tensor) makes a new tensor,
as PyTorch's: not a view of its input, with its own version counter."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = [
    lambda L: L.arange(6.).reshape(2, 3).t(),
    lambda L: L.arange(12.).reshape(3, 4)[:, :2],
    lambda L: L.arange(3.).reshape(3, 1).expand(3, 2),
]


@pytest.mark.parametrize("make", CASES)
def test_copying_reshape_is_not_a_view(make):
    x, xt = make(tg), make(torch)
    r, rt = x.reshape(-1), xt.reshape(-1)
    assert (r._base is None) == (rt._base is None)
    r.add_(1)
    rt.add_(1)
    assert x._version == xt._version == 0
    assert r.tolist() == rt.tolist() and x.tolist() == xt.tolist()


def test_viewing_reshape_stays_a_view():
    x = tg.arange(6.).reshape(2, 3)
    r = x.reshape(3, 2)
    r.add_(1)
    assert r._base is not None and x._version == 1 and x[0, 0].item() == 1.0


def test_inplace_on_copying_reshape_keeps_saved_tensor_valid():
    grads = []
    for L in (tg, torch):
        c = L.arange(6., dtype=L.float64).reshape(2, 3).requires_grad_()
        y = c * 1
        z = y.sin()  # saves y
        r = y.t().reshape(-1)
        r.add_(1)
        z.sum().backward()
        grads.append(c.grad.flatten().tolist())
    assert grads[0] == pytest.approx(grads[1])


def test_copying_reshape_of_captured_tensor_writable_in_grad():
    outs = []
    for L in (tg, torch):
        c = L.arange(3., dtype=L.float64)

        def f(x):
            d = c.reshape(3, 1).expand(3, 2).reshape(-1)
            d.add_(1)
            return (x * d[:3]).sum()

        outs.append(L.func.grad(f)(L.ones(3, dtype=L.float64)).tolist())
    assert outs[0] == outs[1]
