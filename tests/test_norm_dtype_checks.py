"""The norms' dtype= argument checked as PyTorch 2.13 checks it (linalg.vector_norm,
matrix_norm, norm and torch.norm / Tensor.norm): a float or complex input, a float or complex
dtype of the input's kind, and no narrowing (float64 data into a float32 norm raises rather than
losing precision silently); a widening keeps PyTorch's values, dtypes and gradients."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

A = np.array([[1.5, -2.0, 0.5], [0.25, 3.0, -1.0]])


def _cases(L):
    a = L.tensor(A)
    vn, mn, n = L.linalg.vector_norm, L.linalg.matrix_norm, L.linalg.norm
    return {
        "int input": lambda: vn(a.long(), dtype=L.float64),
        "int input, int dtype": lambda: vn(a.long(), dtype=L.int64),
        "int dtype": lambda: vn(a, dtype=L.int64),
        "complex dtype for real": lambda: vn(a, dtype=L.complex128),
        "real dtype for complex": lambda: vn(a.to(L.complex64), dtype=L.float32),
        "complex narrowing": lambda: vn(a.to(L.complex128), dtype=L.complex64),
        "narrowing": lambda: vn(a, 3, dim=1, dtype=L.float32),
        "narrowing to half": lambda: vn(a, dtype=L.float16),
        "matrix int input": lambda: mn(a.long(), dtype=L.float64),
        "matrix int dtype": lambda: mn(a, dtype=L.int64),
        "matrix narrowing": lambda: mn(a, dtype=L.float32),
        "matrix nuc narrowing": lambda: mn(a, "nuc", dtype=L.float32),
        "matrix 2 narrowing": lambda: mn(a, 2, dtype=L.float32),
        "norm narrowing": lambda: n(a, dtype=L.float32),
        "norm fro narrowing": lambda: n(a, "fro", dtype=L.float32),
        "norm vector narrowing": lambda: n(a[0], 3, dtype=L.float32),
        "torch.norm narrowing": lambda: a.norm(dtype=L.float32),
        "torch.norm p=1 narrowing": lambda: L.norm(a, p=1, dim=1, dtype=L.float32),
        "torch.norm nuc narrowing": lambda: a.norm(p="nuc", dtype=L.float32),
        "torch.norm int input": lambda: a.long().norm(dtype=L.float64),
    }


@pytest.mark.parametrize("case", list(_cases(tg)))
def test_refused_as_torch(case):
    messages = []
    for lib in (tg, torch):
        with pytest.raises(RuntimeError) as e:
            _cases(lib)[case]()
        messages.append(str(e.value))
    assert messages[0] == messages[1]


WIDENINGS = {
    "vector": lambda L, t: L.linalg.vector_norm(t, 3, dim=1, dtype=L.float64),
    "vector complex": lambda L, t: L.linalg.vector_norm(t.to(L.complex64) * (1 + 1j),
                                                        dtype=L.complex128),
    "matrix fro": lambda L, t: L.linalg.matrix_norm(t, dtype=L.float64),
    "matrix nuc": lambda L, t: L.linalg.matrix_norm(t, "nuc", dtype=L.float64),
    "norm": lambda L, t: L.linalg.norm(t, dtype=L.float64),
    "Tensor.norm": lambda L, t: t.norm(p=1.5, dim=0, dtype=L.float64),
    "same dtype": lambda L, t: L.linalg.vector_norm(t, dtype=L.float32),
}


@pytest.mark.parametrize("case", list(WIDENINGS))
def test_widening_values_dtypes_and_gradients_as_torch(case):
    results = []
    for lib in (tg, torch):
        t = lib.tensor(A.astype(np.float32), requires_grad=True)
        y = WIDENINGS[case](lib, t)
        y.sum().backward()
        results.append((y.detach().numpy(), t.grad.numpy()))
    (ours, ours_g), (theirs, theirs_g) = results
    assert ours.dtype == theirs.dtype and ours_g.dtype == theirs_g.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(ours_g, theirs_g, rtol=1e-5)


def test_norm_with_dtype_gradcheck():
    x = tg.tensor(A, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.linalg.vector_norm(t, 3, dim=1,
                                                                 dtype=tg.float64), (x,))
    assert tg.autograd.gradcheck(lambda t: tg.linalg.matrix_norm(t, "nuc",
                                                                 dtype=tg.float64), (x,))
