"""``view_as_real(z)`` and ``view_as_complex(r)`` are views of their input's storage, as in
PyTorch (they were copies, so ``view_as_real(z)[..., 0] = 1`` was silently lost): writes through
them change the input, in-place changes of the input show in them, and gradients through
either are checked against finite differences and PyTorch to second order."""

import numpy as np
import pytest

import tapegrad as tg
from complex_checks import check_complex, rand


def _set(view, key, value):
    view[key] = value


def _then(f, w):
    f(w)
    return w


VAR, VAC = (lambda L: L.view_as_real), (lambda L: L.view_as_complex)

WRITES = {  # fn(lib, z, x): z complex (3, 2), x real (3, 2)
    "real_parts_set": lambda L, z, x: _then(lambda w: _set(VAR(L)(w), (Ellipsis, 0), 1.5),
                                            z * x),
    "both_parts_mul": lambda L, z, x: _then(lambda w: VAR(L)(w)[1].mul_(x[:2, :1]), z * 1),
    "mixed_slice_neg": lambda L, z, x: _then(
        lambda w: VAR(L)(w)[:, 1:].mul_(-1), z * x),
    "copy_pairs": lambda L, z, x: _then(lambda w: VAR(L)(w).copy_(L.stack([x, x * x], -1)),
                                        z * 1),
    "imag_of_view_add": lambda L, z, x: _then(lambda w: VAR(L)(w)[..., 1].add_(x), z * x),
    # the float view read after a write into its complex base
    "read_after_base_write": lambda L, z, x: (
        lambda w, r: (w.mul_(1j * x), r * x[..., None])[1])(*(lambda w: (w, VAR(L)(w)))(z * 1)),
    # a complex view of a float tensor: writes, and reads after writes into the float tensor
    "complex_view_write": lambda L, z, x: _then(
        lambda q: _set(VAC(L)(q), (slice(None), 0), z[:, 1] * 2), x.reshape(3, 1, 2) * 1),
    "complex_view_mul": lambda L, z, x: _then(lambda q: VAC(L)(q).mul_(z[:, :1]),
                                              x.reshape(3, 1, 2) * x.reshape(3, 1, 2)),
    "complex_view_stale": lambda L, z, x: (lambda q, c: (q[1:, 1].mul_(3), c[:, None] * z)[1])(
        *(lambda q: (q, VAC(L)(q)))(x * 1)),
    "round_trip": lambda L, z, x: VAC(L)(VAR(L)(z * z) * x[..., None]) * z,
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_writes_and_gradients_through_the_views(name):
    check_complex(WRITES[name], [rand((3, 2)), rand((3, 2), cplx=False, seed=1)])


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_views_share_storage_and_version(dtype):
    z = tg.tensor(np.array([1 + 2j, 3 - 4j], dtype))
    r = tg.view_as_real(z)
    assert r.dtype == np.dtype(dtype).type(0).real.dtype and r.shape == (2, 2)
    assert r._base is z and r.stride() == (2, 1)
    r[..., 0] = 1
    r[1, 1] = 9
    assert np.array_equal(z.numpy(), np.array([1 + 2j, 1 + 9j], dtype))
    c = tg.view_as_complex(r)
    assert c._base is z and c.dtype == z.dtype
    c.mul_(2)
    assert np.array_equal(r.numpy(), [[2, 4], [2, 18]])
    assert z._version == r._version == c._version == 3
    q = tg.zeros(3, 2, dtype=r.dtype)
    w = tg.view_as_complex(q)
    w[1] = 5 - 6j
    q[2, 1] = 7
    assert np.array_equal(q.numpy(), [[0, 0], [5, -6], [0, 7]])
    assert np.array_equal(w.numpy(), np.array([0, 5 - 6j, 7j], dtype))
    assert r[..., 1].storage_offset() == 1 and tg.view_as_complex(q[1:]).storage_offset() == 1


def test_in_place_change_of_a_saved_view_raises():
    w = tg.tensor(rand((3,)), requires_grad=True) * 1
    r = tg.view_as_real(w)
    y = (r ** 2).sum()
    r.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    z = tg.tensor(rand((3,)), requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        tg.view_as_real(z)[0, 0] = 1.0


def test_node_names_and_errors_as_pytorch():
    torch = pytest.importorskip("torch")
    got = []
    for L in (torch, tg):
        w = L.tensor(rand((2,)), requires_grad=True) * 1
        r = L.view_as_real(w)
        c = L.view_as_complex(r)
        name = (lambda n: type(n).__name__) if L is torch else (lambda n: n.name())
        out = [name(r.grad_fn), name(c.grad_fn), r._base is w, c._base is w]
        x = L.tensor(np.arange(12.0)).reshape(3, 4)
        for f in (lambda: L.view_as_complex(x[:, 1:3]), lambda: L.view_as_complex(x[:, :1]),
                  lambda: L.view_as_complex(x.reshape(-1)[1:5].reshape(2, 2)),
                  lambda: L.view_as_complex(x[0, 0])):
            try:
                f()
                out.append(None)
            except RuntimeError as e:
                out.append(str(e))
        got.append(out)
    assert got[1] == got[0]
