"""The matmul record of two real CPU arrays (ops/array_records.pair_result, appended inline)
and the elementwise records around it (a broadcast bias, same-shape ops): values, gradients,
node names, float32 sweeps, version checks and saved-tensor hooks as PyTorch's, with either
operand a leaf, a tensor of the current segment, a constant, or on an older segment."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import gradcheck

torch = pytest.importorskip("torch")

_RNG = np.random.default_rng(7)
_X = _RNG.standard_normal((6, 4))
_W = _RNG.standard_normal((4, 3))
_B = _RNG.standard_normal(3)


def _mlp(L, dtype, which, older):
    x = L.tensor(_X.astype(dtype), requires_grad="x" in which)
    w = L.tensor(_W.astype(dtype), requires_grad="w" in which)
    b = L.tensor(_B.astype(dtype), requires_grad="b" in which)
    h = x * 1.0 if "x" in which else x
    if older and L is tg:  # h on a segment closed by a backward: imported by the next op
        (w * 1.0).sum().backward() if "w" in which else None
        w.grad = None
    z = h @ w
    out = z + b if which != "xb" else b + z
    loss = L.tanh(out * out).sum()
    return (x, w, b), (z, out), loss


@pytest.mark.parametrize("older", [False, True])
@pytest.mark.parametrize("which", ["xwb", "wb", "x", "xb", "b"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_names_and_gradients_match_pytorch(dtype, which, older):
    ins, mids, loss = _mlp(tg, dtype, which, older)
    tins, tmids, tloss = _mlp(torch, dtype, which, older)
    tol = 1e-12 if dtype == "float64" else 2e-5
    for m, tm in zip(mids, tmids):
        np.testing.assert_allclose(m.detach().numpy(), tm.detach().numpy(), rtol=tol, atol=tol)
        assert (m.grad_fn is None) == (tm.grad_fn is None)
        if m.grad_fn is not None:
            assert type(m.grad_fn).__name__ == type(tm.grad_fn).__name__
            assert [None if f is None else type(f).__name__ for f, _ in m.grad_fn.next_functions] \
                == [None if f is None else type(f).__name__ for f, _ in tm.grad_fn.next_functions]
    if not loss.requires_grad:
        return
    loss.backward()
    tloss.backward()
    for t, tt in zip(ins, tins):
        assert (t.grad is None) == (tt.grad is None)
        if t.grad is not None:
            assert t.grad.dtype == t.dtype  # a float32 program's gradients stay float32
            np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=tol, atol=tol)


def test_gradcheck_broadcast_operands_and_matmul():
    x = tg.tensor(_RNG.standard_normal((3, 4)), requires_grad=True)
    w = tg.tensor(_RNG.standard_normal((4, 2)), requires_grad=True)
    b = tg.tensor(_RNG.standard_normal(2), requires_grad=True)
    c = tg.tensor(_RNG.standard_normal((3, 1)), requires_grad=True)
    assert gradcheck(lambda x, w, b, c: ((x @ w + b) * c - b).sin(), (x, w, b, c))


def test_in_place_change_of_a_saved_operand_is_refused_as_pytorch():
    for L in (tg, torch):
        x = L.tensor(_X, requires_grad=True)
        w = L.tensor(_W, requires_grad=True)
        h = x * 2.0
        z = h @ w
        with L.no_grad():
            h.mul_(3.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_saved_tensor_hooks_see_both_matmul_operands():
    packed = []

    def pack(t):
        packed.append(tuple(t.shape))
        return t

    x = tg.tensor(_X, requires_grad=True)
    w = tg.tensor(_W, requires_grad=True)
    with tg.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        z = (x * 1.0) @ w
    assert sorted(packed) == sorted([_X.shape, _W.shape])
    z.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), _X.T @ np.ones((6, 3)), rtol=1e-14)


def test_many_records_flush_and_stay_correct():
    # enough inline appends to pass the pending list's flush threshold several times
    w = tg.tensor(_W, requires_grad=True)
    b = tg.tensor(_B, requires_grad=True)
    h = tg.tensor(np.ones((2, 4)))
    acc = 0.0
    for _ in range(3000):
        acc = acc + ((h @ w) + b).sum()
    acc.backward()
    np.testing.assert_allclose(b.grad.numpy(), np.full(3, 2 * 3000.0), rtol=1e-14)
    np.testing.assert_allclose(w.grad.numpy(), np.full((4, 3), 2 * 3000.0), rtol=1e-14)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_same_shape_records_save_check_and_hook_as_pytorch(dtype):
    # result_arrays (same-shape elementwise ops): what they save, its version checks, hooks
    results = []
    for L in (tg, torch):
        packed = []
        x = L.tensor(_X.astype(dtype), requires_grad=True)
        y = L.tensor(_X[::-1].copy().astype(dtype))
        with L.autograd.graph.saved_tensors_hooks(lambda t: packed.append(1) or t, lambda t: t):
            out = (L.tanh(x - y) ** 2) * L.exp(x)
        loss = out.sum()
        loss.backward(retain_graph=True)
        results.append((out.detach().numpy(), x.grad.numpy(), len(packed)))
        h = x * 1.0
        z = h ** 2
        with L.no_grad():
            h.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
    tol = 1e-12 if dtype == "float64" else 2e-5
    (o, g, k), (to, tg_, tk) = results
    np.testing.assert_allclose(o, to, rtol=tol, atol=tol)
    np.testing.assert_allclose(g, tg_, rtol=tol, atol=tol)
    assert g.dtype == np.dtype(dtype) and k == tk
