"""Reductions that PyTorch runs on floats only refuse integer and bool input in PyTorch's
words: norm (linalg.vector_norm's message), softmax/log_softmax (the missing kernel, named
for the last dim or another), argmax/argmin and median of bool."""
import pytest

import tapegrad as tg


def _cases(L):
    i, b = L.tensor([[1, 2], [3, 4]]), L.tensor([True, False])
    return {
        "norm": (lambda: i.norm(), RuntimeError,
                 "linalg.vector_norm: Expected a floating point or complex tensor as input. "
                 "Got Long"),
        "norm_dim": (lambda: L.norm(b.reshape(1, 2), dim=1), RuntimeError,
                     "linalg.vector_norm: Expected a floating point or complex tensor as input. "
                     "Got Bool"),
        "softmax_last": (lambda: i.softmax(-1), NotImplementedError,
                         "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"),
        "softmax_other": (lambda: i.softmax(0), NotImplementedError,
                          "\"softmax_kernel_impl\" not implemented for 'Long'"),
        "log_softmax": (lambda: L.log_softmax(b, 0), NotImplementedError,
                        "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Bool'"),
        "argmax": (lambda: b.argmax(), RuntimeError, "argmax(): does not support bool input"),
        "argmin": (lambda: b.argmin(0), RuntimeError, "argmin(): does not support bool input"),
        "median": (lambda: b.median(), NotImplementedError,
                   "\"median_cpu\" not implemented for 'Bool'"),
        "median_dim": (lambda: b.median(0), NotImplementedError,
                       "\"median_out\" not implemented for 'Bool'"),
        "nanmedian": (lambda: b.nanmedian(), NotImplementedError,
                      "\"median_cpu\" not implemented for 'Bool'"),
        "nanmedian_0d": (lambda: L.tensor(True).nanmedian(0), NotImplementedError,
                         "\"median_out\" not implemented for 'Bool'"),
    }


@pytest.mark.parametrize("case", list(_cases(tg)))
def test_refusal(case):
    f, exc, msg = _cases(tg)[case]
    with pytest.raises(exc) as e:
        f()
    assert str(e.value) == msg


@pytest.mark.parametrize("case", list(_cases(tg)))
def test_same_as_torch(case):
    torch = pytest.importorskip("torch")
    f, exc, msg = _cases(torch)[case]
    with pytest.raises(exc) as e:
        f()
    assert str(e.value) == msg


def test_float_input_still_works():
    x = tg.tensor([[3.0, 4.0]])
    assert x.norm().item() == 5.0 and x.softmax(0).tolist() == [[1.0, 1.0]]
    assert tg.tensor([1, 3, 2]).argmax().item() == 1
