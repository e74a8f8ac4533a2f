"""``Tensor.unfold`` (sliding windows as a strided view), ``index_put``/``index_put_`` (with
``accumulate``) and ``tg.linalg.cross``/``vecdot``/``diagonal``/``matmul``: values and
gradients against PyTorch and finite differences."""

import numpy as np
import pytest

import tapegrad as tg

A = np.arange(24.0).reshape(2, 3, 4) / 7
M = np.arange(12.0).reshape(3, 4) / 7


def _idx(lib, v):
    return lib.tensor(v, dtype=lib.int64)


PROGRAMS = {
    "unfold last": (lambda T, x: x.unfold(2, 2, 1), (A,)),
    "unfold middle, step 2": (lambda T, x: x.unfold(1, 2, 2), (A,)),
    "unfold negative dim": (lambda T, x: x.unfold(-1, 3, 1), (A,)),
    "unfold whole dim": (lambda T, x: x.unfold(2, 4, 1), (A,)),
    "unfold of a transpose": (lambda T, x: x.transpose(1, 2).unfold(1, 2, 1), (A,)),
    "unfold twice": (lambda T, x: x.unfold(2, 2, 1).unfold(1, 2, 1), (A,)),
    "index_put": (lambda T, x, v: x.index_put((_idx(T, [0, 2]),), v), (M, M[:2])),
    "index_put accumulate repeats": (lambda T, x, v: x.index_put(
        (_idx(T, [0, 0, 2]), _idx(T, [1, 1, 3])), v, accumulate=True), (M, [1.0, 2.0, 3.0])),
    "index_put broadcast value": (lambda T, x, v: T.index_put(x, (_idx(T, [0, 2]),), v),
                                  (M, [5.0])),
    "index_put bool mask": (lambda T, x, v: x.index_put(
        (T.tensor([True, False, True]),), v, accumulate=True), (M, M[0])),
    "index_put_ on a non-leaf": (lambda T, x, v: x.index_put_(
        (_idx(T, [1]),), v, accumulate=True), (M, M[0])),
    "linalg.cross": (lambda T, x, y: T.linalg.cross(x[:, :3], y[:, 1:]), (M, M[::-1].copy())),
    "linalg.vecdot": (lambda T, x, y: T.linalg.vecdot(x, y), (M, M[::-1].copy())),
    "linalg.diagonal": (lambda T, x: T.linalg.diagonal(x, offset=1), (A,)),
    "linalg.matmul": (lambda T, x, y: T.linalg.matmul(x, y.T), (M, M)),
}


def _run(lib, name):
    f, arrays = PROGRAMS[name]
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = f(lib, *[x * 1 for x in xs])  # non-leaves: in-place ops are allowed on them
    w = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)),
                   dtype=lib.float64)
    (out * w).sum().backward()
    return list(out.shape), out.tolist(), [x.grad.tolist() for x in xs]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_matches_torch(torch, name):
    shape, out, grads = _run(tg, name)
    t_shape, t_out, t_grads = _run(torch, name)
    assert shape == t_shape
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-12)
    for a, b in zip(grads, t_grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_unfold_is_a_view_with_summed_gradients():
    x = tg.arange(6.0)
    w = x.unfold(0, 2, 2)
    assert w.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]] and w.stride() == (2, 1)
    w.mul_(10)  # non-overlapping windows write through
    assert x.tolist() == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        tg.arange(6.0).unfold(0, 3, 1).mul_(2)  # overlapping windows: refused
    v = tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float64, requires_grad=True)
    v.unfold(0, 3, 1).sum().backward()  # each element counted once per window holding it
    assert v.grad.tolist() == [1.0, 2.0, 2.0, 1.0]
    assert tg.autograd.gradgradcheck(lambda t: (t.unfold(1, 2, 1) ** 2).sum(-1),
                                     (tg.tensor(M, requires_grad=True),))
    assert tg.tensor(3.0).unfold(0, 1, 1).shape == (1,)
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 3"):
        tg.zeros(3).unfold(0, 4, 1)


def test_index_put_without_torch():
    z = tg.zeros(3, dtype=tg.float64)
    z.index_put_((tg.tensor([0, 0, 2]),), tg.tensor([1.0, 2.0, 3.0]), accumulate=True)
    assert z.tolist() == [3.0, 0.0, 3.0]
    x = tg.tensor(M, requires_grad=True)
    v = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = x.index_put((tg.tensor([0, 2]), tg.tensor([3, 1])), v)
    (y * y).sum().backward()
    assert v.grad.tolist() == [2.0, 4.0]
    assert x.grad[0, 3].item() == 0.0 and x.grad[0, 0].item() == 0.0
    assert tg.autograd.gradcheck(
        lambda a, b: a.index_put((tg.tensor([1, 1]),), b, accumulate=True),
        (tg.tensor(M, requires_grad=True), tg.tensor(M[:2], requires_grad=True)))
    with pytest.raises(IndexError, match="tensors used as indices must be long"):
        tg.zeros(3).index_put((tg.tensor([0.0]),), tg.tensor(1.0))


def test_linalg_names_without_torch():
    a = tg.tensor([[1.0, 0.0, 0.0]])
    b = tg.tensor([[0.0, 1.0, 0.0]])
    assert tg.linalg.cross(a, b).tolist() == [[0.0, 0.0, 1.0]]
    assert tg.linalg.vecdot(a + b, b).tolist() == [1.0]
    assert tg.linalg.diagonal(tg.eye(3) * 2).tolist() == [2.0, 2.0, 2.0]
    assert tg.linalg.matmul(a, b.T).tolist() == [[0.0]]


def test_a_zero_dim_tensor_indexed_by_a_boolean():
    # x[True] is x with a new dim of one, x[False] the empty selection (NumPy's and PyTorch's
    # rule), also for a 0-d tensor with history; the gradient reaches it through the gather
    for key, n in ((tg.tensor(True), 1), (tg.tensor(False), 0), (True, 1), (np.array(False), 0)):
        x = tg.tensor(2.0, requires_grad=True)
        y = x[key]
        assert y.shape == (n,)
        (y * y).sum().backward()
        assert x.grad.item() == 4.0 * n
    assert tg.autograd.gradgradcheck(lambda v: (v[tg.tensor(True)] ** 3).sum(),
                                     (tg.tensor(1.5, requires_grad=True),))
