"""Matrix products of an integer or bool tensor with a tensor of another dtype refuse as
PyTorch's, in the words of the kernel the shapes reach (dot, mv, mm, bmm; folded or not),
for matmul/@/mm/bmm/mv/dot/vdot/inner/tensordot/addmm and linear (its bias checked first);
outer promotes as PyTorch's. NumPy's functions on tensors keep NumPy's promotion and their
gradients."""
import numpy as np
import pytest

import tapegrad as tg
from tests.outcome import dtype_name, outcome

torch = pytest.importorskip("torch")

_PAIRS = [("float32", "int64"), ("int64", "float32"), ("float64", "int32"),
          ("int32", "int64"), ("bool", "float32"), ("int64", "bool")]
_SHAPES = {1: (3,), 2: (3, 3), 3: (2, 3, 3), 4: (2, 2, 3, 3)}


def _outcome(f):
    return outcome(f, lambda r: (dtype_name(r), tuple(r.shape), r.tolist()), first_line=True)


def _ones(L, shape, dt, rg=False):
    return L.ones(tuple(shape), dtype=getattr(L, dt), requires_grad=rg)


@pytest.mark.parametrize("a,b", _PAIRS)
@pytest.mark.parametrize("na", [1, 2, 3, 4])
@pytest.mark.parametrize("nb", [1, 2, 3, 4])
def test_matmul_of_mixed_dtypes_as_torch(a, b, na, nb):
    def run(L):
        return _outcome(lambda: _ones(L, _SHAPES[na], a) @ _ones(L, _SHAPES[nb], b))

    assert run(tg) == run(torch)
    assert run(tg)[0] in ("RuntimeError", "NotImplementedError")


@pytest.mark.parametrize("make", [
    lambda L, i: L.ones(2, 3)[None].expand(2, 2, 3) @ L.ones(3, 2, dtype=i),  # bmm
    lambda L, i: L.ones(2, 2, 3).transpose(0, 1) @ L.ones(3, dtype=i),
    lambda L, i: L.ones(2, 2, 3, dtype=i).transpose(0, 1) @ L.ones(3, 2, requires_grad=True),
    lambda L, i: L.ones(0, 2, 3, dtype=i).transpose(0, 1) @ L.ones(3, 2),  # empty: folded
    lambda L, i: L.ones(3, requires_grad=True) @ L.ones(2, 3, 4, dtype=i),  # y.mT folded
    lambda L, i: L.ones(2, 3, requires_grad=True) @ L.ones(2, 3, 4, dtype=i),
    lambda L, i: L.ones(3) @ L.ones(2, 4, 3, dtype=i).transpose(1, 2)])
def test_folding_decides_the_message_as_torch(make):
    def run(L):
        return _outcome(lambda: make(L, L.int64))

    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # (tapegrad's default: the same names)
    try:
        assert run(tg) == run(torch)
    finally:
        torch.set_default_dtype(before)


@pytest.mark.parametrize("a,b", _PAIRS)
@pytest.mark.parametrize("name", ["mm", "bmm", "mv", "dot", "vdot", "inner", "outer",
                                  "tensordot", "addmm"])
def test_named_products_of_mixed_dtypes_as_torch(a, b, name):
    def run(L):
        x, y = _ones(L, (3, 3), a), _ones(L, (3, 3), b)
        calls = {"mm": lambda: L.mm(x, y), "bmm": lambda: L.bmm(x[None], y[None]),
                 "mv": lambda: L.mv(x, y[0]), "dot": lambda: L.dot(x[0], y[0]),
                 "vdot": lambda: L.vdot(x[0], y[0]), "inner": lambda: L.inner(x, y),
                 "outer": lambda: L.outer(x[0], y[0]), "tensordot": lambda: L.tensordot(x, y),
                 "addmm": lambda: L.addmm(_ones(L, (3, 3), a), x, y)}
        return _outcome(calls[name])

    assert run(tg) == run(torch)


@pytest.mark.parametrize("a,b,nx,nw,bias", [
    (a, b, nx, nw, bias) for a, b in _PAIRS
    for nx, nw in [(1, 2), (2, 2), (3, 2), (1, 1), (2, 1), (3, 1)]
    for bias in [None, "input's", "other"]
    # (a bias of another dtype after a dot/mv of integers: PyTorch adds it in place and
    # cannot cast the float sum back; tapegrad adds it out of place)
    if not (bias == "other" and (nx, nw) in ((1, 1), (3, 1)) and a in ("int64", "int32"))])
def test_linear_of_mixed_dtypes_as_torch(a, b, nx, nw, bias):
    def run(L, F):
        x = _ones(L, _SHAPES[nx], a)
        w = _ones(L, _SHAPES[nw], b if bias != "other" else a)
        bdt = a if bias == "input's" else b
        bshape = (3,) if nw == 2 else ()
        bb = None if bias is None else _ones(L, bshape, bdt)
        return _outcome(lambda: F.linear(x, w, bb))

    assert run(tg, tg.nn.functional) == run(torch, torch.nn.functional)


def test_float32_times_float64_still_computes_in_float64():
    x, w = tg.ones(2, 3, dtype=tg.float32), tg.ones(4, 3, dtype=tg.float64)
    assert (x @ w.T).dtype == tg.float64
    assert tg.nn.functional.linear(x, w, tg.ones(4, dtype=tg.float32)).dtype == tg.float64


@pytest.mark.parametrize("f", [np.dot, np.matmul, np.inner, np.tensordot,
                               np.linalg.matmul, lambda a, b: np.asarray(b).T @ a.T])
def test_numpy_functions_promote_as_numpy_with_gradients(f):
    rng = np.random.default_rng(0)
    k = rng.integers(-3, 4, size=(3, 3))
    for other in (k, tg.tensor(k)):
        x = tg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
        out = f(x, other)
        assert out.dtype == np.result_type(np.float64, k.dtype)
        np.testing.assert_allclose(out.detach().numpy(), f(x.detach().numpy(), k))
        assert tg.autograd.gradcheck(lambda x: f(x, other), (x,))
    x32 = tg.tensor(rng.standard_normal((3, 3)).astype(np.float32))
    assert f(x32, k).dtype == np.float64  # NumPy's float32 + int64
