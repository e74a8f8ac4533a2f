"""Products of bool tensors refuse as PyTorch's kernels do (NumPy's matmul of bools is a
logical one, which PyTorch has no kernel for); NumPy's functions on tensors keep NumPy's."""
import numpy as np
import pytest

import tapegrad as tg
from tests.outcome import dtype_name, outcome

torch = pytest.importorskip("torch")

MATMUL_SHAPES = [((2, 3), (3, 2)), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)),
                 ((2, 2, 3), (3, 2)), ((2, 2, 3), (2, 3, 2)), ((3,), (2, 3, 2)),
                 ((2, 2, 3), (3,)), ((2, 3), (1, 3, 2)), ((2, 1, 2, 3), (3, 3, 2)),
                 # empty results and empty sums: PyTorch returns without a kernel
                 ((0, 3), (3, 0)), ((2, 0), (0, 2)), ((0,), (0,)), ((0,), (0, 2)),
                 ((3,), (3, 0)), ((0, 2, 3), (3, 2)), ((2, 2, 0), (2, 0, 2)),
                 ((2, 1, 2, 3), (0, 3, 2)), ((2, 3), (3, 2, 2))]


def _outcome(lib, f):
    return outcome(lambda: f(lib),
                   lambda r: (dtype_name(r), tuple(r.shape), np.asarray(r.numpy()).tolist()),
                   first_line=True)


def _same(f):
    assert _outcome(tg, f) == _outcome(torch, f)


@pytest.mark.parametrize("dtype", ["bool", "int64", "uint8"])
@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul(dtype, shapes):
    sa, sb = shapes
    _same(lambda L: L.matmul(L.ones(sa, dtype=getattr(L, dtype)),
                             L.ones(sb, dtype=getattr(L, dtype))))


def _o(L, *shape):
    return L.ones(shape, dtype=L.bool)


NAMED = {
    "@": lambda L: _o(L, 2, 3) @ _o(L, 3, 2),
    "mm": lambda L: L.mm(_o(L, 2, 3), _o(L, 3, 2)),
    "bmm": lambda L: L.bmm(_o(L, 1, 2, 3), _o(L, 1, 3, 2)),
    "mv": lambda L: L.mv(_o(L, 2, 3), _o(L, 3)),
    "dot": lambda L: L.dot(_o(L, 3), _o(L, 3)),
    "vdot": lambda L: L.vdot(_o(L, 3), _o(L, 3)),
    "inner": lambda L: L.inner(_o(L, 3), _o(L, 3)),
    "inner2d": lambda L: L.inner(_o(L, 2, 3), _o(L, 2, 3)),
    "outer": lambda L: L.outer(_o(L, 3), _o(L, 2)),
    "addr": lambda L: L.addr(_o(L, 3, 2), _o(L, 3), _o(L, 2)),
    "addmm": lambda L: L.addmm(_o(L, 2, 2), _o(L, 2, 3), _o(L, 3, 2)),
    "addmv": lambda L: L.addmv(_o(L, 2), _o(L, 2, 3), _o(L, 3)),
    "baddbmm": lambda L: L.baddbmm(_o(L, 1, 2, 2), _o(L, 1, 2, 3), _o(L, 1, 3, 2)),
    "tensordot": lambda L: L.tensordot(_o(L, 2, 3), _o(L, 3, 2), dims=1),
    "multi_dot": lambda L: L.linalg.multi_dot([_o(L, 2, 3), _o(L, 3, 2), _o(L, 2, 4)]),
    "multi_dot_vectors": lambda L: L.linalg.multi_dot([_o(L, 3), _o(L, 3, 2), _o(L, 2)]),
    "multi_dot_empty": lambda L: L.linalg.multi_dot([_o(L, 0, 3), _o(L, 3, 2)]),
    "chain_matmul": lambda L: L.chain_matmul(_o(L, 2, 3), _o(L, 3, 2)),
    "matrix_power": lambda L: L.linalg.matrix_power(_o(L, 2, 2), 3),
    "kron": lambda L: L.kron(_o(L, 2), _o(L, 3)),
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_products(name):
    _same(NAMED[name])


@pytest.mark.parametrize("dtype", ["bool", "float16", "int64", "uint8", "int8", "float32",
                                   "complex64"])
def test_linalg_vander_dtypes(dtype):
    _same(lambda L: L.linalg.vander(L.tensor([1, 2, 3]).to(getattr(L, dtype)), N=4))
    _same(lambda L: L.vander(L.tensor([1, 2, 3]).to(getattr(L, dtype))))


@pytest.mark.parametrize("f", [np.matmul, np.dot, np.inner, np.outer, np.vdot,
                               lambda a, b: np.tensordot(a, b, 1)])
def test_numpy_functions_keep_numpy_bool_products(f):
    a = np.array([[True, False, True], [False, False, True]])
    b = np.array([[True, False], [False, False], [True, True]])
    if f in (np.inner, np.outer, np.vdot):
        a, b = a[0], b[:, 0]
    want = f(a, b)
    got = f(tg.tensor(a), tg.tensor(b))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize("dtype", ["bool", "int64", "float64"])
def test_vdot_of_unequal_lengths_names_the_sizes_first(dtype):
    """PyTorch's vdot checks the lengths before the dtype: bools of unequal lengths get the
    size message, not the bool refusal; other dtypes its 'inconsistent tensor size'."""
    def f(lib):
        return lib.vdot(lib.ones(3, dtype=getattr(lib, dtype)),
                        lib.ones(2, dtype=getattr(lib, dtype)))
    got, want = _outcome(tg, f), _outcome(torch, f)
    assert got == want and "inconsistent tensor size" in got[1]


def test_addbmm_of_bools_names_pytorchs_kernel():
    def f(lib):
        b = lib.ones(2, 2, 2, dtype=lib.bool)
        return lib.addbmm(lib.zeros(2, 2, dtype=lib.bool), b, b)
    got, want = _outcome(tg, f), _outcome(torch, f)
    assert got == want and got[0] == "NotImplementedError"
